//! Decoding of jobs: a claimed job, a job's record, and the per-queue counts.

use super::{RowSource, StoreError, count, count64, instant, json, opt_instant, parsed, text};
use crate::jobs::{ClaimedJob, JobLease, JobRecord, JobState, QueueStats};

/// `jobs.*` as claimed.
pub fn claimed_job(r: &impl RowSource) -> Result<ClaimedJob, StoreError> {
    Ok(ClaimedJob {
        lease: JobLease {
            id: parsed(r, "id")?,
            attempt: count(r, "attempts")?,
        },
        queue: text(r, "queue")?,
        kind: text(r, "kind")?,
        payload: json(r, "payload")?,
        max_attempts: count(r, "max_attempts")?,
    })
}

/// Per-queue counts from the rows of `sql::JOB_STATS` (ordered by queue, then state).
pub fn queue_stats<R: RowSource>(rows: &[R]) -> Result<Vec<QueueStats>, StoreError> {
    let mut stats: Vec<QueueStats> = Vec::new();
    for row in rows {
        let queue = text(row, "queue")?;
        let state = text(row, "state")?;
        let n = count64(row, "n")?;
        if stats.last().is_none_or(|s| s.queue != queue) {
            stats.push(QueueStats {
                queue,
                ..QueueStats::default()
            });
        }
        let Some(entry) = stats.last_mut() else {
            continue;
        };
        match JobState::from_name(&state) {
            Some(JobState::Pending) => {
                entry.pending = n;
                entry.oldest_pending_at = opt_instant(row, "oldest")?;
            }
            Some(JobState::Running) => entry.running = n,
            Some(JobState::Done) => entry.done = n,
            Some(JobState::Failed) => entry.failed = n,
            None => return Err(StoreError::corrupt(format!("unknown job state {state}"))),
        }
    }
    Ok(stats)
}

/// `jobs.*` for inspection.
pub fn job_record(r: &impl RowSource) -> Result<JobRecord, StoreError> {
    let state = text(r, "state")?;
    Ok(JobRecord {
        id: parsed(r, "id")?,
        queue: text(r, "queue")?,
        kind: text(r, "kind")?,
        state: JobState::from_name(&state)
            .ok_or_else(|| StoreError::corrupt(format!("unknown job state {state}")))?,
        attempts: count(r, "attempts")?,
        dedup_key: r.opt_text("dedup_key")?,
        run_at: instant(r, "run_at")?,
        last_error: r.opt_text("last_error")?,
        finished_at: opt_instant(r, "finished_at")?,
    })
}
