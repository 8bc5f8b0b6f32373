//! The delivery engine: outbox events become deliveries, deliveries become signed
//! requests, and every answer becomes an attempt in the log with the delivery's next state.
//!
//! Four tasks per node, joined by channels:
//! * the **dispatcher** fans new outbox events out to subscribed endpoints, in batches,
//!   leasing the new deliveries that fit in the hand-over queue (`handover`) and passing
//!   them straight to the claimer, so a first attempt is never claimed from the store;
//!   while the queue is full it waits, and events wait in the outbox;
//! * the **due claimer** leases due deliveries from the store in batches (retries,
//!   replays, fan-out past the queue's room, and what another node or a crash left) into
//!   a second queue, at least every `poll_interval`;
//! * the **sender** starts one request per delivery over the client's keep-alive pool as
//!   slots free up (at most `concurrency` in flight), from both queues, never waiting on
//!   the store; due deliveries get a quarter of the free slots while both queues have work;
//! * the **recorder** writes finished attempts in batches, each batch one transaction;
//!   a request's slot frees as soon as its attempt is queued for the recorder, and while
//!   the recorder is more than two batches behind, no new request starts.
//!
//! A lease outlives the request timeout, so a crash (or a store outage longer than the
//! lease) leaves its deliveries due again: delivery is at-least-once, never lost. A
//! delivery that waited in a queue past half its lease (a starved machine) is not sent:
//! its request could outlive the lease and race a second claim, so it is left for its
//! lease to end and claimed afresh. Every
//! decision about an answer (retry when, fail, disable the endpoint) is [`decide`], a pure
//! function of the claim, the answer, the time and a random number for the jitter.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::{
    AttemptTrigger, AuditAction, AuditId, DeliveryAttempt, DeliveryStatus, DisabledReason,
    EventEnvelope, NewAuditEntry,
};
use parley_store::{AttemptRecord, DueDelivery, EndpointEffect};
use parley_webhooks::client::{DeliveryError, Exchange, RESPONSE_EXCERPT_BYTES, Retry};
use parley_webhooks::retry::next_retry;
use tokio::sync::{Notify, Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

use crate::App;

/// An endpoint failing without a break for this long is disabled (SPEC §7.2).
pub const FAILING_DISABLES_AFTER: chrono::Duration = chrono::Duration::days(5);

/// The engine's pool and pacing.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Requests in flight at once on this node.
    pub concurrency: usize,
    /// Outbox events taken per fan-out transaction.
    pub fan_out_batch: u32,
    /// Most deliveries leased per claim.
    pub claim_batch: u32,
    /// Most attempts written per transaction.
    pub record_batch: usize,
    /// How often an idle engine looks for new events and due retries.
    pub poll_interval: Duration,
    /// How long a claim holds a delivery; must outlive the request timeout.
    pub lease: Duration,
    /// Most deliveries fanned out and leased to this node's senders ahead of sending.
    pub handover: usize,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            concurrency: 128,
            fan_out_batch: 1000,
            claim_batch: 500,
            record_batch: 1000,
            poll_interval: Duration::from_millis(10),
            lease: Duration::from_secs(60),
            handover: 1024,
        }
    }
}

/// Counters an engine keeps (read by `parley bench webhooks` and the metrics).
#[derive(Debug, Default)]
pub struct EngineCounters {
    /// Deliveries queued by fan-out.
    pub queued: std::sync::atomic::AtomicU64,
    /// Attempts recorded.
    pub attempts: std::sync::atomic::AtomicU64,
    /// Attempts that succeeded.
    pub delivered: std::sync::atomic::AtomicU64,
}

/// The running engine's handle: its counters and its tasks.
pub struct DeliveryEngine {
    /// What it has done so far.
    pub counters: Arc<EngineCounters>,
    tasks: tokio::task::JoinSet<()>,
}

