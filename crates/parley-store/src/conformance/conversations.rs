//! Conversations: a turn sees the conversation as it stands and writes the conversation,
//! its messages, events and jobs together or not at all; at most one open conversation
//! per contact and channel; a provider id repeated on a channel is refused whole; inputs
//! of one conversation never interleave; message changes see their conversation.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use parley_domain::{
    AuditAction, Channel, ChannelId, ContactId, Conversation, ConversationId, ConversationState,
    Direction, EventId, EventType, JobId, Message, MessageId, MessageStatus, NewEvent, OrgId,
    Provider,
};

use super::fixtures::{at, audit, create_org};
use crate::{
    DecideMessage, MessageChange, MessageKey, NewJob, PageRequest, Store, StoreError, Suppression,
    SuppressionChange, Turn, TurnTarget, TurnWritten,
};

fn opt_out(org: OrgId, hash: &str) -> SuppressionChange {
    SuppressionChange::Add(Suppression {
        organization_id: org,
        channel_kind: parley_domain::ChannelKind::Sms,
        address_hash: hash.to_owned(),
        reason: "stop_keyword".to_owned(),
        created_at: at(2),
    })
}

fn opt_in(org: OrgId, hash: &str) -> SuppressionChange {
    SuppressionChange::Remove {
        organization: org,
        channel_kind: parley_domain::ChannelKind::Sms,
        address_hash: hash.to_owned(),
    }
}

async fn suppressed(s: &dyn Store, org: OrgId, hash: &str) -> bool {
    s.find_suppression(org, parley_domain::ChannelKind::Sms, hash)
        .await
        .unwrap()
        .is_some()
}

pub(super) async fn channel(s: &dyn Store, org: OrgId) -> ChannelId {
    let channel = Channel {
        id: ChannelId::generate(),
        organization_id: org,
        provider: Provider::Sim,
        name: "sim".to_owned(),
        sender: "demo".to_owned(),
        inbound_flow: None,
        inbound_queue: "general".to_owned(),
        rate_per_second: 100,
        settings: serde_json::Map::new(),
        secret_sealed: None,
        enabled: true,
        created_at: at(0),
        updated_at: at(0),
        archived_at: None,
    };
    s.create_channel(channel, audit(Some(org), AuditAction::ChannelCreated, 0))
        .await
        .unwrap()
        .id
}

pub(super) fn conversation(
    org: OrgId,
    contact: ContactId,
    channel: ChannelId,
    secs: i64,
) -> Conversation {
    Conversation {
        last_inbound_at: Some(at(secs)),
        ..Conversation::open(org, contact, channel, Direction::Inbound, at(secs))
    }
}

pub(super) fn message(
    c: &Conversation,
    direction: Direction,
    body: &str,
    provider: Option<&str>,
) -> Message {
    let (sender, status) = match direction {
        Direction::Inbound => ("contact", MessageStatus::Received),
        Direction::Outbound => ("bot", MessageStatus::Pending),
    };
    Message {
        id: MessageId::generate(),
        organization_id: c.organization_id,
        conversation_id: c.id,
        channel_id: c.channel_id,
        direction,
        sender: sender.to_owned(),
        body: body.to_owned(),
        status,
        provider_message_id: provider.map(str::to_owned),
        error_code: None,
        error_message: None,
        segments: 1,
        encoding: None,
        status_times: BTreeMap::from([(status.as_str().to_owned(), at(1))]),
        created_at: at(1),
        updated_at: at(1),
    }
}

fn event(org: OrgId, kind: EventType, note: &str) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: org,
        event_type: kind,
        timestamp: at(1),
        data: serde_json::json!({"note": note}),
    }
}

fn send_job(note: &str) -> NewJob {
    NewJob {
        id: JobId::generate(),
        queue: "conformance-sends".to_owned(),
        kind: "send".to_owned(),
        payload: serde_json::json!({"note": note}),
        dedup_key: None,
        lane: None,
        run_at: at(1),
        max_attempts: 3,
        created_at: at(1),
    }
}

