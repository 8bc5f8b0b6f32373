//! Webhook endpoints, their deliveries and the attempts log (SPEC §7.2), as stored.
//!
//! A delivery is one event for one endpoint, identified by the pair: the outbox event keeps
//! the payload, the delivery keeps where it stands, and every try is an attempt. Secrets
//! are stored sealed; this crate only carries the sealed text.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{EventId, EventType, ImportId, ImportOptions, OrgId, WebhookId};

/// Why an endpoint is disabled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisabledReason {
    /// Someone set `enabled: false`.
    Manual,
    /// The receiver answered `410 Gone`.
    Gone,
    /// Every attempt failed for five days.
    Failing,
}

impl DisabledReason {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            DisabledReason::Manual => "manual",
            DisabledReason::Gone => "gone",
            DisabledReason::Failing => "failing",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Manual, Self::Gone, Self::Failing]
            .into_iter()
            .find(|r| r.as_str() == name)
    }
}

/// The event types an endpoint receives: all of them, or a chosen set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subscription {
    /// Every type, including ones added later.
    All,
    /// Only these (never empty).
    Only(Vec<EventType>),
    /// None: an SFTP destination used only as an import inbox.
    Nothing,
}

impl Subscription {
    /// Does it include `t`?
    #[must_use]
    pub fn includes(&self, t: EventType) -> bool {
        match self {
            Subscription::All => true,
            Subscription::Only(types) => types.contains(&t),
            Subscription::Nothing => false,
        }
    }

    /// Stored form: `NULL` for all, else `,a,b,` (so one `LIKE '%,type,%'` matches on
    /// both engines); nothing is `,`, which no `LIKE '%,type,%'` matches.
    #[must_use]
    pub fn to_stored(&self) -> Option<String> {
        match self {
            Subscription::All => None,
            Subscription::Only(types) => Some(format!(
                ",{},",
                types
                    .iter()
                    .map(|t| t.as_str())
                    .collect::<Vec<_>>()
                    .join(",")
            )),
            Subscription::Nothing => Some(",".to_owned()),
        }
    }

    /// Reads the stored form.
    #[must_use]
    pub fn from_stored(stored: Option<&str>) -> Option<Self> {
        let Some(text) = stored else {
            return Some(Subscription::All);
        };
        if text == "," {
            return Some(Subscription::Nothing);
        }
        let types: Option<Vec<EventType>> = text
            .split(',')
            .filter(|s| !s.is_empty())
            .map(EventType::from_wire)
            .collect();
        types.filter(|t| !t.is_empty()).map(Subscription::Only)
    }
}

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// Its id.
    pub id: WebhookId,
    /// Its organization.
    pub organization_id: OrgId,
    /// Where deliveries go.
    pub url: String,
    /// A note for people.
    pub description: String,
    /// What it receives.
    pub events: Subscription,
    /// Disabled endpoints receive nothing (events are not queued for them).
    pub enabled: bool,
    /// Why it is disabled.
    pub disabled_reason: Option<DisabledReason>,
    /// The current secret, sealed.
    pub secret_sealed: String,
    /// The secret before the last rotation, sealed, and until when it still signs.
    pub previous_secret: Option<(String, DateTime<Utc>)>,
    /// Since when every attempt has failed (cleared by a success).
    pub failing_since: Option<DateTime<Utc>>,
    /// For an SFTP hook (`url` is then `sftp://user@host:port/folder`): how to log in.
    pub sftp: Option<SftpAccess>,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

/// How an SFTP hook logs in: the pinned host key and the sealed credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpAccess {
    /// The server's public key, OpenSSH form; any other is refused.
    pub host_key: String,
    /// The password or private key, sealed.
    pub credential_sealed: String,
}

