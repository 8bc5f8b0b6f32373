#![doc = include_str!("../README.md")]

mod api_keys;
mod audit;
mod campaigns;
mod channels;
mod contacts;
mod conversations;
pub mod decode;
mod error;
mod flows;
mod idempotency;
mod imports;
mod inboxes;
mod invitations;
mod jobs;
mod organizations;
mod outbox;
mod outcomes;
mod page;
mod reads;
mod sealed;
mod sessions;
mod users;
mod webhooks;

#[cfg(feature = "conformance")]
pub mod conformance;

pub use api_keys::{ApiKeyStore, StoredApiKey};
pub use audit::{AuditFilter, AuditLog};
pub use campaigns::{
    AudienceSlice, CampaignCounts, CampaignStore, CountRow, Settle, Share, statuses_before,
};
pub use channels::ChannelStore;
pub use contacts::{ContactFilter, ContactStore, ContactUpdate, FieldPatch, Suppression};
pub use conversations::{
    ContactSearch, ConversationFilter, ConversationStore, ConversationSummary, Decide,
    DecideMessage, LastMessage, MessageChange, MessageKey, RecipientClaim, SuppressionChange, Turn,
    TurnTarget, TurnWritten,
};
pub use error::{BoxError, StoreError};
pub use flows::{FlowStore, NewFlowVersion};
pub use idempotency::{IdempotencyBegin, IdempotencyStore, NewIdempotencyRecord, StoredResponse};
pub use imports::{
    Conflict, ImportBatch, ImportRow, ImportStore, ImportWriter, OriginalCells, RejectLine,
};
pub use inboxes::{InboxPoll, InboxStore};
pub use invitations::{AcceptInvitation, InvitationStore};
pub use jobs::{
    CanaryRecord, ClaimedJob, Enqueued, JobEffects, JobLease, JobQueue, JobRecord, JobState,
    NewJob, QueueStats,
};
pub use organizations::{Bootstrap, OrganizationStore};
pub use outbox::{OutboxStore, StoredEvent};
pub use outcomes::{CannedReplyStore, OutcomeStore, QueueStore};
pub use page::{Page, PageRequest};
pub use reads::ReadMarkStore;
pub use sealed::{
    RESEAL_PAGE, Reseal, Resealed, ResealedRow, Resealing, SEALED_COLUMNS, SET_INSTALLATION_FACT,
    SealedColumn, SealedKind, SealedRef, reseal_row,
};
pub use sessions::{NewSession, Session, SessionStore};
pub use users::{Member, UserCredentials, UserStore};
pub use webhooks::{
    AttemptRecord, DueDelivery, EndpointEffect, FanOut, FannedOut, ReplayScope, WebhookStore,
    leased_deliveries, leased_ids, leased_pairs,
};

/// What is waiting across the installation (see [`Store::work_counts`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkCounts {
    /// Webhook and SFTP deliveries still `pending`.
    pub pending_deliveries: u64,
    /// Campaign recipients per state name (`pending`, `sent`, `failed`, `skipped`).
    pub recipients: Vec<(String, u64)>,
}

impl WorkCounts {
    /// The counts from the engine's two count queries: deliveries pending, and recipients
    /// per state.
    #[must_use]
    pub fn from_counts(pending_deliveries: i64, recipients: Vec<(String, i64)>) -> Self {
        let count = |n: i64| u64::try_from(n).unwrap_or_default();
        Self {
            pending_deliveries: count(pending_deliveries),
            recipients: recipients
                .into_iter()
                .map(|(state, n)| (state, count(n)))
                .collect(),
        }
    }
}

/// What can be archived (see [`Store::set_archived`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Archivable {
    /// A flow.
    Flow(parley_domain::FlowId),
    /// A channel.
    Channel(parley_domain::ChannelId),
    /// A campaign.
    Campaign(parley_domain::CampaignId),
}

impl Archivable {
    /// Its id as stored.
    #[must_use]
    pub fn id(self) -> String {
        match self {
            Archivable::Flow(id) => id.to_string(),
            Archivable::Channel(id) => id.to_string(),
            Archivable::Campaign(id) => id.to_string(),
        }
    }

    /// `flow`, `channel` or `campaign`.
    #[must_use]
    pub fn kind(self) -> &'static str {
        match self {
            Archivable::Flow(_) => "flow",
            Archivable::Channel(_) => "channel",
            Archivable::Campaign(_) => "campaign",
        }
    }
}

/// Every port, as one object the binary builds from the store URL and hands out as
/// `Arc<dyn Store>`.
#[async_trait::async_trait]
pub trait Store:
    OrganizationStore
    + UserStore
    + InvitationStore
    + ApiKeyStore
    + SessionStore
    + AuditLog
    + OutboxStore
    + JobQueue
    + IdempotencyStore
    + ContactStore
    + ImportStore
    + FlowStore
    + WebhookStore
    + InboxStore
    + ChannelStore
    + ConversationStore
    + OutcomeStore
    + QueueStore
    + CannedReplyStore
    + ReadMarkStore
    + CampaignStore
    + Send
    + Sync
{
    /// `sqlite` or `postgres`, for logs and `/readyz`.
    fn engine_name(&self) -> &'static str;

    /// Succeeds when the store answers a trivial query (for `/readyz`).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Closes the connections, waiting for statements in flight.
    async fn close(&self);

    /// What is waiting, across every organization, for `/metrics`: webhook deliveries not
    /// yet delivered or failed, and campaign recipients by state.
    async fn work_counts(&self) -> Result<WorkCounts, StoreError>;

    /// Archives (`at: Some`) or restores (`None`) a flow, channel or campaign of
    /// `organization`; archiving a channel also disables it, and only a draft, completed
    /// or cancelled campaign is archived. `false` when nothing changed (no such one, or a
    /// campaign still under way).
    async fn set_archived(
        &self,
        organization: parley_domain::OrgId,
        what: Archivable,
        at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> Result<bool, StoreError>;

    /// The installation fact `name` (for example `key_check`), when one was recorded.
    async fn installation_fact(&self, name: &str) -> Result<Option<String>, StoreError>;

    /// Records `value` as the fact `name` unless one is recorded already; the recorded
    /// value either way (the first writer wins, also between processes).
    async fn claim_installation_fact(&self, name: &str, value: &str) -> Result<String, StoreError>;

    /// Rewrites every sealed value in the store through `reseal` and records `facts`
    /// (replacing recorded values), all in one transaction: when `reseal` fails on any
    /// value nothing is written, so a master-key rotation happens wholly or not at all.
    async fn reseal_secrets(
        &self,
        reseal: &Reseal<'_>,
        facts: &[(&str, &str)],
    ) -> Result<Resealed, StoreError>;
}
