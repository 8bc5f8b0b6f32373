//! A campaign's vocabulary (SPEC §6): where a campaign stands and how it may move, and
//! where each recipient stands, with the reasons a recipient is skipped. The names are the
//! wire names.
//!
//! A campaign moves `draft → scheduled → running → completed`, may be paused and resumed
//! while scheduled or running, and cancelled from any state but the two ends. A draft may
//! also start at once. `completed` and `cancelled` are final.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{CampaignId, ChannelId, ContactId, ConversationId, FlowId, MessageId, OrgId};

/// A campaign as stored. Its audience and window are the documents the API took, checked
/// by the application before they are stored (the store keeps them as they are).
#[derive(Debug, Clone, PartialEq)]
pub struct Campaign {
    /// The id.
    pub id: CampaignId,
    /// Its organization.
    pub organization_id: OrgId,
    /// Its name.
    pub name: String,
    /// Who it is for: `{"import_id": …}` or `{"filter": …}`.
    pub audience: serde_json::Value,
    /// The flow every conversation runs…
    pub flow_id: FlowId,
    /// …at this published version.
    pub flow_version: u32,
    /// The channel its first messages go through.
    pub channel_id: ChannelId,
    /// When it may start sending (none: when started).
    pub start_at: Option<DateTime<Utc>>,
    /// When it stops for good (none: when every recipient is done): recipients whose
    /// window does not open before then are skipped with `window_expired`.
    pub end_at: Option<DateTime<Utc>>,
    /// When it sends, in each contact's local time: `{"days": […], "opens": "08:00",
    /// "closes": "21:00"}`.
    pub window: serde_json::Value,
    /// First messages a second.
    pub rate_per_second: u32,
    /// Where it stands.
    pub status: CampaignStatus,
    /// Recipients written so far.
    pub recipients_total: u64,
    /// Whether every contact of the audience has its recipient row.
    pub audience_done: bool,
    /// Where writing the audience stands (the store's cursor into it).
    pub audience_cursor: Option<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// Changes so far (1 when created).
    pub revision: u64,
    /// When it was archived (only a draft, completed or cancelled one): left out of
    /// lists; its recipients and conversations are kept.
    pub archived_at: Option<DateTime<Utc>>,
}

/// Where a campaign stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    /// Being prepared; nothing is sent.
    Draft,
    /// Waiting for its `start_at`.
    Scheduled,
    /// Sending.
    Running,
    /// Held by a person; nothing is sent until it is resumed.
    Paused,
    /// Every recipient was sent to or skipped.
    Completed,
    /// Stopped for good; the recipients not yet sent to are skipped.
    Cancelled,
}

impl CampaignStatus {
    /// Every status.
    pub const ALL: [CampaignStatus; 6] = [
        Self::Draft,
        Self::Scheduled,
        Self::Running,
        Self::Paused,
        Self::Completed,
        Self::Cancelled,
    ];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Completed => "completed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// Whether nothing can change it any more.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Completed | Self::Cancelled)
    }

    /// Whether a campaign in this status may move to `next` (see the module's
    /// documentation). Staying put is not a move.
    #[must_use]
    pub const fn can_become(self, next: CampaignStatus) -> bool {
        use CampaignStatus::{Cancelled, Completed, Draft, Paused, Running, Scheduled};
        matches!(
            (self, next),
            (Draft, Scheduled | Running | Cancelled)
                | (Scheduled, Running | Paused | Cancelled)
                | (Running, Paused | Completed | Cancelled)
                | (Paused, Running | Scheduled | Cancelled)
        )
    }
}

/// One contact of a campaign's audience (SPEC §6), in audience order (`seq`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    /// The campaign.
    pub campaign_id: CampaignId,
    /// Its place in the audience, from 1.
    pub seq: u64,
    /// The contact.
    pub contact_id: ContactId,
    /// The contact's address on the campaign's channel kind when the recipient was
    /// written (none: it had none).
    pub address: Option<String>,
    /// Where it stands.
    pub state: RecipientState,
    /// Why it was skipped.
    pub reason: Option<SkipReason>,
    /// Why it is still pending, when something holds it back.
    pub waiting: Option<WaitReason>,
    /// Why its first message failed (the provider's error code, or the send path's).
    pub error: Option<String>,
    /// Not sent before this instant (a closed window, a conversation in progress).
    pub next_at: Option<DateTime<Utc>>,
    /// The conversation its first message started.
    pub conversation_id: Option<ConversationId>,
    /// Its first message.
    pub message_id: Option<MessageId>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// Where a recipient stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecipientState {
    /// Not sent to yet.
    Pending,
    /// Their first message was handed to the send path, once.
    Sent,
    /// Their first message could not be sent.
    Failed,
    /// Left out, with a reason.
    Skipped,
}

