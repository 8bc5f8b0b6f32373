//! The invitations port: pending invitations to join an organization, and their
//! acceptance, which makes the membership (and the account, for an email no account has
//! yet) in the same transaction as it uses the invitation up.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    Invitation, InvitationId, Membership, NewAuditEntry, NewUser, OrgId, Role, UserId,
};

use crate::{Page, PageRequest, StoreError};

/// What accepting an invitation writes.
#[derive(Debug, Clone)]
pub struct AcceptInvitation {
    /// The invitation.
    pub invitation: InvitationId,
    /// When.
    pub at: DateTime<Utc>,
    /// The account that accepts (made by this transaction when `new_user` is given).
    pub user: UserId,
    /// The account to create, for an email no account has.
    pub new_user: Option<NewUser>,
    /// The role of the membership (the invitation's).
    pub role: Role,
    /// The organization (the invitation's).
    pub organization: OrgId,
    /// Audit entries written with it.
    pub audit: Vec<NewAuditEntry>,
}

/// Invitations.
#[async_trait]
pub trait InvitationStore: Send + Sync {
    /// Stores a new invitation with the hash of its token; any pending invitation of the
    /// same email to the same organization is revoked at its `created_at` (the newest link
    /// is the only one that works).
    async fn create_invitation(
        &self,
        invitation: Invitation,
        token_hash: String,
        audit: NewAuditEntry,
    ) -> Result<Invitation, StoreError>;

    /// The invitation whose token has this hash, whatever its state.
    async fn find_invitation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<Invitation>, StoreError>;

    /// An organization's invitations, in the order they were made.
    async fn list_invitations(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError>;

    /// Withdraws a pending invitation: `NotFound` outside `organization`,
    /// `Conflict { constraint: "invitation_not_pending" }` once accepted, revoked or
    /// expired.
    async fn revoke_invitation(
        &self,
        organization: OrgId,
        id: InvitationId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Invitation, StoreError>;

    /// Uses an invitation up: marks it accepted (only while pending and unexpired, else
    /// `Conflict { constraint: "invitation_not_pending" }`), creates the account when
    /// asked (`Conflict { constraint: "users_email_key" }` if the email was taken
    /// meanwhile), and gives the membership, keeping an existing membership's role as it
    /// is. All in one transaction; the membership as stored.
    async fn accept_invitation(&self, accept: AcceptInvitation) -> Result<Membership, StoreError>;
}
