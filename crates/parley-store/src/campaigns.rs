//! The campaigns port (SPEC §6): an organization's campaigns and how they move, each
//! change written with its audit entry in one transaction; and their recipients, the
//! dispatcher's queue (ADR 0008): written from the audience slice by slice, taken in
//! order when due, and settled only while pending. A recipient's first message is not
//! written here: it is a conversation turn that claims the recipient
//! (`Turn::recipient`), so the claim and the conversation commit together.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, CampaignStatus, ChannelKind, Contact, ContactId, Grant, ImportId,
    NewAuditEntry, OrgId, Pace, Recipient, RecipientState, SkipReason, WaitReason,
};

use crate::{Page, PageRequest, StoreError};

/// The next slice of a campaign's audience.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AudienceSlice {
    /// The next contacts (at most `limit`) of a completed import, after the cursor the
    /// campaign holds.
    Import {
        /// The import.
        import: ImportId,
        /// At most this many contacts.
        limit: u32,
    },
    /// These contacts (a page of a contact filter the application read), continuing from
    /// the cursor `after`, which must be the one the campaign holds (so a retried slice
    /// is not written twice); `cursor` is where the next page starts.
    Contacts {
        /// The contacts, in audience order.
        contacts: Vec<ContactId>,
        /// The cursor this page continues from.
        after: Option<String>,
        /// The cursor after it.
        cursor: String,
        /// Whether the audience ends with this page.
        last: bool,
    },
}

/// One process's part of a campaign's due recipients: those whose `seq` modulo `of` is
/// `index` (`CampaignStore::hold_campaign`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Share {
    /// This process's place among the campaign's holders.
    pub index: u32,
    /// How many holders there are (at least 1).
    pub of: u32,
}

impl Share {
    /// Every recipient: the only process.
    pub const ALL: Self = Self { index: 0, of: 1 };

    /// The share at `index` of the names `holders` (ordered), or all when the name is
    /// not among them.
    #[must_use]
    pub fn among(holders: &[String], name: &str) -> Self {
        match holders.iter().position(|h| h == name) {
            Some(i) => Self {
                index: u32::try_from(i).unwrap_or(0),
                of: u32::try_from(holders.len()).unwrap_or(1),
            },
            None => Self::ALL,
        }
    }
}

/// What happens to a pending recipient without a first message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Not before `until` (its window is closed, a conversation is in progress).
    Defer {
        /// When it is due again.
        until: DateTime<Utc>,
        /// Why it waits (the recipient's `reason` until it is sent).
        why: WaitReason,
    },
    /// Left out for good.
    Skip(SkipReason),
    /// Its first message could not be made (the error says why).
    Fail {
        /// Why.
        error: String,
    },
}

/// A campaign's live counters (SPEC §6, issue 7).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CampaignCounts {
    /// Recipients not sent to yet (state `pending`).
    pub pending: u64,
    /// Pending recipients held back, by reason (`open_conversation`, `outside_window`,
    /// `retrying`).
    pub waiting: BTreeMap<String, u64>,
    /// Recipients whose first message was handed to the send path (state `sent`).
    pub sent: u64,
    /// Of those, first messages the provider reported delivered (or read).
    pub delivered: u64,
    /// Of those, first messages the provider refused or could not deliver.
    pub undelivered: u64,
    /// Recipients whose first message could not be made (state `failed`).
    pub failed: u64,
    /// Recipients left out (state `skipped`), by reason.
    pub skipped: BTreeMap<String, u64>,
    /// Conversations in which the customer wrote back.
    pub replied: u64,
    /// Conversations that ended with an opt-out.
    pub opted_out: u64,
    /// Closed conversations by outcome status (`none` for those without one).
    pub completed: BTreeMap<String, u64>,
}

