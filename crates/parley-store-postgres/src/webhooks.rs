//! Webhooks on PostgreSQL. Fan-out and claims lock the rows they take with `FOR UPDATE
//! SKIP LOCKED`, so several processes share the work without waiting on each other; each
//! batch is one transaction.

use chrono::{DateTime, Utc};
use parley_domain::{WebhookId, to_millis};
use parley_store::decode;
use parley_store::{
    AttemptRecord, DueDelivery, EndpointEffect, FanOut, FannedOut, StoreError, leased_deliveries,
    leased_ids, leased_pairs,
};
use sqlx::PgConnection;

use crate::rows::insert_audit;
use crate::rows::{Cols, map_err};
use crate::{PgStore, Postgres};
use parley_store_sql::WebhooksEngine;

/// Disables an enabled endpoint; false when it was disabled already.
async fn disable(
    conn: &mut PgConnection,
    endpoint: WebhookId,
    reason: parley_domain::DisabledReason,
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "UPDATE webhook_endpoints SET enabled = 0, disabled_reason = $2, updated_at = $3 \
         WHERE id = $1 AND enabled = 1",
    )
    .bind(endpoint.to_string())
    .bind(reason.as_str())
    .bind(to_millis(now))
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(done.rows_affected() > 0)
}

#[async_trait::async_trait]
impl WebhooksEngine for Postgres {
    async fn fan_out_and_lease(
        store: &PgStore,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE dispatched_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        if ids.is_empty() {
            return Ok(FannedOut::default());
        }
        let inserted: Vec<(String, String, i64)> = sqlx::query_as(
            "INSERT INTO webhook_deliveries (endpoint_id, event_id, organization_id, event_type, status, \
             attempts, round_trigger, next_attempt_at, created_at, updated_at) \
             SELECT e.id, o.id, o.organization_id, o.event_type, 'pending', 0, 'scheduled', \
             CASE WHEN ROW_NUMBER() OVER (ORDER BY o.id, e.id) <= $3 THEN $4 ELSE $2 END, $2, $2 \
             FROM outbox o JOIN webhook_endpoints e ON e.organization_id = o.organization_id \
             WHERE o.id = ANY($1) AND e.enabled = 1 \
             AND (e.events IS NULL OR e.events LIKE '%,' || o.event_type || ',%') \
             ON CONFLICT DO NOTHING RETURNING endpoint_id, event_id, next_attempt_at",
        )
        .bind(&ids)
        .bind(to_millis(now))
        .bind(i64::from(lease_limit))
        .bind(to_millis(lease_until))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let events = sqlx::query(
            "UPDATE outbox SET dispatched_at = $2 WHERE id = ANY($1) AND dispatched_at IS NULL",
        )
        .bind(&ids)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        let leased = leased_pairs(&inserted, now, lease_until)?;
        let leased = if leased.is_empty() {
            Vec::new()
        } else {
            let (event_ids, endpoint_ids) = leased_ids(&leased);
            let event_rows = sqlx::query("SELECT * FROM outbox WHERE id = ANY($1)")
                .bind(event_ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let endpoint_rows = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = ANY($1)")
                .bind(endpoint_ids)
                .fetch_all(&mut *tx)
                .await
                .map_err(map_err)?;
            let events = event_rows
                .iter()
                .map(|r| decode::stored_event(&Cols(r)).map(|s| s.event))
                .collect::<Result<Vec<_>, _>>()?;
            let endpoints = endpoint_rows
                .iter()
                .map(|r| decode::webhook_endpoint(&Cols(r)))
                .collect::<Result<Vec<_>, _>>()?;
            leased_deliveries(&leased, events, endpoints, now, lease_until)?
        };
        tx.commit().await.map_err(map_err)?;
        Ok(FannedOut {
            counts: FanOut {
                events,
                deliveries: inserted.len() as u64,
            },
            leased,
        })
    }

    async fn claim_deliveries(
        store: &PgStore,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        // The column list is a constant of ours; nothing here comes from input.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {} FROM webhook_deliveries d \
             JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN outbox o ON o.id = d.event_id \
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
             ORDER BY d.next_attempt_at LIMIT $2 FOR UPDATE OF d SKIP LOCKED",
            decode::due_delivery_columns()
        )))
        .bind(to_millis(now))
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
        let claimed = rows
            .iter()
            .map(|r| decode::due_delivery(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        // One statement leases the locked batch.
        let (endpoints, events): (Vec<String>, Vec<String>) = claimed
            .iter()
            .map(|d| {
                (
                    d.delivery.endpoint_id.to_string(),
                    d.delivery.event_id.to_string(),
                )
            })
            .unzip();
        sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $3 \
             WHERE (endpoint_id, event_id) IN (SELECT * FROM UNNEST($1::text[], $2::text[]))",
        )
        .bind(&endpoints)
        .bind(&events)
        .bind(to_millis(lease_until))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        Ok(claimed)
    }

    async fn record_attempts(
        store: &PgStore,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        for record in records {
            let a = &record.attempt;
            let (endpoint, event) = (a.endpoint_id.to_string(), a.event_id.to_string());
            sqlx::query(
                "INSERT INTO webhook_attempts (endpoint_id, event_id, organization_id, at, status_code, \
                 latency_ms, response_excerpt, error, attempt_trigger) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(&endpoint)
            .bind(&event)
            .bind(a.organization_id.to_string())
            .bind(to_millis(a.at))
            .bind(a.status_code.map(i64::from))
            .bind(i64::from(a.latency_ms))
            .bind(&a.response_excerpt)
            .bind(a.error.as_deref())
            .bind(a.trigger.as_str())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $4, attempts = attempts + 1, next_attempt_at = $5, \
                 updated_at = $6 WHERE endpoint_id = $1 AND event_id = $2 AND attempts = $3 AND status = 'pending'",
            )
            .bind(&endpoint)
            .bind(&event)
            .bind(i64::from(record.claimed_attempts))
            .bind(record.status.as_str())
            .bind(record.next_attempt_at.map(to_millis))
            .bind(to_millis(now))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            match &record.endpoint {
                EndpointEffect::Succeeded => {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL",
                    )
                    .bind(&endpoint)
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                EndpointEffect::Failed => {
                    sqlx::query(
                        "UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL",
                    )
                    .bind(&endpoint)
                    .bind(to_millis(a.at))
                    .execute(&mut *tx)
                    .await
                    .map_err(map_err)?;
                }
                EndpointEffect::Disable(reason, audit) => {
                    if disable(&mut tx, a.endpoint_id, *reason, now).await? {
                        insert_audit(&mut tx, audit).await?;
                    }
                }
                EndpointEffect::Unchanged => {}
            }
        }
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }
}
