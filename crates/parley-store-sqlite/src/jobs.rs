//! The job queue on SQLite. Its writes (enqueue, claim, complete, fail, extend) run on
//! the store's direct connection (`crate::direct`), the one writer that the conversation
//! turns and the webhook engine use too: on pool connections they would collide with
//! those on the write lock and wait in SQLite's busy handler (1–100 ms a try). A claim is
//! one `BEGIN IMMEDIATE` transaction around one `UPDATE … RETURNING`. The queue's reads are
//! `parley-store-sql`'s.

use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::{JobId, NewEvent, to_millis};
use parley_store::decode;
use parley_store::{ClaimedJob, Enqueued, JobEffects, JobLease, NewJob, StoreError};
use parley_store_sql::sql;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

use crate::rows::{RCols, numbered_sql, sql_err};
use crate::{Sqlite, SqliteStore};
use parley_store_sql::JobsEngine;

numbered_sql! {
    INSERT_JOB = sql::INSERT_JOB;
    INSERT_EVENT = sql::INSERT_EVENT;
    EXISTING_JOB = "SELECT id FROM jobs WHERE queue = $1 AND dedup_key = $2 \
                    AND state IN ('pending', 'running')";
    CLAIM = &format!(
        "UPDATE jobs SET state = 'running', attempts = attempts + 1, run_at = $4 WHERE id IN \
         (SELECT id FROM jobs WHERE queue = $1 AND state IN ('pending', 'running') AND run_at <= $2 \
          AND {} ORDER BY run_at, id LIMIT $3) RETURNING *",
        sql::LANE_IS_FREE
    );
    ANY_DUE = &format!(
        "SELECT 1 FROM jobs WHERE queue = $1 AND state IN ('pending', 'running') \
         AND run_at <= $2 AND {} LIMIT 1",
        sql::LANE_IS_FREE
    );
    FIRST_IN_LANE = sql::FIRST_IN_LANE;
    COMPLETE = "UPDATE jobs SET state = 'done', finished_at = $3, last_error = NULL \
                WHERE id = $1 AND attempts = $2 AND state = 'running'";
    FAIL = "UPDATE jobs SET state = CASE WHEN $4 IS NULL THEN 'failed' ELSE 'pending' END, \
            run_at = COALESCE($4, run_at), last_error = $3, \
            finished_at = CASE WHEN $4 IS NULL THEN $5 ELSE NULL END \
            WHERE id = $1 AND attempts = $2 AND state = 'running'";
    EXTEND = "UPDATE jobs SET run_at = $3 WHERE id = $1 AND attempts = $2 AND state = 'running'";
}

/// Inserts `job` in the caller's transaction, or finds the pending or running job that
/// holds its de-duplication key.
pub(crate) fn insert_job(tx: &Connection, job: &NewJob) -> Result<Enqueued, StoreError> {
    let inserted = tx
        .prepare_cached(&INSERT_JOB)
        .map_err(sql_err)?
        .execute(rusqlite::params![
            job.id.to_string(),
            job.queue,
            job.kind,
            job.payload.to_string(),
            job.dedup_key,
            i64::from(job.max_attempts),
            to_millis(job.run_at),
            to_millis(job.created_at),
            job.lane,
        ])
        .map_err(sql_err)?;
    if inserted == 1 {
        return Ok(Enqueued {
            id: job.id,
            is_new: true,
        });
    }
    let existing: Option<String> = tx
        .prepare_cached(&EXISTING_JOB)
        .map_err(sql_err)?
        .query_row(rusqlite::params![job.queue, job.dedup_key], |r| r.get(0))
        .optional()
        .map_err(sql_err)?;
    let id = existing.ok_or(StoreError::Conflict {
        constraint: "jobs_pkey",
    })?;
    let id = id
        .parse::<JobId>()
        .map_err(|_| StoreError::corrupt("jobs.id holds an invalid id"))?;
    Ok(Enqueued { id, is_new: false })
}

fn immediate(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)
}