/// One group of the counters query: how many recipients share these values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountRow {
    /// The recipient's state.
    pub state: RecipientState,
    /// Its skip reason.
    pub reason: Option<String>,
    /// Its first message's status.
    pub message_status: Option<String>,
    /// Whether its conversation is closed.
    pub closed: bool,
    /// Its conversation's outcome status.
    pub outcome: Option<String>,
    /// Whether the customer wrote back.
    pub replied: bool,
    /// How many.
    pub n: u64,
}

impl CampaignCounts {
    /// Adds up the groups of the counters query.
    #[must_use]
    pub fn from_rows(rows: &[CountRow]) -> Self {
        let mut c = Self::default();
        for r in rows {
            match r.state {
                RecipientState::Pending => {
                    c.pending += r.n;
                    if let Some(reason) = &r.reason {
                        *c.waiting.entry(reason.clone()).or_default() += r.n;
                    }
                }
                RecipientState::Failed => c.failed += r.n,
                RecipientState::Skipped => {
                    let reason = r.reason.clone().unwrap_or_else(|| "unknown".to_owned());
                    *c.skipped.entry(reason).or_default() += r.n;
                }
                RecipientState::Sent => {
                    c.sent += r.n;
                    match r.message_status.as_deref() {
                        Some("delivered" | "read") => c.delivered += r.n,
                        Some("failed" | "undelivered") => c.undelivered += r.n,
                        _ => {}
                    }
                }
            }
            if r.replied {
                c.replied += r.n;
            }
            if r.outcome.as_deref() == Some(OPTED_OUT) {
                c.opted_out += r.n;
            }
            if r.closed {
                let key = r.outcome.clone().unwrap_or_else(|| "none".to_owned());
                *c.completed.entry(key).or_default() += r.n;
            }
        }
        c
    }
}

/// The outcome status an opt-out closes a conversation with (SPEC §5).
const OPTED_OUT: &str = "opted_out";

/// Campaigns.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a new campaign with its audit entry.
    async fn create_campaign(
        &self,
        campaign: Campaign,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError>;

    /// A campaign of `organization`.
    async fn get_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
    ) -> Result<Option<Campaign>, StoreError>;

    /// Campaigns of exactly `organization`, by id.
    /// (`archived`: the archived ones instead of the others.)
    async fn list_campaigns(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError>;

    /// Moves a campaign of `organization` to `next` at `at`, with its audit entry, when
    /// its status as it stands may become `next` (`CampaignStatus::can_become`);
    /// `Conflict { constraint: "campaign_status" }` when it may not, `NotFound` when there
    /// is no such campaign. Nothing is written unless it moves.
    async fn move_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
        next: CampaignStatus,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError>;

    /// Moves a running campaign of `organization` to `completed` with its audit entry,
    /// only when its audience is all written and no recipient is pending; `None` (nothing
    /// written) otherwise.
    async fn complete_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Option<Campaign>, StoreError>;

    /// Campaigns of every organization the dispatcher has work in: running ones,
    /// scheduled ones whose `start_at` is at or before `now`, and cancelled ones with
    /// recipients still pending; by id, at most `limit`.
    async fn campaigns_to_dispatch(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Campaign>, StoreError>;

    /// Writes the next slice of a campaign's audience as recipients after those it has
    /// (`pending` with the contact's address of `kind`, or `skipped` with
    /// `invalid_address` without one) and moves the campaign's cursor, in one
    /// transaction; the campaign as it then stands (`audience_done` once a slice came
    /// back empty or was the last). `Conflict { constraint: "campaign_audience_cursor" }`
    /// when a `Contacts` slice does not continue from the campaign's cursor; `NotFound`
    /// when the campaign is not `organization`'s.
    async fn add_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError>;

    /// Pending recipients of a campaign due at `now` (not deferred past it) in `share`
    /// (those whose `seq` modulo `share.of` is `share.index`), by when they fell due and
    /// then in order, at most `limit`, each with its contact (whose `addresses` hold only
    /// the recipient's address). A recipient whose contact is gone comes with none.
    async fn due_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        now: DateTime<Utc>,
        share: Share,
        limit: u32,
    ) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError>;

    /// Marks `holder` (one process's dispatcher) as working on `campaign` until `until`,
    /// forgets the holders whose mark ran out before `now`, and gives `holder`'s share of
    /// the due recipients: its place among the live holders ordered by name, and how
    /// many there are, in one transaction. Dispatcher bookkeeping, not an
    /// organization's data: keyed by the campaign alone.
    async fn hold_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError>;

    /// Forgets `holder` on `campaign` (its dispatcher stopped), so the others share its
    /// recipients from their next mark on.
    async fn release_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError>;

    /// Takes up to `want` first messages from `campaign`'s pace (one for every process
    /// that shares the database) at `now`, in one transaction that holds the pace's row
    /// while it reads and writes it (`parley_domain::Pace::take`).
    async fn take_pace(
        &self,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError>;

    /// Settles recipients of a campaign without a first message, each only while it is
    /// still pending, in one transaction; how many changed.
    async fn settle_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// Skips at most `limit` pending recipients of a campaign with `reason`, in one
    /// transaction; how many.
    async fn skip_pending(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        reason: SkipReason,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>;

    /// A campaign's recipients in order (the cursor is the `seq`), optionally only
    /// those in `state`.
    async fn list_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        state: Option<RecipientState>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, StoreError>;

    /// A campaign's counters as they stand.
    async fn campaign_counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
    ) -> Result<CampaignCounts, StoreError>;

    /// A campaign's counters by recipient state only, as they stand: `pending` (and
    /// `waiting`), `sent`, `failed` and `skipped`, the rest zero. Reads no messages or
    /// conversations, so a page can follow a running campaign with it.
    async fn campaign_state_counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
    ) -> Result<CampaignCounts, StoreError>;
}

