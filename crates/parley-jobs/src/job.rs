//! What a job is, how it fails, and how one is enqueued.

use std::future::Future;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::JobId;
use parley_store::{Enqueued, JobEffects, JobQueue, NewJob, StoreError};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A kind of background work. The value is the job's payload.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stored with each job; must be unique among the runner's job types.
    const NAME: &'static str;
    /// The queue it runs on.
    const QUEUE: &'static str = "default";
    /// Attempts before it is failed for good.
    const MAX_ATTEMPTS: u32 = 5;

    /// What the job needs to do its work (stores, clients), shared by all its runs.
    type Context: Clone + Send + Sync + 'static;

    /// Does the work. Returned effects commit atomically with the job's completion.
    fn run(
        &self,
        ctx: &Self::Context,
        job: JobId,
    ) -> impl Future<Output = Result<JobEffects, JobError>> + Send;
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JobError {
    /// Worth retrying (after `after`, or the backoff schedule when `None`).
    #[error("{message}")]
    Retry {
        /// What went wrong, kept as the job's `last_error`.
        message: String,
        /// A delay the failure itself asked for (for example a `Retry-After`).
        after: Option<Duration>,
    },
    /// Retrying cannot help; the job is failed at once.
    #[error("{0}")]
    Permanent(String),
}

impl From<StoreError> for JobError {
    fn from(e: StoreError) -> Self {
        JobError::Retry {
            message: format!("store: {e}"),
            after: None,
        }
    }
}

/// The row that enqueues `job` to run at `run_at`, for [`enqueue`] or for a job's
/// effects (a job that schedules its own next run).
pub fn new_job<J: Job>(
    job: &J,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    dedup_key: Option<String>,
) -> Result<NewJob, StoreError> {
    let payload = serde_json::to_value(job).map_err(|e| StoreError::Other(Box::new(e)))?;
    Ok(NewJob {
        id: JobId::generate(),
        queue: J::QUEUE.to_owned(),
        kind: J::NAME.to_owned(),
        payload,
        dedup_key,
        lane: None,
        run_at,
        max_attempts: J::MAX_ATTEMPTS,
        created_at: now,
    })
}

/// Enqueues `job` to run at `run_at`, de-duplicated on `dedup_key` while pending or running.
pub async fn enqueue<J: Job>(
    queue: &dyn JobQueue,
    job: &J,
    now: DateTime<Utc>,
    run_at: DateTime<Utc>,
    dedup_key: Option<String>,
) -> Result<Enqueued, StoreError> {
    queue
        .enqueue_job(new_job(job, now, run_at, dedup_key)?)
        .await
}
