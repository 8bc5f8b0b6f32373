//! The delivery engine on SQLite: fan-out, claims and recorded attempts on the direct
//! connection (`engine`), each taking the write lock once for a whole batch. Endpoints,
//! the attempts log and replays are `parley-store-sql`'s.

mod engine;

use chrono::{DateTime, Utc};
use parley_store::{AttemptRecord, DueDelivery, FannedOut, StoreError};

use crate::{Sqlite, SqliteStore};
use parley_store_sql::WebhooksEngine;

#[async_trait::async_trait]
impl WebhooksEngine for Sqlite {
    async fn fan_out_and_lease(
        store: &SqliteStore,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError> {
        store
            .engine()
            .direct
            .run(move |c| engine::fan_out_and_lease(c, limit, now, lease_until, lease_limit))
            .await
    }

    async fn claim_deliveries(
        store: &SqliteStore,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        store
            .engine()
            .direct
            .run(move |c| engine::claim_deliveries(c, now, lease_until, limit))
            .await
    }

    async fn record_attempts(
        store: &SqliteStore,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // The thread needs the batch whole; a copy costs far less than the writes.
        let records = records.to_vec();
        store
            .engine()
            .direct
            .run(move |c| engine::record_attempts(c, &records, now))
            .await
    }
}