impl DeliveryEngine {
    /// Waits for the engine to stop (after its cancellation token fires, in-flight
    /// requests finish and their attempts are written).
    pub async fn stopped(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// A delivery in one of this node's queues, with the end of its lease.
struct Leased {
    due: DueDelivery,
    until: DateTime<Utc>,
}

/// Whether a request started `now` on a delivery leased `until` ends well inside the
/// lease: at least half of it is left (the lease is twice the request timeout and a margin
/// for the record).
fn fresh(until: DateTime<Utc>, now: DateTime<Utc>, lease: chrono::Duration) -> bool {
    until - now >= lease / 2
}

/// Finished requests waiting for the recorder, at most: while the recorder is this far
/// behind, senders hold their request slots and no new request starts.
fn unrecorded_limit(settings: &EngineSettings) -> usize {
    settings.record_batch.max(1) * 2
}

/// A uniformly random number in `[0, 1)` for the jitter.
fn unit_random() -> f64 {
    let mut bytes = [0u8; 8];
    if getrandom::fill(&mut bytes).is_err() {
        return 0.5;
    }
    // 53 random bits: exactly representable, below 1.
    #[allow(clippy::cast_precision_loss)]
    let value = (u64::from_le_bytes(bytes) >> 11) as f64;
    value / (1u64 << 53) as f64
}

fn audit_disabled(due: &DueDelivery, reason: DisabledReason, at: DateTime<Utc>) -> NewAuditEntry {
    NewAuditEntry {
        id: AuditId::generate(),
        organization_id: Some(due.endpoint.organization_id),
        actor: "system".to_owned(),
        action: AuditAction::WebhookDisabled,
        subject: due.endpoint.id.to_string(),
        detail: serde_json::json!({
            "reason": reason.as_str(),
            "event_id": due.delivery.event_id.to_string(),
            "failing_since": due.endpoint.failing_since,
        }),
        at,
    }
}

/// What an answer means: the attempt to log, the delivery's next state and the effect on
/// the endpoint. `at` is when the request was sent; `unit` in `[0, 1)` picks the jitter.
#[must_use]
pub fn decide(
    due: &DueDelivery,
    exchange: &Exchange,
    at: DateTime<Utc>,
    unit: f64,
) -> AttemptRecord {
    let attempt = DeliveryAttempt {
        endpoint_id: due.endpoint.id,
        event_id: due.delivery.event_id,
        organization_id: due.delivery.organization_id,
        at,
        status_code: exchange.status,
        latency_ms: u32::try_from(exchange.latency.as_millis()).unwrap_or(u32::MAX),
        response_excerpt: exchange.body_text(),
        error: exchange.outcome.as_ref().err().map(ToString::to_string),
        trigger: trigger_of(due),
    };
    // Every path below logs the attempt once.
    let record = move |status, next_attempt_at, endpoint| AttemptRecord {
        attempt,
        claimed_attempts: due.delivery.attempts,
        status,
        next_attempt_at,
        endpoint,
    };
    // The endpoint row is written only when its failing streak changes (as of the claim;
    // a stale view only delays the change to the next attempt).
    let failing = due.endpoint.failing_since.is_some();
    let Err(error) = &exchange.outcome else {
        let effect = if failing {
            EndpointEffect::Succeeded
        } else {
            EndpointEffect::Unchanged
        };
        return record(DeliveryStatus::Delivered, None, effect);
    };
    let failed_effect = if failing {
        EndpointEffect::Unchanged
    } else {
        EndpointEffect::Failed
    };
    if matches!(error, DeliveryError::Gone) {
        let audit = audit_disabled(due, DisabledReason::Gone, at);
        return record(
            DeliveryStatus::Failed,
            None,
            EndpointEffect::Disable(DisabledReason::Gone, audit),
        );
    }
    if let Some(since) = due.endpoint.failing_since
        && at - since >= FAILING_DISABLES_AFTER
    {
        let audit = audit_disabled(due, DisabledReason::Failing, at);
        return record(
            DeliveryStatus::Failed,
            None,
            EndpointEffect::Disable(DisabledReason::Failing, audit),
        );
    }
    let wish = match error.retry() {
        Retry::After(d) => Some(d),
        Retry::Scheduled | Retry::Never => None,
    };
    let next = next_retry(due.delivery.attempts + 1, unit, wish)
        .and_then(|d| chrono::Duration::from_std(d).ok());
    match next {
        Some(after) => record(DeliveryStatus::Pending, Some(at + after), failed_effect),
        None => record(DeliveryStatus::Failed, None, failed_effect),
    }
}

/// What started the round a claimed delivery is in.
fn trigger_of(due: &DueDelivery) -> AttemptTrigger {
    if due.replayed {
        AttemptTrigger::Replay
    } else {
        AttemptTrigger::Scheduled
    }
}

/// The attempt logged for a delivery not sent because its endpoint is disabled.
fn not_sent(due: &DueDelivery, at: DateTime<Utc>, why: String) -> AttemptRecord {
    AttemptRecord {
        attempt: DeliveryAttempt {
            endpoint_id: due.endpoint.id,
            event_id: due.delivery.event_id,
            organization_id: due.delivery.organization_id,
            at,
            status_code: None,
            latency_ms: 0,
            response_excerpt: String::new(),
            error: Some(why),
            trigger: trigger_of(due),
        },
        claimed_attempts: due.delivery.attempts,
        status: DeliveryStatus::Failed,
        next_attempt_at: None,
        endpoint: EndpointEffect::Unchanged,
    }
}

impl App {
    /// Starts the delivery engine; it runs until `cancel` fires, then finishes the requests
    /// in flight and writes their attempts.
    pub fn start_webhook_delivery(&self, cancel: CancellationToken) -> DeliveryEngine {
        let settings = self.settings.webhooks.engine.clone();
        let counters = Arc::new(EngineCounters::default());
        let wake = Arc::new(Notify::new());
        let (tx, rx) = mpsc::channel(unrecorded_limit(&settings));
        let (ready_tx, ready_rx) = mpsc::channel(settings.handover.max(1));
        let (due_tx, due_rx) = mpsc::channel(settings.claim_batch.max(1) as usize);
        let mut tasks = tokio::task::JoinSet::new();
        tasks.spawn(dispatch(
            self.clone(),
            settings.clone(),
            cancel.clone(),
            wake.clone(),
            counters.clone(),
            ready_tx,
        ));
        tasks.spawn(claim_due(
            self.clone(),
            settings.clone(),
            cancel.clone(),
            wake,
            due_tx,
        ));
        tasks.spawn(send(
            self.clone(),
            settings.clone(),
            cancel,
            tx,
            ready_rx,
            due_rx,
        ));
        tasks.spawn(record(self.clone(), settings, rx, counters.clone()));
        DeliveryEngine { counters, tasks }
    }

    /// The URL and headers of a delivery of `body`, or why it cannot be sent.
    fn prepare(
        &self,
        due: &DueDelivery,
        at: DateTime<Utc>,
        body: &[u8],
    ) -> Result<(parley_webhooks::Url, super::Headers), String> {
        let url =
            parley_webhooks::target::parse_target(&due.endpoint.url).map_err(|e| e.to_string())?;
        let headers = self
            .signed_headers(&due.endpoint, &due.delivery.event_id.to_string(), at, body)
            .map_err(|e| {
                tracing::error!(endpoint = %due.endpoint.id, error = ?e, "cannot sign a webhook delivery");
                "the endpoint secret does not open with this installation's master key".to_owned()
            })?;
        Ok((url, headers))
    }

    /// Sends one claimed delivery and decides what its answer means.
    async fn deliver(&self, due: &DueDelivery) -> AttemptRecord {
        let at = self.clock.now();
        if !due.endpoint.enabled {
            let reason = due
                .endpoint
                .disabled_reason
                .map_or("disabled", DisabledReason::as_str);
            return not_sent(
                due,
                at,
                format!("not sent: the endpoint is disabled ({reason})"),
            );
        }
        let refused =
            |why: String| decide(due, &failed(DeliveryError::Refused(why)), at, unit_random());
        // The same body whether it is POSTed or written as a file.
        let body = match serde_json::to_vec(&EventEnvelope::from(&due.event)) {
            Ok(body) => body,
            Err(e) => return refused(e.to_string()),
        };
        if due.endpoint.sftp.is_some() {
            let exchange = self.deliver_sftp(due, &body).await;
            return decide(due, &exchange, at, unit_random());
        }
        let (url, headers) = match self.prepare(due, at, &body) {
            Ok(p) => p,
            Err(why) => return refused(why),
        };
        let exchange = self
            .webhook_client
            .send(
                http::Method::POST,
                &url,
                &headers,
                Some(body),
                RESPONSE_EXCERPT_BYTES,
                at.timestamp(),
            )
            .await;
        decide(due, &exchange, at, unit_random())
    }
}

/// An exchange that never left: the request could not be built.
fn failed(error: DeliveryError) -> Exchange {
    Exchange {
        status: None,
        latency: Duration::ZERO,
        body: Vec::new(),
        outcome: Err(error),
    }
}

/// Sleeps `d` unless `cancel` fires or `wake` is notified first.
async fn pause(d: Duration, cancel: &CancellationToken, wake: Option<&Notify>) {
    match wake {
        Some(wake) => tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = cancel.cancelled() => {}
            () = wake.notified() => {}
        },
        None => tokio::select! {
            () = tokio::time::sleep(d) => {}
            () = cancel.cancelled() => {}
        },
    }
}

/// Backs off after a store error: the poll interval doubled per consecutive error, up to
/// 5 s.
fn backoff(settings: &EngineSettings, errors: u32) -> Duration {
    settings
        .poll_interval
        .saturating_mul(1 << errors.min(10))
        .min(Duration::from_secs(5))
}

fn lease_of(settings: &EngineSettings) -> chrono::Duration {
    chrono::Duration::from_std(settings.lease).unwrap_or(chrono::Duration::seconds(60))
}

async fn dispatch(
    app: App,
    settings: EngineSettings,
    cancel: CancellationToken,
    wake: Arc<Notify>,
    counters: Arc<EngineCounters>,
    ready: mpsc::Sender<Leased>,
) {
    let lease = lease_of(&settings);
    // Deliveries per event in the last fan-out: sizes the next one to the room left.
    let mut per_event = 1.0_f64;
    let mut errors = 0;
    // Refill once the queue is half empty: fan-outs of a few events cost nearly as much
    // as full ones.
    let refill_at = settings.handover.max(1).div_ceil(2);
    while !cancel.is_cancelled() {
        let room = ready.capacity();
        if room < refill_at {
            pause(settings.poll_interval, &cancel, None).await;
            continue;
        }
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            clippy::cast_precision_loss
        )]
        let events = ((room as f64 / per_event) as u32).clamp(1, settings.fan_out_batch);
        let now = app.clock.now();
        let room = u32::try_from(room).unwrap_or(u32::MAX);
        match app
            .store
            .fan_out_and_lease(events, now, now + lease, room)
            .await
        {
            Ok(out) => {
                errors = 0;
                let done = out.counts;
                if done.events > 0 {
                    #[allow(clippy::cast_precision_loss)]
                    let ratio = done.deliveries as f64 / done.events as f64;
                    per_event = ratio.max(1.0);
                }
                let leased = out.leased.len() as u64;
                let until = now + lease;
                for due in out.leased {
                    // Only this task sends, and it leased no more than the room it saw; a
                    // delivery that does not fit (shutdown) comes back when its lease ends.
                    if ready.try_send(Leased { due, until }).is_err() {
                        break;
                    }
                }
                counters
                    .queued
                    .fetch_add(done.deliveries, std::sync::atomic::Ordering::Relaxed);
                if done.deliveries > leased {
                    // Deliveries past the queue's room are due now: the due claimer takes them.
                    wake.notify_one();
                }
                if done.events < u64::from(events) {
                    pause(settings.poll_interval, &cancel, None).await;
                }
            }
            Err(e) => {
                errors += 1;
                tracing::warn!(error = %e, "webhook fan-out failed; retrying");
                pause(backoff(&settings, errors), &cancel, None).await;
            }
        }
    }
}

