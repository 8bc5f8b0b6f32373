//! The runner: one claim loop per queue, a semaphore per queue for its worker count, a
//! heartbeat that extends each running job's lease, and graceful shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;
use parley_domain::{Clock, JobId};
use parley_store::{ClaimedJob, JobEffects, JobQueue, StoreError};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::backoff::backoff;
use crate::job::{Job, JobError};

type Handler<C> = Arc<
    dyn Fn(serde_json::Value, C, JobId) -> BoxFuture<'static, Result<JobEffects, JobError>>
        + Send
        + Sync,
>;

/// How one queue is worked.
#[derive(Debug, Clone)]
pub struct QueueConfig {
    /// The queue's name.
    pub name: String,
    /// Jobs run at once.
    pub workers: usize,
    /// How long a claim holds a job before another worker may take it; extended every
    /// third of it while the job runs.
    pub lease: Duration,
    /// How long an idle loop sleeps when nothing wakes it.
    pub poll_interval: Duration,
}

impl QueueConfig {
    /// A queue with `workers` workers, a 30 s lease and a 500 ms poll.
    #[must_use]
    pub fn new(name: &str, workers: usize) -> Self {
        Self {
            name: name.to_owned(),
            workers: workers.max(1),
            lease: Duration::from_secs(30),
            poll_interval: Duration::from_millis(500),
        }
    }
}

/// Runs registered job types on configured queues until cancelled.
pub struct Runner<C> {
    store: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    context: C,
    handlers: HashMap<&'static str, Handler<C>>,
    queues: Vec<QueueConfig>,
    wake: Arc<Notify>,
}

impl<C: Clone + Send + Sync + 'static> Runner<C> {
    /// A runner with no job types and no queues yet.
    pub fn new(store: Arc<dyn JobQueue>, clock: Arc<dyn Clock>, context: C) -> Self {
        Self {
            store,
            clock,
            context,
            handlers: HashMap::new(),
            queues: Vec::new(),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Registers a job type.
    #[must_use]
    pub fn register<J: Job<Context = C>>(mut self) -> Self {
        let handler: Handler<C> = Arc::new(|payload, ctx, id| {
            Box::pin(async move {
                let job: J = serde_json::from_value(payload).map_err(|e| {
                    JobError::Permanent(format!("payload does not decode as {}: {e}", J::NAME))
                })?;
                job.run(&ctx, id).await
            })
        });
        self.handlers.insert(J::NAME, handler);
        self
    }

    /// Adds a queue to work.
    #[must_use]
    pub fn queue(mut self, config: QueueConfig) -> Self {
        self.queues.push(config);
        self
    }

    /// A handle that wakes idle queue loops (call it after enqueueing in-process).
    #[must_use]
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Works every queue until `cancel` fires, then waits for running jobs to finish.
    pub async fn start(self, cancel: CancellationToken) {
        let shared = Arc::new(Shared {
            store: self.store,
            clock: self.clock,
            context: self.context,
            handlers: self.handlers,
        });
        let mut loops = JoinSet::new();
        for config in self.queues {
            loops.spawn(queue_loop(
                shared.clone(),
                config,
                self.wake.clone(),
                cancel.clone(),
            ));
        }
        while loops.join_next().await.is_some() {}
    }
}

struct Shared<C> {
    store: Arc<dyn JobQueue>,
    clock: Arc<dyn Clock>,
    context: C,
    handlers: HashMap<&'static str, Handler<C>>,
}

async fn queue_loop<C: Clone + Send + Sync + 'static>(
    shared: Arc<Shared<C>>,
    config: QueueConfig,
    wake: Arc<Notify>,
    cancel: CancellationToken,
) {
    let permits = Arc::new(Semaphore::new(config.workers));
    let mut running = JoinSet::new();
    while !cancel.is_cancelled() {
        while running.try_join_next().is_some() {}
        let free = permits.available_permits();
        let claimed = if free == 0 {
            Ok(Vec::new())
        } else {
            let limit = u32::try_from(free).unwrap_or(u32::MAX);
            shared
                .store
                .claim_jobs(&config.name, shared.clock.now(), config.lease, limit)
                .await
        };
        let jobs = match claimed {
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(queue = %config.name, error = ?e, "claiming jobs failed; retrying");
                Vec::new()
            }
        };
        if jobs.is_empty() {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep(config.poll_interval) => {}
                () = cancel.cancelled() => break,
                Some(_) = running.join_next(), if !running.is_empty() => {}
            }
            continue;
        }
        for job in jobs {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                break;
            };
            let shared = shared.clone();
            let lease = config.lease;
            running.spawn(async move {
                run_one(&shared, job, lease).await;
                drop(permit);
            });
        }
    }
    // Shutdown: no more claims; let the jobs in hand finish.
    while running.join_next().await.is_some() {}
}

