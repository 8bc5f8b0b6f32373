//! The events conversations raise (SPEC §7.1), built from the stored values so every
//! receiver gets the same shape: the conversation's id, the message or the change, who did
//! it, when, and a contact summary, enough to act without calling back. The webhook tests
//! (`webhooks::samples`) send samples built here too.

use chrono::{DateTime, SecondsFormat, Utc};
use parley_domain::{
    Channel, ChannelKind, Contact, Conversation, EventId, EventType, Message, MessageStatus,
    NewEvent, UserId,
};
use serde_json::{Value, json};

/// Who made a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The flow.
    Bot,
    /// A person.
    Agent(UserId),
    /// An integration, through an API key.
    ApiKey(parley_domain::ApiKeyId),
    /// Parley itself (an opt-out, a failed flow).
    System,
}

impl Actor {
    fn json(self) -> Value {
        match self {
            Actor::Bot => json!({"type": "bot", "id": null}),
            Actor::Agent(user) => json!({"type": "agent", "id": user.to_string()}),
            Actor::ApiKey(key) => json!({"type": "api_key", "id": key.to_string()}),
            Actor::System => json!({"type": "system", "id": null}),
        }
    }
}

/// RFC 3339 with milliseconds, as the envelope's `timestamp`.
pub(crate) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The contact as receivers see it: ids, name, phone and e-mail.
#[must_use]
pub fn contact_summary(contact: &Contact) -> Value {
    let text = |key: &str| contact.fields.get(key).and_then(Value::as_str);
    let name = [text("first_name"), text("last_name")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    let phone = contact
        .addresses
        .iter()
        .find(|a| matches!(a.kind, ChannelKind::Sms | ChannelKind::Whatsapp))
        .map(|a| a.address.clone());
    json!({
        "id": contact.id.to_string(),
        "customer_id": contact.customer_id,
        "name": (!name.is_empty()).then_some(name),
        "phone": phone,
        "email": text("email"),
    })
}

fn event(conversation: &Conversation, kind: EventType, at: DateTime<Utc>, data: Value) -> NewEvent {
    NewEvent {
        id: EventId::generate(),
        organization_id: conversation.organization_id,
        event_type: kind,
        timestamp: at,
        data,
    }
}

/// `inboundMessage`: a customer's message arrived (`from` them, `to` the channel).
#[must_use]
pub fn inbound_message(
    conversation: &Conversation,
    channel: &Channel,
    message: &Message,
    contact: &Contact,
    from: &str,
) -> NewEvent {
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "message": {
            "id": message.id.to_string(),
            "direction": "inbound",
            "channel": channel.provider.address_kind().as_str(),
            "channel_id": channel.id.to_string(),
            "from": from,
            "to": channel.sender,
            "text": message.body,
            "received_at": timestamp(message.created_at),
        },
        "contact": contact_summary(contact),
    });
    event(
        conversation,
        EventType::InboundMessage,
        message.created_at,
        data,
    )
}

/// `messageSend` (`pending` → `sent`) or `deliveryReport` (`sent` → an outcome): an
/// outbound message to `to` moved from `previous` to its status at `at`.
#[must_use]
pub fn status_change(
    conversation: &Conversation,
    channel: &Channel,
    message: &Message,
    contact: &Contact,
    to: &str,
    previous: MessageStatus,
    at: DateTime<Utc>,
) -> NewEvent {
    let kind = if message.status == MessageStatus::Sent {
        EventType::MessageSend
    } else {
        EventType::DeliveryReport
    };
    let mut summary = json!({
        "id": message.id.to_string(),
        "direction": "outbound",
        "channel": channel.provider.address_kind().as_str(),
        "channel_id": channel.id.to_string(),
        "to": to,
        "text": message.body,
        "previous_status": previous.as_str(),
        "status": message.status.as_str(),
        "provider_message_id": message.provider_message_id,
        "segments": message.segments,
        "at": timestamp(at),
    });
    if let Some(code) = &message.error_code {
        summary["error_code"] = json!(code);
        summary["error_message"] = json!(message.error_message);
    }
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "message": summary,
        "contact": contact_summary(contact),
    });
    event(conversation, kind, at, data)
}

/// `setStatus`: an outcome status was tagged.
#[must_use]
pub fn set_status(
    conversation: &Conversation,
    contact: &Contact,
    key: &str,
    label: &str,
    by: Actor,
    at: DateTime<Utc>,
) -> NewEvent {
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "status": {"key": key, "label": label},
        "set_by": by.json(),
        "at": timestamp(at),
        "contact": contact_summary(contact),
    });
    event(conversation, EventType::SetStatus, at, data)
}

/// `conversationClosed`: closed, with its final outcome status.
#[must_use]
pub fn conversation_closed(
    conversation: &Conversation,
    contact: &Contact,
    by: Actor,
    at: DateTime<Utc>,
) -> NewEvent {
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "status": conversation.status,
        "closed_by": by.json(),
        "at": timestamp(at),
        "contact": contact_summary(contact),
    });
    event(conversation, EventType::ConversationClosed, at, data)
}

/// `moveToQueue`: handed to people in `queue`, with a note saying why when there is one.
#[must_use]
pub fn move_to_queue(
    conversation: &Conversation,
    contact: &Contact,
    queue: &str,
    note: Option<&str>,
    by: Actor,
    at: DateTime<Utc>,
) -> NewEvent {
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "queue": queue,
        "note": note,
        "moved_by": by.json(),
        "at": timestamp(at),
        "contact": contact_summary(contact),
    });
    event(conversation, EventType::MoveToQueue, at, data)
}

