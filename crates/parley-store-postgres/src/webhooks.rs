//! Webhooks on PostgreSQL. Fan-out and claims lock the rows they take with `FOR UPDATE
//! SKIP LOCKED`, so several processes share the work without waiting on each other; each
//! batch is one transaction.

use chrono::{DateTime, Utc};
use parley_domain::{
    CustomValueEndpoint, Delivery, DeliveryAttempt, DeliveryStatus, EventId, NewAuditEntry, OrgId,
    WebhookEndpoint, WebhookId, to_millis,
};
use parley_store::decode;
use parley_store::{
    AttemptRecord, DueDelivery, EndpointEffect, FanOut, FannedOut, Page, PageRequest, ReplayScope,
    StoreError, WebhookStore, leased_deliveries, leased_ids, leased_pairs,
};
use sqlx::PgConnection;

use crate::PgStore;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};

/// Binds every column of `e` as `$1…$15` in table order.
fn bind_endpoint<'q>(
    q: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    e: &'q WebhookEndpoint,
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    q.bind(e.id.to_string())
        .bind(e.organization_id.to_string())
        .bind(&e.url)
        .bind(&e.description)
        .bind(e.events.to_stored())
        .bind(i64::from(e.enabled))
        .bind(e.disabled_reason.map(|r| r.as_str()))
        .bind(&e.secret_sealed)
        .bind(e.previous_secret.as_ref().map(|(s, _)| s.as_str()))
        .bind(
            e.previous_secret
                .as_ref()
                .map(|(_, until)| to_millis(*until)),
        )
        .bind(e.failing_since.map(to_millis))
        .bind(to_millis(e.created_at))
        .bind(to_millis(e.updated_at))
        .bind(e.sftp.as_ref().map(|a| a.host_key.as_str()))
        .bind(e.sftp.as_ref().map(|a| a.credential_sealed.as_str()))
}

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
impl WebhookStore for PgStore {
    async fn create_webhook(
        &self,
        endpoint: WebhookEndpoint,
        audit: NewAuditEntry,
    ) -> Result<WebhookEndpoint, StoreError> {
        self.write_audited(
            bind_endpoint(sqlx::query(parley_store::sql::INSERT_WEBHOOK), &endpoint),
            |r| decode::webhook_endpoint(r),
            &audit,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn update_webhook(
        &self,
        endpoint: WebhookEndpoint,
        audit: NewAuditEntry,
    ) -> Result<WebhookEndpoint, StoreError> {
        self.write_audited(
            bind_endpoint(sqlx::query(parley_store::sql::UPDATE_WEBHOOK), &endpoint),
            |r| decode::webhook_endpoint(r),
            &audit,
        )
        .await?
        .ok_or(StoreError::NotFound)
    }

    async fn find_webhook(
        &self,
        organization: OrgId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
                .bind(id.to_string())
                .bind(organization.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::webhook_endpoint(&Cols(r)))
            .transpose()
    }

    async fn list_webhooks(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM webhook_endpoints WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::webhook_endpoint(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |e| e.id.to_string()))
    }

    async fn delete_webhook(
        &self,
        organization: OrgId,
        id: WebhookId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let deleted =
            sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
                .bind(id.to_string())
                .bind(organization.to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn fan_out_and_lease(
        &self,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
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

    async fn list_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND organization_id = $2 \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR event_id < $4) \
             ORDER BY event_id DESC LIMIT $5",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(status.map(|s| s.as_str()))
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::delivery(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |d| d.event_id.to_string()))
    }

    async fn list_attempts(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        event: Option<EventId>,
        page: PageRequest,
    ) -> Result<Page<DeliveryAttempt>, StoreError> {
        let after: Option<i64> = match page.after.as_deref() {
            None => None,
            Some(c) => Some(c.parse().map_err(|_| StoreError::NotFound)?),
        };
        let rows = sqlx::query(
            "SELECT * FROM webhook_attempts WHERE endpoint_id = $1 AND organization_id = $2 \
             AND ($3 IS NULL OR event_id = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(event.map(|e| e.to_string()))
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| {
                Ok((
                    decode::int(&Cols(r), "id")?,
                    decode::delivery_attempt(&Cols(r))?,
                ))
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page.finish(items, |(id, _)| id.to_string()).map(|(_, a)| a))
    }

    async fn put_custom_value_endpoint(
        &self,
        endpoint: CustomValueEndpoint,
        audit: NewAuditEntry,
    ) -> Result<CustomValueEndpoint, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let row = sqlx::query(
            "INSERT INTO custom_value_endpoints (organization_id, url, secret_sealed, timeout_ms, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (organization_id) \
             DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed, \
             timeout_ms = excluded.timeout_ms, updated_at = excluded.updated_at RETURNING *",
        )
        .bind(endpoint.organization_id.to_string())
        .bind(&endpoint.url)
        .bind(&endpoint.secret_sealed)
        .bind(i64::from(endpoint.timeout_ms))
        .bind(to_millis(endpoint.created_at))
        .bind(to_millis(endpoint.updated_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        let stored = decode::custom_value_endpoint(&Cols(&row))?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn find_custom_value_endpoint(
        &self,
        organization: OrgId,
    ) -> Result<Option<CustomValueEndpoint>, StoreError> {
        let row = sqlx::query("SELECT * FROM custom_value_endpoints WHERE organization_id = $1")
            .bind(organization.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::custom_value_endpoint(&Cols(r)))
            .transpose()
    }

    async fn delete_custom_value_endpoint(
        &self,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let deleted = sqlx::query("DELETE FROM custom_value_endpoints WHERE organization_id = $1")
            .bind(organization.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn replay_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        scope: ReplayScope,
        now: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let (event, since) = match scope {
            ReplayScope::One(event) => (Some(event.to_string()), None),
            ReplayScope::FailedSince(since) => (None, Some(to_millis(since))),
        };
        let replayed = sqlx::query(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, round_trigger = 'replay', \
             next_attempt_at = $5, updated_at = $5 WHERE endpoint_id = $1 AND organization_id = $2 \
             AND (($3 IS NOT NULL AND event_id = $3) OR ($4 IS NOT NULL AND status = 'failed' AND created_at >= $4))",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(event)
        .bind(since)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        if replayed > 0 {
            insert_audit(&mut tx, &audit).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(replayed)
    }
}
