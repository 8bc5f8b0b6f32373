//! The events outbox.

use crate::{Cols, Conn, Engine, Sql, SqlStore, commit, query, sql};
use chrono::{DateTime, Utc};
use parley_domain::{EventId, NewEvent, to_millis};
use parley_store::decode;
use parley_store::{OutboxStore, StoreError, StoredEvent};

/// Writes one event; called inside the transaction of the change it announces.
pub async fn insert_event<E: Engine>(conn: &mut Conn<E>, e: &NewEvent) -> Result<(), StoreError> {
    query::<E>(sql::INSERT_EVENT)
        .bind(e.id.to_string())
        .bind(e.organization_id.to_string())
        .bind(e.event_type.as_str())
        .bind(to_millis(e.timestamp))
        .bind(e.data.to_string())
        .bind(e.conversation_id())
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<E: Engine> OutboxStore for SqlStore<E> {
    async fn append_events(&self, events: &[NewEvent]) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        for event in events {
            insert_event::<E>(&mut tx, event).await?;
        }
        commit::<E>(tx).await?;
        Ok(())
    }

    async fn list_undispatched_events(&self, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        self.stored_events(
            query::<E>("SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1")
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
            query::<E>(sql::EVENTS_AFTER)
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
            query::<E>(sql::CONVERSATION_EVENTS)
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
        let mut tx = self.write().await?;
        let mut changed = 0;
        for id in ids {
            changed += query::<E>(
                "UPDATE outbox SET dispatched_at = $2 WHERE id = $1 AND dispatched_at IS NULL",
            )
            .bind(id.to_string())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await?;
        }
        commit::<E>(tx).await?;
        Ok(changed)
    }
}

impl<E: Engine> SqlStore<E> {
    /// The events a query of `outbox` rows finds.
    async fn stored_events(&self, query: Sql<E>) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = query.fetch_all(&mut *self.conn().await?).await?;
        rows.iter()
            .map(|r| decode::stored_event(&Cols::<E>(r)))
            .collect()
    }
}
