//! Job types the application owns, and how the binary runs them.
//!
//! * [`CanaryJob`]: operators enqueue canaries (`parley admin jobs canary`) to prove the
//!   workers are alive and to measure their lag; each canary records its key once per
//!   execution, so a re-run after a crash is visible and its effect is counted once.
//! * [`HousekeepingJob`]: hourly purge of expired sessions and idempotency keys and of
//!   jobs finished over a week ago. Each run enqueues the next one as an effect of its own
//!   completion, under one de-duplication key, so exactly one is ever scheduled.
//! * [`crate::imports::ImportJob`]: runs an API import, one at a time per node.
//! * [`crate::imports::inbox::SftpInboxJob`]: polls SFTP import inboxes, on the same
//!   queue as imports.

use std::time::Duration;

use parley_domain::JobId;
use parley_jobs::{Job, JobError, QueueConfig, Runner, enqueue, new_job};
use parley_store::JobEffects;
use serde::{Deserialize, Serialize};

use crate::{App, AppError};

/// Proves the workers run jobs; its effect is one canary record per execution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CanaryJob {
    /// The canary's name, unique per enqueued canary.
    pub key: String,
    /// Simulated work before the effect, in milliseconds.
    #[serde(default)]
    pub work_ms: u64,
}

impl Job for CanaryJob {
    const NAME: &'static str = "canary";
    const QUEUE: &'static str = "default";
    const MAX_ATTEMPTS: u32 = 10;
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        tokio::time::sleep(Duration::from_millis(self.work_ms)).await;
        app.store.record_canary(&self.key, app.clock.now()).await?;
        Ok(JobEffects::default())
    }
}

/// Purges expired sessions, expired idempotency keys and old finished jobs, then schedules
/// its next run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HousekeepingJob;

const HOUSEKEEPING_EVERY: chrono::Duration = chrono::Duration::hours(1);
const KEEP_FINISHED_JOBS: chrono::Duration = chrono::Duration::days(7);
const HOUSEKEEPING_KEY: &str = "housekeeping";

impl Job for HousekeepingJob {
    const NAME: &'static str = "housekeeping";
    const QUEUE: &'static str = "maintenance";
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        let now = app.clock.now();
        let sessions = app.store.delete_expired_sessions(now).await?;
        let keys = app.store.purge_idempotency(now).await?;
        let jobs = app
            .store
            .purge_finished_jobs(now - KEEP_FINISHED_JOBS)
            .await?;
        tracing::info!(
            sessions,
            idempotency_keys = keys,
            jobs,
            "housekeeping purged expired rows"
        );
        // The next run commits with this run's completion (lease-fenced) under the same
        // de-duplication key as the one scheduled at start, so exactly one is pending.
        let next = new_job(
            self,
            now,
            now + HOUSEKEEPING_EVERY,
            Some(HOUSEKEEPING_KEY.to_owned()),
        )?;
        Ok(JobEffects {
            events: Vec::new(),
            jobs: vec![next],
        })
    }
}

impl App {
    /// A runner with every application job type and queue registered.
    #[must_use]
    pub fn job_runner(&self, default_workers: usize, lease: Duration) -> Runner<App> {
        let queue = |name: &str, workers| QueueConfig {
            lease,
            ..QueueConfig::new(name, workers)
        };
        let runner = Runner::new(self.store.clone(), self.clock.clone(), self.clone())
            .register::<CanaryJob>()
            .register::<HousekeepingJob>()
            .register::<crate::imports::ImportJob>()
            .register::<crate::imports::inbox::SftpInboxJob>()
            .register::<crate::conversations::turn::SendJob>()
            .register::<crate::conversations::send::SimReportJob>()
            .register::<crate::conversations::runtime::TimerJob>()
            .register::<crate::conversations::runtime::FetchJob>()
            .queue(queue("default", default_workers))
            // An import keeps the cores busy on its own; one at a time per node.
            .queue(queue("imports", 1))
            .queue(queue("maintenance", 1))
            // Sends wait on providers, not on the cores; turns woken by a reply wake them.
            .queue(QueueConfig {
                poll_interval: Duration::from_millis(50),
                ..queue("sends", 64)
            })
            .queue(QueueConfig {
                poll_interval: Duration::from_millis(100),
                ..queue("conversations", 16)
            });
        self.runtime.set_waker(runner.waker());
        runner
    }

    /// Schedules housekeeping to run now unless a run is already pending or running (the
    /// de-duplication key its own next runs carry too).
    pub async fn schedule_housekeeping(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        enqueue(
            &*self.store,
            &HousekeepingJob,
            now,
            now,
            Some(HOUSEKEEPING_KEY.to_owned()),
        )
        .await?;
        Ok(())
    }

    /// Enqueues `count` canaries named `<prefix>-<n>`, each doing `work_ms` of work.
    pub async fn enqueue_canaries(
        &self,
        prefix: &str,
        count: u32,
        work_ms: u64,
    ) -> Result<Vec<JobId>, AppError> {
        let now = self.clock.now();
        let mut ids = Vec::with_capacity(count as usize);
        for n in 0..count {
            let key = format!("{prefix}-{n}");
            let job = CanaryJob {
                key: key.clone(),
                work_ms,
            };
            ids.push(enqueue(&*self.store, &job, now, now, Some(key)).await?.id);
        }
        Ok(ids)
    }
}
