//! Channels on SQLite: each write with its audit entry in one `BEGIN IMMEDIATE`
//! transaction.

use parley_domain::{Channel, ChannelId, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ChannelStore, Page, PageRequest, StoreError};

use crate::SqliteStore;
use crate::rows::{Cols, map_err, numbered_sql};

numbered_sql! {
    FIND_CHANNEL = parley_store::sql::FIND_CHANNEL;
}

/// Every column of `channels`, bound as `$1…$13` in table order.
fn bind_channel<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    c: &'q Channel,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
    q.bind(c.id.to_string())
        .bind(c.organization_id.to_string())
        .bind(c.provider.as_str())
        .bind(&c.name)
        .bind(&c.sender)
        .bind(c.inbound_flow.map(|f| f.to_string()))
        .bind(&c.inbound_queue)
        .bind(i64::from(c.rate_per_second))
        .bind(serde_json::Value::Object(c.settings.clone()).to_string())
        .bind(c.secret_sealed.as_deref())
        .bind(i64::from(c.enabled))
        .bind(to_millis(c.created_at))
        .bind(to_millis(c.updated_at))
}

#[async_trait::async_trait]
impl ChannelStore for SqliteStore {
    async fn create_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError> {
        let query = bind_channel(sqlx::query(parley_store::sql::INSERT_CHANNEL), &channel);
        self.write_audited(query, |r| decode::channel(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError> {
        let query = bind_channel(sqlx::query(parley_store::sql::UPDATE_CHANNEL), &channel);
        self.write_audited(query, |r| decode::channel(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn find_channel(
        &self,
        organization: OrgId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        // On the reader connection: every inbound message and agent reply looks its
        // channel up, and one round trip there is cheaper than one through the pool.
        self.reads
            .run(move |c| {
                crate::rows::one(
                    c,
                    &FIND_CHANNEL,
                    &[&id.to_string(), &organization.to_string()],
                    |r| decode::channel(r),
                )
            })
            .await
    }

    async fn find_channel_for_callback(
        &self,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        let row = sqlx::query(parley_store::sql::FIND_CHANNEL_FOR_CALLBACK)
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(|r| decode::channel(&Cols(r))).transpose()
    }

    async fn list_channels(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Channel>, StoreError> {
        let rows = sqlx::query(parley_store::sql::LIST_CHANNELS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(archived)
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::channel(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |c| c.id.to_string()))
    }
}
