//! The events outbox on PostgreSQL.

use chrono::{DateTime, Utc};
use parley_domain::{EventId, NewEvent, to_millis};
use parley_store::decode;
use parley_store::{OutboxStore, StoreError, StoredEvent};
use sqlx::PgConnection;

use crate::PgStore;
use crate::rows::{Cols, map_err};

/// Writes one event; called inside the transaction of the change it announces.
pub(crate) async fn insert_event(conn: &mut PgConnection, e: &NewEvent) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO outbox (id, organization_id, event_type, occurred_at, data) VALUES ($1, $2, $3, $4, $5)")
        .bind(e.id.to_string())
        .bind(e.organization_id.to_string())
        .bind(e.event_type.as_str())
        .bind(to_millis(e.timestamp))
        .bind(e.data.to_string())
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl OutboxStore for PgStore {
    async fn append_events(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        for event in events {
            insert_event(&mut tx, event).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn list_undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1")
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.iter()
            .map(|r| decode::stored_event(&Cols(r)))
            .collect()
    }

    async fn events_after(
        &self,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = sqlx::query(parley_store::sql::EVENTS_AFTER)
            .bind(after.to_string())
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| decode::stored_event(&Cols(r)))
            .collect()
    }

    async fn mark_events_dispatched(
        &self,
        ids: &[EventId],
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let mut changed = 0;
        for id in ids {
            changed += sqlx::query(
                "UPDATE outbox SET dispatched_at = $2 WHERE id = $1 AND dispatched_at IS NULL",
            )
            .bind(id.to_string())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        Ok(changed)
    }
}