/// Leases due deliveries from the store (retries, replays, fan-out past the hand-over's
/// room, and what a crash or another node left) into `due`, as it has room, at least every
/// poll interval, and sooner when woken. A task of its own, so the sender never waits on
/// a store transaction.
async fn claim_due(
    app: App,
    settings: EngineSettings,
    cancel: CancellationToken,
    wake: Arc<Notify>,
    due: mpsc::Sender<Leased>,
) {
    let lease = lease_of(&settings);
    let mut errors = 0;
    while !cancel.is_cancelled() {
        let room = due.capacity().min(settings.claim_batch as usize);
        if room == 0 {
            pause(settings.poll_interval, &cancel, None).await;
            continue;
        }
        let now = app.clock.now();
        let want = u32::try_from(room).unwrap_or(u32::MAX);
        match app.store.claim_deliveries(now, now + lease, want).await {
            Ok(claimed) => {
                errors = 0;
                let short = claimed.len() < room;
                let until = now + lease;
                for delivery in claimed {
                    // Only this task sends here, and it claimed no more than the room it
                    // saw; what does not fit (shutdown) comes back when its lease ends.
                    if due
                        .try_send(Leased {
                            due: delivery,
                            until,
                        })
                        .is_err()
                    {
                        break;
                    }
                }
                if short {
                    pause(settings.poll_interval, &cancel, Some(&wake)).await;
                }
            }
            Err(e) => {
                errors += 1;
                tracing::warn!(error = %e, "claiming webhook deliveries failed; retrying");
                pause(backoff(&settings, errors), &cancel, None).await;
            }
        }
    }
}