/// Opens a conversation for a new contact on `chan`, shaped by `shape`, with `body` as
/// its first message (`None`: no message); what the turn wrote.
pub(super) async fn open_conversation(
    s: &dyn Store,
    org: OrgId,
    chan: ChannelId,
    body: Option<(Direction, &'static str)>,
    shape: impl FnOnce(&mut Conversation) + Send + 'static,
) -> TurnWritten {
    let bodies = body.into_iter().collect();
    open_conversation_with(s, org, chan, ContactId::generate(), bodies, shape).await
}

/// Opens a conversation for `contact` on `chan`, shaped by `shape`, with `bodies` as its
/// messages in order; what the turn wrote.
pub(super) async fn open_conversation_with(
    s: &dyn Store,
    org: OrgId,
    chan: ChannelId,
    contact: ContactId,
    bodies: Vec<(Direction, &'static str)>,
    shape: impl FnOnce(&mut Conversation) + Send + 'static,
) -> TurnWritten {
    s.take_turn(
        TurnTarget::Open {
            organization: org,
            contact,
            channel: chan,
        },
        Box::new(move |_| {
            let mut c = conversation(org, contact, chan, 1);
            shape(&mut c);
            Some(Turn {
                messages: bodies
                    .into_iter()
                    .map(|(direction, text)| message(&c, direction, text, None))
                    .collect(),
                events: vec![],
                jobs: vec![],
                suppression: None,
                recipient: None,
                notes: Vec::new(),
                conversation: c,
            })
        }),
    )
    .await
    .unwrap()
    .unwrap()
}

async fn undispatched_notes(s: &dyn Store, org: OrgId) -> Vec<String> {
    s.list_undispatched_events(1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.organization_id == org)
        .map(|e| e.event.data["note"].as_str().unwrap_or_default().to_owned())
        .collect()
}

pub async fn turns_open_continue_and_close_conversations(s: &dyn Store) {
    let org = create_org(s, "turns", None).await.id;
    let other = create_org(s, "turns-other", None).await.id;
    let chan = channel(s, org).await;
    let contact = ContactId::generate();
    let open = TurnTarget::Open {
        organization: org,
        contact,
        channel: chan,
    };
    // First input: no open conversation; the turn opens one with both messages.
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let written: TurnWritten = s
        .take_turn(
            open,
            Box::new(move |current| {
                log.lock().unwrap().push(current.cloned());
                let c = conversation(org, contact, chan, 1);
                Some(Turn {
                    messages: vec![
                        message(&c, Direction::Inbound, "hello", Some("SM1")),
                        message(&c, Direction::Outbound, "hi, how can I help?", None),
                    ],
                    events: vec![event(org, EventType::InboundMessage, "first")],
                    jobs: vec![send_job("first")],
                    suppression: None,
                    recipient: None,
                    notes: Vec::new(),
                    conversation: c,
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.lock().unwrap().as_slice(), &[None]);
    let first = written.conversation.clone();
    assert_eq!(first.revision, 1);
    assert_eq!(written.messages.len(), 2);
    assert_eq!(
        written.messages[0].provider_message_id.as_deref(),
        Some("SM1")
    );
    assert_eq!(
        s.get_conversation(org, first.id).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(s.get_conversation(other, first.id).await.unwrap(), None);
    let listed = s
        .list_messages(org, first.id, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items, written.messages);
    assert!(
        s.list_messages(other, first.id, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
    assert_eq!(undispatched_notes(s, org).await, ["first"]);
    let jobs = s
        .claim_jobs(
            "conformance-sends",
            at(2),
            std::time::Duration::from_secs(60),
            10,
        )
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "the turn's job was queued");

    // Second input: the turn sees the open conversation and changes it.
    let next = s
        .take_turn(
            open,
            Box::new(move |current| {
                let mut c = current?.clone();
                assert_eq!(c.revision, 1);
                c.flow_state = "{\"at\":\"ask\"}".to_owned();
                c.updated_at = at(2);
                Some(Turn {
                    messages: vec![message(&c, Direction::Inbound, "pay friday", Some("SM2"))],
                    events: vec![event(org, EventType::InboundMessage, "second")],
                    jobs: vec![],
                    suppression: Some(opt_out(org, "h-second")),
                    recipient: None,
                    notes: Vec::new(),
                    conversation: c,
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.conversation.id, first.id);
    assert_eq!(next.conversation.revision, 2);
    assert_eq!(next.conversation.flow_state, "{\"at\":\"ask\"}");
    assert!(
        suppressed(s, org, "h-second").await,
        "the turn's opt-out was written"
    );

    // A decision to write nothing writes nothing.
    assert_eq!(s.take_turn(open, Box::new(|_| None)).await.unwrap(), None);

    // A provider id already stored on the channel refuses the whole turn.
    let repeat = s
        .take_turn(
            open,
            Box::new(move |current| {
                let mut c = current?.clone();
                c.flow_state = "{\"changed\":true}".to_owned();
                Some(Turn {
                    messages: vec![message(&c, Direction::Inbound, "pay friday", Some("SM2"))],
                    events: vec![event(org, EventType::InboundMessage, "repeat")],
                    jobs: vec![],
                    suppression: Some(opt_in(org, "h-second")),
                    recipient: None,
                    notes: Vec::new(),
                    conversation: c,
                })
            }),
        )
        .await;
    assert!(
        matches!(
            repeat,
            Err(StoreError::Conflict {
                constraint: "messages_provider_key"
            })
        ),
        "{repeat:?}"
    );
    let after = s.get_conversation(org, first.id).await.unwrap().unwrap();
    assert_eq!(
        (after.revision, after.flow_state.as_str()),
        (2, "{\"at\":\"ask\"}")
    );
    assert_eq!(undispatched_notes(s, org).await, ["first", "second"]);
    assert!(
        suppressed(s, org, "h-second").await,
        "a refused turn lifts no suppression"
    );
    assert_eq!(
        s.list_messages(org, first.id, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        3
    );

    // Another organization's target sees nothing.
    let foreign = TurnTarget::Conversation {
        organization: other,
        id: first.id,
    };
    let saw = Arc::new(Mutex::new(None));
    let log = saw.clone();
    let nothing = s
        .take_turn(
            foreign,
            Box::new(move |c| {
                *log.lock().unwrap() = Some(c.is_some());
                None
            }),
        )
        .await
        .unwrap();
    assert_eq!((nothing, *saw.lock().unwrap()), (None, Some(false)));

    // Closing by id; then the next input opens a new conversation.
    let closed = s
        .take_turn(
            TurnTarget::Conversation {
                organization: org,
                id: first.id,
            },
            Box::new(move |current| {
                let mut c = current?.clone();
                c.state = ConversationState::Closed;
                c.status = Some("paid".to_owned());
                c.closed_at = Some(at(3));
                Some(Turn {
                    conversation: c,
                    messages: vec![],
                    events: vec![],
                    jobs: vec![],
                    suppression: Some(opt_in(org, "h-second")),
                    recipient: None,
                    notes: Vec::new(),
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (closed.conversation.state, closed.conversation.revision),
        (ConversationState::Closed, 3)
    );
    assert!(
        !suppressed(s, org, "h-second").await,
        "the turn's opt-in lifted it"
    );
    let reopened = s
        .take_turn(
            open,
            Box::new(move |current| {
                assert!(current.is_none(), "a closed conversation is not open");
                Some(Turn {
                    conversation: conversation(org, contact, chan, 4),
                    messages: vec![],
                    events: vec![],
                    jobs: vec![],
                    suppression: None,
                    recipient: None,
                    notes: Vec::new(),
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_ne!(reopened.conversation.id, first.id);
    assert_eq!(reopened.conversation.revision, 1);
}

pub async fn turns_of_one_conversation_never_interleave(s: &dyn Store) {
    let org = create_org(s, "ordering", None).await.id;
    let chan = channel(s, org).await;
    let contact = ContactId::generate();
    let open = TurnTarget::Open {
        organization: org,
        contact,
        channel: chan,
    };
    // Each input reads a counter from the state and writes it plus one, with a message
    // carrying the value it read: any interleaving would repeat a value or lose one.
    let turns = (0..20).map(|_| {
        s.take_turn(
            open,
            Box::new(move |current| {
                let (mut c, n) = match current {
                    None => (conversation(org, contact, chan, 1), 0),
                    Some(c) => (c.clone(), c.flow_state.parse::<u32>().unwrap()),
                };
                c.flow_state = (n + 1).to_string();
                Some(Turn {
                    messages: vec![message(&c, Direction::Inbound, &n.to_string(), None)],
                    events: vec![],
                    jobs: vec![],
                    suppression: None,
                    recipient: None,
                    notes: Vec::new(),
                    conversation: c,
                })
            }),
        )
    });
    let results = futures_util::future::join_all(turns).await;
    let ids: Vec<ConversationId> = results
        .into_iter()
        .map(|r| r.unwrap().unwrap().conversation.id)
        .collect();
    assert!(
        ids.iter().all(|id| *id == ids[0]),
        "one conversation, not several"
    );
    let c = s.get_conversation(org, ids[0]).await.unwrap().unwrap();
    assert_eq!((c.flow_state.as_str(), c.revision), ("20", 20));
    let mut bodies: Vec<u32> = s
        .list_messages(org, c.id, PageRequest::first(100))
        .await
        .unwrap()
        .items
        .iter()
        .map(|m| m.body.parse().unwrap())
        .collect();
    bodies.sort_unstable();
    assert_eq!(bodies, (0..20).collect::<Vec<_>>());
}

pub async fn message_changes_see_their_conversation_and_write_events(s: &dyn Store) {
    let org = create_org(s, "message-changes", None).await.id;
    let chan = channel(s, org).await;
    let written = open_conversation(
        s,
        org,
        chan,
        Some((Direction::Outbound, "your balance")),
        |_| {},
    )
    .await;
    let sent = written.messages[0].clone();
    let conv = written.conversation.id;
    // A send job for it, taken in-process: the change marks it done.
    let job = send_job("in-process");
    let job_id = job.id;
    s.enqueue_job(job).await.unwrap();
    // The send queue records the provider's id and `sent`.
    let changed = s
        .change_message(
            MessageKey::Id {
                organization: org,
                id: sent.id,
            },
            Box::new(move |m, c| {
                assert_eq!(c.id, conv);
                let mut m = m.clone();
                m.status = MessageStatus::Sent;
                m.provider_message_id = Some("SMx".to_owned());
                m.status_times.insert("sent".to_owned(), at(2));
                m.updated_at = at(2);
                Some(MessageChange {
                    message: m,
                    events: vec![event(org, EventType::MessageSend, "sent")],
                    jobs: vec![],
                    finish_job: Some(job_id),
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.status, MessageStatus::Sent);
    assert_eq!(changed.status_times.get("sent"), Some(&at(2)));
    assert_eq!(
        s.get_job(job_id).await.unwrap().state,
        crate::JobState::Done,
        "the job whose work the change did is done"
    );
    // A status callback finds it by the provider's id on its channel.
    let by_provider = MessageKey::Provider {
        channel: chan,
        provider_message_id: "SMx".to_owned(),
    };
    let delivered = s
        .change_message(
            by_provider.clone(),
            Box::new(move |m, _| {
                let mut m = m.clone();
                m.status = MessageStatus::Delivered;
                m.status_times.insert("delivered".to_owned(), at(3));
                Some(MessageChange {
                    message: m,
                    events: vec![event(org, EventType::DeliveryReport, "delivered")],
                    jobs: vec![],
                    finish_job: None,
                })
            }),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.status, MessageStatus::Delivered);
    assert_eq!(delivered.provider_message_id.as_deref(), Some("SMx"));
    assert_eq!(undispatched_notes(s, org).await, ["sent", "delivered"]);
    assert_eq!(
        s.find_message(&by_provider).await.unwrap(),
        Some(delivered.clone())
    );
    let by_id = MessageKey::Id {
        organization: org,
        id: sent.id,
    };
    assert_eq!(
        s.find_message(&by_id).await.unwrap(),
        Some(delivered.clone())
    );
    // Nothing to change, or no such message: nothing written.
    assert_eq!(
        s.change_message(by_provider, Box::new(|_, _| None))
            .await
            .unwrap(),
        None
    );
    let unknown = MessageKey::Provider {
        channel: chan,
        provider_message_id: "nope".to_owned(),
    };
    assert_eq!(
        s.change_message(unknown, Box::new(|_, _| panic!("no message to decide on")))
            .await
            .unwrap(),
        None
    );
    let other = create_org(s, "message-changes-other", None).await.id;
    let foreign = MessageKey::Id {
        organization: other,
        id: sent.id,
    };
    assert_eq!(
        s.change_message(foreign, Box::new(|_, _| panic!("not ours")))
            .await
            .unwrap(),
        None
    );
    let listed = s
        .list_messages(org, conv, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listed.items, [delivered]);

    // Several changes in one transaction: each applied in order, an unknown one skipped.
    let read = |n: i64| -> DecideMessage {
        Box::new(move |m, _| {
            let mut m = m.clone();
            m.status = MessageStatus::Read;
            m.status_times.insert(format!("read{n}"), at(n));
            let org = m.organization_id;
            Some(MessageChange {
                message: m,
                events: vec![event(org, EventType::DeliveryReport, "read")],
                jobs: vec![],
                finish_job: None,
            })
        })
    };
    let batch = s
        .change_messages(vec![
            (by_id.clone(), read(4)),
            (
                MessageKey::Provider {
                    channel: chan,
                    provider_message_id: "nope".to_owned(),
                },
                read(5),
            ),
            (by_id.clone(), read(6)),
        ])
        .await
        .unwrap();
    assert_eq!(batch.len(), 3);
    assert!(batch[1].is_none());
    let last = batch[2].clone().unwrap();
    assert_eq!(last.status, MessageStatus::Read);
    assert!(
        last.status_times.contains_key("read4") && last.status_times.contains_key("read6"),
        "the second change saw the first: {:?}",
        last.status_times
    );
    assert_eq!(
        undispatched_notes(s, org).await,
        ["sent", "delivered", "read", "read"]
    );
}

pub async fn contact_for_address_finds_or_creates_exactly_one(s: &dyn Store) {
    use parley_domain::{ChannelAddress, ChannelKind};
    let org = create_org(s, "addresses", None).await.id;
    let other = create_org(s, "addresses-other", None).await.id;
    let sms = ChannelAddress {
        kind: ChannelKind::Sms,
        address: "+447700900123".to_owned(),
    };
    let (made, created) = s.contact_for_address(org, &sms, at(1)).await.unwrap();
    assert!(created);
    assert_eq!(made.addresses, std::slice::from_ref(&sms));
    assert_eq!((made.customer_id.as_deref(), made.fields.len()), (None, 0));
    assert_eq!(made.created_at, at(1));
    let (again, created) = s.contact_for_address(org, &sms, at(2)).await.unwrap();
    assert_eq!((again, created), (made.clone(), false));
    assert_eq!(
        s.get_contact(org, made.id).await.unwrap(),
        Some(made.clone())
    );
    // Another organization has its own contact for the same number.
    let (theirs, created) = s.contact_for_address(other, &sms, at(3)).await.unwrap();
    assert!(created);
    assert_ne!(theirs.id, made.id);
    // Callers racing for a new address get one contact between them.
    let fresh = ChannelAddress {
        kind: ChannelKind::Whatsapp,
        address: "+447700900999".to_owned(),
    };
    let lookups = (0..10).map(|_| s.contact_for_address(org, &fresh, at(4)));
    let found: Vec<(parley_domain::Contact, bool)> = futures_util::future::join_all(lookups)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert!(found.iter().all(|(c, _)| c.id == found[0].0.id));
    assert_eq!(found.iter().filter(|(_, created)| *created).count(), 1);
    assert!(matches!(
        s.contact_for_address(OrgId::generate(), &sms, at(5)).await,
        Err(StoreError::NotFound)
    ));
}
