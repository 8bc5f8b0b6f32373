//! Conformance: the audit log and the outbox (written atomically with job completions).

use std::time::Duration;

use parley_domain::{AuditAction, EventId, EventType, JobId, NewEvent};

use super::fixtures::job;
use super::fixtures::{at, audit, emit, new_org};
use crate::{AuditFilter, JobEffects, PageRequest, Store, StoreError};

pub async fn audit_lists_newest_first_per_organization(s: &dyn Store) {
    let a = new_org("A", None).id;
    let b = new_org("B", None).id;
    let mut written = Vec::new();
    for i in 0..5 {
        let entry = audit(Some(a), AuditAction::SignIn, i);
        written.push(entry.clone());
        s.append_audit(entry).await.unwrap();
    }
    s.append_audit(audit(Some(b), AuditAction::SignIn, 0))
        .await
        .unwrap();
    s.append_audit(audit(None, AuditAction::SignInFailed, 0))
        .await
        .unwrap();
    let first = s
        .list_audit(a, &AuditFilter::default(), PageRequest::first(3))
        .await
        .unwrap();
    let rest = s
        .list_audit(
            a,
            &AuditFilter::default(),
            PageRequest::after(first.next_cursor.clone().unwrap(), 3),
        )
        .await
        .unwrap();
    let listed: Vec<_> = first.items.into_iter().chain(rest.items).collect();
    written.reverse();
    assert_eq!(
        listed, written,
        "entries come back whole, newest first, only A's"
    );
}

pub async fn audit_is_filtered_by_actor_action_and_period(s: &dyn Store) {
    let org = new_org("A", None).id;
    let mut by_alice = audit(Some(org), AuditAction::RoleChanged, 10);
    by_alice.actor = "usr_alice".to_owned();
    let mut alice_signs_in = audit(Some(org), AuditAction::SignIn, 20);
    alice_signs_in.actor = "usr_alice".to_owned();
    let by_cli = audit(Some(org), AuditAction::RoleChanged, 30);
    for e in [&by_alice, &alice_signs_in, &by_cli] {
        s.append_audit(e.clone()).await.unwrap();
    }
    let ids = |filter: AuditFilter| async move {
        s.list_audit(org, &filter, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|e| e.id)
            .collect::<Vec<_>>()
    };
    let actor = AuditFilter {
        actor: Some("usr_alice".to_owned()),
        ..AuditFilter::default()
    };
    assert_eq!(
        ids(actor.clone()).await,
        vec![alice_signs_in.id, by_alice.id]
    );
    let role_changes = AuditFilter {
        action: Some(AuditAction::RoleChanged),
        ..AuditFilter::default()
    };
    assert_eq!(ids(role_changes).await, vec![by_cli.id, by_alice.id]);
    let both = AuditFilter {
        action: Some(AuditAction::RoleChanged),
        ..actor
    };
    assert_eq!(ids(both).await, vec![by_alice.id]);
    let period = AuditFilter {
        since: Some(at(20)),
        until: Some(at(30)),
        ..AuditFilter::default()
    };
    assert_eq!(
        ids(period).await,
        vec![alice_signs_in.id],
        "since is kept, until is not"
    );
    let nobody = AuditFilter {
        actor: Some("usr_nobody".to_owned()),
        ..AuditFilter::default()
    };
    assert!(ids(nobody).await.is_empty());
}

fn event(org: parley_domain::OrgId, n: i64) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: EventType::SetStatus,
        timestamp: at(n),
        data: serde_json::json!({"status": "promised", "n": n}),
    }
}

