//! Channels: each write with its audit entry in one transaction.

use crate::{Engine, Sql, SqlStore, query, sql};
use parley_domain::{Channel, ChannelId, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ChannelStore, Page, PageRequest, StoreError};

/// Every column of `channels`, bound as `$1…$13` in table order.
fn bind_channel<E: Engine>(q: Sql<E>, c: &Channel) -> Sql<E> {
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
impl<E: Engine> ChannelStore for SqlStore<E> {
    async fn create_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError> {
        let query = bind_channel::<E>(query::<E>(sql::INSERT_CHANNEL), &channel);
        self.write_audited(query, |r| decode::channel(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_channel(
        &self,
        channel: Channel,
        audit: NewAuditEntry,
    ) -> Result<Channel, StoreError> {
        let query = bind_channel::<E>(query::<E>(sql::UPDATE_CHANNEL), &channel);
        self.write_audited(query, |r| decode::channel(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn find_channel(
        &self,
        organization: OrgId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        E::find_channel(self, organization, id).await
    }

    async fn find_channel_for_callback(
        &self,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        query::<E>(sql::FIND_CHANNEL_FOR_CALLBACK)
            .bind(id.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::channel(r))
            .await
    }

    async fn list_channels(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Channel>, StoreError> {
        let items = query::<E>(sql::LIST_CHANNELS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(archived)
            .fetch_all_as(&mut *self.conn().await?, |r| decode::channel(r))
            .await?;
        Ok(page.finish(items, |c| c.id.to_string()))
    }
}
