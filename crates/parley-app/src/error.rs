//! The application error: what went wrong in a use case, in terms the HTTP layer maps to
//! problem documents and the CLI prints. Internal causes stay in the source chain.

use parley_store::{BoxError, StoreError};

/// What kind of thing was not found or conflicted.
pub type What = &'static str;

/// One invalid input field: its JSON path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// JSON path of the field (`name`, `permissions[1]`).
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `file is larger than 200 bytes`: how the CLI and stored records (an import's `error`)
/// spell a field error.
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Field errors joined with `; `.
fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No credentials, or credentials that are wrong, expired or revoked.
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but the permission is missing.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The thing does not exist or is outside the caller's organizations.
    #[error("{0} not found")]
    NotFound(What),
    /// The input is invalid; every field error is listed.
    #[error("invalid input: {}", list(.0))]
    Invalid(Vec<FieldError>),
    /// The request conflicts with the current state (a taken email, the last owner…).
    #[error("conflict: {}", .0.detail)]
    Conflict(Conflict),
    /// The store is unreachable or overloaded; retry later.
    #[error("temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// This node is at capacity for this kind of work (password hashing); retry after
    /// `retry_after`.
    #[error("busy: {why}")]
    Busy {
        /// When to try again.
        retry_after: std::time::Duration,
        /// What is busy, for the client.
        why: &'static str,
    },
    /// Too many attempts from this client or on this account; retry after `retry_after`.
    #[error("rate limited: {why}")]
    RateLimited {
        /// When to try again.
        retry_after: std::time::Duration,
        /// What was limited, for the client.
        why: &'static str,
    },
    /// A bug or an unexpected failure; details are logged, never shown to clients.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("resource"),
            StoreError::Conflict { constraint } => AppError::Conflict(Conflict::of(constraint)),
            StoreError::Unavailable(source) => AppError::Unavailable(source),
            other => AppError::Internal(Box::new(other)),
        }
    }
}

/// A conflict with the current state, in the domain's words: a stable code, the field it
/// is about (when it is about one) and a sentence a person can act on. Storage constraint
/// names stop here ([`Conflict::of`]); nothing above this crate sees them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Conflict {
    /// What conflicted, as a stable snake_case code (for logs and for callers that react
    /// to one conflict in particular).
    pub code: &'static str,
    /// The input field the conflict is about, if one.
    pub field: Option<&'static str>,
    /// What happened and what to do, in a sentence.
    pub detail: &'static str,
}

impl Conflict {
    const fn new(code: &'static str, field: Option<&'static str>, detail: &'static str) -> Self {
        Self {
            code,
            field,
            detail,
        }
    }

