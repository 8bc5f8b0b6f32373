//! The webhooks port: endpoints, the fan-out of outbox events into deliveries, claiming
//! due deliveries in batches, recording attempts in batches, the attempts log and replay;
//! and the organization's custom value endpoint, which is signed the same way.
//!
//! Deliveries are claimed with a lease (their `next_attempt_at` moves to the lease's end),
//! so a worker that dies leaves them due again once the lease ends: delivery is
//! at-least-once. A recorded attempt names the attempt count it claimed; a second worker
//! recording the same round changes nothing but the log.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    CustomValueEndpoint, Delivery, DeliveryAttempt, DeliveryStatus, DisabledReason, EventId,
    NewAuditEntry, NewEvent, OrgId, WebhookEndpoint, WebhookId,
};

use crate::{Page, PageRequest, StoreError};

/// What one fan-out pass did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FanOut {
    /// Outbox events marked dispatched.
    pub events: u64,
    /// Deliveries queued for them.
    pub deliveries: u64,
}

/// What a fan-out did, and the deliveries it leased to its caller.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FannedOut {
    /// Events and deliveries.
    pub counts: FanOut,
    /// New deliveries leased to the caller, ready to send.
    pub leased: Vec<DueDelivery>,
}

/// The (endpoint, event) pairs of inserted deliveries (`endpoint_id`, `event_id`,
/// `next_attempt_at` in milliseconds, as `RETURNING` gives them) that were leased until
/// `lease_until` rather than due at `now`.
pub fn leased_pairs(
    inserted: &[(String, String, i64)],
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<(WebhookId, EventId)>, StoreError> {
    let until = parley_domain::to_millis(lease_until);
    if until <= parley_domain::to_millis(now) {
        return Ok(Vec::new());
    }
    inserted
        .iter()
        .filter(|(_, _, at)| *at == until)
        .map(|(endpoint, event, _)| {
            let bad = || StoreError::corrupt("a returned delivery key does not parse");
            Ok((
                endpoint.parse().map_err(|_| bad())?,
                event.parse().map_err(|_| bad())?,
            ))
        })
        .collect()
}

/// The distinct event ids and endpoint ids of leased `pairs`, sorted: what a fan-out
/// reads to build [`leased_deliveries`].
#[must_use]
pub fn leased_ids(pairs: &[(WebhookId, EventId)]) -> (Vec<String>, Vec<String>) {
    let distinct = |mut v: Vec<String>| {
        v.sort_unstable();
        v.dedup();
        v
    };
    (
        distinct(pairs.iter().map(|p| p.1.to_string()).collect()),
        distinct(pairs.iter().map(|p| p.0.to_string()).collect()),
    )
}

/// Builds the deliveries a fan-out leased (`pairs` of endpoint and event ids, as the
/// insert returned them) from the events and endpoints they name, in `pairs` order. The
/// same on both engines.
pub fn leased_deliveries(
    pairs: &[(WebhookId, EventId)],
    events: impl IntoIterator<Item = NewEvent>,
    endpoints: impl IntoIterator<Item = WebhookEndpoint>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Vec<DueDelivery>, StoreError> {
    let events: std::collections::HashMap<EventId, NewEvent> =
        events.into_iter().map(|e| (e.id, e)).collect();
    let endpoints: std::collections::HashMap<WebhookId, WebhookEndpoint> =
        endpoints.into_iter().map(|e| (e.id, e)).collect();
    pairs
        .iter()
        .map(|(endpoint, event)| {
            let (Some(event), Some(endpoint)) = (events.get(event), endpoints.get(endpoint)) else {
                return Err(StoreError::corrupt(format!(
                    "leased delivery {endpoint}/{event} lost its event or endpoint"
                )));
            };
            Ok(DueDelivery {
                delivery: Delivery {
                    endpoint_id: endpoint.id,
                    event_id: event.id,
                    organization_id: event.organization_id,
                    event_type: event.event_type,
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    next_attempt_at: Some(lease_until),
                    created_at: now,
                    updated_at: now,
                },
                endpoint: endpoint.clone(),
                event: event.clone(),
                replayed: false,
            })
        })
        .collect()
}

/// A claimed delivery with what sending it needs.
#[derive(Debug, Clone, PartialEq)]
pub struct DueDelivery {
    /// The delivery as claimed (its `attempts` is the fence to record with).
    pub delivery: Delivery,
    /// Its endpoint now.
    pub endpoint: WebhookEndpoint,
    /// The event.
    pub event: NewEvent,
    /// What started the current round: a replay or the schedule.
    pub replayed: bool,
}

/// How an attempt changes its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointEffect {
    /// A success: the endpoint is not failing.
    Succeeded,
    /// A failure: the endpoint is failing since the attempt's time, unless it already was.
    Failed,
    /// Disable the endpoint, with the audit entry saying why (written only when this
    /// disables it: of several attempts disabling one endpoint, one is audited).
    Disable(DisabledReason, NewAuditEntry),
    /// Nothing (an attempt not sent because the endpoint is disabled).
    Unchanged,
}

/// An attempt to record, with the delivery's next state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptRecord {
    /// The attempt for the log.
    pub attempt: DeliveryAttempt,
    /// The `attempts` value the delivery was claimed with.
    pub claimed_attempts: u32,
    /// The delivery's new status.
    pub status: DeliveryStatus,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// What it means for the endpoint.
    pub endpoint: EndpointEffect,
}

