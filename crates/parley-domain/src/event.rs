//! The webhook event catalogue and envelope of SPEC §7.1. Event type names are the exact
//! wire strings; the envelope's `id` is stable across delivery retries.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{EventId, OrgId};

/// The kinds of event an endpoint can subscribe to (SPEC §7.1, exactly).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventType {
    /// A customer's message arrived.
    #[serde(rename = "inboundMessage")]
    InboundMessage,
    /// An outbound message moved from `pending` to `sent`.
    #[serde(rename = "messageSend")]
    MessageSend,
    /// An outbound message reached an outcome.
    #[serde(rename = "deliveryReport")]
    DeliveryReport,
    /// A payment succeeded in the self-service portal.
    #[serde(rename = "payment")]
    Payment,
    /// An outcome status was tagged on a conversation.
    #[serde(rename = "setStatus")]
    SetStatus,
    /// A conversation was closed.
    #[serde(rename = "conversationClosed")]
    ConversationClosed,
    /// A conversation was moved to a queue.
    #[serde(rename = "moveToQueue")]
    MoveToQueue,
    /// A conversation was assigned or unassigned.
    #[serde(rename = "conversationAssignment")]
    ConversationAssignment,
}

impl EventType {
    /// Every event type.
    pub const ALL: [EventType; 8] = [
        EventType::InboundMessage,
        EventType::MessageSend,
        EventType::DeliveryReport,
        EventType::Payment,
        EventType::SetStatus,
        EventType::ConversationClosed,
        EventType::MoveToQueue,
        EventType::ConversationAssignment,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            EventType::InboundMessage => "inboundMessage",
            EventType::MessageSend => "messageSend",
            EventType::DeliveryReport => "deliveryReport",
            EventType::Payment => "payment",
            EventType::SetStatus => "setStatus",
            EventType::ConversationClosed => "conversationClosed",
            EventType::MoveToQueue => "moveToQueue",
            EventType::ConversationAssignment => "conversationAssignment",
        }
    }

    /// Reads a wire name.
    #[must_use]
    pub fn from_wire(name: &str) -> Option<Self> {
        EventType::ALL.into_iter().find(|t| t.as_str() == name)
    }
}

/// An event to write to the outbox, in the same transaction as the change it announces.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Its id, generated before the write so callers can refer to it.
    pub id: EventId,
    /// The organization whose data changed.
    pub organization_id: OrgId,
    /// What happened.
    pub event_type: EventType,
    /// When it happened.
    pub timestamp: DateTime<Utc>,
    /// The full summary a receiver needs to act without calling back.
    pub data: serde_json::Value,
}

impl NewEvent {
    /// The conversation the event is about (its `conversation_id`), if it is about one.
    #[must_use]
    pub fn conversation_id(&self) -> Option<&str> {
        self.data
            .get("conversation_id")
            .and_then(serde_json::Value::as_str)
    }
}

/// The JSON body delivered to receivers (SPEC §7.1), borrowing the event it shows (an
/// event is serialised once per delivery; its payload is never copied for that).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventEnvelope<'a> {
    /// Stable across retries; receivers de-duplicate on it.
    pub id: EventId,
    /// The event type's wire name.
    #[serde(rename = "type")]
    pub event_type: EventType,
    /// RFC 3339 with milliseconds and `Z`.
    #[serde(serialize_with = "rfc3339_millis")]
    pub timestamp: DateTime<Utc>,
    /// The organization the event belongs to.
    pub organization_id: OrgId,
    /// Event-specific payload.
    pub data: &'a serde_json::Value,
}

impl<'a> From<&'a NewEvent> for EventEnvelope<'a> {
    fn from(e: &'a NewEvent) -> Self {
        Self {
            id: e.id,
            event_type: e.event_type,
            timestamp: e.timestamp,
            organization_id: e.organization_id,
            data: &e.data,
        }
    }
}

fn rfc3339_millis<S: serde::Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn envelope_has_the_spec_shape() {
        let id = EventId::generate();
        let org = OrgId::generate();
        let at = Utc
            .with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
            .single()
            .expect("time")
            + chrono::Duration::milliseconds(123);
        let event = NewEvent {
            id,
            organization_id: org,
            event_type: EventType::DeliveryReport,
            timestamp: at,
            data: serde_json::json!({"status": "delivered"}),
        };
        let envelope = EventEnvelope::from(&event);
        let json = serde_json::to_value(&envelope).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({
                "id": id.to_string(),
                "type": "deliveryReport",
                "timestamp": "2026-11-21T10:00:00.123Z",
                "organization_id": org.to_string(),
                "data": {"status": "delivered"},
            })
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for t in EventType::ALL {
            assert_eq!(EventType::from_wire(t.as_str()), Some(t));
            assert_eq!(
                serde_json::to_value(t).expect("json"),
                serde_json::json!(t.as_str())
            );
        }
        assert_eq!(EventType::from_wire("InboundMessage"), None);
    }
}
