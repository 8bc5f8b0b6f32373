//! Invitations: how a person joins an organization. An administrator (or `parley admin
//! user create`) invites an email with a role and gets a one-time link, shown once, to
//! pass on; nothing is granted until the person accepts it:
//!
//! * an email no account has: accepting chooses the account's name and password, which
//!   creates the account and its membership together (so no administrator ever chooses
//!   or knows another person's password);
//! * an email an account has: accepting needs that account's password, so an
//!   administrator can neither attach nor learn another organization's people.
//!
//! Inviting answers the same whether or not an account has the email (no enumeration);
//! only the link's holder, by accepting, finds out which of the two it is. Accepting is
//! limited like sign-in (per client address, and per account when a password is
//! checked). A newer invitation of the same email replaces the older one; a link works
//! for [`INVITATION_TTL`].

use parley_domain::{
    AuditAction, Invitation, InvitationId, InvitationState, Membership, NewUser, OrgId, Permission,
    Role, UserId,
};
use parley_store::{AcceptInvitation, Page, PageRequest, StoreError};

use super::{clean_email, clean_name};
use crate::auth::{Access, check_password_policy, random_token, secret_hash};
use crate::error::StoreResultExt;
use crate::{App, AppError, Conflict};

/// How long an invitation link works.
pub const INVITATION_TTL: chrono::Duration = chrono::Duration::days(7);

/// Where an invitation's link leads, under the public URL; the token follows `#` so that
/// it never reaches a server log.
pub const ACCEPT_PATH: &str = "/invitation";

/// A new invitation with its one-time token.
#[derive(Debug, Clone)]
pub struct CreatedInvitation {
    /// The invitation.
    pub invitation: Invitation,
    /// The token, shown once.
    pub token: String,
    /// The link to pass on: the public URL, [`ACCEPT_PATH`] and the token.
    pub accept_url: String,
}

/// What an invitation's holder sees before accepting.
#[derive(Debug, Clone)]
pub struct InvitationPreview {
    /// The invitation.
    pub invitation: Invitation,
    /// The organization's name.
    pub organization_name: String,
}

/// Accepting an invitation.
#[derive(Debug, Clone)]
pub struct AcceptRequest {
    /// The token from the link.
    pub token: String,
    /// The password of the account that has the email, or the new account's password.
    pub password: String,
    /// A new account's display name (the email's local part when absent).
    pub name: Option<String>,
    /// The client's address (limits).
    pub client: String,
}

/// An accepted invitation.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The account (new or existing).
    pub user: UserId,
    /// The membership, as it now stands.
    pub membership: Membership,
    /// Whether the account was created by accepting.
    pub created_account: bool,
}