impl RecipientState {
    /// Every state.
    pub const ALL: [RecipientState; 4] = [Self::Pending, Self::Sent, Self::Failed, Self::Skipped];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Why a recipient was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Their address is on the suppression list.
    OptedOut,
    /// They have no usable address on the campaign's channel.
    InvalidAddress,
    /// Another recipient of the campaign has the same address.
    Duplicate,
    /// Their send window did not open before the campaign ended.
    WindowExpired,
    /// The campaign was cancelled before they were sent to.
    Cancelled,
}

impl SkipReason {
    /// Every reason.
    pub const ALL: [SkipReason; 5] = [
        Self::OptedOut,
        Self::InvalidAddress,
        Self::Duplicate,
        Self::WindowExpired,
        Self::Cancelled,
    ];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OptedOut => "opted_out",
            Self::InvalidAddress => "invalid_address",
            Self::Duplicate => "duplicate",
            Self::WindowExpired => "window_expired",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

/// Why a pending recipient has not been sent to yet (its `reason` while it waits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitReason {
    /// The contact is in an open conversation on the channel: a campaign never
    /// interrupts one, and tries again later.
    OpenConversation,
    /// Its send window is closed now in the contact's time zone; it opens at `next_at`.
    OutsideWindow,
    /// Its first message could not be made just now (a store fault); tried again soon.
    Retrying,
}

impl WaitReason {
    /// Every reason.
    pub const ALL: [WaitReason; 3] = [Self::OpenConversation, Self::OutsideWindow, Self::Retrying];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::OpenConversation => "open_conversation",
            Self::OutsideWindow => "outside_window",
            Self::Retrying => "retrying",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_specs_and_read_back() {
        let names: Vec<&str> = CampaignStatus::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "draft",
                "scheduled",
                "running",
                "paused",
                "completed",
                "cancelled"
            ]
        );
        let names: Vec<&str> = RecipientState::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["pending", "sent", "failed", "skipped"]);
        let names: Vec<&str> = SkipReason::ALL.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "opted_out",
                "invalid_address",
                "duplicate",
                "window_expired",
                "cancelled"
            ]
        );
        for s in CampaignStatus::ALL {
            assert_eq!(CampaignStatus::from_name(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in RecipientState::ALL {
            assert_eq!(RecipientState::from_name(s.as_str()), Some(s));
        }
        for r in SkipReason::ALL {
            assert_eq!(SkipReason::from_name(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        for r in WaitReason::ALL {
            assert_eq!(WaitReason::from_name(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
            assert_eq!(
                SkipReason::from_name(r.as_str()),
                None,
                "one word, one meaning"
            );
        }
        assert_eq!(CampaignStatus::from_name("Running"), None);
    }

    #[test]
    fn a_campaign_moves_only_forward_and_its_ends_are_final() {
        use CampaignStatus::{Cancelled, Completed, Draft, Paused, Running, Scheduled};
        for end in [Completed, Cancelled] {
            assert!(end.is_final());
            assert!(
                CampaignStatus::ALL.iter().all(|n| !end.can_become(*n)),
                "{end:?}"
            );
        }
        for s in CampaignStatus::ALL {
            assert!(!s.can_become(s), "{s:?} to itself is not a move");
            assert_eq!(s.can_become(Cancelled), !s.is_final());
            assert!(!s.can_become(Draft), "nothing goes back to draft");
        }
        assert!(Running.can_become(Paused) && Paused.can_become(Running));
        assert!(Draft.can_become(Running), "a draft may start at once");
        assert!(!Draft.can_become(Paused) && !Draft.can_become(Completed));
        assert!(
            !Scheduled.can_become(Completed),
            "only a running campaign completes"
        );
        assert!(
            Paused.can_become(Scheduled),
            "resumed before its start time"
        );
    }
}
