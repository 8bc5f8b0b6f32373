//! Read marks on SQLite: one upsert that only moves a mark forward, and the marks of a
//! page of conversations in one statement.

use chrono::{DateTime, Utc};
use parley_domain::{ConversationId, OrgId, UserId, from_millis, to_millis};
use parley_store::{ReadMarkStore, StoreError, sql};
use sqlx::Row;

use crate::SqliteStore;
use crate::rows::map_err;

/// The marks of a page of conversations (`$1` user, `$2` organization, `$3` the ids).
const READ_MARKS: &str = "SELECT conversation_id, read_up_to FROM conversation_reads \
     WHERE user_id = $1 AND organization_id = $2 AND conversation_id IN (SELECT value FROM json_each($3))";

#[async_trait::async_trait]
impl ReadMarkStore for SqliteStore {
    async fn mark_read(
        &self,
        organization: OrgId,
        user: UserId,
        conversation: ConversationId,
        up_to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query(sql::MARK_READ)
            .bind(organization.to_string())
            .bind(user.to_string())
            .bind(conversation.to_string())
            .bind(to_millis(up_to))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn read_marks(
        &self,
        organization: OrgId,
        user: UserId,
        conversations: &[ConversationId],
    ) -> Result<Vec<(ConversationId, DateTime<Utc>)>, StoreError> {
        let ids: Vec<String> = conversations
            .iter()
            .take(500)
            .map(ToString::to_string)
            .collect();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = sqlx::query(READ_MARKS)
            .bind(user.to_string())
            .bind(organization.to_string())
            .bind(serde_json::to_string(&ids).unwrap_or_default())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| {
                let id: String = r.try_get(0).map_err(map_err)?;
                let at: i64 = r.try_get(1).map_err(map_err)?;
                let id = id
                    .parse()
                    .map_err(|_| StoreError::corrupt(format!("bad conversation id {id}")))?;
                Ok((id, from_millis(at)))
            })
            .collect()
    }
}
