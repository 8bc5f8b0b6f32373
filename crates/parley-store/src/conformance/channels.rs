//! Channels: stored whole (settings as a JSON object, credentials sealed text), updated in
//! place with their audit entries, scoped to their organization except for the callback
//! lookup, which finds a channel by id alone.

use parley_domain::{AuditAction, CannedReply, Channel, ChannelId, OrgId, Provider};

use super::fixtures::{at, audit, create_org};
use crate::{PageRequest, Store, StoreError};

pub(crate) fn new_channel(org: OrgId, provider: Provider, name: &str) -> Channel {
    let mut settings = serde_json::Map::new();
    settings.insert("base_url".to_owned(), "http://127.0.0.1:9".into());
    settings.insert("delays_ms".to_owned(), serde_json::json!([100, 200]));
    Channel {
        id: ChannelId::generate(),
        organization_id: org,
        provider,
        name: name.to_owned(),
        sender: "+447700900001".to_owned(),
        inbound_flow: None,
        inbound_queue: "general".to_owned(),
        rate_per_second: 10,
        settings,
        secret_sealed: Some("sealed:credentials".to_owned()),
        enabled: true,
        created_at: at(0),
        updated_at: at(0),
        archived_at: None,
    }
}

pub async fn channels_are_scoped_updated_and_found_for_callbacks(s: &dyn Store) {
    let org = create_org(s, "channels", None).await.id;
    let other = create_org(s, "channels-other", None).await.id;
    let sms = s
        .create_channel(
            new_channel(org, Provider::Twilio, "SMS"),
            audit(Some(org), AuditAction::ChannelCreated, 0),
        )
        .await
        .unwrap();
    assert_eq!(sms, new_channel_like(&sms), "stored whole");
    let sim = s
        .create_channel(
            new_channel(org, Provider::Sim, "Demo"),
            audit(Some(org), AuditAction::ChannelCreated, 1),
        )
        .await
        .unwrap();
    // Scoped: another organization sees nothing, but a callback finds it by id.
    assert_eq!(
        s.find_channel(org, sms.id).await.unwrap(),
        Some(sms.clone())
    );
    assert_eq!(s.find_channel(other, sms.id).await.unwrap(), None);
    assert_eq!(
        s.find_channel_for_callback(sms.id).await.unwrap(),
        Some(sms.clone())
    );
    assert_eq!(
        s.find_channel_for_callback(ChannelId::generate())
            .await
            .unwrap(),
        None
    );
    // Listing pages by id.
    let first = s
        .list_channels(org, false, PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 1);
    let rest = s
        .list_channels(
            org,
            false,
            PageRequest::after(first.next_cursor.clone().unwrap(), 10),
        )
        .await
        .unwrap();
    let mut ids: Vec<_> = first
        .items
        .iter()
        .chain(&rest.items)
        .map(|c| c.id)
        .collect();
    ids.sort();
    let mut expected = vec![sms.id, sim.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        s.list_channels(other, false, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // An update replaces what may change, never the provider or the creation time.
    let mut changed = sms.clone();
    changed.name = "Collections SMS".to_owned();
    changed.rate_per_second = 3;
    changed.enabled = false;
    changed.secret_sealed = None;
    changed.settings.clear();
    changed.provider = Provider::Whatsapp;
    changed.created_at = at(99);
    changed.updated_at = at(5);
    let updated = s
        .update_channel(
            changed.clone(),
            audit(Some(org), AuditAction::ChannelUpdated, 5),
        )
        .await
        .unwrap();
    assert_eq!(updated.name, "Collections SMS");
    assert_eq!((updated.rate_per_second, updated.enabled), (3, false));
    assert_eq!(updated.secret_sealed, None);
    assert!(updated.settings.is_empty());
    assert_eq!(
        updated.provider,
        Provider::Twilio,
        "the provider never changes"
    );
    assert_eq!(updated.created_at, at(0));
    assert_eq!(updated.updated_at, at(5));
    // Another organization cannot update it.
    let mut foreign = changed;
    foreign.organization_id = other;
    assert!(matches!(
        s.update_channel(foreign, audit(Some(other), AuditAction::ChannelUpdated, 6))
            .await,
        Err(StoreError::NotFound)
    ));
    let audits = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap();
    let actions: Vec<_> = audits.items.iter().map(|a| a.action).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| matches!(a, AuditAction::ChannelCreated | AuditAction::ChannelUpdated))
            .count(),
        3
    );
}

