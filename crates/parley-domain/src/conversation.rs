//! Conversations and their messages as stored (SPEC §5). A conversation is between one
//! contact and one channel; at most one is open per pair, and an inbound message continues
//! it. The flow's state travels with it as JSON that only the flow engine reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    ChannelId, ContactId, ConversationId, Direction, Encoding, FlowId, MessageId, MessageStatus,
    OrgId, UserId,
};

/// Where a conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    /// A flow is talking.
    Bot,
    /// Waiting in a queue for a person.
    Queued,
    /// A person has it.
    Assigned,
    /// Over.
    Closed,
}

impl ConversationState {
    /// Every state.
    pub const ALL: [ConversationState; 4] = [Self::Bot, Self::Queued, Self::Assigned, Self::Closed];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Bot => "bot",
            Self::Queued => "queued",
            Self::Assigned => "assigned",
            Self::Closed => "closed",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// A conversation as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conversation {
    /// The id.
    pub id: ConversationId,
    /// Its organization.
    pub organization_id: OrgId,
    /// The contact.
    pub contact_id: ContactId,
    /// The channel.
    pub channel_id: ChannelId,
    /// Who started it.
    pub direction: Direction,
    /// The flow running it, if any.
    pub flow_id: Option<FlowId>,
    /// The flow version it started with (kept for its whole life, SPEC §4).
    pub flow_version: Option<u32>,
    /// Where it stands.
    pub state: ConversationState,
    /// The queue it waits in or was handled from.
    pub queue: Option<String>,
    /// The person who has it.
    pub assignee: Option<UserId>,
    /// The outcome status tagged last.
    pub status: Option<String>,
    /// The flow engine's state, as JSON.
    pub flow_state: String,
    /// Bumped by every write: a turn names the revision it read.
    pub revision: u64,
    /// When the contact last wrote (WhatsApp's 24-hour window runs from it).
    pub last_inbound_at: Option<DateTime<Utc>>,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When a person first replied.
    pub first_agent_reply_at: Option<DateTime<Utc>>,
    /// When it closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The id.
    pub id: MessageId,
    /// Its organization.
    pub organization_id: OrgId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// The channel it went through.
    pub channel_id: ChannelId,
    /// Which way.
    pub direction: Direction,
    /// `contact`, `bot`, `agent:<user id>` or `system`.
    pub sender: String,
    /// The text.
    pub body: String,
    /// Where it stands (only forward: `MessageStatus::advances_to`).
    pub status: MessageStatus,
    /// The provider's id, once it has one.
    pub provider_message_id: Option<String>,
    /// Why it failed (`opted_out`, a provider code…).
    pub error_code: Option<String>,
    /// The provider's words about a failure.
    pub error_message: Option<String>,
    /// SMS parts billed.
    pub segments: u32,
    /// SMS encoding (outbound SMS only).
    pub encoding: Option<Encoding>,
    /// When each status was reported, by status name (every report, even those that did
    /// not move the status).
    pub status_times: BTreeMap<String, DateTime<Utc>>,
    /// When it was written.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_names_round_trip() {
        for s in ConversationState::ALL {
            assert_eq!(ConversationState::from_name(s.as_str()), Some(s));
        }
        assert_eq!(ConversationState::from_name("open"), None);
    }
}
