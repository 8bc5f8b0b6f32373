//! The delivery engine's three transactions on the direct connection (`crate::direct`):
//! fan-out with its hand-over lease, claims, and recorded attempts. Each is one
//! `BEGIN IMMEDIATE` transaction of cached prepared statements stepped in place; the
//! `WebhookStore` methods send them to the connection's thread whole.
//!
//! Before, these ran through sqlx and cost most of a delivery's CPU in the hand-off of
//! each statement and row between threads, and fan-out, claims and records collided on
//! the write lock from separate pool connections (BENCHMARKS.md has the figures).

use chrono::{DateTime, Utc};
use parley_domain::{NewEvent, WebhookId, to_millis};
use parley_store::decode;
use parley_store::{
    AttemptRecord, DueDelivery, EndpointEffect, FanOut, FannedOut, StoreError, leased_deliveries,
    leased_pairs,
};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use crate::rows::{RCols, sql_err};

fn begin(conn: &mut Connection) -> Result<rusqlite::Transaction<'_>, StoreError> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(sql_err)
}

/// `WebhookStore::fan_out_and_lease` (see the port for what it promises).
pub(crate) fn fan_out_and_lease(
    conn: &mut Connection,
    limit: u32,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    lease_limit: u32,
) -> Result<FannedOut, StoreError> {
    let tx = begin(conn)?;
    // The events are read whole here: the leased deliveries need them, and this saves
    // reading them a second time.
    let mut events: Vec<NewEvent> = Vec::new();
    {
        let mut select = tx
            .prepare_cached("SELECT * FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT ?1")
            .map_err(sql_err)?;
        let mut rows = select.query([limit]).map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            events.push(decode::stored_event(&RCols::new(row))?.event);
        }
    }
    let (Some(first), Some(last)) = (events.first(), events.last()) else {
        return Ok(FannedOut::default());
    };
    let (first, last) = (first.id.to_string(), last.id.to_string());
    let now_ms = to_millis(now);
    let mut inserted: Vec<(String, String, i64)> = Vec::new();
    {
        let mut insert = tx
            .prepare_cached(
                "INSERT INTO webhook_deliveries (endpoint_id, event_id, organization_id, event_type, \
                 status, attempts, round_trigger, next_attempt_at, created_at, updated_at) \
                 SELECT e.id, o.id, o.organization_id, o.event_type, 'pending', 0, 'scheduled', \
                 CASE WHEN ROW_NUMBER() OVER (ORDER BY o.id, e.id) <= ?4 THEN ?5 ELSE ?3 END, ?3, ?3 \
                 FROM outbox o JOIN webhook_endpoints e ON e.organization_id = o.organization_id \
                 WHERE o.dispatched_at IS NULL AND o.id >= ?1 AND o.id <= ?2 AND e.enabled = 1 \
                 AND (e.events IS NULL OR e.events LIKE '%,' || o.event_type || ',%') \
                 ON CONFLICT DO NOTHING RETURNING endpoint_id, event_id, next_attempt_at",
            )
            .map_err(sql_err)?;
        let mut rows = insert
            .query(params![
                first,
                last,
                now_ms,
                lease_limit,
                to_millis(lease_until)
            ])
            .map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            inserted.push((
                row.get(0).map_err(sql_err)?,
                row.get(1).map_err(sql_err)?,
                row.get(2).map_err(sql_err)?,
            ));
        }
    }
    let dispatched = tx
        .prepare_cached(
            "UPDATE outbox SET dispatched_at = ?3 WHERE dispatched_at IS NULL AND id >= ?1 AND id <= ?2",
        )
        .map_err(sql_err)?
        .execute(params![first, last, now_ms])
        .map_err(sql_err)?;
    let leased = leased_pairs(&inserted, now, lease_until)?;
    let leased = if leased.is_empty() {
        Vec::new()
    } else {
        let mut endpoint_ids: Vec<WebhookId> = leased.iter().map(|p| p.0).collect();
        endpoint_ids.sort_unstable();
        endpoint_ids.dedup();
        let mut endpoints = Vec::with_capacity(endpoint_ids.len());
        let mut select = tx
            .prepare_cached("SELECT * FROM webhook_endpoints WHERE id = ?1")
            .map_err(sql_err)?;
        for id in endpoint_ids {
            let endpoint = select
                .query_row([id.to_string()], |row| {
                    Ok(decode::webhook_endpoint(&RCols::new(row)))
                })
                .optional()
                .map_err(sql_err)?;
            // An endpoint missing here cannot be: the insert just joined it.
            if let Some(endpoint) = endpoint {
                endpoints.push(endpoint?);
            }
        }
        leased_deliveries(&leased, events, endpoints, now, lease_until)?
    };
    tx.commit().map_err(sql_err)?;
    Ok(FannedOut {
        counts: FanOut {
            events: dispatched as u64,
            deliveries: inserted.len() as u64,
        },
        leased,
    })
}