/// Which failed deliveries a replay queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayScope {
    /// One delivery, whatever its status.
    One(EventId),
    /// Every failed delivery of the endpoint queued at or after this time.
    FailedSince(DateTime<Utc>),
}

/// Webhooks.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Stores a new endpoint with its audit entry.
    async fn create_webhook(
        &self,
        endpoint: WebhookEndpoint,
        audit: NewAuditEntry,
    ) -> Result<WebhookEndpoint, StoreError>;

    /// Replaces an endpoint of `endpoint.organization_id` (everything but `id`,
    /// `organization_id` and `created_at`); `NotFound` otherwise.
    async fn update_webhook(
        &self,
        endpoint: WebhookEndpoint,
        audit: NewAuditEntry,
    ) -> Result<WebhookEndpoint, StoreError>;

    /// An endpoint of `organization`.
    async fn find_webhook(
        &self,
        organization: OrgId,
        id: WebhookId,
    ) -> Result<Option<WebhookEndpoint>, StoreError>;

    /// Endpoints of exactly `organization`, by id.
    async fn list_webhooks(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, StoreError>;

    /// Deletes an endpoint of `organization` with its deliveries and attempts.
    async fn delete_webhook(
        &self,
        organization: OrgId,
        id: WebhookId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// In one transaction: takes up to `limit` undispatched outbox events, queues a
    /// delivery for each enabled endpoint of the event's organization subscribed to its
    /// type, and marks the events dispatched. The first `lease_limit` new deliveries (by
    /// event, then endpoint) are leased until `lease_until` and returned ready to send,
    /// so a node sends what it fans out without claiming it; the others are due at `now`.
    async fn fan_out_and_lease(
        &self,
        limit: u32,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        lease_limit: u32,
    ) -> Result<FannedOut, StoreError>;

    /// [`WebhookStore::fan_out_and_lease`] leasing nothing: every delivery is due at `now`.
    async fn fan_out_events(&self, limit: u32, now: DateTime<Utc>) -> Result<FanOut, StoreError> {
        Ok(self.fan_out_and_lease(limit, now, now, 0).await?.counts)
    }

    /// Claims up to `limit` pending deliveries due at `now`, oldest due first, moving their
    /// `next_attempt_at` to `lease_until`.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<DueDelivery>, StoreError>;

    /// In one transaction: logs every attempt and applies each delivery's next state (when
    /// its `attempts` still equals the claimed value) and each endpoint effect.
    async fn record_attempts(
        &self,
        records: &[AttemptRecord],
        now: DateTime<Utc>,
    ) -> Result<(), StoreError>;

    /// Deliveries of an endpoint of `organization`, newest event first, optionally of one
    /// status.
    async fn list_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, StoreError>;

    /// The attempts log of an endpoint of `organization`, newest first, optionally of one
    /// event.
    async fn list_attempts(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        event: Option<EventId>,
        page: PageRequest,
    ) -> Result<Page<DeliveryAttempt>, StoreError>;

    /// Sets the organization's custom value endpoint (creating or replacing it, keeping
    /// `created_at` of the one replaced) with its audit entry.
    async fn put_custom_value_endpoint(
        &self,
        endpoint: CustomValueEndpoint,
        audit: NewAuditEntry,
    ) -> Result<CustomValueEndpoint, StoreError>;

    /// The organization's custom value endpoint.
    async fn find_custom_value_endpoint(
        &self,
        organization: OrgId,
    ) -> Result<Option<CustomValueEndpoint>, StoreError>;

    /// Removes the organization's custom value endpoint; `NotFound` when there is none.
    async fn delete_custom_value_endpoint(
        &self,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Queues deliveries of an endpoint of `organization` again, due at `now`, as a new
    /// round of attempts started by a replay. Returns how many.
    async fn replay_deliveries(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        scope: ReplayScope,
        now: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<u64, StoreError>;
}
