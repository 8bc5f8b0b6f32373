//! Webhook endpoints, the attempt log, replays and custom-value endpoints. The delivery
//! engine's transactions (fan-out, claims, recording attempts) are each engine's own
//! ([`WebhooksEngine`], ADR 0004).

use crate::{Cols, Engine, Sql, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::{
    CustomValueEndpoint, Delivery, DeliveryAttempt, DeliveryStatus, EventId, NewAuditEntry, OrgId,
    WebhookEndpoint, WebhookId, to_millis,
};
use parley_store::decode;
use parley_store::{
    AttemptRecord, DueDelivery, FannedOut, Page, PageRequest, ReplayScope, StoreError, WebhookStore,
};

use crate::audit::insert_audit;

/// Binds every column of `e` as `$1…$15` in table order.
fn bind_endpoint<E: Engine>(q: Sql<E>, e: &WebhookEndpoint) -> Sql<E> {
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
impl<E: Engine> WebhookStore for SqlStore<E> {
    async fn create_webhook(
        &self,
        endpoint: WebhookEndpoint,
        audit: NewAuditEntry,
    ) -> Result<WebhookEndpoint, StoreError> {
        self.write_audited(
            bind_endpoint::<E>(query::<E>(crate::sql::INSERT_WEBHOOK), &endpoint),
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
            bind_endpoint::<E>(query::<E>(crate::sql::UPDATE_WEBHOOK), &endpoint),
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
            query::<E>("SELECT * FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
                .bind(id.to_string())
                .bind(organization.to_string())
                .fetch_optional(&mut *self.conn().await?)
                .await?;
        row.as_ref()
            .map(|r| decode::webhook_endpoint(&Cols::<E>(r)))
            .transpose()
    }

    async fn list_webhooks(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM webhook_endpoints WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) \
             ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::webhook_endpoint(r))
        .await?;
        Ok(page.finish(items, |e| e.id.to_string()))
    }

    async fn delete_webhook(
        &self,
        organization: OrgId,
        id: WebhookId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.delete_audited(
            query::<E>("DELETE FROM webhook_endpoints WHERE id = $1 AND organization_id = $2")
                .bind(id.to_string())
                .bind(organization.to_string()),
            &audit,
        )
        .await
    }

    async fn fan_out_and_lease(
        &self,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError> {
        E::fan_out_and_lease(self, limit, now, lease_until, lease_limit).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError> {
        E::claim_deliveries(self, now, lease_until, limit).await
    }

    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        E::record_attempts(self, records, now).await
    }

    async fn list_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM webhook_deliveries WHERE endpoint_id = $1 AND organization_id = $2 \
             AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR event_id < $4) \
             ORDER BY event_id DESC LIMIT $5",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(status.map(|s| s.as_str()))
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::delivery(r))
        .await?;
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
        let rows = query::<E>(
            "SELECT * FROM webhook_attempts WHERE endpoint_id = $1 AND organization_id = $2 \
             AND ($3 IS NULL OR event_id = $3) AND ($4 IS NULL OR id < $4) ORDER BY id DESC LIMIT $5",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(event.map(|e| e.to_string()))
        .bind(after)
        .bind(page.fetch_limit())
        .fetch_all(&mut *self.conn().await?).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok((
                    decode::int(&Cols::<E>(r), "id")?,
                    decode::delivery_attempt(&Cols::<E>(r))?,
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
        let mut tx = self.write().await?;
        let row = query::<E>(
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
        .await?;
        let stored = decode::custom_value_endpoint(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn find_custom_value_endpoint(
        &self,
        organization: OrgId,
    ) -> Result<Option<CustomValueEndpoint>, StoreError> {
        query::<E>("SELECT * FROM custom_value_endpoints WHERE organization_id = $1")
            .bind(organization.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| {
                decode::custom_value_endpoint(r)
            })
            .await
    }

    async fn delete_custom_value_endpoint(
        &self,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.delete_audited(
            query::<E>("DELETE FROM custom_value_endpoints WHERE organization_id = $1")
                .bind(organization.to_string()),
            &audit,
        )
        .await
    }

    async fn replay_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        scope: ReplayScope,
        now: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError> {
        let mut tx = self.write().await?;
        let (event, since) = match scope {
            ReplayScope::One(event) => (Some(event.to_string()), None),
            ReplayScope::FailedSince(since) => (None, Some(to_millis(since))),
        };
        let replayed = query::<E>(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, round_trigger = 'replay', \
             next_attempt_at = $5, updated_at = $5 WHERE endpoint_id = $1 AND organization_id = $2 \
             AND (($3 IS NOT NULL AND event_id = $3) OR ($4 IS NOT NULL AND status = 'failed' AND created_at >= $4))",
        )
        .bind(endpoint.to_string())
        .bind(organization.to_string())
        .bind(event)
        .bind(since)
        .bind(to_millis(now))
        .execute(&mut *tx).await?;
        if replayed > 0 {
            insert_audit::<E>(&mut tx, &audit).await?;
        }
        commit::<E>(tx).await?;
        Ok(replayed)
    }
}