    /// An account with this email exists.
    pub const EMAIL_TAKEN: Self = Self::new(
        "email_taken",
        Some("email"),
        "a user with this email already exists",
    );
    /// The person already belongs to the organization.
    pub const ALREADY_MEMBER: Self = Self::new(
        "already_member",
        None,
        "this person is already a member of this organization",
    );
    /// The invitation cannot be used any more.
    pub const INVITATION_NOT_PENDING: Self = Self::new(
        "invitation_not_pending",
        None,
        "the invitation was already accepted, withdrawn or has expired",
    );
    /// Removing or demoting the last owner.
    pub const LAST_OWNER: Self = Self::new(
        "last_owner",
        Some("role"),
        "an organization must keep at least one owner",
    );
    /// Archiving a campaign that is under way.
    pub const CAMPAIGN_UNDER_WAY: Self = Self::new(
        "campaign_under_way",
        None,
        "the campaign is under way; cancel it (or let it complete) before archiving it",
    );
    /// A campaign asked to move where its status does not allow.
    pub const CAMPAIGN_STATUS: Self = Self::new(
        "campaign_status",
        Some("status"),
        "the campaign cannot make this move from its current status",
    );
    /// Archiving a channel a running campaign sends through.
    pub const CHANNEL_IN_USE: Self = Self::new(
        "channel_in_use",
        None,
        "a campaign under way sends through this channel; archive it when the campaign is over",
    );
    /// Archiving a flow a channel or running campaign uses.
    pub const FLOW_IN_USE: Self = Self::new(
        "flow_in_use",
        None,
        "a channel answers with this flow or a campaign under way runs it; change those first",
    );
    /// A field definition's key is taken.
    pub const FIELD_KEY_TAKEN: Self = Self::new(
        "field_key_taken",
        Some("key"),
        "a field with this key exists",
    );
    /// A saved reply's key is taken.
    pub const CANNED_REPLY_KEY_TAKEN: Self = Self::new(
        "canned_reply_key_taken",
        Some("key"),
        "a saved reply with this key exists",
    );
    /// An outcome status's key is taken.
    pub const OUTCOME_STATUS_KEY_TAKEN: Self = Self::new(
        "outcome_status_key_taken",
        Some("key"),
        "an outcome status with this key exists",
    );
    /// A queue's key is taken.
    pub const QUEUE_KEY_TAKEN: Self = Self::new(
        "queue_key_taken",
        Some("key"),
        "a queue with this key exists",
    );
    /// Another contact has this customer id.
    pub const CUSTOMER_ID_TAKEN: Self = Self::new(
        "customer_id_taken",
        Some("customer_id"),
        "another contact has this customer_id",
    );
    /// Another contact has this channel address.
    pub const ADDRESS_TAKEN: Self = Self::new(
        "address_taken",
        Some("addresses"),
        "another contact has this channel address",
    );
    /// Replaying to a disabled endpoint.
    pub const WEBHOOK_DISABLED: Self = Self::new(
        "webhook_disabled",
        Some("enabled"),
        "the endpoint is disabled; enable it before replaying",
    );
    /// Polling a disabled SFTP inbox.
    pub const SFTP_INBOX_DISABLED: Self = Self::new(
        "sftp_inbox_disabled",
        Some("enabled"),
        "the inbox is disabled; enable it before polling",
    );
    /// The contact is in an open conversation on the channel.
    pub const OPEN_CONVERSATION: Self = Self::new(
        "open_conversation",
        None,
        "the contact has an open conversation on this channel; continue that one",
    );
    /// A message came in on a disabled channel.
    pub const CHANNEL_DISABLED: Self = Self::new(
        "channel_disabled",
        None,
        "the channel is disabled; enable it to take its messages",
    );
    /// Simulating a customer on a channel that is not the simulator.
    pub const NOT_SIM_CHANNEL: Self = Self::new(
        "not_sim_channel",
        Some("channel"),
        "only a sim channel takes simulated customer messages",
    );
    /// A web-chat visitor's message that the conversation did not take.
    pub const MESSAGE_NOT_TAKEN: Self = Self::new(
        "message_not_taken",
        None,
        "the message was not taken; send it again",
    );
    /// A campaign recipient no longer pending (another process took it).
    pub const RECIPIENT_TAKEN: Self = Self::new(
        "recipient_taken",
        None,
        "the recipient was taken by another process",
    );
    /// Two writers raced on the same thing; the caller may try again.
    pub const CHANGED_MEANWHILE: Self = Self::new(
        "changed_meanwhile",
        None,
        "this changed while the request ran; read it again and retry",
    );
    /// Something already exists with the same identity.
    pub const EXISTS: Self = Self::new("exists", None, "this already exists");

    /// The domain's conflict for a storage constraint the store reported.
    #[must_use]
    pub fn of(constraint: &str) -> Self {
        match constraint {
            "users_email_key" => Self::EMAIL_TAKEN,
            "memberships_pkey" => Self::ALREADY_MEMBER,
            "invitation_not_pending" => Self::INVITATION_NOT_PENDING,
            "field_definitions_pkey" => Self::FIELD_KEY_TAKEN,
            "canned_replies_pkey" => Self::CANNED_REPLY_KEY_TAKEN,
            "outcome_statuses_pkey" => Self::OUTCOME_STATUS_KEY_TAKEN,
            "queues_pkey" => Self::QUEUE_KEY_TAKEN,
            "contacts_customer_key" => Self::CUSTOMER_ID_TAKEN,
            "contact_addresses_pkey" => Self::ADDRESS_TAKEN,
            "conversations_open_key" => Self::OPEN_CONVERSATION,
            "campaign_status" => Self::CAMPAIGN_STATUS,
            "campaign_recipient_state" => Self::RECIPIENT_TAKEN,
            "campaign_audience_cursor" | "job_lease" => Self::CHANGED_MEANWHILE,
            _ => Self::EXISTS,
        }
    }
}

/// Maps store results at the call site, naming what was missing or conflicting.
pub(crate) trait StoreResultExt<T> {
    /// `NotFound` becomes `AppError::NotFound(what)`.
    fn or_not_found(self, what: What) -> Result<T, AppError>;
}

impl<T> StoreResultExt<T> for Result<T, StoreError> {
    fn or_not_found(self, what: What) -> Result<T, AppError> {
        self.map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        })
    }
}

/// Collects a validation's field errors into `errors` so every bad field is reported at
/// once: the value, or `None` with its field errors added. Other errors end the use case.
pub(crate) fn absorb<T>(
    errors: &mut Vec<FieldError>,
    result: Result<T, AppError>,
) -> Result<Option<T>, AppError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Invalid(list)) => {
            errors.extend(list);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}
