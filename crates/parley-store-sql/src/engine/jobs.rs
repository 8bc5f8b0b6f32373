//! What each engine writes its own way for the jobs port: [`JobsEngine`].

use super::Engine;
use crate::SqlStore;
use chrono::{DateTime, Utc};
use parley_domain::JobId;
use parley_store::{ClaimedJob, Enqueued, JobEffects, JobLease, NewJob, StoreError};
use std::time::Duration;

/// The job queue operations each engine writes its own way: SQLite on its direct
/// connection under the write lock, PostgreSQL with `FOR UPDATE SKIP LOCKED`.
#[async_trait::async_trait]
pub trait JobsEngine: Sized {
    /// See the port's `enqueue_job`.
    async fn enqueue_job(store: &SqlStore<Self>, job: NewJob) -> Result<Enqueued, StoreError>
    where
        Self: Engine;

    /// See the port's `claim_jobs`.
    async fn claim_jobs(
        store: &SqlStore<Self>,
        queue: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError>
    where
        Self: Engine;

    /// See the port's `complete_job`.
    async fn complete_job(
        store: &SqlStore<Self>,
        lease: JobLease,
        now: DateTime<Utc>,
        effects: JobEffects,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See the port's `fail_job`.
    async fn fail_job(
        store: &SqlStore<Self>,
        lease: JobLease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See the port's `extend_job_lease`.
    async fn extend_job_lease(
        store: &SqlStore<Self>,
        lease: JobLease,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See the port's `first_in_lane`.
    async fn first_in_lane(
        store: &SqlStore<Self>,
        queue: &str,
        lane: &str,
    ) -> Result<Option<JobId>, StoreError>
    where
        Self: Engine;
}