async fn run_one<C: Clone + Send + Sync + 'static>(
    shared: &Shared<C>,
    job: ClaimedJob,
    lease_length: Duration,
) {
    let lease = job.lease;
    let store = &shared.store;
    let now = || shared.clock.now();
    let span = tracing::info_span!(parent: None, "job", id = %lease.id, kind = %job.kind, attempt = lease.attempt);
    let _guard = span.enter();
    if lease.attempt > job.max_attempts {
        let message = "gave up: the job's worker stopped on every attempt";
        report(
            store.fail_job(lease, now(), message, None).await,
            &job.kind,
            "failed",
        );
        return;
    }
    let Some(handler) = shared.handlers.get(job.kind.as_str()).cloned() else {
        let message = format!("no job type named {} is registered", job.kind);
        report(
            store.fail_job(lease, now(), &message, None).await,
            &job.kind,
            "failed",
        );
        return;
    };
    // Keep the lease while the job runs, so a long job is not taken by another worker.
    let heartbeat = {
        let store = store.clone();
        let clock = shared.clock.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(lease_length / 3).await;
                let until = clock.now()
                    + chrono::Duration::from_std(lease_length).unwrap_or(chrono::Duration::MAX);
                if store.extend_job_lease(lease, until).await.is_err() {
                    break;
                }
            }
        })
    };
    // Run in a task of its own so a panicking job is a failed attempt, not a dead worker.
    let work = tokio::spawn(handler(
        job.payload.clone(),
        shared.context.clone(),
        lease.id,
    ))
    .await;
    heartbeat.abort();
    let outcome = work.unwrap_or_else(|_| {
        Err(JobError::Retry {
            message: "the job panicked".to_owned(),
            after: None,
        })
    });
    match outcome {
        Ok(effects) => report(
            store.complete_job(lease, now(), effects).await,
            &job.kind,
            "done",
        ),
        Err(JobError::Retry { message, after }) if lease.attempt < job.max_attempts => {
            let delay = after.unwrap_or_else(|| backoff(lease.id, lease.attempt));
            let retry_at =
                now() + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
            report(
                store.fail_job(lease, now(), &message, Some(retry_at)).await,
                &job.kind,
                "retried",
            );
        }
        Err(e) => report(
            store.fail_job(lease, now(), &e.to_string(), None).await,
            &job.kind,
            "failed",
        ),
    }
}

fn report(result: Result<(), StoreError>, kind: &str, outcome: &'static str) {
    match result {
        Ok(()) => {
            metrics::counter!("parley_jobs_total", "kind" => kind.to_owned(), "outcome" => outcome)
                .increment(1);
        }
        // The lease was lost: another worker owns the job now and will finish it.
        Err(StoreError::Conflict { .. }) => {
            tracing::warn!(outcome, "job lease lost before recording the outcome")
        }
        // The job stays claimed; when its lease ends it runs again (at-least-once).
        Err(e) => tracing::error!(outcome, error = ?e, "recording a job outcome failed"),
    }
}