/// What `created` must equal: the channel as built by `new_channel` with its id.
fn new_channel_like(created: &Channel) -> Channel {
    Channel {
        id: created.id,
        ..new_channel(created.organization_id, Provider::Twilio, "SMS")
    }
}

fn outcome(org: OrgId, key: &str, label: &str, secs: i64) -> parley_domain::OutcomeStatus {
    parley_domain::OutcomeStatus {
        organization_id: org,
        key: key.to_owned(),
        label: label.to_owned(),
        category: parley_domain::StatusCategory::Positive,
        closes: false,
        created_at: at(secs),
        updated_at: at(secs),
    }
}

pub async fn outcome_statuses_are_defined_per_organization(s: &dyn Store) {
    let org = create_org(s, "outcomes", None).await.id;
    let other = create_org(s, "outcomes-other", None).await.id;
    let set = |o, a| audit(Some(o), AuditAction::OutcomeStatusSet, a);
    let ptp = s
        .create_outcome_status(
            outcome(org, "promise_to_pay", "Promise to pay", 1),
            set(org, 1),
        )
        .await
        .unwrap();
    assert_eq!(ptp, outcome(org, "promise_to_pay", "Promise to pay", 1));
    s.create_outcome_status(outcome(org, "paid", "Paid", 2), set(org, 2))
        .await
        .unwrap();
    // A key is defined once per organization.
    let again = s
        .create_outcome_status(outcome(org, "paid", "Paid again", 3), set(org, 3))
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                constraint: "outcome_statuses_pkey"
            })
        ),
        "{again:?}"
    );
    // An update replaces what may change, keeping when it was created.
    let mut changed = outcome(org, "promise_to_pay", "Promised", 5);
    changed.category = parley_domain::StatusCategory::Neutral;
    changed.closes = true;
    let replaced = s.update_outcome_status(changed, set(org, 5)).await.unwrap();
    assert_eq!(
        (
            replaced.label.as_str(),
            replaced.closes,
            replaced.created_at,
            replaced.updated_at
        ),
        ("Promised", true, at(1), at(5))
    );
    let keys: Vec<String> = s
        .list_outcome_statuses(org)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key)
        .collect();
    assert_eq!(keys, ["paid", "promise_to_pay"]);
    assert!(s.list_outcome_statuses(other).await.unwrap().is_empty());
    let theirs = s
        .update_outcome_status(outcome(other, "paid", "Theirs", 6), set(other, 6))
        .await;
    assert!(matches!(theirs, Err(StoreError::NotFound)), "{theirs:?}");
    assert!(matches!(
        s.update_outcome_status(outcome(other, "paid", "Theirs", 6), set(other, 6))
            .await,
        Err(StoreError::NotFound)
    ));
    // Removal is scoped and audited.
    let removed = |o| audit(Some(o), AuditAction::OutcomeStatusDeleted, 6);
    assert!(matches!(
        s.delete_outcome_status(other, "paid", removed(other)).await,
        Err(StoreError::NotFound)
    ));
    s.delete_outcome_status(org, "paid", removed(org))
        .await
        .unwrap();
    assert!(matches!(
        s.delete_outcome_status(org, "paid", removed(org)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.list_outcome_statuses(org).await.unwrap().len(), 1);
    let audits = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(20))
        .await
        .unwrap()
        .items;
    let count = |a| audits.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count(AuditAction::OutcomeStatusSet),
            count(AuditAction::OutcomeStatusDeleted)
        ),
        (3, 1)
    );
    assert!(
        s.list_audit(
            other,
            &crate::AuditFilter::default(),
            PageRequest::first(20)
        )
        .await
        .unwrap()
        .items
        .is_empty()
    );
}

fn queue(org: OrgId, key: &str, name: &str, secs: i64) -> parley_domain::Queue {
    parley_domain::Queue {
        organization_id: org,
        key: key.to_owned(),
        name: name.to_owned(),
        created_at: at(secs),
        updated_at: at(secs),
    }
}

