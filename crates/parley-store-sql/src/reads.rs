//! Read marks: one upsert that only moves a mark forward, and the marks of a
//! page of conversations in one statement.

use chrono::{DateTime, Utc};
use parley_domain::{ConversationId, OrgId, UserId, from_millis, to_millis};
use parley_store::{ReadMarkStore, StoreError};

use crate::{Cols, Engine, SqlStore, query, query_built, sql};

/// The marks of a page of conversations (`$1` user, `$2` organization, `$3` the ids as a
/// JSON array).
fn read_marks<E: Engine>() -> String {
    format!(
        "SELECT conversation_id, read_up_to FROM conversation_reads \
         WHERE user_id = $1 AND organization_id = $2 AND conversation_id IN ({})",
        E::json_texts("$3")
    )
}

#[async_trait::async_trait]
impl<E: Engine> ReadMarkStore for SqlStore<E> {
    async fn mark_read(
        &self,
        organization: OrgId,
        user: UserId,
        conversation: ConversationId,
        up_to: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        query::<E>(sql::MARK_READ)
            .bind(organization.to_string())
            .bind(user.to_string())
            .bind(conversation.to_string())
            .bind(to_millis(up_to))
            .execute(&mut *self.conn().await?)
            .await?;
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
        let rows = query_built::<E>(read_marks::<E>())
            .bind(user.to_string())
            .bind(organization.to_string())
            .bind(serde_json::Value::from(ids).to_string())
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                let (id, at) = (Cols::<E>(r).text_at(0)?, Cols::<E>(r).int_at(1)?);
                let id = id
                    .parse()
                    .map_err(|_| StoreError::corrupt(format!("bad conversation id {id}")))?;
                Ok((id, from_millis(at)))
            })
            .collect()
    }
}
