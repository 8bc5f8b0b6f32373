//! The audit vocabulary (SPEC §11): who did what to which organization, and when. Entries
//! record facts about access, never the content of customer data.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{AuditId, OrgId};

/// What an audit entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AuditAction {
    /// A user signed in (browser session created).
    SignIn,
    /// A sign-in attempt failed (kept for entries written before lockouts: failures are
    /// now counted in memory and audited once per lockout, as `AccountLocked`).
    SignInFailed,
    /// Repeated failed sign-ins locked an account for a while (once per lockout).
    AccountLocked,
    /// A person was invited to an organization (pending until they accept).
    InvitationCreated,
    /// An invitation was accepted: the membership it names now exists.
    InvitationAccepted,
    /// An invitation was withdrawn before it was accepted.
    InvitationRevoked,
    /// A user signed out.
    SignOut,
    /// An API key was exchanged for a token.
    TokenIssued,
    /// An API key was created.
    ApiKeyCreated,
    /// An API key was revoked.
    ApiKeyRevoked,
    /// A user was given a role on an organization, or their role changed.
    RoleChanged,
    /// A user's membership was removed.
    MemberRemoved,
    /// An organization was created.
    OrganizationCreated,
    /// An organization's settings changed.
    OrganizationUpdated,
    /// A flow was created or its draft changed.
    FlowSaved,
    /// A flow version was published.
    FlowPublished,
    /// A webhook endpoint was created.
    WebhookCreated,
    /// A webhook endpoint's URL, description, events or state changed.
    WebhookUpdated,
    /// A webhook endpoint's secret was rotated.
    WebhookSecretRotated,
    /// A webhook endpoint was deleted.
    WebhookDeleted,
    /// Parley disabled a webhook endpoint (410 Gone, or five days of failures).
    WebhookDisabled,
    /// Failed deliveries were queued again.
    WebhookReplayed,
    /// The custom value endpoint was set or changed.
    CustomValueEndpointSet,
    /// The custom value endpoint was removed.
    CustomValueEndpointDeleted,
    /// An SFTP import inbox was set up or changed.
    SftpInboxSet,
    /// An SFTP import inbox was removed.
    SftpInboxDeleted,
    /// A messaging channel was created.
    ChannelCreated,
    /// A messaging channel's settings, credentials or state changed.
    ChannelUpdated,
    /// An outcome status was defined or changed.
    OutcomeStatusSet,
    /// An outcome status was removed.
    OutcomeStatusDeleted,
    /// A queue was defined or renamed.
    QueueSet,
    /// A queue was removed.
    QueueDeleted,
    /// A canned reply was saved or changed.
    CannedReplySet,
    /// A canned reply was removed.
    CannedReplyDeleted,
    /// A campaign was created.
    CampaignCreated,
    /// A campaign was scheduled, started, paused, resumed or cancelled.
    CampaignStatusChanged,
    /// A flow, channel or campaign was archived (`detail.kind` says which).
    Archived,
    /// An archived flow, channel or campaign was restored.
    Unarchived,
}