pub async fn queues_are_defined_per_organization(s: &dyn Store) {
    let org = create_org(s, "queues", None).await.id;
    let other = create_org(s, "queues-other", None).await.id;
    let set = |o, a| audit(Some(o), AuditAction::QueueSet, a);
    let made = s
        .create_queue(queue(org, "collections", "Collections", 1), set(org, 1))
        .await
        .unwrap();
    assert_eq!(made, queue(org, "collections", "Collections", 1));
    s.create_queue(queue(org, "arrears", "Arrears", 2), set(org, 2))
        .await
        .unwrap();
    let again = s
        .create_queue(queue(org, "arrears", "Again", 3), set(org, 3))
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                constraint: "queues_pkey"
            })
        ),
        "{again:?}"
    );
    // Another organization has its own keys.
    s.create_queue(queue(other, "arrears", "Theirs", 3), set(other, 3))
        .await
        .unwrap();
    let renamed = s
        .update_queue(queue(org, "collections", "Debt collection", 5), set(org, 5))
        .await
        .unwrap();
    assert_eq!(
        (
            renamed.name.as_str(),
            renamed.created_at,
            renamed.updated_at
        ),
        ("Debt collection", at(1), at(5))
    );
    let missing = s
        .update_queue(queue(other, "collections", "x", 6), set(other, 6))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let names: Vec<String> = s
        .list_queues(org)
        .await
        .unwrap()
        .into_iter()
        .map(|q| q.name)
        .collect();
    assert_eq!(names, ["Arrears", "Debt collection"]);
    let removed = |o| audit(Some(o), AuditAction::QueueDeleted, 7);
    s.delete_queue(org, "arrears", removed(org)).await.unwrap();
    assert!(matches!(
        s.delete_queue(org, "arrears", removed(org)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.list_queues(org).await.unwrap().len(), 1);
    assert_eq!(s.list_queues(other).await.unwrap()[0].name, "Theirs");
}

/// A canned reply of `org` with this key, title and body, made at `at(n)`.
fn canned(org: OrgId, key: &str, title: &str, body: &str, n: i64) -> CannedReply {
    CannedReply {
        organization_id: org,
        key: key.to_owned(),
        title: title.to_owned(),
        body: body.to_owned(),
        created_at: at(n),
        updated_at: at(n),
    }
}

/// Canned replies are saved per organization by key, changed keeping their creation
/// time, listed by title whatever its case, and removed once.
pub async fn canned_replies_are_kept_per_organization(s: &dyn Store) {
    let org = create_org(s, "canned", None).await.id;
    let other = create_org(s, "canned-other", None).await.id;
    let set = |o, a| audit(Some(o), AuditAction::CannedReplySet, a);
    let made = s
        .create_canned_reply(
            canned(org, "promise", "Promise to pay", "Thanks <<first_name>>", 1),
            set(org, 1),
        )
        .await
        .unwrap();
    assert_eq!(
        made,
        canned(org, "promise", "Promise to pay", "Thanks <<first_name>>", 1)
    );
    s.create_canned_reply(
        canned(org, "bank", "bank details", "IBAN …", 2),
        set(org, 2),
    )
    .await
    .unwrap();
    let again = s
        .create_canned_reply(canned(org, "bank", "Again", "x", 3), set(org, 3))
        .await;
    assert!(
        matches!(
            again,
            Err(StoreError::Conflict {
                constraint: "canned_replies_pkey"
            })
        ),
        "{again:?}"
    );
    s.create_canned_reply(canned(other, "bank", "Theirs", "y", 3), set(other, 3))
        .await
        .unwrap();
    let changed = s
        .update_canned_reply(
            canned(org, "promise", "Promised", "Thank you, <<first_name>>.", 5),
            set(org, 5),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            changed.title.as_str(),
            changed.body.as_str(),
            changed.created_at,
            changed.updated_at
        ),
        ("Promised", "Thank you, <<first_name>>.", at(1), at(5))
    );
    let missing = s
        .update_canned_reply(canned(other, "promise", "x", "x", 6), set(other, 6))
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let titles: Vec<String> = s
        .list_canned_replies(org)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.title)
        .collect();
    assert_eq!(
        titles,
        ["bank details", "Promised"],
        "by title, in any case"
    );
    let removed = |o| audit(Some(o), AuditAction::CannedReplyDeleted, 7);
    s.delete_canned_reply(org, "bank", removed(org))
        .await
        .unwrap();
    assert!(matches!(
        s.delete_canned_reply(org, "bank", removed(org)).await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.list_canned_replies(org).await.unwrap().len(), 1);
    assert_eq!(
        s.list_canned_replies(other).await.unwrap()[0].title,
        "Theirs"
    );
}