/// `conversationAssignment`: assigned to a person, or unassigned (`None`).
#[must_use]
pub fn conversation_assignment(
    conversation: &Conversation,
    contact: &Contact,
    assignee: Option<UserId>,
    by: Actor,
    at: DateTime<Utc>,
) -> NewEvent {
    let data = json!({
        "conversation_id": conversation.id.to_string(),
        "assignee": assignee.map(|u| u.to_string()),
        "queue": conversation.queue,
        "assigned_by": by.json(),
        "at": timestamp(at),
        "contact": contact_summary(contact),
    });
    event(conversation, EventType::ConversationAssignment, at, data)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use parley_domain::{
        ChannelAddress, ChannelId, ContactId, ConversationId, ConversationState, Direction,
        MessageId, OrgId, Provider,
    };

    use super::*;

    fn at() -> DateTime<Utc> {
        DateTime::<Utc>::from_timestamp(1_796_000_000, 123_000_000).unwrap_or_default()
    }

    fn fixtures() -> (Conversation, Channel, Message, Contact) {
        let org = OrgId::generate();
        let contact = Contact {
            id: ContactId::generate(),
            organization_id: org,
            customer_id: Some("C-1001".to_owned()),
            fields: serde_json::from_value(json!({"first_name": "Alex", "email": "a@example.com"}))
                .unwrap_or_default(),
            addresses: vec![ChannelAddress {
                kind: ChannelKind::Sms,
                address: "+447700900123".to_owned(),
            }],
            created_at: at(),
            updated_at: at(),
        };
        let channel = Channel {
            id: ChannelId::generate(),
            organization_id: org,
            provider: Provider::Twilio,
            name: "SMS".to_owned(),
            sender: "+447700900000".to_owned(),
            inbound_flow: None,
            inbound_queue: "general".to_owned(),
            rate_per_second: 1,
            settings: serde_json::Map::new(),
            secret_sealed: None,
            enabled: true,
            created_at: at(),
            updated_at: at(),
            archived_at: None,
        };
        let conversation = Conversation {
            id: ConversationId::generate(),
            organization_id: org,
            contact_id: contact.id,
            channel_id: channel.id,
            direction: Direction::Inbound,
            campaign_id: None,
            flow_id: None,
            flow_version: None,
            state: ConversationState::Closed,
            queue: Some("collections".to_owned()),
            assignee: None,
            status: Some("opted_out".to_owned()),
            flow_state: "{}".to_owned(),
            revision: 3,
            last_inbound_at: Some(at()),
            opened_at: at(),
            first_agent_reply_at: None,
            closed_at: Some(at()),
            updated_at: at(),
        };
        let message = Message {
            id: MessageId::generate(),
            organization_id: org,
            conversation_id: conversation.id,
            channel_id: channel.id,
            direction: Direction::Outbound,
            sender: "bot".to_owned(),
            body: "Your balance is £12".to_owned(),
            status: MessageStatus::Undelivered,
            provider_message_id: Some("SM1".to_owned()),
            error_code: Some("30003".to_owned()),
            error_message: Some("Unreachable handset".to_owned()),
            segments: 1,
            encoding: None,
            status_times: BTreeMap::new(),
            created_at: at(),
            updated_at: at(),
        };
        (conversation, channel, message, contact)
    }

    #[test]
    fn every_event_names_its_type_conversation_and_contact() {
        let (c, ch, m, contact) = fixtures();
        let events = [
            inbound_message(&c, &ch, &m, &contact, "+447700900123"),
            status_change(
                &c,
                &ch,
                &m,
                &contact,
                "+447700900123",
                MessageStatus::Sent,
                at(),
            ),
            set_status(
                &c,
                &contact,
                "promise_to_pay",
                "Promise to pay",
                Actor::Bot,
                at(),
            ),
            conversation_closed(&c, &contact, Actor::System, at()),
            move_to_queue(
                &c,
                &contact,
                "collections",
                Some("asked for a person"),
                Actor::Bot,
                at(),
            ),
            conversation_assignment(&c, &contact, Some(UserId::generate()), Actor::System, at()),
        ];
        let kinds: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
        assert_eq!(
            kinds,
            [
                "inboundMessage",
                "deliveryReport",
                "setStatus",
                "conversationClosed",
                "moveToQueue",
                "conversationAssignment"
            ]
        );
        for e in &events {
            assert_eq!(e.organization_id, c.organization_id);
            assert_eq!(e.data["conversation_id"], c.id.to_string());
            assert_eq!(e.data["contact"]["customer_id"], "C-1001");
            assert_eq!(e.data["contact"]["name"], "Alex");
            assert_eq!(e.data["contact"]["phone"], "+447700900123");
        }
        let report = &events[1].data["message"];
        assert_eq!(
            (
                report["previous_status"].as_str(),
                report["status"].as_str()
            ),
            (Some("sent"), Some("undelivered"))
        );
        assert_eq!(report["error_code"], "30003");
        assert_eq!(events[3].data["status"], "opted_out");
        assert_eq!(events[0].data["message"]["to"], "+447700900000");
    }

    #[test]
    fn a_sent_message_is_message_send() {
        let (c, ch, mut m, contact) = fixtures();
        m.status = MessageStatus::Sent;
        m.error_code = None;
        let e = status_change(&c, &ch, &m, &contact, "+1", MessageStatus::Pending, at());
        assert_eq!(e.event_type, EventType::MessageSend);
        assert!(e.data["message"].get("error_code").is_none());
        assert_eq!(e.data["message"]["at"], "2026-11-30T00:53:20.123Z");
    }
}
