//! The durable job queue port. Jobs are claimed under a lease; the lease's attempt number
//! fences every later write, so a worker that lost its lease (it stalled, or its process
//! died and the job was claimed again) can neither complete nor fail the job.
//!
//! Jobs that must run one after another name a **lane** (a conversation's sends): a job
//! is not claimed while an earlier job (a lower id) of its queue and lane is pending or
//! running, whatever their due times, so a lane's jobs run one at a time in the order
//! they were queued, and a job waiting for a retry holds back the ones after it. Lanes
//! do not hold each other back.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{JobId, NewEvent};

use crate::StoreError;

/// A job to enqueue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewJob {
    /// Its id.
    pub id: JobId,
    /// The named queue it runs on.
    pub queue: String,
    /// Which job type runs it (the `Job::NAME`).
    pub kind: String,
    /// The job's arguments.
    pub payload: serde_json::Value,
    /// While a job with the same queue and key is pending or running, enqueueing another
    /// returns the existing one instead.
    pub dedup_key: Option<String>,
    /// The lane it runs in, one job at a time in id order (see the module's doc).
    pub lane: Option<String>,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// Attempts before it is marked failed for good.
    pub max_attempts: u32,
    /// When it was enqueued.
    pub created_at: DateTime<Utc>,
}

/// The result of enqueueing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The job that will run: the new one, or the pending one with the same key.
    pub id: JobId,
    /// False when de-duplicated onto an existing job.
    pub is_new: bool,
}

/// Proof of holding a job: its id and the attempt that claimed it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobLease {
    /// The job.
    pub id: JobId,
    /// The attempt number the claim produced (1 for the first run).
    pub attempt: u32,
}

/// A claimed job, ready to run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimedJob {
    /// The lease to complete or fail it with.
    pub lease: JobLease,
    /// Its queue.
    pub queue: String,
    /// Its type.
    pub kind: String,
    /// Its arguments.
    pub payload: serde_json::Value,
    /// Attempts allowed in all.
    pub max_attempts: u32,
}

/// Writes that commit together with a job's completion, so they happen exactly once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobEffects {
    /// Outbox events the job emits.
    pub events: Vec<NewEvent>,
    /// Follow-up jobs.
    pub jobs: Vec<NewJob>,
}

/// Where a job is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum JobState {
    /// Waiting for `run_at` or a worker.
    Pending,
    /// Claimed under a lease.
    Running,
    /// Finished successfully.
    Done,
    /// Gave up after its last attempt or a permanent error.
    Failed,
}

impl JobState {
    /// The stored name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Done => "done",
            JobState::Failed => "failed",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [
            JobState::Pending,
            JobState::Running,
            JobState::Done,
            JobState::Failed,
        ]
        .into_iter()
        .find(|s| s.as_str() == name)
    }
}

/// A job as stored, for inspection.
#[derive(Debug, Clone, PartialEq)]
pub struct JobRecord {
    /// Its id.
    pub id: JobId,
    /// Its queue.
    pub queue: String,
    /// Its type.
    pub kind: String,
    /// Its state.
    pub state: JobState,
    /// Claims so far.
    pub attempts: u32,
    /// The de-duplication key.
    pub dedup_key: Option<String>,
    /// Next run time (pending) or lease end (running).
    pub run_at: DateTime<Utc>,
    /// The last failure's message.
    pub last_error: Option<String>,
    /// When it finished, if it did.
    pub finished_at: Option<DateTime<Utc>>,
}

/// Counts per queue and state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStats {
    /// The queue.
    pub queue: String,
    /// Jobs pending.
    pub pending: u64,
    /// Jobs running.
    pub running: u64,
    /// Jobs done.
    pub done: u64,
    /// Jobs failed.
    pub failed: u64,
    /// When the longest-waiting pending job became (or becomes) due.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// A canary key's record: how many times canary jobs recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanaryRecord {
    /// The canary's key.
    pub key: String,
    /// Executions that reached the effect (more than one means the job was re-run).
    pub runs: u32,
}

/// The job queue.
#[async_trait]
pub trait JobQueue: Send + Sync {
    /// Enqueues a job, de-duplicating on `(queue, dedup_key)` among pending and running jobs.
    async fn enqueue_job(&self, job: NewJob) -> Result<Enqueued, StoreError>;

    /// Claims up to `limit` due jobs of `queue`: pending ones whose `run_at` has come, and
    /// running ones whose lease ended before `now` (their worker is presumed dead), each
    /// only when no earlier job of its lane is pending or running. Each claim adds one
    /// attempt and holds the job until `now + lease`.
    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError>;

    /// Marks a job done and commits its effects with it. `Conflict { constraint:
    /// "job_lease" }` when the lease was lost; then nothing is written.
    async fn complete_job(
        &self,
        lease: JobLease,
        now: DateTime<Utc>,
        effects: JobEffects,
    ) -> Result<(), StoreError>;

    /// Records a failed attempt: back to pending at `retry_at`, or failed for good when
    /// `retry_at` is `None`. Fenced by the lease like `complete_job`.
    async fn fail_job(
        &self,
        lease: JobLease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError>;

    /// Extends a held lease to `until` (for long jobs). Fenced by the lease.
    async fn extend_job_lease(
        &self,
        lease: JobLease,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// The first pending or running job of `queue` in `lane` (the one its lane runs next,
    /// or runs now); `None` when the lane is idle.
    async fn first_in_lane(&self, queue: &str, lane: &str) -> Result<Option<JobId>, StoreError>;

    /// One job, or `NotFound`.
    async fn get_job(&self, id: JobId) -> Result<JobRecord, StoreError>;

    /// Counts per queue, ordered by queue name.
    async fn job_stats(&self) -> Result<Vec<QueueStats>, StoreError>;

    /// Deletes done and failed jobs that finished before `before`; returns how many.
    async fn purge_finished_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// The canary job's effect: counts one execution for `key` (see `parley-app`'s canary
    /// job). Returns the executions recorded so far, this one included.
    async fn record_canary(&self, key: &str, at: DateTime<Utc>) -> Result<u32, StoreError>;

    /// Every canary key with its execution count, ordered by key.
    async fn list_canaries(&self) -> Result<Vec<CanaryRecord>, StoreError>;
}
