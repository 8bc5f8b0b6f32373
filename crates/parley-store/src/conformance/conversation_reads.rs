//! Reading conversations: lists filtered by state, queue, assignee, status, channel,
//! contact and text, newest first and paged; notes kept per conversation and
//! organization.

use parley_domain::{ConversationState, Direction, OrgId};

use super::conversations::{channel, open_conversation};
use super::fixtures::{at, create_org};
use crate::{PageRequest, Store, StoreError};

pub async fn conversations_list_newest_first_by_filters(s: &dyn Store) {
    use crate::ConversationFilter;
    let org = create_org(s, "listing", None).await.id;
    let other = create_org(s, "listing-other", None).await.id;
    let (sms, web) = (channel(s, org).await, channel(s, org).await);
    let agent = parley_domain::UserId::generate();
    // Three conversations: bot on sms, queued on web with "Pay 50%_now", assigned.
    let mut ids = Vec::new();
    for (n, (chan, state, body)) in [
        (sms, ConversationState::Bot, "hello"),
        (web, ConversationState::Queued, "Pay 50%_now"),
        (sms, ConversationState::Assigned, "PAY later"),
    ]
    .into_iter()
    .enumerate()
    {
        let written = open_conversation(s, org, chan, Some((Direction::Inbound, body)), move |c| {
            c.state = state;
            if state == ConversationState::Queued {
                c.queue = Some("collections".to_owned());
                c.status = Some("promise".to_owned());
            }
            if state == ConversationState::Assigned {
                c.assignee = Some(agent);
            }
        })
        .await;
        assert_eq!(n, ids.len());
        ids.push((written.conversation.id, written.conversation.contact_id));
    }
    let list = |filter: ConversationFilter| async move {
        s.list_conversations(org, &filter, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>()
    };
    let all = list(ConversationFilter::default()).await;
    assert_eq!(all, [ids[2].0, ids[1].0, ids[0].0], "newest first");
    let only = |i: usize| vec![ids[i].0];
    let f = ConversationFilter::default;
    let cases = [
        (
            ConversationFilter {
                state: Some(ConversationState::Queued),
                ..f()
            },
            only(1),
        ),
        (
            ConversationFilter {
                queue: Some("collections".to_owned()),
                status: Some("promise".to_owned()),
                ..f()
            },
            only(1),
        ),
        (
            ConversationFilter {
                assignee: Some(agent),
                ..f()
            },
            only(2),
        ),
        (
            ConversationFilter {
                channel: Some(web),
                ..f()
            },
            only(1),
        ),
        (
            ConversationFilter {
                contact: Some(ids[0].1),
                ..f()
            },
            only(0),
        ),
        // Text: case-insensitive; `%` and `_` are themselves, not wildcards.
        (
            ConversationFilter {
                text: Some("pay".to_owned()),
                ..f()
            },
            vec![ids[2].0, ids[1].0],
        ),
        (
            ConversationFilter {
                text: Some("50%_".to_owned()),
                ..f()
            },
            only(1),
        ),
        (
            ConversationFilter {
                text: Some("5_%".to_owned()),
                ..f()
            },
            vec![],
        ),
    ];
    for (filter, expected) in cases {
        assert_eq!(list(filter.clone()).await, expected, "{filter:?}");
    }
    // A person sees what they have and what waits in their queues.
    assert_eq!(
        list(ConversationFilter {
            visible_to: Some(agent),
            ..f()
        })
        .await,
        only(2)
    );
    s.put_queue_member(parley_domain::QueueMember {
        organization_id: org,
        queue: "collections".to_owned(),
        user_id: agent,
        capacity: 5,
        available: true,
        last_assigned_at: None,
        updated_at: at(1),
    })
    .await
    .unwrap();
    assert_eq!(
        list(ConversationFilter {
            visible_to: Some(agent),
            ..f()
        })
        .await,
        [ids[2].0, ids[1].0]
    );
    // Pages follow each other; another organization sees none.
    let first = s
        .list_conversations(org, &ConversationFilter::default(), PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    let rest = s
        .list_conversations(
            org,
            &ConversationFilter::default(),
            PageRequest {
                after: first.next_cursor.clone(),
                limit: 2,
            },
        )
        .await
        .unwrap();
    assert_eq!(rest.items.iter().map(|c| c.id).collect::<Vec<_>>(), only(0));
    assert_eq!(rest.next_cursor, None);
    assert!(
        s.list_conversations(
            other,
            &ConversationFilter::default(),
            PageRequest::first(10)
        )
        .await
        .unwrap()
        .items
        .is_empty()
    );
}

pub async fn notes_belong_to_conversations_of_their_organization(s: &dyn Store) {
    use parley_domain::{Note, NoteId};
    let org = create_org(s, "notes", None).await.id;
    let other = create_org(s, "notes-other", None).await.id;
    let chan = channel(s, org).await;
    let c = open_conversation(s, org, chan, None, |_| {})
        .await
        .conversation;
    let note = |organization: OrgId, body: &str, secs: i64| Note {
        id: NoteId::generate(),
        organization_id: organization,
        conversation_id: c.id,
        author: "usr_author".to_owned(),
        body: body.to_owned(),
        created_at: at(secs),
    };
    let first = s.add_note(note(org, "called, no answer", 2)).await.unwrap();
    let second = s.add_note(note(org, "promised Friday", 3)).await.unwrap();
    assert_eq!(first.body, "called, no answer");
    assert_eq!(s.list_notes(org, c.id).await.unwrap(), [first, second]);
    // Another organization can neither add to it nor read it.
    assert!(matches!(
        s.add_note(note(other, "sneaky", 4)).await,
        Err(StoreError::NotFound)
    ));
    assert!(s.list_notes(other, c.id).await.unwrap().is_empty());
    assert_eq!(s.list_notes(org, c.id).await.unwrap().len(), 2);
}

pub async fn queue_members_and_waiting_conversations(s: &dyn Store) {
    use parley_domain::{QueueMember, UserId};
    let org = create_org(s, "members", None).await.id;
    let other = create_org(s, "members-other", None).await.id;
    let (ann, bob) = (UserId::generate(), UserId::generate());
    let member = |user: UserId, capacity: u32, available: bool| QueueMember {
        organization_id: org,
        queue: "collections".to_owned(),
        user_id: user,
        capacity,
        available,
        last_assigned_at: None,
        updated_at: at(1),
    };
    s.put_queue_member(member(ann, 2, true)).await.unwrap();
    s.put_queue_member(member(bob, 1, false)).await.unwrap();
    s.mark_member_assigned(org, "collections", ann, at(5))
        .await
        .unwrap();
    // A change keeps when the member was last given a conversation.
    let changed = s.put_queue_member(member(ann, 3, true)).await.unwrap();
    assert_eq!(
        (changed.capacity, changed.last_assigned_at),
        (3, Some(at(5)))
    );
    let listed = s.list_queue_members(org, "collections").await.unwrap();
    let mut users = vec![ann, bob];
    users.sort();
    assert_eq!(listed.iter().map(|m| m.user_id).collect::<Vec<_>>(), users);
    assert!(listed.iter().any(|m| m.user_id == bob && !m.available));
    assert!(
        s.list_queue_members(other, "collections")
            .await
            .unwrap()
            .is_empty()
    );
    s.delete_queue_member(org, "collections", bob)
        .await
        .unwrap();
    assert!(matches!(
        s.delete_queue_member(org, "collections", bob).await,
        Err(StoreError::NotFound)
    ));

    // Waiting conversations, oldest first; loads count assigned open ones per person.
    let chan = channel(s, org).await;
    let mut ids = Vec::new();
    for (state, queue, assignee) in [
        (ConversationState::Queued, "collections", None),
        (ConversationState::Assigned, "collections", Some(ann)),
        (ConversationState::Queued, "other", None),
        (ConversationState::Queued, "collections", None),
        (ConversationState::Assigned, "collections", Some(ann)),
    ] {
        let c = open_conversation(s, org, chan, None, move |c| {
            c.state = state;
            c.queue = Some(queue.to_owned());
            c.assignee = assignee;
        })
        .await
        .conversation;
        ids.push(c.id);
    }
    assert_eq!(
        s.waiting_conversations(org, "collections", 10)
            .await
            .unwrap(),
        [ids[0], ids[3]]
    );
    assert_eq!(
        s.waiting_conversations(org, "collections", 1)
            .await
            .unwrap(),
        [ids[0]]
    );
    assert_eq!(s.assigned_loads(org).await.unwrap(), [(ann, 2)]);
    assert!(s.assigned_loads(other).await.unwrap().is_empty());
}

/// A conversation list's rows carry what a person tells them apart by, in one statement:
/// the contact (customer id, fields, its address on the channel's kind), the channel, the
/// assignee's name and the last message; `open` leaves closed ones out.
/// Their counts match the lists.
pub async fn conversation_summaries_name_contact_channel_assignee_and_last_message(s: &dyn Store) {
    use crate::{ContactUpdate, ConversationFilter};
    use parley_domain::{ChannelAddress, ChannelKind, ContactId, Provider};
    use serde_json::json;

    let org = create_org(s, "summaries", None).await.id;
    let sim = channel(s, org).await;
    let agent = s
        .create_user(super::fixtures::new_user("Grace"))
        .await
        .unwrap();
    let address = |kind, text: &str| ChannelAddress {
        kind,
        address: text.to_owned(),
    };
    let ada = s
        .create_contact(
            org,
            ContactId::generate(),
            ContactUpdate {
                customer_id: Some(Some("C-1".to_owned())),
                fields: json!({"first_name": "Ada", "last_name": "Byron"})
                    .as_object()
                    .unwrap()
                    .clone(),
                add_addresses: vec![
                    address(ChannelKind::Whatsapp, "+447700900002"),
                    address(ChannelKind::Sms, "+447700900001"),
                ],
                remove_addresses: Vec::new(),
            },
            at(1),
        )
        .await
        .unwrap();
    let (anonymous, _) = s
        .contact_for_address(org, &address(ChannelKind::Sms, "+447700900009"), at(1))
        .await
        .unwrap();
    let take = |contact: ContactId, bodies: Vec<(Direction, &'static str)>, closed: bool| {
        let agent = agent.id;
        async move {
            super::conversations::open_conversation_with(s, org, sim, contact, bodies, move |c| {
                c.state = if closed {
                    ConversationState::Closed
                } else {
                    ConversationState::Assigned
                };
                c.assignee = (!closed).then_some(agent);
            })
            .await
            .conversation
        }
    };
    let long = "x".repeat(300).leak();
    let closed = take(anonymous.id, vec![], true).await;
    let open = take(
        ada.id,
        vec![
            (Direction::Inbound, "Can I pay on Friday?"),
            (Direction::Outbound, long),
        ],
        false,
    )
    .await;

    let rows = s
        .list_conversation_summaries(org, &ConversationFilter::default(), PageRequest::first(10))
        .await
        .unwrap()
        .items;
    assert_eq!(
        rows.iter().map(|r| r.conversation.id).collect::<Vec<_>>(),
        [open.id, closed.id]
    );
    let row = &rows[0];
    assert_eq!(row.conversation, open);
    assert_eq!(row.customer_id.as_deref(), Some("C-1"));
    assert_eq!(row.contact_fields["first_name"], "Ada");
    assert_eq!(
        row.address.as_deref(),
        Some("+447700900001"),
        "the sms address, for a sim channel"
    );
    assert_eq!(
        (row.provider, row.channel_name.as_str()),
        (Provider::Sim, "sim")
    );
    assert_eq!(row.assignee_name.as_deref(), Some("Grace"));
    let last = row.last_message.as_ref().unwrap();
    assert_eq!(
        (last.direction, last.sender.as_str()),
        (Direction::Outbound, "bot")
    );
    assert_eq!(
        last.excerpt.chars().count(),
        200,
        "the first 200 characters"
    );
    let row = &rows[1];
    assert_eq!(
        (row.assignee_name.clone(), row.last_message.clone()),
        (None, None)
    );
    assert_eq!(row.address.as_deref(), Some("+447700900009"));
    assert!(row.contact_fields.is_empty());

    // Open ones only, and the same filters and pages as the plain list.
    let open_only = ConversationFilter {
        open: true,
        ..ConversationFilter::default()
    };
    let ids = |page: crate::Page<crate::ConversationSummary>| {
        page.items
            .into_iter()
            .map(|r| r.conversation.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s
            .list_conversation_summaries(org, &open_only, PageRequest::first(10))
            .await
            .unwrap()),
        [open.id]
    );
    assert_eq!(
        s.list_conversations(org, &open_only, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>(),
        [open.id]
    );
    // Counts match the lists, whatever their pages.
    for (filter, expected) in [
        (ConversationFilter::default(), 2),
        (open_only.clone(), 1),
        (
            ConversationFilter {
                assignee: Some(agent.id),
                ..ConversationFilter::default()
            },
            1,
        ),
    ] {
        assert_eq!(
            s.count_conversations(org, &filter).await.unwrap(),
            expected,
            "{filter:?}"
        );
    }
    let first = s
        .list_conversation_summaries(org, &ConversationFilter::default(), PageRequest::first(1))
        .await
        .unwrap();
    let next = PageRequest {
        after: first.next_cursor.clone(),
        limit: 1,
    };
    assert_eq!(ids(first), [open.id]);
    assert_eq!(
        ids(s
            .list_conversation_summaries(org, &ConversationFilter::default(), next)
            .await
            .unwrap()),
        [closed.id]
    );
}

/// A search finds conversations by their contact: a whole customer id, a whole address
/// of any kind, part of a name (first and last name, or `name`) in any case; `LIKE`'s own
/// characters match only themselves; never another organization's; the list, the
/// summaries and the count agree, and a search narrows the other filters.
pub async fn conversations_are_found_by_their_contact(s: &dyn Store) {
    use crate::{ContactSearch, ContactUpdate, ConversationFilter};
    use parley_domain::{ChannelAddress, ChannelKind, ContactId};
    use serde_json::json;

    let address = |kind, text: &str| ChannelAddress {
        kind,
        address: text.to_owned(),
    };
    let contact = |org, customer: &'static str, fields: serde_json::Value, addresses| async move {
        s.create_contact(
            org,
            ContactId::generate(),
            ContactUpdate {
                customer_id: Some(Some(customer.to_owned())),
                fields: fields.as_object().unwrap().clone(),
                add_addresses: addresses,
                remove_addresses: Vec::new(),
            },
            at(1),
        )
        .await
        .unwrap()
    };
    let org = create_org(s, "search", None).await.id;
    let other = create_org(s, "search elsewhere", None).await.id;
    let sim = channel(s, org).await;
    let elsewhere = channel(s, other).await;
    let ada = contact(
        org,
        "C-1",
        json!({"first_name": "Ada", "last_name": "Byron"}),
        vec![
            address(ChannelKind::Sms, "+447700900001"),
            address(ChannelKind::Webchat, "visitor-7"),
        ],
    )
    .await;
    let grace = contact(
        org,
        "C-2",
        json!({"name": "Grace Hopper", "note": "ada"}),
        vec![address(ChannelKind::Sms, "+447700900002")],
    )
    .await;
    let orla = contact(
        org,
        "C-3",
        json!({"first_name": "Órla", "last_name": "Ó Súilleabháin"}),
        vec![],
    )
    .await;
    let twin = contact(
        other,
        "C-1",
        json!({"first_name": "Ada", "last_name": "Byron"}),
        vec![address(ChannelKind::Sms, "+447700900001")],
    )
    .await;
    let open = |org, chan, contact: ContactId| async move {
        super::conversations::open_conversation_with(s, org, chan, contact, vec![], |_| {})
            .await
            .conversation
    };
    let ada_c = open(org, sim, ada.id).await;
    let grace_c = open(org, sim, grace.id).await;
    let orla_c = open(org, sim, orla.id).await;
    open(other, elsewhere, twin.id).await;

    let search = |text: &str, address: Option<&str>, in_names: bool| ConversationFilter {
        search: Some(ContactSearch {
            text: text.to_owned(),
            address: address.map(str::to_owned),
            in_names,
        }),
        ..ConversationFilter::default()
    };
    for (filter, expected) in [
        (search("C-1", Some("C-1"), false), vec![ada_c.id]),
        (search("C-2", None, true), vec![grace_c.id]),
        (
            search("+447700900001", Some("+447700900001"), false),
            vec![ada_c.id],
        ),
        (search("visitor-7", Some("visitor-7"), true), vec![ada_c.id]),
        (search("BYRON", None, true), vec![ada_c.id]),
        (search("ada", None, true), vec![ada_c.id]),
        (search("ada byr", None, true), vec![ada_c.id]),
        (search("hopper", None, true), vec![grace_c.id]),
        (search("o", None, true), vec![grace_c.id, ada_c.id]),
        (search("ó súil", None, true), vec![orla_c.id]),
        (search("ÓRLA", None, true), vec![orla_c.id]),
        (search("byron", None, false), vec![]),
        (search("C-", Some("C-"), true), vec![]),
        (search("%", Some("%"), true), vec![]),
        (search("_", None, true), vec![]),
        (
            ConversationFilter {
                state: Some(ConversationState::Closed),
                ..search("ada", None, true)
            },
            vec![],
        ),
    ] {
        let listed = s
            .list_conversations(org, &filter, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.id)
            .collect::<Vec<_>>();
        assert_eq!(listed, expected, "{filter:?}");
        let summarized = s
            .list_conversation_summaries(org, &filter, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.conversation.id)
            .collect::<Vec<_>>();
        assert_eq!(summarized, expected, "{filter:?}");
        assert_eq!(
            s.count_conversations(org, &filter).await.unwrap(),
            expected.len() as u64,
            "{filter:?}"
        );
    }
}

/// A person's read mark on a conversation only moves forward, belongs to that person,
/// is not written for another organization's conversation, and is read back for the
/// conversations asked about only.
pub async fn read_marks_move_forward_per_person(s: &dyn Store) {
    let org = create_org(s, "reads", None).await.id;
    let other = create_org(s, "reads-other", None).await.id;
    let sim = channel(s, org).await;
    let theirs = channel(s, other).await;
    let ann = s
        .create_user(super::fixtures::new_user("Ann"))
        .await
        .unwrap()
        .id;
    let sam = s
        .create_user(super::fixtures::new_user("Sam"))
        .await
        .unwrap()
        .id;
    let first = open_conversation(s, org, sim, None, |_| {})
        .await
        .conversation
        .id;
    let second = open_conversation(s, org, sim, None, |_| {})
        .await
        .conversation
        .id;
    let elsewhere = open_conversation(s, other, theirs, None, |_| {})
        .await
        .conversation
        .id;
    s.mark_read(org, ann, first, at(5)).await.unwrap();
    s.mark_read(org, ann, first, at(3)).await.unwrap();
    s.mark_read(org, sam, second, at(7)).await.unwrap();
    s.mark_read(org, ann, elsewhere, at(9)).await.unwrap();
    let marks = |user, ids: Vec<parley_domain::ConversationId>| async move {
        let mut found = s.read_marks(org, user, &ids).await.unwrap();
        found.sort_by_key(|(id, _)| *id);
        found
    };
    assert_eq!(
        marks(ann, vec![first, second, elsewhere]).await,
        [(first, at(5))],
        "an older mark leaves the newer one; another organization's is not written"
    );
    s.mark_read(org, ann, first, at(6)).await.unwrap();
    assert_eq!(marks(ann, vec![first]).await, [(first, at(6))]);
    assert_eq!(marks(sam, vec![first, second]).await, [(second, at(7))]);
    assert_eq!(marks(sam, vec![first]).await, []);
    assert_eq!(marks(ann, vec![]).await, []);
    assert_eq!(
        s.read_marks(other, ann, &[elsewhere]).await.unwrap(),
        [],
        "nothing was marked there"
    );
}
