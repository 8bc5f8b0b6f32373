//! Flows: drafts per organization, versions numbered 1, 2, … and never changed, each
//! publication atomic with its audit entry.

use parley_domain::{AuditAction, FlowId, FlowRecord, OrgId};

use super::fixtures::{at, audit, create_org};
use chrono::{DateTime, Utc};

use crate::{NewFlowVersion, PageRequest, Store, StoreError};

fn version(org: OrgId, flow: FlowId, document: &str, when: DateTime<Utc>) -> NewFlowVersion {
    NewFlowVersion {
        flow_id: flow,
        organization_id: org,
        name: "v".to_owned(),
        document: document.to_owned(),
        published_by: None,
        published_at: when,
    }
}

pub(crate) fn new_flow(org: OrgId, name: &str) -> FlowRecord {
    FlowRecord {
        id: FlowId::generate(),
        organization_id: org,
        name: name.to_owned(),
        draft: format!("{{\"name\":\"{name}\"}}"),
        latest_version: Some(99),
        created_by: None,
        created_at: at(0),
        updated_at: at(0),
        archived_at: None,
    }
}

pub async fn flows_keep_drafts_and_number_immutable_versions(s: &dyn Store) {
    let org = create_org(s, "flows", None).await.id;
    let flow = s
        .create_flow(
            new_flow(org, "a"),
            audit(Some(org), AuditAction::FlowSaved, 0),
        )
        .await
        .unwrap();
    assert_eq!(flow.latest_version, None, "a new flow has no version");
    assert_eq!(s.find_flow(org, flow.id).await.unwrap(), Some(flow.clone()));

    let published = |doc: &'static str, secs| {
        s.publish_flow_version(
            version(org, flow.id, doc, at(secs)),
            audit(Some(org), AuditAction::FlowPublished, secs),
        )
    };
    let v1 = published("{\"v\":1}", 10).await.unwrap();
    assert_eq!(
        (v1.version, v1.document.as_str(), v1.published_at),
        (1, "{\"v\":1}", at(10))
    );
    // Editing the draft never touches a published version.
    let edited = s
        .update_flow_draft(
            org,
            flow.id,
            "a2",
            "{\"v\":2}",
            at(20),
            audit(Some(org), AuditAction::FlowSaved, 20),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            edited.name.as_str(),
            edited.draft.as_str(),
            edited.updated_at
        ),
        ("a2", "{\"v\":2}", at(20))
    );
    assert_eq!(edited.latest_version, Some(1));
    let v2 = published("{\"v\":2}", 30).await.unwrap();
    assert_eq!(v2.version, 2);
    assert_eq!(
        s.find_flow_version(org, flow.id, 1).await.unwrap(),
        Some(v1.clone())
    );
    assert_eq!(s.find_flow_version(org, flow.id, 3).await.unwrap(), None);
    assert_eq!(
        s.find_flow(org, flow.id)
            .await
            .unwrap()
            .unwrap()
            .latest_version,
        Some(2)
    );

    // Newest first, by cursor.
    let page = s
        .list_flow_versions(org, flow.id, PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(page.items, vec![v2]);
    let cursor = page.next_cursor.unwrap();
    let page = s
        .list_flow_versions(org, flow.id, PageRequest::after(cursor, 1))
        .await
        .unwrap();
    assert_eq!(page.items, vec![v1]);
    assert_eq!(page.next_cursor, None);

    // Every write was audited.
    let entries = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(10))
        .await
        .unwrap()
        .items;
    let actions: Vec<_> = entries.iter().map(|e| e.action).collect();
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::FlowPublished)
            .count(),
        2
    );
    assert_eq!(
        actions
            .iter()
            .filter(|a| **a == AuditAction::FlowSaved)
            .count(),
        2
    );
}

pub async fn flows_are_scoped_to_their_organization(s: &dyn Store) {
    let org = create_org(s, "mine", None).await.id;
    let other = create_org(s, "theirs", None).await.id;
    let flow = s
        .create_flow(
            new_flow(org, "x"),
            audit(Some(org), AuditAction::FlowSaved, 0),
        )
        .await
        .unwrap();
    let other_flow = s
        .create_flow(
            new_flow(other, "y"),
            audit(Some(other), AuditAction::FlowSaved, 0),
        )
        .await
        .unwrap();
    assert_eq!(s.find_flow(other, flow.id).await.unwrap(), None);
    let listed = s
        .list_flows(org, false, PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(listed, vec![flow.clone()]);
    assert_eq!(listed.iter().find(|f| f.id == other_flow.id), None);
    let update = s
        .update_flow_draft(
            other,
            flow.id,
            "x",
            "{}",
            at(1),
            audit(Some(other), AuditAction::FlowSaved, 1),
        )
        .await;
    assert!(matches!(update, Err(StoreError::NotFound)), "{update:?}");
    let publish = s
        .publish_flow_version(
            version(other, flow.id, "{}", at(1)),
            audit(Some(other), AuditAction::FlowPublished, 1),
        )
        .await;
    assert!(matches!(publish, Err(StoreError::NotFound)), "{publish:?}");
    s.publish_flow_version(
        version(org, flow.id, "{}", at(2)),
        audit(Some(org), AuditAction::FlowPublished, 2),
    )
    .await
    .unwrap();
    assert_eq!(s.find_flow_version(other, flow.id, 1).await.unwrap(), None);
    assert!(
        s.list_flow_versions(other, flow.id, PageRequest::first(5))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(
        s.find_flow(org, flow.id)
            .await
            .unwrap()
            .unwrap()
            .latest_version,
        Some(1)
    );
}