/// `WebhookStore::claim_deliveries`.
pub(crate) fn claim_deliveries(
    conn: &mut Connection,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DueDelivery>, StoreError> {
    static CLAIM: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT {} FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN outbox o ON o.id = d.event_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= ?1 \
             ORDER BY d.next_attempt_at, d.endpoint_id, d.event_id LIMIT ?2",
            decode::due_delivery_columns()
        )
    });
    let tx = begin(conn)?;
    let mut claimed = Vec::new();
    {
        let mut select = tx.prepare_cached(&CLAIM).map_err(sql_err)?;
        let mut rows = select
            .query(params![to_millis(now), limit])
            .map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            claimed.push(decode::due_delivery(&RCols::new(row))?);
        }
    }
    let mut lease = tx
        .prepare_cached(
            "UPDATE webhook_deliveries SET next_attempt_at = ?3 WHERE endpoint_id = ?1 AND event_id = ?2",
        )
        .map_err(sql_err)?;
    let until = to_millis(lease_until);
    for due in &claimed {
        lease
            .execute(params![
                due.endpoint.id.to_string(),
                due.delivery.event_id.to_string(),
                until
            ])
            .map_err(sql_err)?;
    }
    drop(lease);
    tx.commit().map_err(sql_err)?;
    Ok(claimed)
}

/// `WebhookStore::record_attempts`.
pub(crate) fn record_attempts(
    conn: &mut Connection,
    records: &[AttemptRecord],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let tx = begin(conn)?;
    {
        let mut log = tx
            .prepare_cached(
                "INSERT INTO webhook_attempts (endpoint_id, event_id, organization_id, at, \
                 status_code, latency_ms, response_excerpt, error, attempt_trigger) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(sql_err)?;
        // Fenced by the attempt count the delivery was claimed with: a late worker's
        // record changes only the log.
        let mut next = tx
            .prepare_cached(
                "UPDATE webhook_deliveries SET status = ?3, attempts = attempts + 1, \
                 next_attempt_at = ?4, updated_at = ?5 \
                 WHERE endpoint_id = ?1 AND event_id = ?2 AND attempts = ?6 AND status = 'pending'",
            )
            .map_err(sql_err)?;
        let now_ms = to_millis(now);
        for r in records {
            let a = &r.attempt;
            let (endpoint, event) = (a.endpoint_id.to_string(), a.event_id.to_string());
            log.execute(params![
                endpoint,
                event,
                a.organization_id.to_string(),
                to_millis(a.at),
                a.status_code,
                a.latency_ms,
                a.response_excerpt,
                a.error,
                a.trigger.as_str(),
            ])
            .map_err(sql_err)?;
            next.execute(params![
                endpoint,
                event,
                r.status.as_str(),
                r.next_attempt_at.map(to_millis),
                now_ms,
                r.claimed_attempts,
            ])
            .map_err(sql_err)?;
            endpoint_effect(&tx, r, &endpoint, now_ms)?;
        }
    }
    tx.commit().map_err(sql_err)
}

/// Applies what an attempt means for its endpoint (written only when it changes).
fn endpoint_effect(
    tx: &Connection,
    record: &AttemptRecord,
    endpoint: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    match &record.endpoint {
        EndpointEffect::Unchanged => {}
        EndpointEffect::Succeeded => {
            tx.prepare_cached(
                "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = ?1 AND failing_since IS NOT NULL",
            )
            .map_err(sql_err)?
            .execute([endpoint])
            .map_err(sql_err)?;
        }
        EndpointEffect::Failed => {
            tx.prepare_cached(
                "UPDATE webhook_endpoints SET failing_since = ?2 WHERE id = ?1 AND failing_since IS NULL",
            )
            .map_err(sql_err)?
            .execute(params![endpoint, to_millis(record.attempt.at)])
            .map_err(sql_err)?;
        }
        EndpointEffect::Disable(reason, audit) => {
            let disabled = tx
                .prepare_cached(
                    "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = ?2, updated_at = ?3 \
                     WHERE id = ?1 AND enabled = 1",
                )
                .map_err(sql_err)?
                .execute(params![endpoint, reason.as_str(), now_ms])
                .map_err(sql_err)?;
            // Of several attempts disabling one endpoint, the first is audited.
            if disabled > 0 {
                crate::audit::insert_audit_direct(tx, audit)?;
            }
        }
    }
    Ok(())
}
