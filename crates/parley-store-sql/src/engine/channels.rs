//! What an engine may read its own way for the channels port: [`ChannelsEngine`].

use parley_domain::{Channel, ChannelId, OrgId};
use parley_store::{StoreError, decode};

use super::Engine;
use crate::{Cols, SqlStore, query, sql};

/// Channel reads an engine may take on a faster path than the pool. Every inbound message
/// and every agent reply reads its channel, so SQLite reads it on its reader connection
/// (one hop to a thread of its own instead of a pool round trip); PostgreSQL keeps the
/// pool, which is what these methods do unless an engine says otherwise.
#[async_trait::async_trait]
pub trait ChannelsEngine: Sized {
    /// See the port's `find_channel`.
    async fn find_channel(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError>
    where
        Self: Engine,
    {
        let row = query::<Self>(sql::FIND_CHANNEL)
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&mut *store.conn().await?)
            .await?;
        row.as_ref()
            .map(|r| decode::channel(&Cols::<Self>(r)))
            .transpose()
    }
}