/// The statuses a campaign may move to `next` from, as a JSON array (the engines'
/// guarded update takes it as one parameter).
#[must_use]
pub fn statuses_before(next: CampaignStatus) -> String {
    let from: Vec<&str> = CampaignStatus::ALL
        .into_iter()
        .filter(|s| s.can_become(next))
        .map(CampaignStatus::as_str)
        .collect();
    serde_json::to_string(&from).unwrap_or_else(|_| "[]".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(
        state: RecipientState,
        message: Option<&str>,
        outcome: Option<&str>,
        n: u64,
    ) -> CountRow {
        CountRow {
            state,
            reason: (state == RecipientState::Skipped).then(|| "opted_out".to_owned()),
            message_status: message.map(str::to_owned),
            closed: outcome.is_some(),
            outcome: outcome.map(str::to_owned),
            replied: outcome == Some("done"),
            n,
        }
    }

    #[test]
    fn counters_add_up_by_state_message_and_outcome() {
        let waiting = CountRow {
            reason: Some("open_conversation".to_owned()),
            ..row(RecipientState::Pending, None, None, 2)
        };
        let c = CampaignCounts::from_rows(&[
            row(RecipientState::Pending, None, None, 3),
            waiting,
            row(RecipientState::Sent, Some("delivered"), None, 3),
            row(RecipientState::Sent, Some("read"), Some("done"), 2),
            row(RecipientState::Sent, Some("undelivered"), None, 1),
            row(RecipientState::Sent, Some("sent"), Some(OPTED_OUT), 1),
            row(RecipientState::Failed, None, None, 4),
            row(RecipientState::Skipped, None, None, 6),
        ]);
        assert_eq!((c.pending, c.sent, c.delivered), (5, 7, 5));
        assert_eq!(c.waiting.get("open_conversation"), Some(&2));
        assert_eq!(
            (c.failed, c.undelivered),
            (4, 1),
            "`failed` counts recipients in state failed; a sent one the provider refused is undelivered"
        );
        assert_eq!(c.skipped.get("opted_out"), Some(&6));
        assert_eq!((c.replied, c.opted_out), (2, 1));
        assert_eq!(c.completed.get("done"), Some(&2));
        assert_eq!(c.completed.get(OPTED_OUT), Some(&1));
    }
}
