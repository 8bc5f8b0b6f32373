//! What each engine writes its own way for the webhooks port: [`WebhooksEngine`].

use super::Engine;
use crate::SqlStore;
use chrono::{DateTime, Utc};
use parley_store::{AttemptRecord, DueDelivery, FannedOut, StoreError};

/// The delivery engine's transactions, which each engine writes its own way (ADR 0004):
/// SQLite on its direct connection taking a contiguous id range, PostgreSQL with explicit
/// ids and `FOR UPDATE SKIP LOCKED`.
#[async_trait::async_trait]
pub trait WebhooksEngine: Sized {
    /// See the port's `fan_out_and_lease`.
    async fn fan_out_and_lease(
        store: &SqlStore<Self>,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError>
    where
        Self: Engine;

    /// See the port's `claim_deliveries`.
    async fn claim_deliveries(
        store: &SqlStore<Self>,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>
    where
        Self: Engine;

    /// See the port's `record_attempts`.
    async fn record_attempts(
        store: &SqlStore<Self>,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>
    where
        Self: Engine;
}