/// Starts one request per delivery as slots free up (at most `concurrency` at once),
/// taking deliveries from the hand-over queue and the due queue. While both have work,
/// due deliveries get a quarter of the free slots, so a steady stream of new events never
/// starves retries.
async fn send(
    app: App,
    settings: EngineSettings,
    cancel: CancellationToken,
    tx: mpsc::Sender<AttemptRecord>,
    mut ready: mpsc::Receiver<Leased>,
    mut due: mpsc::Receiver<Leased>,
) {
    let lease = lease_of(&settings);
    let slots = Arc::new(Semaphore::new(settings.concurrency.max(1)));
    let mut batch = Vec::with_capacity(settings.concurrency.max(1));
    while !cancel.is_cancelled() {
        // Wait for a free slot, then take as many deliveries as there are free slots.
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => permit,
            () = cancel.cancelled() => break,
        };
        let Ok(first) = first else { break };
        let free = slots.available_permits() + 1;
        let take = |queue: &mut mpsc::Receiver<Leased>, batch: &mut Vec<_>, upto: usize| {
            while batch.len() < upto {
                match queue.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
        };
        take(&mut due, &mut batch, free.div_ceil(4));
        take(&mut ready, &mut batch, free);
        take(&mut due, &mut batch, free);
        if batch.is_empty() {
            // Nothing to send: wait for either queue (both close only at shutdown).
            let next = tokio::select! {
                d = ready.recv() => d,
                d = due.recv() => d,
                () = cancel.cancelled() => None,
            };
            match next {
                Some(d) => batch.push(d),
                None => break,
            }
        }
        let mut first = Some(first);
        let now = app.clock.now();
        for leased in batch.drain(..) {
            if !fresh(leased.until, now, lease) {
                // Sent now, its answer could come after the lease ends and another claim
                // sends it again: left for the lease to end instead.
                tracing::debug!(event = %leased.due.delivery.event_id, "webhook delivery waited past half its lease; left to be claimed again");
                continue;
            }
            let delivery = leased.due;
            let slot = match first.take() {
                Some(p) => p,
                // Only this task takes slots, so the free ones counted above are there.
                None => match slots.clone().try_acquire_owned() {
                    Ok(p) => p,
                    Err(_) => break,
                },
            };
            let (app, tx) = (app.clone(), tx.clone());
            tokio::spawn(async move {
                let record = app.deliver(&delivery).await;
                crate::telemetry::delivery_attempt(&record, delivery.event.timestamp);
                // The recorder outlives every sender; a send error means shutdown went
                // wrong, and the lease brings the delivery back. The slot frees once the
                // record is queued: the lease, not the slot, keeps the delivery from being
                // claimed again before its attempt is written.
                let _ = tx.send(record).await;
                drop(slot);
            });
        }
    }
    // Dropping `tx` here; the recorder ends when every in-flight sender has finished.
}