pub async fn completing_a_job_writes_its_effects_atomically(s: &dyn Store) {
    let org = new_org("Org", None).id;
    s.enqueue_job(job("effects", None, 0)).await.unwrap();
    let claimed = s
        .claim_jobs("effects", at(0), Duration::from_secs(30), 1)
        .await
        .unwrap();
    let lease = claimed[0].lease;
    let follow_up = job("effects-next", None, 0);
    let effects = JobEffects {
        events: vec![event(org, 1), event(org, 2)],
        jobs: vec![follow_up.clone()],
    };
    s.complete_job(lease, at(1), effects.clone()).await.unwrap();
    let events = s.list_undispatched_events(10).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        effects.events
    );
    assert!(events.iter().all(|e| e.dispatched_at.is_none()));
    assert_eq!(s.get_job(follow_up.id).await.unwrap().queue, "effects-next");
    // A second completion with the same lease is refused and writes nothing.
    let dup = JobEffects {
        events: vec![event(org, 3)],
        jobs: vec![job("effects-next", None, 0)],
    };
    let dup_job = dup.jobs[0].id;
    let again = s.complete_job(lease, at(2), dup).await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                constraint: "job_lease"
            })
        ),
        "{again:?}"
    );
    assert_eq!(s.list_undispatched_events(10).await.unwrap().len(), 2);
    assert!(matches!(
        s.get_job(dup_job).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.get_job(JobId::generate()).await,
        Err(StoreError::NotFound)
    ));
}

pub async fn outbox_dispatch_marks_each_event_once(s: &dyn Store) {
    let org = new_org("Org", None).id;
    let events: Vec<_> = (0..4).map(|n| event(org, n)).collect();
    emit(s, events.clone()).await;
    let pending = s.list_undispatched_events(2).await.unwrap();
    assert_eq!(pending.len(), 2, "the limit is honoured");
    assert_eq!(pending[0].event, events[0], "oldest first");
    let ids: Vec<_> = pending.iter().map(|e| e.event.id).collect();
    assert_eq!(s.mark_events_dispatched(&ids, at(5)).await.unwrap(), 2);
    assert_eq!(
        s.mark_events_dispatched(&ids, at(6)).await.unwrap(),
        0,
        "already dispatched"
    );
    let rest = s.list_undispatched_events(10).await.unwrap();
    assert_eq!(
        rest.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        vec![events[2].id, events[3].id]
    );
    // The live feed reads them all, dispatched or not, above a cursor.
    let after = s.events_after(events[0].id, 10).await.unwrap();
    assert_eq!(
        after.iter().map(|e| e.event.id).collect::<Vec<_>>(),
        vec![events[1].id, events[2].id, events[3].id]
    );
    assert!(after[0].dispatched_at.is_some() && after[1].dispatched_at.is_none());
    assert_eq!(s.events_after(events[0].id, 1).await.unwrap().len(), 1);
}

pub async fn appended_events_commit_all_or_none(s: &dyn Store) {
    let org = new_org("Org", None).id;
    let first: Vec<_> = (0..3).map(|n| event(org, n)).collect();
    s.append_events(&first).await.unwrap();
    // A batch repeating an id fails as a whole.
    let again = vec![event(org, 7), first[1].clone()];
    assert!(s.append_events(&again).await.is_err());
    let stored = s.list_undispatched_events(10).await.unwrap();
    assert_eq!(
        stored.iter().map(|e| e.event.clone()).collect::<Vec<_>>(),
        first,
        "the failed batch left nothing behind"
    );
}

/// Events naming a conversation are read back for it, oldest first, up to the limit; not
/// for another organization, and not those about no conversation or another one.
pub async fn a_conversations_events_are_read_back_in_order(s: &dyn Store) {
    use parley_domain::ConversationId;
    let org = new_org("Org", None).id;
    let other = new_org("Other", None).id;
    let one = ConversationId::generate();
    let two = ConversationId::generate();
    let about = |org, c: ConversationId, n| {
        let mut e = event(org, n);
        e.data["conversation_id"] = serde_json::json!(c.to_string());
        e
    };
    let written = vec![
        about(org, one, 1),
        event(org, 2),
        about(org, two, 3),
        about(org, one, 4),
        about(other, one, 5),
        about(org, one, 6),
    ];
    emit(s, written.clone()).await;
    let read = s.conversation_events(org, one, 10).await.unwrap();
    assert_eq!(
        read.into_iter().map(|e| e.event).collect::<Vec<_>>(),
        vec![written[0].clone(), written[3].clone(), written[5].clone()]
    );
    assert_eq!(s.conversation_events(org, one, 2).await.unwrap().len(), 2);
    assert_eq!(s.conversation_events(other, two, 10).await.unwrap(), []);
}
