//! Campaigns: stored whole with their audit entries, scoped to their organization, paged
//! by id, and moved only as `CampaignStatus::can_become` allows, one guarded write each.

use parley_domain::{AuditAction, Campaign, CampaignId, CampaignStatus, OrgId, Provider};
use serde_json::json;

use super::channels::new_channel;
use super::fixtures::{at, audit, create_org};
use super::flows::new_flow;
use crate::{PageRequest, Store, StoreError};

pub(super) async fn new_campaign(s: &dyn Store, org: OrgId, name: &str) -> Campaign {
    let flow = s
        .create_flow(
            new_flow(org, name),
            audit(Some(org), AuditAction::FlowSaved, 0),
        )
        .await
        .unwrap();
    let channel = s
        .create_channel(
            new_channel(org, Provider::Sim, name),
            audit(Some(org), AuditAction::ChannelCreated, 0),
        )
        .await
        .unwrap();
    Campaign {
        id: CampaignId::generate(),
        organization_id: org,
        name: name.to_owned(),
        audience: json!({"import_id": "imp_01jd8k0000000000000000000"}),
        flow_id: flow.id,
        flow_version: 1,
        channel_id: channel.id,
        start_at: Some(at(3_600)),
        end_at: Some(at(3 * 86_400)),
        window: json!({"days": ["mon", "tue"], "opens": "09:00", "closes": "20:00"}),
        rate_per_second: 50,
        status: CampaignStatus::Draft,
        recipients_total: 0,
        audience_done: false,
        audience_cursor: None,
        created_at: at(1),
        updated_at: at(1),
        revision: 1,
        archived_at: None,
    }
}

