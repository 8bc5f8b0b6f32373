//! Webhooks on SQLite: endpoints, the attempts log, replay and the custom value endpoint
//! through the sqlx pool; the delivery engine's fan-out, claims and recorded attempts on
//! the direct connection (`engine`), each taking the write lock once for a whole batch.

mod engine;

use chrono::{DateTime, Utc};
use parley_domain::{
    CustomValueEndpoint, Delivery, DeliveryAttempt, DeliveryStatus, EventId, NewAuditEntry, OrgId,
    WebhookEndpoint, WebhookId, to_millis,
};
use parley_store::decode;
use parley_store::{
    AttemptRecord, DueDelivery, FannedOut, Page, PageRequest, ReplayScope, StoreError, WebhookStore,
};

use crate::SqliteStore;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};

/// Binds every column of `e` as `$1…$15` in table order.
fn bind_endpoint<'q>(
    q: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments>,
    e: &'q WebhookEndpoint,
) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments> {
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

#[async_trait::async_trait]
impl WebhookStore for SqliteStore {
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
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
        self.direct
            .run(move |c| engine::fan_out_and_lease(c, limit, now, lease_until, lease_limit))
            .await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        self.direct
            .run(move |c| engine::claim_deliveries(c, now, lease_until, limit))
            .await
    }

    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        // The thread needs the batch whole; a copy costs far less than the writes.
        let records = records.to_vec();
        self.direct
            .run(move |c| engine::record_attempts(c, &records, now))
            .await
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
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
