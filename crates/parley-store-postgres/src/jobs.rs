//! The job queue on PostgreSQL. Claims pick rows with `FOR UPDATE SKIP LOCKED`, so
//! workers of several processes never block on, or double-claim, each other's rows.

use std::sync::LazyLock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::{JobId, to_millis};
use parley_store::decode;
use parley_store::{ClaimedJob, Enqueued, JobEffects, JobLease, NewJob, StoreError};
use sqlx::PgConnection;

use crate::rows::insert_event;
use crate::rows::{Cols, map_err};
use crate::{PgStore, Postgres};
use parley_store_sql::JobsEngine;
use parley_store_sql::sql;

async fn insert_job(conn: &mut PgConnection, job: &NewJob) -> Result<Enqueued, StoreError> {
    let inserted = sqlx::query(sql::INSERT_JOB)
        .bind(job.id.to_string())
        .bind(&job.queue)
        .bind(&job.kind)
        .bind(job.payload.to_string())
        .bind(job.dedup_key.as_deref())
        .bind(i64::from(job.max_attempts))
        .bind(to_millis(job.run_at))
        .bind(to_millis(job.created_at))
        .bind(job.lane.as_deref())
        .execute(&mut *conn)
        .await
        .map_err(map_err)?
        .rows_affected();
    if inserted == 1 {
        return Ok(Enqueued {
            id: job.id,
            is_new: true,
        });
    }
    let existing: Option<String> = sqlx::query_scalar(
        "SELECT id FROM jobs WHERE queue = $1 AND dedup_key = $2 AND state IN ('pending', 'running')",
    )
    .bind(&job.queue)
    .bind(job.dedup_key.as_deref())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let id = existing.ok_or(StoreError::Conflict {
        constraint: "jobs_pkey",
    })?;
    let id = id
        .parse::<JobId>()
        .map_err(|_| StoreError::corrupt("jobs.id holds an invalid id"))?;
    Ok(Enqueued { id, is_new: false })
}

/// Claims due jobs (`$1` queue, `$2` now, `$3` limit, `$4` lease end). A lane's later job
/// is passed over while an earlier one is pending or running, also when that one is
/// locked by another claim (it is still `pending` in this statement's snapshot).
static CLAIM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, run_at = $4 WHERE id IN \
         (SELECT id FROM jobs WHERE queue = $1 AND state IN ('pending', 'running') AND run_at <= $2 \
          AND {} ORDER BY run_at, id LIMIT $3 FOR UPDATE SKIP LOCKED) RETURNING *",
        sql::LANE_IS_FREE
    )
});

fn lease_lost(rows: u64) -> Result<(), StoreError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(StoreError::Conflict {
            constraint: "job_lease",
        })
    }
}

#[async_trait::async_trait]
impl JobsEngine for Postgres {
    async fn enqueue_job(store: &PgStore, job: NewJob) -> Result<Enqueued, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let enqueued = insert_job(&mut tx, &job).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(enqueued)
    }

    async fn claim_jobs(
        store: &PgStore,
        queue: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let lease_end = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let rows = sqlx::query(CLAIM.as_str())
            .bind(queue)
            .bind(to_millis(now))
            .bind(i64::from(limit))
            .bind(to_millis(lease_end))
            .fetch_all(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let mut jobs = rows
            .iter()
            .map(|r| decode::claimed_job(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by_key(|j| j.lease.id);
        Ok(jobs)
    }

    async fn complete_job(
        store: &PgStore,
        lease: JobLease,
        now: DateTime<Utc>,
        effects: JobEffects,
    ) -> Result<(), StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let rows = sqlx::query(
            "UPDATE jobs SET state = 'done', finished_at = $3, last_error = NULL \
             WHERE id = $1 AND attempts = $2 AND state = 'running'",
        )
        .bind(lease.id.to_string())
        .bind(i64::from(lease.attempt))
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        lease_lost(rows)?;
        for event in &effects.events {
            insert_event(&mut tx, event).await?;
        }
        for job in &effects.jobs {
            insert_job(&mut tx, job).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn fail_job(
        store: &PgStore,
        lease: JobLease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "UPDATE jobs SET state = CASE WHEN $4 IS NULL THEN 'failed' ELSE 'pending' END, \
             run_at = COALESCE($4, run_at), last_error = $3, \
             finished_at = CASE WHEN $4 IS NULL THEN $5 ELSE NULL END \
             WHERE id = $1 AND attempts = $2 AND state = 'running'",
        )
        .bind(lease.id.to_string())
        .bind(i64::from(lease.attempt))
        .bind(error)
        .bind(retry_at.map(to_millis))
        .bind(to_millis(now))
        .execute(store.pool())
        .await
        .map_err(map_err)?
        .rows_affected();
        lease_lost(rows)
    }

    async fn extend_job_lease(
        store: &PgStore,
        lease: JobLease,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let rows = sqlx::query(
            "UPDATE jobs SET run_at = $3 WHERE id = $1 AND attempts = $2 AND state = 'running'",
        )
        .bind(lease.id.to_string())
        .bind(i64::from(lease.attempt))
        .bind(to_millis(until))
        .execute(store.pool())
        .await
        .map_err(map_err)?
        .rows_affected();
        lease_lost(rows)
    }

    async fn first_in_lane(
        store: &PgStore,
        queue: &str,
        lane: &str,
    ) -> Result<Option<JobId>, StoreError> {
        let first: Option<String> = sqlx::query_scalar(sql::FIRST_IN_LANE)
            .bind(queue)
            .bind(lane)
            .fetch_optional(store.pool())
            .await
            .map_err(map_err)?;
        first
            .map(|id| {
                id.parse::<JobId>()
                    .map_err(|_| StoreError::corrupt("jobs.id holds an invalid id"))
            })
            .transpose()
    }
}
