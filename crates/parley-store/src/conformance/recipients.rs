//! Campaign recipients: written from an import's contacts or a page of contacts, slice by
//! slice from the campaign's cursor; taken when due in order; claimed by exactly one
//! turn; settled only while pending; counted; scoped to their organization.

use parley_domain::{
    AuditAction, CampaignId, CampaignStatus, ChannelAddress, ChannelKind, Direction, ImportRecord,
    ImportStatus, OrgId, Pace, RecipientState, SkipReason, WaitReason,
};
use serde_json::json;

use super::campaigns::new_campaign;
use super::contacts::{batch, row};
use super::conversations::{conversation, message};
use super::fixtures::{at, audit, create_org, new_import};
use crate::{
    AudienceSlice, PageRequest, RecipientClaim, Settle, Share, Store, StoreError, Turn, TurnTarget,
};

async fn stored_campaign(s: &dyn Store, org: OrgId, name: &str) -> CampaignId {
    let c = new_campaign(s, org, name).await;
    s.create_campaign(c, audit(Some(org), AuditAction::CampaignCreated, 1))
        .await
        .unwrap()
        .id
}

/// A completed import of `rows` (at 1–3 s).
async fn imported(s: &dyn Store, org: OrgId, rows: Vec<crate::ImportRow>) -> ImportRecord {
    let imp = new_import(org);
    s.create_import(&imp, None).await.unwrap();
    s.start_import(imp.id, &["phone".into()], &[], at(1))
        .await
        .unwrap();
    let no_originals = |_: usize| -> Vec<String> { unreachable!("no conflicts expected") };
    s.apply_import_batch(imp.id, org, &batch(rows), &no_originals, at(2))
        .await
        .unwrap();
    s.finish_import(imp.id, ImportStatus::Completed, None, at(3))
        .await
        .unwrap();
    imp
}

/// A turn that starts a conversation for `contact` and claims recipient `seq`.
async fn claim(
    s: &dyn Store,
    org: OrgId,
    campaign: CampaignId,
    seq: u64,
    contact: parley_domain::ContactId,
    channel: parley_domain::ChannelId,
) -> Result<Option<crate::TurnWritten>, StoreError> {
    s.take_turn(
        TurnTarget::Open {
            organization: org,
            contact,
            channel,
        },
        Box::new(move |_| {
            let mut c = conversation(org, contact, channel, 5);
            c.direction = Direction::Outbound;
            c.campaign_id = Some(campaign);
            let m = message(&c, Direction::Outbound, "Hello", None);
            Some(Turn {
                recipient: Some(RecipientClaim {
                    campaign,
                    seq,
                    message: Some(m.id),
                }),
                messages: vec![m],
                events: vec![],
                jobs: vec![],
                suppression: None,
                notes: Vec::new(),
                conversation: c,
            })
        }),
    )
    .await
}

