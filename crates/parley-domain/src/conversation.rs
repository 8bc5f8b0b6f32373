//! Conversations and their messages as stored (SPEC §5). A conversation is between one
//! contact and one channel; at most one is open per pair, and an inbound message continues
//! it. The flow's state travels with it as JSON that only the flow engine reads.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{
    CampaignId, ChannelId, ContactId, ConversationId, Direction, Encoding, FlowId, MessageId,
    MessageStatus, NoteId, OrgId, UserId,
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
    /// The campaign that started it, if one did.
    pub campaign_id: Option<CampaignId>,
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

impl Conversation {
    /// A new conversation between `contact` and `channel`, opened at `at` by `direction`:
    /// with the bot, no flow yet, not stored (revision 0).
    #[must_use]
    pub fn open(
        organization_id: OrgId,
        contact_id: ContactId,
        channel_id: ChannelId,
        direction: Direction,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            id: ConversationId::generate(),
            organization_id,
            contact_id,
            channel_id,
            direction,
            campaign_id: None,
            flow_id: None,
            flow_version: None,
            state: ConversationState::Bot,
            queue: None,
            assignee: None,
            status: None,
            flow_state: "{}".to_owned(),
            revision: 0,
            last_inbound_at: None,
            opened_at: at,
            first_agent_reply_at: None,
            closed_at: None,
            updated_at: at,
        }
    }
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

/// A person's note on a conversation (SPEC §5): never sent to the customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The id.
    pub id: NoteId,
    /// Its organization.
    pub organization_id: OrgId,
    /// Its conversation.
    pub conversation_id: ConversationId,
    /// Who wrote it: `usr_…`, `key_…`, or `system` for Parley's own (why a conversation
    /// was handed to a queue).
    pub author: String,
    /// The text.
    pub body: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// How an outcome status counts in reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusCategory {
    /// A good result (a promise to pay, a payment).
    Positive,
    /// Neither.
    Neutral,
    /// A bad result (a refusal, an opt-out).
    Negative,
}

impl StatusCategory {
    /// Every category.
    pub const ALL: [StatusCategory; 3] = [Self::Positive, Self::Neutral, Self::Negative];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Positive => "positive",
            Self::Neutral => "neutral",
            Self::Negative => "negative",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }
}