impl App {
    /// Invites `email` to the caller's organization with `role` (which the caller must be
    /// able to grant). The answer is the same whether or not an account has the email;
    /// `Conflict("already_member")` when that account is a member here already.
    pub async fn invite(
        &self,
        access: &Access,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AppError> {
        access.require(Permission::Administer)?;
        super::members::check_grantable(access, role, "you cannot grant a role above your own")?;
        let email = clean_email(email)?;
        if let Some(existing) = self.store.find_user_by_email(&email).await?
            && self
                .store
                .find_membership(existing.user.id, access.org_id())
                .await?
                .is_some()
        {
            return Err(AppError::Conflict(Conflict::ALREADY_MEMBER));
        }
        self.store_invitation(access.org_id(), email, role, &access.principal.actor())
            .await
    }

    /// Invites `email` to `organization` from the command line.
    pub async fn admin_invite(
        &self,
        organization: OrgId,
        email: &str,
        role: Role,
    ) -> Result<CreatedInvitation, AppError> {
        self.store
            .get_organization(organization)
            .await
            .or_not_found("organization")?;
        self.store_invitation(organization, clean_email(email)?, role, "cli")
            .await
    }

    async fn store_invitation(
        &self,
        organization: OrgId,
        email: String,
        role: Role,
        actor: &str,
    ) -> Result<CreatedInvitation, AppError> {
        let now = self.clock.now();
        let token = random_token()?;
        let invitation = Invitation {
            id: InvitationId::generate(),
            organization_id: organization,
            email,
            role,
            invited_by: actor.to_owned(),
            created_at: now,
            expires_at: now + INVITATION_TTL,
            accepted_at: None,
            accepted_by: None,
            revoked_at: None,
        };
        // The entry names the invitation, not the email's account (which it may not have).
        let entry = self.audit(
            Some(organization),
            actor,
            AuditAction::InvitationCreated,
            &invitation.id.to_string(),
            serde_json::json!({"role": role}),
        );
        let invitation = self
            .store
            .create_invitation(invitation, secret_hash(&token), entry)
            .await
            .or_not_found("organization")?;
        let accept_url = format!("{}{ACCEPT_PATH}#{token}", self.settings.public_url);
        Ok(CreatedInvitation {
            invitation,
            token,
            accept_url,
        })
    }

    /// The caller's organization's invitations, in the order they were made.
    pub async fn list_invitations(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<Invitation>, AppError> {
        access.require(Permission::Administer)?;
        Ok(self.store.list_invitations(access.org_id(), page).await?)
    }

    /// Withdraws a pending invitation of the caller's organization.
    pub async fn revoke_invitation(
        &self,
        access: &Access,
        id: InvitationId,
    ) -> Result<Invitation, AppError> {
        access.require(Permission::Administer)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::InvitationRevoked,
            &id.to_string(),
            serde_json::json!({}),
        );
        self.store
            .revoke_invitation(access.org_id(), id, self.clock.now(), entry)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("invitation"),
                StoreError::Conflict { .. } => AppError::Conflict(Conflict::INVITATION_NOT_PENDING),
                other => other.into(),
            })
    }

    /// The pending invitation behind `token`, or `NotFound("invitation")` (unknown,
    /// used, withdrawn and expired tokens read the same).
    async fn pending_invitation(&self, token: &str) -> Result<Invitation, AppError> {
        self.store
            .find_invitation_by_token(&secret_hash(token))
            .await?
            .filter(|i| i.state(self.clock.now()) == InvitationState::Pending)
            .ok_or(AppError::NotFound("invitation"))
    }

    /// What the link's holder is invited to (the page shows it before they accept).
    pub async fn preview_invitation(
        &self,
        client: &str,
        token: &str,
    ) -> Result<InvitationPreview, AppError> {
        let attempt = self.throttle.admit_token(client, self.clock.now())?;
        let found = self.pending_invitation(token).await;
        attempt.finish(found.is_ok(), self.clock.now());
        let invitation = found?;
        let organization = self
            .store
            .get_organization(invitation.organization_id)
            .await
            .or_not_found("invitation")?;
        Ok(InvitationPreview {
            invitation,
            organization_name: organization.name,
        })
    }

    /// Accepts an invitation: with the password of the account that has its email, or by
    /// choosing a password (and a name) for a new account.
    pub async fn accept_invitation(&self, request: AcceptRequest) -> Result<Accepted, AppError> {
        let attempt = self
            .throttle
            .admit_token(&request.client, self.clock.now())?;
        let invitation = match self.pending_invitation(&request.token).await {
            Ok(invitation) => invitation,
            Err(e) => {
                attempt.finish(false, self.clock.now());
                return Err(e);
            }
        };
        let existing = self.store.find_user_by_email(&invitation.email).await?;
        let (user, new_user) = match existing {
            Some(creds) => {
                let account = self
                    .throttle
                    .admit_account(&invitation.email, self.clock.now())?;
                let ok = self
                    .passwords
                    .verify(request.password.clone(), creds.password_hash)
                    .await?;
                account.finish(ok, self.clock.now());
                attempt.finish(ok, self.clock.now());
                if !ok {
                    return Err(AppError::Unauthenticated(
                        "wrong password for the invited account",
                    ));
                }
                (creds.user.id, None)
            }
            None => {
                attempt.finish(true, self.clock.now());
                check_password_policy(&request.password)?;
                let local = invitation
                    .email
                    .split_once('@')
                    .map_or(invitation.email.as_str(), |(local, _)| local);
                let name = clean_name("name", request.name.as_deref().unwrap_or(local))?;
                let new = NewUser {
                    id: UserId::generate(),
                    email: invitation.email.clone(),
                    name,
                    password_hash: self.hash(request.password).await?,
                    created_at: self.clock.now(),
                };
                (new.id, Some(new))
            }
        };
        let created_account = new_user.is_some();
        let now = self.clock.now();
        let actor = user.to_string();
        let entry = self.audit(
            Some(invitation.organization_id),
            &actor,
            AuditAction::InvitationAccepted,
            &invitation.id.to_string(),
            serde_json::json!({"role": invitation.role, "new_account": created_account}),
        );
        let membership = self
            .store
            .accept_invitation(AcceptInvitation {
                invitation: invitation.id,
                at: now,
                user,
                new_user,
                role: invitation.role,
                organization: invitation.organization_id,
                audit: vec![entry],
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict {
                    constraint: "invitation_not_pending",
                } => AppError::NotFound("invitation"),
                StoreError::Conflict { .. } => AppError::Conflict(Conflict::EMAIL_TAKEN),
                other => other.into(),
            })?;
        Ok(Accepted {
            user,
            membership,
            created_account,
        })
    }
}