pub async fn campaign_recipients_come_from_the_audience_and_are_sent_once(s: &dyn Store) {
    let org = create_org(s, "recipients", None).await.id;
    let other = create_org(s, "recipients-other", None).await.id;
    // An import of three contacts, one of them found again by a second row.
    let imp = imported(
        s,
        org,
        vec![
            row(2, Some("C1"), "+353871111111", &json!({"name": "Ann"})),
            row(3, Some("C2"), "+353872222222", &json!({"name": "Bob"})),
            row(4, Some("C3"), "+353873333333", &json!({"name": "Cy"})),
        ],
    )
    .await;

    let campaign = stored_campaign(s, org, "from import").await;
    let slice = |limit| AudienceSlice::Import {
        import: imp.id,
        limit,
    };
    let c = s
        .add_recipients(org, campaign, ChannelKind::Sms, slice(2), at(4))
        .await
        .unwrap();
    assert_eq!((c.recipients_total, c.audience_done), (2, false));
    assert!(
        matches!(
            s.add_recipients(other, campaign, ChannelKind::Sms, slice(2), at(4))
                .await,
            Err(StoreError::NotFound)
        ),
        "another organization's campaign"
    );
    let c = s
        .add_recipients(org, campaign, ChannelKind::Sms, slice(2), at(4))
        .await
        .unwrap();
    assert_eq!((c.recipients_total, c.audience_done), (3, false));
    let c = s
        .add_recipients(org, campaign, ChannelKind::Sms, slice(2), at(4))
        .await
        .unwrap();
    assert_eq!(
        (c.recipients_total, c.audience_done),
        (3, true),
        "an empty slice ends the audience"
    );
    let again = s
        .add_recipients(org, campaign, ChannelKind::Sms, slice(2), at(4))
        .await
        .unwrap();
    assert_eq!(
        again.recipients_total, 3,
        "a written audience is not written again"
    );

    // Due in order, each with its contact and addresses.
    let due = s
        .due_recipients(org, campaign, at(10), Share::ALL, 10)
        .await
        .unwrap();
    let seqs: Vec<u64> = due.iter().map(|(r, _)| r.seq).collect();
    assert_eq!(seqs, [1, 2, 3]);
    let names: Vec<String> = due
        .iter()
        .map(|(_, c)| {
            c.as_ref().unwrap().fields["name"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["Ann", "Bob", "Cy"],
        "every contact of the file, once"
    );
    for (r, contact) in &due {
        let contact = contact.as_ref().unwrap();
        assert_eq!(r.state, RecipientState::Pending);
        assert_eq!(r.contact_id, contact.id);
        assert_eq!(
            contact.addresses,
            [ChannelAddress {
                kind: ChannelKind::Sms,
                address: r.address.clone().unwrap()
            }]
        );
    }
    assert!(matches!(
        s.due_recipients(other, campaign, at(10), Share::ALL, 10)
            .await,
        Err(StoreError::NotFound)
    ));

    // Deferred: not due before its time, then due after those that never waited.
    let first = due[0].0.clone();
    let n = s
        .settle_recipients(
            org,
            campaign,
            vec![(
                1,
                Settle::Defer {
                    until: at(100),
                    why: WaitReason::OpenConversation,
                },
            )],
            at(11),
        )
        .await
        .unwrap();
    assert_eq!(n, 1);
    let waiting = s
        .list_recipients(
            org,
            campaign,
            Some(RecipientState::Pending),
            PageRequest::first(1),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        (waiting[0].seq, waiting[0].waiting, waiting[0].reason),
        (1, Some(WaitReason::OpenConversation), None),
        "a deferred recipient says why it waits"
    );
    let counts = s.campaign_counts(org, campaign).await.unwrap();
    assert_eq!(counts.waiting.get("open_conversation"), Some(&1));
    assert_eq!(counts.pending, 3);
    let states = s.campaign_state_counts(org, campaign).await.unwrap();
    assert_eq!(
        (states.pending, states.waiting.get("open_conversation")),
        (3, Some(&1)),
        "waiting reasons read from the recipients alone"
    );
    let due_now: Vec<u64> = s
        .due_recipients(org, campaign, at(50), Share::ALL, 10)
        .await
        .unwrap()
        .iter()
        .map(|(r, _)| r.seq)
        .collect();
    assert_eq!(due_now, [2, 3]);
    let due_later: Vec<u64> = s
        .due_recipients(org, campaign, at(200), Share::ALL, 10)
        .await
        .unwrap()
        .iter()
        .map(|(r, _)| r.seq)
        .collect();
    assert_eq!(due_later, [2, 3, 1]);

    // Claimed by one turn: a second claim of the same recipient writes nothing.
    let channel = new_campaign(s, org, "channel holder").await.channel_id;
    let (second, second_contact) = (&due[1].0, due[1].1.as_ref().unwrap().id);
    let written = claim(s, org, campaign, second.seq, second_contact, channel)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(written.conversation.campaign_id, Some(campaign));
    let other_contact = due[2].1.as_ref().unwrap().id;
    assert!(matches!(
        claim(s, org, campaign, second.seq, other_contact, channel).await,
        Err(StoreError::Conflict {
            constraint: "campaign_recipient_state"
        })
    ));
    let page = s
        .list_conversations(
            org,
            &crate::ConversationFilter {
                contact: Some(other_contact),
                ..Default::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap();
    assert!(page.items.is_empty(), "the refused turn wrote nothing");
    let sent = s
        .list_recipients(
            org,
            campaign,
            Some(RecipientState::Sent),
            PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].conversation_id, Some(written.conversation.id));
    assert_eq!(sent[0].message_id, Some(written.messages[0].id));

    // Settled only while pending.
    let changes = vec![
        (second.seq, Settle::Skip(SkipReason::OptedOut)),
        (3, Settle::Skip(SkipReason::OptedOut)),
    ];
    assert_eq!(
        s.settle_recipients(org, campaign, changes, at(12))
            .await
            .unwrap(),
        1,
        "the sent recipient stays sent"
    );
    assert_eq!(
        s.skip_pending(org, campaign, SkipReason::Cancelled, 10, at(13))
            .await
            .unwrap(),
        1
    );
    assert!(
        s.due_recipients(org, campaign, at(1_000), Share::ALL, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let counts = s.campaign_counts(org, campaign).await.unwrap();
    assert_eq!((counts.pending, counts.sent, counts.failed), (0, 1, 0));
    assert_eq!(counts.skipped.get("opted_out"), Some(&1));
    assert_eq!(counts.skipped.get("cancelled"), Some(&1));
    let states = s.campaign_state_counts(org, campaign).await.unwrap();
    assert_eq!(
        (
            &states.pending,
            &states.waiting,
            &states.sent,
            &states.failed,
            &states.skipped
        ),
        (
            &counts.pending,
            &counts.waiting,
            &counts.sent,
            &counts.failed,
            &counts.skipped
        ),
        "the state counters agree with the whole count"
    );
    assert_eq!(
        (states.delivered, states.replied, states.completed.len()),
        (0, 0, 0),
        "and read nothing else"
    );
    assert!(matches!(
        s.campaign_state_counts(other, campaign).await,
        Err(StoreError::NotFound)
    ));
    assert!(matches!(
        s.campaign_counts(other, campaign).await,
        Err(StoreError::NotFound)
    ));
    let all = s
        .list_recipients(org, campaign, None, PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(all.items.iter().map(|r| r.seq).collect::<Vec<_>>(), [1, 2]);
    let rest = s
        .list_recipients(
            org,
            campaign,
            None,
            PageRequest::after(all.next_cursor.unwrap(), 2),
        )
        .await
        .unwrap();
    assert_eq!(rest.items.iter().map(|r| r.seq).collect::<Vec<_>>(), [3]);
    assert_eq!(rest.items[0].reason, Some(SkipReason::OptedOut));
    assert_eq!(
        (all.items[0].reason, all.items[0].waiting),
        (Some(SkipReason::Cancelled), None),
        "skipping replaces the reason it waited for"
    );
    assert!(counts.waiting.is_empty());
    assert_eq!(all.items[1].waiting, None, "a sent recipient does not wait");
    assert_eq!(first.seq, 1);

    // Completes only when running with nothing pending.
    let done = |n| audit(Some(org), AuditAction::CampaignStatusChanged, n);
    assert_eq!(
        s.complete_campaign(org, campaign, at(14), done(14))
            .await
            .unwrap(),
        None,
        "a draft does not complete"
    );
    s.move_campaign(org, campaign, CampaignStatus::Running, at(14), done(15))
        .await
        .unwrap();
    let to_dispatch = s.campaigns_to_dispatch(at(14), 100).await.unwrap();
    assert!(to_dispatch.iter().any(|c| c.id == campaign));
    let completed = s
        .complete_campaign(org, campaign, at(15), done(16))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(completed.status, CampaignStatus::Completed);
    assert!(
        !s.campaigns_to_dispatch(at(15), 100)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == campaign)
    );

    // A page of contacts: the cursor guards against writing a page twice; a contact
    // without an address of the channel's kind is skipped.
    let page_campaign = stored_campaign(s, org, "from a filter").await;
    let (visitor, _) = s
        .contact_for_address(
            org,
            &ChannelAddress {
                kind: ChannelKind::Webchat,
                address: "visitor:0123456789abcdef0123456789abcdef".into(),
            },
            at(20),
        )
        .await
        .unwrap();
    let page = |after: Option<&str>, last| AudienceSlice::Contacts {
        contacts: vec![visitor.id, second_contact],
        after: after.map(str::to_owned),
        cursor: "p1".into(),
        last,
    };
    s.add_recipients(
        org,
        page_campaign,
        ChannelKind::Sms,
        page(None, false),
        at(21),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.add_recipients(
            org,
            page_campaign,
            ChannelKind::Sms,
            page(None, false),
            at(21)
        )
        .await,
        Err(StoreError::Conflict {
            constraint: "campaign_audience_cursor"
        })
    ));
    let c = s
        .add_recipients(
            org,
            page_campaign,
            ChannelKind::Sms,
            AudienceSlice::Contacts {
                contacts: vec![],
                after: Some("p1".into()),
                cursor: "p2".into(),
                last: true,
            },
            at(22),
        )
        .await
        .unwrap();
    assert_eq!((c.recipients_total, c.audience_done), (2, true));
    let written = s
        .list_recipients(org, page_campaign, None, PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(
        written
            .iter()
            .map(|r| (r.contact_id, r.state, r.reason))
            .collect::<Vec<_>>(),
        [
            (
                visitor.id,
                RecipientState::Skipped,
                Some(SkipReason::InvalidAddress)
            ),
            (second_contact, RecipientState::Pending, None),
        ]
    );

    // A cancel cut short leaves pending recipients: the dispatcher finds the campaign
    // until they are skipped.
    let dispatching = |at_s| async move {
        s.campaigns_to_dispatch(at(at_s), 100)
            .await
            .unwrap()
            .iter()
            .any(|c| c.id == page_campaign)
    };
    assert!(!dispatching(23).await, "a draft has no dispatch work");
    s.move_campaign(
        org,
        page_campaign,
        CampaignStatus::Cancelled,
        at(23),
        done(17),
    )
    .await
    .unwrap();
    assert!(dispatching(24).await, "cancelled with a pending recipient");
    s.skip_pending(org, page_campaign, SkipReason::Cancelled, 10, at(25))
        .await
        .unwrap();
    assert!(!dispatching(26).await);
}

pub async fn processes_share_a_campaigns_recipients_and_its_pace(s: &dyn Store) {
    let org = create_org(s, "sharing", None).await.id;
    let imp = imported(
        s,
        org,
        (1..=6)
            .map(|i| row(i + 1, None, &format!("+35387100000{i}"), &json!({})))
            .collect(),
    )
    .await;
    let campaign = stored_campaign(s, org, "shared").await;
    let slice = AudienceSlice::Import {
        import: imp.id,
        limit: 10,
    };
    s.add_recipients(org, campaign, ChannelKind::Sms, slice, at(4))
        .await
        .unwrap();
    let hold =
        |name: &str, now: i64| s.hold_campaign(campaign, name.to_owned(), at(now), at(now + 10));
    let due = |share| async move {
        s.due_recipients(org, campaign, at(12), share, 10)
            .await
            .unwrap()
            .iter()
            .map(|(r, _)| r.seq)
            .collect::<Vec<_>>()
    };

    // Holders split the due recipients by seq, in the order of their names.
    assert_eq!(hold("b", 10).await.unwrap(), Share::ALL, "alone");
    assert_eq!(hold("a", 11).await.unwrap(), Share { index: 0, of: 2 });
    let b = hold("b", 12).await.unwrap();
    assert_eq!(b, Share { index: 1, of: 2 });
    assert_eq!(due(Share { index: 0, of: 2 }).await, [2, 4, 6]);
    assert_eq!(due(b).await, [1, 3, 5]);
    assert_eq!(due(Share::ALL).await, [1, 2, 3, 4, 5, 6]);
    // A holder whose mark ran out is forgotten; one that leaves is gone at once.
    assert_eq!(hold("b", 22).await.unwrap(), Share::ALL, "a's mark ran out");
    assert_eq!(hold("c", 23).await.unwrap(), Share { index: 1, of: 2 });
    s.release_campaign(campaign, "c".into()).await.unwrap();
    assert_eq!(hold("b", 24).await.unwrap(), Share::ALL, "c left");

    // One pace for every process: a full burst first, then its rate.
    let pace = Pace { rate: 10, burst: 5 };
    let t = at(100);
    let first = s.take_pace(campaign, pace, 8, t).await.unwrap();
    assert_eq!(first.granted, 5, "a new pace is full");
    let empty = s.take_pace(campaign, pace, 8, t).await.unwrap();
    assert_eq!(
        (empty.granted, empty.wait),
        (0, std::time::Duration::from_millis(100))
    );
    let later = t + chrono::Duration::milliseconds(300);
    assert_eq!(
        s.take_pace(campaign, pace, 8, later).await.unwrap().granted,
        3
    );
    assert_eq!(
        s.take_pace(campaign, pace, 8, later).await.unwrap().granted,
        0
    );
}
