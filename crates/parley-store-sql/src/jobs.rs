//! The job queue: reads, statistics and canaries here; enqueueing, claims, completion and
//! leases are each engine's own ([`JobsEngine`]): SQLite's on its direct connection under
//! the write lock, PostgreSQL's with `FOR UPDATE SKIP LOCKED`.

use crate::{Cols, Engine, SqlStore, query, sql};
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::{JobId, to_millis};
use parley_store::decode;
use parley_store::{
    CanaryRecord, ClaimedJob, Enqueued, JobEffects, JobLease, JobQueue, JobRecord, NewJob,
    QueueStats, StoreError,
};

#[async_trait::async_trait]
impl<E: Engine> JobQueue for SqlStore<E> {
    async fn enqueue_job(&self, job: NewJob) -> Result<Enqueued, StoreError> {
        E::enqueue_job(self, job).await
    }

    async fn claim_jobs(
        &self,
        queue: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        E::claim_jobs(self, queue, now, lease, limit).await
    }

    async fn complete_job(
        &self,
        lease: JobLease,
        now: DateTime<Utc>,
        effects: JobEffects,
    ) -> Result<(), StoreError> {
        E::complete_job(self, lease, now, effects).await
    }

    async fn fail_job(
        &self,
        lease: JobLease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        E::fail_job(self, lease, now, error, retry_at).await
    }

    async fn extend_job_lease(
        &self,
        lease: JobLease,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        E::extend_job_lease(self, lease, until).await
    }

    async fn first_in_lane(&self, queue: &str, lane: &str) -> Result<Option<JobId>, StoreError> {
        E::first_in_lane(self, queue, lane).await
    }

    async fn get_job(&self, id: JobId) -> Result<JobRecord, StoreError> {
        let row = query::<E>("SELECT * FROM jobs WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?
            .ok_or(StoreError::NotFound)?;
        decode::job_record(&Cols::<E>(&row))
    }

    async fn job_stats(&self) -> Result<Vec<QueueStats>, StoreError> {
        let rows = query::<E>(sql::JOB_STATS)
            .fetch_all(&mut *self.conn().await?)
            .await?;
        let cols: Vec<Cols<'_, E>> = rows.iter().map(Cols).collect();
        decode::queue_stats(&cols)
    }

    async fn purge_finished_jobs(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let done =
            query::<E>("DELETE FROM jobs WHERE state IN ('done', 'failed') AND finished_at < $1")
                .bind(to_millis(before))
                .execute(&mut *self.conn().await?)
                .await?;
        Ok(done)
    }

    async fn record_canary(&self, key: &str, at: DateTime<Utc>) -> Result<u32, StoreError> {
        let runs = query::<E>(
            "INSERT INTO job_canaries (key, runs, first_at, last_at) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (key) DO UPDATE SET runs = job_canaries.runs + 1, last_at = excluded.last_at RETURNING runs",
        )
        .bind(key)
        .bind(to_millis(at))
        .fetch_int(&mut *self.conn().await?)
        .await?;
        Ok(u32::try_from(runs).unwrap_or(u32::MAX))
    }

    async fn list_canaries(&self) -> Result<Vec<CanaryRecord>, StoreError> {
        let rows = query::<E>("SELECT key, runs FROM job_canaries ORDER BY key")
            .fetch_all(&mut *self.conn().await?)
            .await?;
        rows.iter()
            .map(|r| {
                let runs = decode::int(&Cols::<E>(r), "runs")?;
                Ok(CanaryRecord {
                    key: decode::text(&Cols::<E>(r), "key")?,
                    runs: u32::try_from(runs).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }
}