/// An SFTP import inbox (SPEC §7.4): a folder on an SFTP destination that Parley polls,
/// importing each finished file (SPEC §3) and moving it to `processed/` or `failed/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpInbox {
    /// The SFTP destination (an endpoint with `sftp` set) it logs in with.
    pub endpoint_id: WebhookId,
    /// Its organization.
    pub organization_id: OrgId,
    /// The folder polled: absolute, or under the user's home (empty for the home).
    pub folder: String,
    /// How its files are read.
    pub options: ImportOptions,
    /// Disabled inboxes are not polled.
    pub enabled: bool,
    /// When the last poll ended.
    pub last_polled_at: Option<DateTime<Utc>>,
    /// What went wrong in the last poll as a whole (no connection, say); `None` when it
    /// went through. A file that could not be imported is reported beside the file.
    pub last_error: Option<String>,
    /// The import of the last file taken.
    pub last_import_id: Option<ImportId>,
    /// The import running now; left set by a poll that stopped half-way.
    pub current_import_id: Option<ImportId>,
    /// Files moved to `processed/` so far.
    pub files_processed: u64,
    /// Files moved to `failed/` so far.
    pub files_failed: u64,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed by a person.
    pub updated_at: DateTime<Utc>,
}

impl SftpInbox {
    /// A new inbox, created and changed `at`, with nothing polled yet.
    #[must_use]
    pub fn new(
        endpoint_id: WebhookId,
        organization_id: OrgId,
        folder: String,
        options: ImportOptions,
        enabled: bool,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            endpoint_id,
            organization_id,
            folder,
            options,
            enabled,
            last_polled_at: None,
            last_error: None,
            last_import_id: None,
            current_import_id: None,
            files_processed: 0,
            files_failed: 0,
            created_at: at,
            updated_at: at,
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// A 2xx was received.
    Delivered,
    /// Attempts are spent, the receiver answered `410`, or the endpoint was disabled.
    Failed,
}

impl DeliveryStatus {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// The event (its id is the `webhook-id` of every attempt).
    pub event_id: EventId,
    /// Its organization.
    pub organization_id: OrgId,
    /// The event's type.
    pub event_type: EventType,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made in the current round (a replay starts a new round).
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// What started an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttemptTrigger {
    /// The first try or a scheduled retry.
    Scheduled,
    /// A replay asked for by someone.
    Replay,
}

impl AttemptTrigger {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AttemptTrigger::Scheduled => "scheduled",
            AttemptTrigger::Replay => "replay",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Scheduled, Self::Replay]
            .into_iter()
            .find(|s| s.as_str() == name)
    }
}

/// One try, as the attempts log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryAttempt {
    /// The endpoint.
    pub endpoint_id: WebhookId,
    /// The event.
    pub event_id: EventId,
    /// Its organization.
    pub organization_id: OrgId,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The HTTP status, when the receiver answered.
    pub status_code: Option<u16>,
    /// Milliseconds from sending to the end of the answer.
    pub latency_ms: u32,
    /// The first KiB of the answer.
    pub response_excerpt: String,
    /// What went wrong; `None` for a success.
    pub error: Option<String>,
    /// Scheduled or replay.
    pub trigger: AttemptTrigger,
}

/// The organization's custom value endpoint (SPEC §7.3): where flow `fetch` steps get live
/// values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomValueEndpoint {
    /// Its organization (one endpoint each).
    pub organization_id: OrgId,
    /// The URL the GET goes to.
    pub url: String,
    /// The signing secret, sealed.
    pub secret_sealed: String,
    /// How long an answer may take, in milliseconds.
    pub timeout_ms: u32,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Last changed.
    pub updated_at: DateTime<Utc>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_round_trip_through_their_stored_form() {
        let only = Subscription::Only(vec![EventType::SetStatus, EventType::InboundMessage]);
        let stored = only.to_stored();
        assert_eq!(stored.as_deref(), Some(",setStatus,inboundMessage,"));
        assert_eq!(
            Subscription::from_stored(stored.as_deref()),
            Some(only.clone())
        );
        assert_eq!(Subscription::All.to_stored(), None);
        assert_eq!(Subscription::from_stored(None), Some(Subscription::All));
        assert_eq!(Subscription::from_stored(Some(",nope,")), None);
        assert_eq!(Subscription::from_stored(Some(",,")), None);
        assert!(only.includes(EventType::SetStatus));
        assert!(!only.includes(EventType::Payment));
        assert!(Subscription::All.includes(EventType::Payment));
        let nothing = Subscription::Nothing;
        assert_eq!(nothing.to_stored().as_deref(), Some(","));
        assert_eq!(Subscription::from_stored(Some(",")), Some(nothing.clone()));
        assert!(EventType::ALL.iter().all(|t| !nothing.includes(*t)));
    }
}
