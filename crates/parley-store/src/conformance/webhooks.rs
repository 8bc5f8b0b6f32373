//! Webhooks: endpoints per organization, fan-out of outbox events to subscribed enabled
//! endpoints exactly once, leased claims, fenced attempt records, the attempts log, replay;
//! the custom value endpoint, one per organization.

use parley_domain::{
    AttemptTrigger, AuditAction, CustomValueEndpoint, DeliveryAttempt, DeliveryStatus,
    DisabledReason, EventId, EventType, NewEvent, OrgId, Subscription, WebhookEndpoint, WebhookId,
};

use super::fixtures::{at, audit, create_org, emit};
use crate::{AttemptRecord, EndpointEffect, PageRequest, ReplayScope, Store, StoreError};

pub(super) fn endpoint(org: OrgId, events: Subscription, enabled: bool) -> WebhookEndpoint {
    WebhookEndpoint {
        id: WebhookId::generate(),
        organization_id: org,
        url: "https://hooks.example.com/parley".to_owned(),
        description: "conformance".to_owned(),
        events,
        enabled,
        disabled_reason: (!enabled).then_some(DisabledReason::Manual),
        secret_sealed: "sealed-secret".to_owned(),
        previous_secret: None,
        failing_since: None,
        sftp: None,
        created_at: at(0),
        updated_at: at(0),
    }
}

pub(super) async fn create(s: &dyn Store, e: WebhookEndpoint) -> WebhookEndpoint {
    let org = e.organization_id;
    s.create_webhook(e, audit(Some(org), AuditAction::WebhookCreated, 0))
        .await
        .unwrap()
}

fn event(org: OrgId, t: EventType, n: u32) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: t,
        timestamp: at(i64::from(n)),
        data: serde_json::json!({"n": n}),
    }
}

fn attempt(e: &WebhookEndpoint, event: EventId, secs: i64, code: u16) -> DeliveryAttempt {
    DeliveryAttempt {
        endpoint_id: e.id,
        event_id: event,
        organization_id: e.organization_id,
        at: at(secs),
        status_code: Some(code),
        latency_ms: 12,
        response_excerpt: format!("answered {code}"),
        error: (code >= 300).then(|| format!("the receiver answered {code}")),
        trigger: AttemptTrigger::Scheduled,
    }
}