async fn record(
    app: App,
    settings: EngineSettings,
    mut rx: mpsc::Receiver<AttemptRecord>,
    counters: Arc<EngineCounters>,
) {
    let mut records: Vec<AttemptRecord> = Vec::with_capacity(settings.record_batch);
    while rx
        .recv_many(&mut records, settings.record_batch.max(1))
        .await
        > 0
    {
        let delivered = records
            .iter()
            .filter(|r| r.status == DeliveryStatus::Delivered)
            .count() as u64;
        let total = records.len() as u64;
        let mut errors = 0;
        loop {
            match app.store.record_attempts(&records, app.clock.now()).await {
                Ok(()) => break,
                Err(e) => {
                    errors += 1;
                    tracing::warn!(error = %e, attempts = records.len(), "recording webhook attempts failed; retrying");
                    tokio::time::sleep(backoff(&settings, errors)).await;
                }
            }
        }
        counters
            .attempts
            .fetch_add(total, std::sync::atomic::Ordering::Relaxed);
        counters
            .delivered
            .fetch_add(delivered, std::sync::atomic::Ordering::Relaxed);
        records.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::fresh;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn a_delivery_is_sent_only_while_half_its_lease_is_left() {
        let claimed = Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap();
        let lease = Duration::seconds(9);
        let until = claimed + lease;
        assert!(fresh(until, claimed, lease));
        assert!(fresh(until, claimed + Duration::milliseconds(4_500), lease));
        assert!(!fresh(
            until,
            claimed + Duration::milliseconds(4_501),
            lease
        ));
        // Past the lease another claim may hold it.
        assert!(!fresh(until, claimed + Duration::seconds(10), lease));
    }
}