fn claim(
    conn: &mut Connection,
    queue: &str,
    now: DateTime<Utc>,
    lease_end: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<ClaimedJob>, StoreError> {
    let tx = immediate(conn)?;
    let jobs = {
        let mut statement = tx.prepare_cached(&CLAIM).map_err(sql_err)?;
        let rows = statement
            .query_map(
                rusqlite::params![
                    queue,
                    to_millis(now),
                    i64::from(limit),
                    to_millis(lease_end)
                ],
                |row| Ok(decode::claimed_job(&RCols::new(row))),
            )
            .map_err(sql_err)?;
        let mut jobs = Vec::new();
        for row in rows {
            jobs.push(row.map_err(sql_err)??);
        }
        jobs
    };
    tx.commit().map_err(sql_err)?;
    Ok(jobs)
}

fn complete(
    conn: &mut Connection,
    lease: JobLease,
    now: DateTime<Utc>,
    effects: &JobEffects,
) -> Result<(), StoreError> {
    let tx = immediate(conn)?;
    let rows = tx
        .prepare_cached(&COMPLETE)
        .map_err(sql_err)?
        .execute(rusqlite::params![
            lease.id.to_string(),
            i64::from(lease.attempt),
            to_millis(now)
        ])
        .map_err(sql_err)?;
    lease_lost(rows as u64)?;
    write_effects(&tx, &effects.events, &effects.jobs)?;
    tx.commit().map_err(sql_err)
}

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
impl JobsEngine for Sqlite {
    async fn enqueue_job(store: &SqliteStore, job: NewJob) -> Result<Enqueued, StoreError> {
        store
            .engine()
            .direct
            .run(move |conn| {
                let tx = immediate(conn)?;
                let enqueued = insert_job(&tx, &job)?;
                tx.commit().map_err(sql_err)?;
                Ok(enqueued)
            })
            .await
    }

    async fn claim_jobs(
        store: &SqliteStore,
        queue: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u32,
    ) -> Result<Vec<ClaimedJob>, StoreError> {
        let lease_end = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::MAX);
        let queue = queue.to_owned();
        // Most claims find nothing (a poll, or a wake-up for another queue): the reader
        // connection says so without a write transaction on the writer's thread.
        let asked = queue.clone();
        let due = store
            .engine()
            .reads
            .run(move |conn| {
                crate::rows::one(conn, &ANY_DUE, &[&asked, &to_millis(now)], |_| Ok(()))
            })
            .await?;
        if due.is_none() {
            return Ok(Vec::new());
        }
        let mut jobs = store
            .engine()
            .direct
            .run(move |conn| claim(conn, &queue, now, lease_end, limit))
            .await?;
        jobs.sort_by_key(|j| j.lease.id);
        Ok(jobs)
    }

    async fn complete_job(
        store: &SqliteStore,
        lease: JobLease,
        now: DateTime<Utc>,
        effects: JobEffects,
    ) -> Result<(), StoreError> {
        store
            .engine()
            .direct
            .run(move |conn| complete(conn, lease, now, &effects))
            .await
    }

    async fn fail_job(
        store: &SqliteStore,
        lease: JobLease,
        now: DateTime<Utc>,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let error = error.to_owned();
        store
            .engine()
            .direct
            .run(move |conn| {
                let rows = conn
                    .prepare_cached(&FAIL)
                    .map_err(sql_err)?
                    .execute(rusqlite::params![
                        lease.id.to_string(),
                        i64::from(lease.attempt),
                        error,
                        retry_at.map(to_millis),
                        to_millis(now),
                    ])
                    .map_err(sql_err)?;
                lease_lost(rows as u64)
            })
            .await
    }

    async fn extend_job_lease(
        store: &SqliteStore,
        lease: JobLease,
        until: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        store
            .engine()
            .direct
            .run(move |conn| {
                let rows = conn
                    .prepare_cached(&EXTEND)
                    .map_err(sql_err)?
                    .execute(rusqlite::params![
                        lease.id.to_string(),
                        i64::from(lease.attempt),
                        to_millis(until),
                    ])
                    .map_err(sql_err)?;
                lease_lost(rows as u64)
            })
            .await
    }

    async fn first_in_lane(
        store: &SqliteStore,
        queue: &str,
        lane: &str,
    ) -> Result<Option<JobId>, StoreError> {
        let (queue, lane) = (queue.to_owned(), lane.to_owned());
        let first = store
            .engine()
            .reads
            .run(move |conn| {
                crate::rows::one(conn, &FIRST_IN_LANE, &[&queue, &lane], |r| {
                    decode::parsed(r, "id")
                })
            })
            .await?;
        Ok(first)
    }
}

/// Writes events and jobs inside the caller's transaction.
pub(crate) fn write_effects(
    tx: &Connection,
    events: &[NewEvent],
    jobs: &[NewJob],
) -> Result<(), StoreError> {
    for e in events {
        tx.prepare_cached(&INSERT_EVENT)
            .map_err(sql_err)?
            .execute(rusqlite::params![
                e.id.to_string(),
                e.organization_id.to_string(),
                e.event_type.as_str(),
                to_millis(e.timestamp),
                e.data.to_string(),
                e.conversation_id(),
            ])
            .map_err(sql_err)?;
    }
    for j in jobs {
        insert_job(tx, j)?;
    }
    Ok(())
}