pub async fn webhooks_fan_out_to_subscribed_enabled_endpoints_once(s: &dyn Store) {
    let a = create_org(s, "A", None).await.id;
    let b = create_org(s, "B", None).await.id;
    let all = create(s, endpoint(a, Subscription::All, true)).await;
    let status_only = create(
        s,
        endpoint(a, Subscription::Only(vec![EventType::SetStatus]), true),
    )
    .await;
    let disabled = create(s, endpoint(a, Subscription::All, false)).await;
    let nothing = create(s, endpoint(a, Subscription::Nothing, true)).await;
    assert_eq!(
        nothing.events,
        Subscription::Nothing,
        "stored and read back"
    );
    let other = create(s, endpoint(b, Subscription::All, true)).await;
    let inbound = event(a, EventType::InboundMessage, 1);
    let status = event(a, EventType::SetStatus, 2);
    let payment = event(b, EventType::Payment, 3);
    emit(s, vec![inbound.clone(), status.clone(), payment.clone()]).await;

    let first = s.fan_out_events(2, at(10)).await.unwrap();
    assert_eq!(
        (first.events, first.deliveries),
        (2, 3),
        "the limit is honoured"
    );
    let second = s.fan_out_events(100, at(11)).await.unwrap();
    assert_eq!((second.events, second.deliveries), (1, 1));
    let again = s.fan_out_events(100, at(12)).await.unwrap();
    assert_eq!(
        (again.events, again.deliveries),
        (0, 0),
        "each event fans out once"
    );
    assert!(s.list_undispatched_events(10).await.unwrap().is_empty());
    // `/metrics` counts the four deliveries as waiting.
    let counts = s.work_counts().await.unwrap();
    assert_eq!(counts.pending_deliveries, 4);
    assert!(counts.recipients.is_empty());

    let listed = |org, e: &WebhookEndpoint| {
        let id = e.id;
        async move {
            s.list_deliveries(org, id, None, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .into_iter()
                .map(|d| (d.event_id, d.event_type, d.status, d.attempts))
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(a, &all).await,
        [
            (status.id, EventType::SetStatus, DeliveryStatus::Pending, 0),
            (
                inbound.id,
                EventType::InboundMessage,
                DeliveryStatus::Pending,
                0
            ),
        ],
        "newest event first"
    );
    assert_eq!(listed(a, &status_only).await.len(), 1);
    assert!(listed(a, &disabled).await.is_empty());
    assert!(
        listed(a, &nothing).await.is_empty(),
        "an endpoint subscribed to nothing receives nothing"
    );
    assert_eq!(listed(b, &other).await[0].0, payment.id);
    assert!(
        listed(b, &all).await.is_empty(),
        "scoped to the organization"
    );
    let pending_only = s
        .list_deliveries(
            a,
            all.id,
            Some(DeliveryStatus::Delivered),
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert!(pending_only.items.is_empty());
    let paged = s
        .list_deliveries(a, all.id, None, PageRequest::first(1))
        .await
        .unwrap();
    let next = s
        .list_deliveries(
            a,
            all.id,
            None,
            PageRequest::after(paged.next_cursor.unwrap(), 1),
        )
        .await
        .unwrap();
    assert_eq!(next.items[0].event_id, inbound.id);
}

pub async fn fan_out_leases_the_deliveries_it_hands_over(s: &dyn Store) {
    let org = create_org(s, "handover", None).await.id;
    let mut endpoints = [
        create(s, endpoint(org, Subscription::All, true)).await,
        create(s, endpoint(org, Subscription::All, true)).await,
    ];
    endpoints.sort_by_key(|e| e.id.to_string());
    let events: Vec<NewEvent> = (1..=3)
        .map(|n| event(org, EventType::SetStatus, n))
        .collect();
    emit(s, events.clone()).await;

    let out = s.fan_out_and_lease(10, at(10), at(70), 4).await.unwrap();
    assert_eq!((out.counts.events, out.counts.deliveries), (3, 6));
    // The first four by event, then endpoint, ready to send with what sending needs.
    let mut leased: Vec<(String, String)> = out
        .leased
        .iter()
        .map(|d| (d.event.id.to_string(), d.endpoint.id.to_string()))
        .collect();
    leased.sort();
    let mut expected: Vec<(String, String)> = events
        .iter()
        .flat_map(|ev| {
            endpoints
                .iter()
                .map(|e| (ev.id.to_string(), e.id.to_string()))
        })
        .collect();
    expected.sort();
    expected.truncate(4);
    assert_eq!(leased, expected);
    for d in &out.leased {
        let ev = events.iter().find(|e| e.id == d.event.id).unwrap();
        assert_eq!(&d.event, ev, "the payload as stored");
        assert_eq!(
            &d.endpoint,
            endpoints.iter().find(|e| e.id == d.endpoint.id).unwrap()
        );
        assert_eq!((d.delivery.attempts, d.replayed), (0, false));
        assert_eq!(d.delivery.next_attempt_at, Some(at(70)));
    }
    // The others are due now; the leased ones only once their lease ends.
    let due = s.claim_deliveries(at(10), at(100), 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert!(due.iter().all(|d| {
        !out.leased.iter().any(|l| {
            l.delivery.event_id == d.delivery.event_id
                && l.delivery.endpoint_id == d.delivery.endpoint_id
        })
    }));
    assert!(
        s.claim_deliveries(at(69), at(100), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        s.claim_deliveries(at(70), at(100), 10).await.unwrap().len(),
        4
    );
    // Nothing left to fan out; leasing nothing leases nothing.
    let again = s.fan_out_and_lease(10, at(71), at(130), 100).await.unwrap();
    assert_eq!(again, crate::FannedOut::default());
}

pub async fn webhook_deliveries_are_leased_fenced_and_logged(s: &dyn Store) {
    let org = create_org(s, "leases", None).await.id;
    let e = create(s, endpoint(org, Subscription::All, true)).await;
    let (x, y) = (
        event(org, EventType::SetStatus, 1),
        event(org, EventType::MoveToQueue, 2),
    );
    emit(s, vec![x.clone(), y.clone()]).await;
    s.fan_out_events(10, at(10)).await.unwrap();

    // Nothing is due before its time; due deliveries come with endpoint and event.
    assert!(
        s.claim_deliveries(at(9), at(100), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let claimed = s.claim_deliveries(at(10), at(40), 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    assert_eq!(claimed[0].endpoint, e);
    assert_eq!(claimed[0].event, x, "the payload comes from the outbox");
    assert!(!claimed[0].replayed);
    // Leased: not claimed again until the lease ends (a worker that died).
    assert!(
        s.claim_deliveries(at(20), at(50), 10)
            .await
            .unwrap()
            .is_empty()
    );
    let reclaimed = s.claim_deliveries(at(40), at(70), 1).await.unwrap();
    assert_eq!(reclaimed.len(), 1, "the limit is honoured");

    // x fails once (retry at 100), then succeeds; the endpoint was failing in between.
    let failed = AttemptRecord {
        attempt: attempt(&e, x.id, 41, 500),
        claimed_attempts: 0,
        status: DeliveryStatus::Pending,
        next_attempt_at: Some(at(100)),
        endpoint: EndpointEffect::Failed,
    };
    s.record_attempts(std::slice::from_ref(&failed), at(41))
        .await
        .unwrap();
    let stored = s.find_webhook(org, e.id).await.unwrap().unwrap();
    assert_eq!(stored.failing_since, Some(at(41)));
    // A second worker recording the same round changes nothing but the log.
    s.record_attempts(&[failed], at(42)).await.unwrap();
    let x_now = |status| {
        let id = e.id;
        async move {
            s.list_deliveries(org, id, status, PageRequest::first(10))
                .await
                .unwrap()
                .items
                .into_iter()
                .find(|d| d.event_id == x.id)
        }
    };
    let d = x_now(None).await.unwrap();
    assert_eq!(
        (d.status, d.attempts, d.next_attempt_at),
        (DeliveryStatus::Pending, 1, Some(at(100)))
    );
    let due = s.claim_deliveries(at(100), at(130), 10).await.unwrap();
    assert_eq!(due.len(), 2, "x is due again, y's lease ended");
    s.record_attempts(
        &[AttemptRecord {
            attempt: attempt(&e, x.id, 101, 200),
            claimed_attempts: 1,
            status: DeliveryStatus::Delivered,
            next_attempt_at: None,
            endpoint: EndpointEffect::Succeeded,
        }],
        at(101),
    )
    .await
    .unwrap();
    assert_eq!(
        x_now(Some(DeliveryStatus::Delivered))
            .await
            .unwrap()
            .attempts,
        2
    );
    assert_eq!(
        s.find_webhook(org, e.id)
            .await
            .unwrap()
            .unwrap()
            .failing_since,
        None
    );

    // The log: newest first, per event, paged.
    let log = s
        .list_attempts(org, e.id, None, PageRequest::first(10))
        .await
        .unwrap();
    let codes: Vec<_> = log.items.iter().map(|a| a.status_code).collect();
    assert_eq!(codes, [Some(200), Some(500), Some(500)]);
    assert_eq!(log.items[0], attempt(&e, x.id, 101, 200));
    let page = s
        .list_attempts(org, e.id, Some(x.id), PageRequest::first(2))
        .await
        .unwrap();
    let rest = s
        .list_attempts(
            org,
            e.id,
            Some(x.id),
            PageRequest::after(page.next_cursor.clone().unwrap(), 2),
        )
        .await
        .unwrap();
    assert_eq!((page.items.len(), rest.items.len()), (2, 1));
    assert!(
        s.list_attempts(org, e.id, Some(y.id), PageRequest::first(5))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // 410 Gone: the delivery fails and the endpoint is disabled, with an audit entry.
    let gone = audit(Some(org), AuditAction::WebhookDisabled, 131);
    s.record_attempts(
        &[AttemptRecord {
            attempt: attempt(&e, y.id, 131, 410),
            claimed_attempts: 0,
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
            endpoint: EndpointEffect::Disable(DisabledReason::Gone, gone.clone()),
        }],
        at(131),
    )
    .await
    .unwrap();
    let stored = s.find_webhook(org, e.id).await.unwrap().unwrap();
    assert_eq!(
        (stored.enabled, stored.disabled_reason),
        (false, Some(DisabledReason::Gone))
    );
    let audit_log = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(audit_log.items.iter().any(|a| a.id == gone.id));
    // Disabling a disabled endpoint again writes no second audit entry.
    let again = audit(Some(org), AuditAction::WebhookDisabled, 132);
    s.record_attempts(
        &[AttemptRecord {
            attempt: attempt(&e, y.id, 132, 410),
            claimed_attempts: 1,
            status: DeliveryStatus::Failed,
            next_attempt_at: None,
            endpoint: EndpointEffect::Disable(DisabledReason::Failing, again.clone()),
        }],
        at(132),
    )
    .await
    .unwrap();
    let audit_log = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(!audit_log.items.iter().any(|a| a.id == again.id));
    assert_eq!(
        s.find_webhook(org, e.id)
            .await
            .unwrap()
            .unwrap()
            .disabled_reason,
        Some(DisabledReason::Gone),
        "the first reason stays"
    );
    // A disabled endpoint gets nothing new.
    emit(s, vec![event(org, EventType::SetStatus, 3)]).await;
    assert_eq!(s.fan_out_events(10, at(140)).await.unwrap().deliveries, 0);
}

pub async fn webhook_replays_start_a_new_round(s: &dyn Store) {
    let org = create_org(s, "replay", None).await.id;
    let e = create(s, endpoint(org, Subscription::All, true)).await;
    let events: Vec<NewEvent> = (0..3)
        .map(|n| event(org, EventType::SetStatus, n))
        .collect();
    emit(s, events.clone()).await;
    s.fan_out_events(10, at(10)).await.unwrap();
    s.claim_deliveries(at(10), at(20), 10).await.unwrap();
    let outcome = |n: usize, status| AttemptRecord {
        attempt: attempt(
            &e,
            events[n].id,
            11,
            if status == DeliveryStatus::Failed {
                500
            } else {
                200
            },
        ),
        claimed_attempts: 0,
        status,
        next_attempt_at: None,
        endpoint: EndpointEffect::Unchanged,
    };
    s.record_attempts(
        &[
            outcome(0, DeliveryStatus::Failed),
            outcome(1, DeliveryStatus::Failed),
            outcome(2, DeliveryStatus::Delivered),
        ],
        at(11),
    )
    .await
    .unwrap();
    let replay = |scope| {
        s.replay_deliveries(
            org,
            e.id,
            scope,
            at(50),
            audit(Some(org), AuditAction::WebhookReplayed, 50),
        )
    };
    // Failed since a time: only failed ones queued at or after it.
    assert_eq!(replay(ReplayScope::FailedSince(at(11))).await.unwrap(), 0);
    assert_eq!(replay(ReplayScope::FailedSince(at(10))).await.unwrap(), 2);
    // One: whatever its status (a receiver that lost a delivered event).
    assert_eq!(replay(ReplayScope::One(events[2].id)).await.unwrap(), 1);
    assert_eq!(
        replay(ReplayScope::One(EventId::generate())).await.unwrap(),
        0
    );
    let due = s.claim_deliveries(at(50), at(60), 10).await.unwrap();
    assert_eq!(due.len(), 3);
    assert!(due.iter().all(|d| d.replayed && d.delivery.attempts == 0));
    // Another organization cannot replay this endpoint's deliveries.
    let other = create_org(s, "other", None).await.id;
    let n = s
        .replay_deliveries(
            other,
            e.id,
            ReplayScope::FailedSince(at(0)),
            at(70),
            audit(Some(other), AuditAction::WebhookReplayed, 70),
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
}

pub async fn webhook_endpoints_are_scoped_updated_and_deleted(s: &dyn Store) {
    let org = create_org(s, "endpoints", None).await.id;
    let other = create_org(s, "other", None).await.id;
    let mut e = create(
        s,
        endpoint(
            org,
            Subscription::Only(vec![EventType::Payment, EventType::InboundMessage]),
            true,
        ),
    )
    .await;
    assert_eq!(s.find_webhook(org, e.id).await.unwrap(), Some(e.clone()));
    assert_eq!(s.find_webhook(other, e.id).await.unwrap(), None);
    let second = create(s, endpoint(org, Subscription::All, true)).await;
    let page = s.list_webhooks(org, PageRequest::first(1)).await.unwrap();
    assert_eq!(page.items.len(), 1);
    let rest = s
        .list_webhooks(org, PageRequest::after(page.next_cursor.unwrap(), 5))
        .await
        .unwrap();
    let mut ids = vec![page.items[0].id, rest.items[0].id];
    ids.sort();
    let mut want = vec![e.id, second.id];
    want.sort();
    assert_eq!(ids, want);
    assert!(
        s.list_webhooks(other, PageRequest::first(5))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Rotation keeps the previous secret until a time; every field is replaced.
    e.url = "https://hooks.example.com/v2".to_owned();
    e.secret_sealed = "sealed-new".to_owned();
    e.previous_secret = Some(("sealed-secret".to_owned(), at(3600)));
    e.events = Subscription::All;
    e.sftp = Some(parley_domain::SftpAccess {
        host_key:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
                .to_owned(),
        credential_sealed: "sealed-credential".to_owned(),
    });
    e.updated_at = at(5);
    let updated = s
        .update_webhook(
            e.clone(),
            audit(Some(org), AuditAction::WebhookSecretRotated, 5),
        )
        .await
        .unwrap();
    assert_eq!(updated, e);
    let mut foreign = e.clone();
    foreign.organization_id = other;
    assert!(matches!(
        s.update_webhook(foreign, audit(Some(other), AuditAction::WebhookUpdated, 6))
            .await,
        Err(StoreError::NotFound)
    ));

    // Deleting takes deliveries and attempts with it.
    let ev = event(org, EventType::Payment, 1);
    emit(s, vec![ev.clone()]).await;
    s.fan_out_events(10, at(10)).await.unwrap();
    s.claim_deliveries(at(10), at(20), 10).await.unwrap();
    s.record_attempts(
        &[AttemptRecord {
            attempt: attempt(&e, ev.id, 11, 200),
            claimed_attempts: 0,
            status: DeliveryStatus::Delivered,
            next_attempt_at: None,
            endpoint: EndpointEffect::Succeeded,
        }],
        at(11),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.delete_webhook(
            other,
            e.id,
            audit(Some(other), AuditAction::WebhookDeleted, 12)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    s.delete_webhook(org, e.id, audit(Some(org), AuditAction::WebhookDeleted, 12))
        .await
        .unwrap();
    assert_eq!(s.find_webhook(org, e.id).await.unwrap(), None);
    assert!(
        s.list_attempts(org, e.id, None, PageRequest::first(5))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    // The other endpoint's delivery of the same event is still there.
    let left = s.claim_deliveries(at(100), at(200), 10).await.unwrap();
    assert_eq!(
        left.iter().map(|d| d.endpoint.id).collect::<Vec<_>>(),
        [second.id]
    );
    assert!(matches!(
        s.delete_webhook(org, e.id, audit(Some(org), AuditAction::WebhookDeleted, 13))
            .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn custom_value_endpoints_are_one_per_organization(s: &dyn Store) {
    let org = create_org(s, "values", None).await.id;
    let other = create_org(s, "other values", None).await.id;
    assert_eq!(s.find_custom_value_endpoint(org).await.unwrap(), None);
    let first = CustomValueEndpoint {
        organization_id: org,
        url: "https://crm.example.com/values".to_owned(),
        secret_sealed: "sealed-one".to_owned(),
        timeout_ms: 5000,
        created_at: at(1),
        updated_at: at(1),
    };
    let set = audit(Some(org), AuditAction::CustomValueEndpointSet, 1);
    let stored = s
        .put_custom_value_endpoint(first.clone(), set.clone())
        .await
        .unwrap();
    assert_eq!(stored, first);
    // Putting again replaces it and keeps its creation time.
    let second = CustomValueEndpoint {
        url: "https://crm.example.com/v2".to_owned(),
        secret_sealed: "sealed-two".to_owned(),
        timeout_ms: 1500,
        created_at: at(9),
        updated_at: at(9),
        ..first.clone()
    };
    let stored = s
        .put_custom_value_endpoint(
            second.clone(),
            audit(Some(org), AuditAction::CustomValueEndpointSet, 9),
        )
        .await
        .unwrap();
    assert_eq!(
        stored,
        CustomValueEndpoint {
            created_at: at(1),
            ..second
        }
    );
    assert_eq!(
        s.find_custom_value_endpoint(org).await.unwrap(),
        Some(stored)
    );
    assert_eq!(s.find_custom_value_endpoint(other).await.unwrap(), None);
    assert!(matches!(
        s.delete_custom_value_endpoint(
            other,
            audit(Some(other), AuditAction::CustomValueEndpointDeleted, 10)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    let gone = audit(Some(org), AuditAction::CustomValueEndpointDeleted, 11);
    s.delete_custom_value_endpoint(org, gone.clone())
        .await
        .unwrap();
    assert_eq!(s.find_custom_value_endpoint(org).await.unwrap(), None);
    let log = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    assert!(log.items.iter().any(|a| a.id == set.id));
    assert!(log.items.iter().any(|a| a.id == gone.id));
}
