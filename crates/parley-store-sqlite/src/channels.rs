//! Channels on SQLite: the channel read of every inbound message and agent reply runs on
//! the reader connection.

use parley_domain::{Channel, ChannelId, OrgId};
use parley_store::{StoreError, decode};
use parley_store_sql::{ChannelsEngine, sql};

use crate::rows::numbered_sql;
use crate::{Sqlite, SqliteStore};

numbered_sql! {
    FIND_CHANNEL = sql::FIND_CHANNEL;
}

#[async_trait::async_trait]
impl ChannelsEngine for Sqlite {
    async fn find_channel(
        store: &SqliteStore,
        organization: OrgId,
        id: ChannelId,
    ) -> Result<Option<Channel>, StoreError> {
        // One hop to the reader's thread is cheaper than a round trip through the pool.
        store
            .engine()
            .reads
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
}