/// An outcome status an organization tags conversations with (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutcomeStatus {
    /// Its organization.
    pub organization_id: OrgId,
    /// The key flows and agents name (`promise_to_pay`).
    pub key: String,
    /// What people read.
    pub label: String,
    /// How it counts.
    pub category: StatusCategory,
    /// Whether tagging it closes the conversation.
    pub closes: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A queue conversations wait in for people (SPEC §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queue {
    /// Its organization.
    pub organization_id: OrgId,
    /// The key flows, channels and agents name (`collections`).
    pub key: String,
    /// What people read.
    pub name: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A saved reply: text a person inserts in the desk's reply box by typing `/` and part of
/// its key or title. Its body may hold `<<field>>` placeholders, filled from the contact
/// as a flow's messages are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedReply {
    /// Its organization.
    pub organization_id: OrgId,
    /// A short name (`promise_to_pay`): lower-case letters, digits and `_`.
    pub key: String,
    /// What the picker shows.
    pub title: String,
    /// The reply, with its placeholders.
    pub body: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A person who takes a queue's conversations (SPEC §5: assignment is round-robin among
/// available members, up to each one's capacity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMember {
    /// Its organization.
    pub organization_id: OrgId,
    /// The queue's key.
    pub queue: String,
    /// The person.
    pub user_id: UserId,
    /// Conversations they may have assigned at once.
    pub capacity: u32,
    /// Whether they take conversations now.
    pub available: bool,
    /// When they were last given one from this queue (the round-robin's order).
    pub last_assigned_at: Option<DateTime<Utc>>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// A provider's report on a message: its status, when, and why when it failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// The status reported.
    pub status: MessageStatus,
    /// When the provider says it happened.
    pub at: DateTime<Utc>,
    /// The provider's error code, on failures.
    pub error_code: Option<String>,
    /// The provider's words about it.
    pub error_message: Option<String>,
}

impl Message {
    /// Records `report`: its time is kept under its status (the first time, when a
    /// status is reported twice), and the status moves only forward
    /// ([`MessageStatus::advances_to`]). A failure's error is kept when it moves the
    /// status; a later success clears it. Returns whether the status moved.
    pub fn record(&mut self, report: &StatusReport) -> bool {
        self.status_times
            .entry(report.status.as_str().to_owned())
            .or_insert(report.at);
        if !self.status.advances_to(report.status) {
            return false;
        }
        self.status = report.status;
        if matches!(
            report.status,
            MessageStatus::Failed | MessageStatus::Undelivered
        ) {
            self.error_code.clone_from(&report.error_code);
            self.error_message.clone_from(&report.error_message);
        } else {
            self.error_code = None;
            self.error_message = None;
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn outbound() -> Message {
        let at = DateTime::<Utc>::UNIX_EPOCH;
        Message {
            id: MessageId::generate(),
            organization_id: OrgId::generate(),
            conversation_id: ConversationId::generate(),
            channel_id: ChannelId::generate(),
            direction: Direction::Outbound,
            sender: "bot".to_owned(),
            body: "hello".to_owned(),
            status: MessageStatus::Pending,
            provider_message_id: Some("SM1".to_owned()),
            error_code: None,
            error_message: None,
            segments: 1,
            encoding: Some(Encoding::Gsm7),
            status_times: BTreeMap::new(),
            created_at: at,
            updated_at: at,
        }
    }

    fn report(status: MessageStatus, secs: i64, error: Option<&str>) -> StatusReport {
        StatusReport {
            status,
            at: DateTime::<Utc>::from_timestamp(secs, 0).unwrap_or_default(),
            error_code: error.map(str::to_owned),
            error_message: error.map(|e| format!("error {e}")),
        }
    }

    #[test]
    fn a_late_report_is_kept_but_does_not_move_the_status() {
        let mut m = outbound();
        assert!(m.record(&report(MessageStatus::Sent, 1, None)));
        assert!(m.record(&report(MessageStatus::Read, 3, None)));
        assert!(
            !m.record(&report(MessageStatus::Delivered, 2, None)),
            "late delivered"
        );
        assert_eq!(m.status, MessageStatus::Read);
        assert_eq!(m.status_times.len(), 3, "every report's time is kept");
        // A failure keeps its code; a delivered after it moves on and clears it.
        let mut m = outbound();
        assert!(m.record(&report(MessageStatus::Failed, 1, Some("131026"))));
        assert_eq!(m.error_code.as_deref(), Some("131026"));
        assert!(m.record(&report(MessageStatus::Delivered, 2, None)));
        assert_eq!(
            (m.status, m.error_code.clone()),
            (MessageStatus::Delivered, None)
        );
        // A repeated report keeps its first time.
        assert!(!m.record(&report(MessageStatus::Delivered, 9, None)));
        assert_eq!(m.status_times["delivered"].timestamp(), 2);
    }

    fn any_outbound_status() -> impl Strategy<Value = MessageStatus> {
        prop::sample::select(vec![
            MessageStatus::Pending,
            MessageStatus::Sent,
            MessageStatus::Delivered,
            MessageStatus::Undelivered,
            MessageStatus::Failed,
            MessageStatus::Read,
        ])
    }

    proptest! {
        #[test]
        fn any_order_of_reports_ends_on_the_furthest_and_keeps_every_status(
            statuses in proptest::collection::vec(any_outbound_status(), 0..12),
        ) {
            let mut m = outbound();
            for (i, s) in statuses.iter().enumerate() {
                let before = m.status;
                let moved = m.record(&report(*s, i64::try_from(i).unwrap_or(0), Some("e")));
                prop_assert_eq!(moved, before.advances_to(*s));
                // Never backwards.
                prop_assert!(m.status.rank() >= before.rank());
            }
            // The furthest rank reported (or pending) is where it ends.
            let furthest = statuses.iter().filter_map(|s| s.rank()).max().unwrap_or(0);
            prop_assert_eq!(m.status.rank(), Some(furthest));
            for s in &statuses {
                prop_assert!(m.status_times.contains_key(s.as_str()));
            }
        }
    }

    #[test]
    fn state_names_round_trip() {
        for s in ConversationState::ALL {
            assert_eq!(ConversationState::from_name(s.as_str()), Some(s));
        }
        assert_eq!(ConversationState::from_name("open"), None);
    }
}