pub async fn campaigns_are_scoped_and_move_only_as_allowed(s: &dyn Store) {
    use CampaignStatus::{Cancelled, Completed, Draft, Paused, Running, Scheduled};
    let org = create_org(s, "campaigns", None).await.id;
    let other = create_org(s, "campaigns-other", None).await.id;
    let wanted = new_campaign(s, org, "arrears").await;
    let stored = s
        .create_campaign(
            wanted.clone(),
            audit(Some(org), AuditAction::CampaignCreated, 1),
        )
        .await
        .unwrap();
    assert_eq!(stored, wanted, "stored whole");
    assert_eq!(
        s.get_campaign(org, stored.id).await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(s.get_campaign(other, stored.id).await.unwrap(), None);
    let mut second = new_campaign(s, org, "reminders").await;
    second.start_at = None;
    let second = s
        .create_campaign(second, audit(Some(org), AuditAction::CampaignCreated, 2))
        .await
        .unwrap();
    assert_eq!(second.start_at, None);
    // Paged by id.
    let first_page = s
        .list_campaigns(org, false, PageRequest::first(1))
        .await
        .unwrap();
    assert_eq!(first_page.items.len(), 1);
    let cursor = first_page.next_cursor.clone().expect("a second page");
    let rest = s
        .list_campaigns(org, false, PageRequest::after(cursor, 10))
        .await
        .unwrap();
    let mut ids: Vec<CampaignId> = first_page
        .items
        .iter()
        .chain(&rest.items)
        .map(|c| c.id)
        .collect();
    let mut expected = vec![stored.id, second.id];
    expected.sort();
    ids.sort();
    assert_eq!(ids, expected);
    assert!(
        s.list_campaigns(other, false, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );

    // Moves: allowed ones write the status, the time and a new revision…
    let moved = |next: CampaignStatus, secs: i64| {
        s.move_campaign(
            org,
            stored.id,
            next,
            at(secs),
            audit(Some(org), AuditAction::CampaignStatusChanged, secs),
        )
    };
    let scheduled = moved(Scheduled, 10).await.unwrap();
    assert_eq!(
        (scheduled.status, scheduled.updated_at, scheduled.revision),
        (Scheduled, at(10), 2)
    );
    // …others are refused and change nothing.
    assert!(matches!(
        moved(Completed, 11).await,
        Err(StoreError::Conflict {
            constraint: "campaign_status"
        })
    ));
    assert!(matches!(
        moved(Draft, 11).await,
        Err(StoreError::Conflict {
            constraint: "campaign_status"
        })
    ));
    assert_eq!(
        s.get_campaign(org, stored.id).await.unwrap(),
        Some(scheduled.clone())
    );
    for (next, secs) in [(Running, 20), (Paused, 30), (Running, 40), (Cancelled, 50)] {
        assert_eq!(moved(next, secs).await.unwrap().status, next);
    }
    // Cancelled is final.
    for next in CampaignStatus::ALL {
        assert!(matches!(
            moved(next, 60).await,
            Err(StoreError::Conflict {
                constraint: "campaign_status"
            })
        ));
    }
    let last = s.get_campaign(org, stored.id).await.unwrap().unwrap();
    assert_eq!(
        (last.status, last.revision, last.updated_at),
        (Cancelled, 6, at(50))
    );
    // Another organization cannot move it, nor can an unknown id be moved.
    assert!(matches!(
        s.move_campaign(
            other,
            second.id,
            Running,
            at(70),
            audit(Some(other), AuditAction::CampaignStatusChanged, 70)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.move_campaign(
            org,
            CampaignId::generate(),
            Running,
            at(70),
            audit(Some(org), AuditAction::CampaignStatusChanged, 70)
        )
        .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(
        s.get_campaign(org, second.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        Draft
    );
    // Each change left its audit entry.
    let entries = s
        .list_audit(org, &crate::AuditFilter::default(), PageRequest::first(100))
        .await
        .unwrap()
        .items;
    let count = |a: AuditAction| entries.iter().filter(|e| e.action == a).count();
    assert_eq!(
        (
            count(AuditAction::CampaignCreated),
            count(AuditAction::CampaignStatusChanged)
        ),
        (2, 5)
    );
}

/// Flows, channels and campaigns are archived, not deleted: lists leave them out (or list
/// only them), reading one by id still works, a channel is disabled with it, a campaign
/// under way is not archived, another organization archives nothing, and each comes back
/// when restored.
pub async fn flows_channels_and_campaigns_are_archived_not_deleted(s: &dyn Store) {
    use crate::Archivable;
    let org = create_org(s, "archive", None).await.id;
    let other = create_org(s, "archive-other", None).await.id;
    let campaign = s
        .create_campaign(
            new_campaign(s, org, "old").await,
            audit(Some(org), AuditAction::CampaignCreated, 1),
        )
        .await
        .unwrap();
    let (flow, channel) = (campaign.flow_id, campaign.channel_id);
    let first = PageRequest::first(10);
    let archive = |what, at| s.set_archived(org, what, at);
    assert!(
        !s.set_archived(other, Archivable::Flow(flow), Some(at(5)))
            .await
            .unwrap()
    );
    for what in [
        Archivable::Flow(flow),
        Archivable::Channel(channel),
        Archivable::Campaign(campaign.id),
    ] {
        assert!(archive(what, Some(at(5))).await.unwrap(), "{what:?}");
    }
    assert!(
        s.list_flows(org, false, first.clone())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        s.list_channels(org, false, first.clone())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert!(
        s.list_campaigns(org, false, first.clone())
            .await
            .unwrap()
            .items
            .is_empty()
    );
    let flows = s.list_flows(org, true, first.clone()).await.unwrap().items;
    assert_eq!((flows.len(), flows[0].archived_at), (1, Some(at(5))));
    let channels = s
        .list_channels(org, true, first.clone())
        .await
        .unwrap()
        .items;
    assert_eq!(
        (channels[0].archived_at, channels[0].enabled),
        (Some(at(5)), false),
        "an archived channel is disabled"
    );
    let stored = s.get_campaign(org, campaign.id).await.unwrap().unwrap();
    assert_eq!(stored.archived_at, Some(at(5)), "read by id all the same");
    // Restored: listed again (a channel stays disabled until someone enables it).
    for what in [
        Archivable::Flow(flow),
        Archivable::Channel(channel),
        Archivable::Campaign(campaign.id),
    ] {
        assert!(archive(what, None).await.unwrap());
    }
    assert_eq!(
        s.list_flows(org, false, first.clone())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    let channels = s
        .list_channels(org, false, first.clone())
        .await
        .unwrap()
        .items;
    assert_eq!(
        (channels[0].archived_at, channels[0].enabled),
        (None, false)
    );
    assert_eq!(
        s.list_campaigns(org, false, first.clone())
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // A campaign under way is not archived.
    s.move_campaign(
        org,
        campaign.id,
        CampaignStatus::Running,
        at(6),
        audit(Some(org), AuditAction::CampaignStatusChanged, 6),
    )
    .await
    .unwrap();
    assert!(
        !archive(Archivable::Campaign(campaign.id), Some(at(7)))
            .await
            .unwrap()
    );
    assert_eq!(
        s.get_campaign(org, campaign.id)
            .await
            .unwrap()
            .unwrap()
            .archived_at,
        None
    );
}
