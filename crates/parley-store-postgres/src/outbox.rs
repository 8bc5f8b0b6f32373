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
    sqlx::query(parley_store::sql::INSERT_EVENT)
        .bind(e.id.to_string())
        .bind(e.organization_id.to_string())
        .bind(e.event_type.as_str())
        .bind(to_millis(e.timestamp))
        .bind(e.data.to_string())
        .bind(e.conversation_id())
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
        self.stored_events(
            sqlx::query("SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1")
                .bind(i64::from(limit)),
        )
        .await
    }

    async fn events_after(
        &self,
        after: EventId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.stored_events(
            sqlx::query(parley_store::sql::EVENTS_AFTER)
                .bind(after.to_string())
                .bind(i64::from(limit)),
        )
        .await
    }

    async fn conversation_events(
        &self,
        organization: parley_domain::OrgId,
        conversation: parley_domain::ConversationId,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        self.stored_events(
            sqlx::query(parley_store::sql::CONVERSATION_EVENTS)
                .bind(organization.to_string())
                .bind(conversation.to_string())
                .bind(i64::from(limit)),
        )
        .await
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

impl PgStore {
    /// The events a query of `outbox` rows finds.
    async fn stored_events(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = query.fetch_all(&self.pool).await.map_err(map_err)?;
        rows.iter()
            .map(|r| decode::stored_event(&Cols(r)))
            .collect()
    }
}