impl AuditAction {
    /// Every action.
    pub const ALL: [AuditAction; 38] = [
        AuditAction::SignIn,
        AuditAction::SignInFailed,
        AuditAction::AccountLocked,
        AuditAction::InvitationCreated,
        AuditAction::InvitationAccepted,
        AuditAction::InvitationRevoked,
        AuditAction::SignOut,
        AuditAction::TokenIssued,
        AuditAction::ApiKeyCreated,
        AuditAction::ApiKeyRevoked,
        AuditAction::RoleChanged,
        AuditAction::MemberRemoved,
        AuditAction::OrganizationCreated,
        AuditAction::OrganizationUpdated,
        AuditAction::FlowSaved,
        AuditAction::FlowPublished,
        AuditAction::WebhookCreated,
        AuditAction::WebhookUpdated,
        AuditAction::WebhookSecretRotated,
        AuditAction::WebhookDeleted,
        AuditAction::WebhookDisabled,
        AuditAction::WebhookReplayed,
        AuditAction::CustomValueEndpointSet,
        AuditAction::CustomValueEndpointDeleted,
        AuditAction::SftpInboxSet,
        AuditAction::SftpInboxDeleted,
        AuditAction::ChannelCreated,
        AuditAction::ChannelUpdated,
        AuditAction::OutcomeStatusSet,
        AuditAction::OutcomeStatusDeleted,
        AuditAction::QueueSet,
        AuditAction::QueueDeleted,
        AuditAction::CannedReplySet,
        AuditAction::CannedReplyDeleted,
        AuditAction::CampaignCreated,
        AuditAction::CampaignStatusChanged,
        AuditAction::Archived,
        AuditAction::Unarchived,
    ];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            AuditAction::SignIn => "sign_in",
            AuditAction::SignInFailed => "sign_in_failed",
            AuditAction::AccountLocked => "account_locked",
            AuditAction::InvitationCreated => "invitation_created",
            AuditAction::InvitationAccepted => "invitation_accepted",
            AuditAction::InvitationRevoked => "invitation_revoked",
            AuditAction::SignOut => "sign_out",
            AuditAction::TokenIssued => "token_issued",
            AuditAction::ApiKeyCreated => "api_key_created",
            AuditAction::ApiKeyRevoked => "api_key_revoked",
            AuditAction::RoleChanged => "role_changed",
            AuditAction::MemberRemoved => "member_removed",
            AuditAction::OrganizationCreated => "organization_created",
            AuditAction::OrganizationUpdated => "organization_updated",
            AuditAction::FlowSaved => "flow_saved",
            AuditAction::FlowPublished => "flow_published",
            AuditAction::WebhookCreated => "webhook_created",
            AuditAction::WebhookUpdated => "webhook_updated",
            AuditAction::WebhookSecretRotated => "webhook_secret_rotated",
            AuditAction::WebhookDeleted => "webhook_deleted",
            AuditAction::WebhookDisabled => "webhook_disabled",
            AuditAction::WebhookReplayed => "webhook_replayed",
            AuditAction::CustomValueEndpointSet => "custom_value_endpoint_set",
            AuditAction::CustomValueEndpointDeleted => "custom_value_endpoint_deleted",
            AuditAction::SftpInboxSet => "sftp_inbox_set",
            AuditAction::SftpInboxDeleted => "sftp_inbox_deleted",
            AuditAction::ChannelCreated => "channel_created",
            AuditAction::ChannelUpdated => "channel_updated",
            AuditAction::OutcomeStatusSet => "outcome_status_set",
            AuditAction::OutcomeStatusDeleted => "outcome_status_deleted",
            AuditAction::QueueSet => "queue_set",
            AuditAction::QueueDeleted => "queue_deleted",
            AuditAction::CannedReplySet => "canned_reply_set",
            AuditAction::CannedReplyDeleted => "canned_reply_deleted",
            AuditAction::CampaignCreated => "campaign_created",
            AuditAction::CampaignStatusChanged => "campaign_status_changed",
            AuditAction::Archived => "archived",
            AuditAction::Unarchived => "unarchived",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == name)
    }
}

/// An entry to append. `actor` and `subject` are ids or addresses as text (`usr_…`,
/// `key_…`, `cli`, an email for failed sign-ins), because they span several id types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAuditEntry {
    /// Its id.
    pub id: AuditId,
    /// The organization concerned; `None` for installation-wide events such as a failed
    /// sign-in with an unknown email.
    pub organization_id: Option<OrgId>,
    /// Who acted.
    pub actor: String,
    /// What was done.
    pub action: AuditAction,
    /// What it was done to.
    pub subject: String,
    /// Small structured detail (role names, key names, IP address); never customer data.
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

/// A stored audit entry.
pub type AuditEntry = NewAuditEntry;
