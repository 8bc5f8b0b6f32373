//! Browser sign-in: email and password become a session (an HttpOnly cookie holding a
//! random token, stored hashed) plus a CSRF token derived from it with HMAC, which the
//! page sends back in `X-CSRF-Token` on every state-changing request.
//!
//! Every attempt goes through the [`Throttle`](super::Throttle) (per client address and
//! per account, 429 past the limits) and the bounded [`PasswordPool`](super::PasswordPool)
//! (503 when it is full). A failure is not audited on its own: a lockout is, once, in each
//! organization the account belongs to; failures for emails no account has are only
//! counted.

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use parley_domain::{AuditAction, OrgId, SessionId};
use parley_store::NewSession;
use subtle::ConstantTimeEq;

use super::{Principal, Subject, random_token, secret_hash};
use crate::{App, AppError};

/// A sign-in request.
#[derive(Debug, Clone)]
pub struct SignIn {
    /// The account's email (any case).
    pub email: String,
    /// The password.
    pub password: String,
    /// The organization to act for; when absent, the user's oldest membership (the
    /// organization their account was made for, never one they accepted later).
    pub organization_id: Option<OrgId>,
    /// The client's address: rate limits and the audit log.
    pub client: String,
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    /// The cookie value.
    pub session_token: String,
    /// The value to send in `X-CSRF-Token`.
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub principal: Principal,
}

/// A well-formed Argon2id hash no password matches, verified when the email is unknown
/// so that a miss costs as long as a wrong password.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$8hJxJH3cBHtG1rVw0Vbq1nA7iN2pF5wS3sZ2kQ1cY7E";

impl App {
    /// Signs a user in. Every failure reads the same to the client.
    pub async fn sign_in(&self, request: SignIn) -> Result<SignedIn, AppError> {
        let email = request.email.trim().to_lowercase();
        let attempt = self
            .throttle
            .admit_sign_in(&request.client, &email, self.clock.now())?;
        let creds = self.store.find_user_by_email(&email).await?;
        let (hash, user) = match &creds {
            Some(c) => (c.password_hash.clone(), Some(c.user.clone())),
            None => (DUMMY_HASH.to_owned(), None),
        };
        let ok = self
            .passwords
            .verify(request.password.clone(), hash)
            .await?;
        let mut memberships = match (&user, ok) {
            (Some(u), true) => self.store.list_memberships_of_user(u.id).await?,
            _ => Vec::new(),
        };
        memberships.sort_by_key(|m| (m.created_at, m.organization_id));
        let membership = memberships.into_iter().find(|m| {
            request
                .organization_id
                .is_none_or(|o| o == m.organization_id)
        });
        let (Some(user), Some(membership)) = (user, membership) else {
            let locked = attempt.finish(false, self.clock.now());
            if let (Some(locked), Some(creds)) = (locked, &creds) {
                self.audit_lockout(&creds.user, &request.client, locked)
                    .await?;
            }
            return Err(AppError::Unauthenticated("wrong email or password"));
        };
        attempt.finish(true, self.clock.now());
        self.open_session(user.id, &membership, &request.client)
            .await
    }

    /// Moves a signed-in person to another organization they are a member of: a new
    /// session there, and the one behind `session_token` ends. Their password is not asked
    /// again (the session shows who they are); the switch is audited as a sign-in to the
    /// organization switched to. `NotFound("organization")` when they are no member of it.
    pub async fn switch_organization(
        &self,
        session_token: &str,
        target: OrgId,
        client: &str,
    ) -> Result<SignedIn, AppError> {
        let session = self
            .store
            .find_session(&secret_hash(session_token), self.clock.now())
            .await?
            .ok_or(AppError::Unauthenticated(
                "the session has ended; sign in again",
            ))?;
        let membership = self
            .store
            .list_memberships_of_user(session.user_id)
            .await?
            .into_iter()
            .find(|m| m.organization_id == target)
            .ok_or(AppError::NotFound("organization"))?;
        let signed = self
            .open_session(session.user_id, &membership, client)
            .await?;
        self.sign_out(session_token).await?;
        Ok(signed)
    }

    /// The organizations the signed-in person is a member of (each membership's, not
    /// those below them), with their names, oldest membership first.
    pub async fn my_memberships(
        &self,
        principal: &Principal,
    ) -> Result<Vec<parley_domain::Organization>, AppError> {
        let Subject::User(user) = principal.subject else {
            return Ok(Vec::new());
        };
        let mut memberships = self.store.list_memberships_of_user(user).await?;
        memberships.sort_by_key(|m| (m.created_at, m.organization_id));
        let mut organizations = Vec::with_capacity(memberships.len());
        for m in memberships {
            match self.store.get_organization(m.organization_id).await {
                Ok(org) => organizations.push(org),
                Err(parley_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(organizations)
    }

    /// A new session for `user` acting for `membership`'s organization, audited.
    async fn open_session(
        &self,
        user: parley_domain::UserId,
        membership: &parley_domain::Membership,
        client: &str,
    ) -> Result<SignedIn, AppError> {
        let now = self.clock.now();
        let ttl = chrono::Duration::from_std(self.settings.session_ttl)
            .unwrap_or(chrono::Duration::hours(12));
        let session_token = random_token()?;
        let session = NewSession {
            id: SessionId::generate(),
            token_hash: secret_hash(&session_token),
            user_id: user,
            organization_id: membership.organization_id,
            created_at: now,
            expires_at: now + ttl,
        };
        let org = membership.organization_id;
        let detail = serde_json::json!({"client": client, "session": session.id.to_string()});
        let entry = self.audit(
            Some(org),
            &user.to_string(),
            AuditAction::SignIn,
            &user.to_string(),
            detail,
        );
        let stored = self.store.create_session(session, entry).await?;
        Ok(SignedIn {
            csrf_token: self.csrf_token(&session_token),
            session_token,
            expires_at: stored.expires_at,
            principal: Principal {
                subject: Subject::User(user),
                home: org,
                permissions: membership.role.permissions(),
            },
        })
    }

    /// Writes one `account_locked` entry in each organization the account belongs to.
    async fn audit_lockout(
        &self,
        user: &parley_domain::User,
        client: &str,
        locked: super::Locked,
    ) -> Result<(), AppError> {
        tracing::warn!(user = %user.id, until = %locked.until, "an account is locked after failed sign-ins");
        let actor = user.id.to_string();
        for membership in self.store.list_memberships_of_user(user.id).await? {
            let detail = serde_json::json!({
                "client": client,
                "failures": locked.failures,
                "locked_until": locked.until,
            });
            self.store
                .append_audit(self.audit(
                    Some(membership.organization_id),
                    &actor,
                    AuditAction::AccountLocked,
                    &actor,
                    detail,
                ))
                .await?;
        }
        Ok(())
    }

    /// Ends the session behind `session_token` (no error if it already ended).
    pub async fn sign_out(&self, session_token: &str) -> Result<(), AppError> {
        let hash = secret_hash(session_token);
        let Some(session) = self.store.find_session(&hash, self.clock.now()).await? else {
            return Ok(());
        };
        let actor = session.user_id.to_string();
        let entry = self.audit(
            Some(session.organization_id),
            &actor,
            AuditAction::SignOut,
            &actor,
            serde_json::json!({}),
        );
        self.store.delete_session(&hash, entry).await?;
        Ok(())
    }

    /// The principal behind a session cookie. The user's current role applies, so a role
    /// change or a removed membership takes effect on the next request.
    pub async fn authenticate_session(&self, session_token: &str) -> Result<Principal, AppError> {
        let session = self
            .store
            .find_session(&secret_hash(session_token), self.clock.now())
            .await?
            .ok_or(AppError::Unauthenticated(
                "the session has ended; sign in again",
            ))?;
        let membership = self
            .store
            .find_membership(session.user_id, session.organization_id)
            .await?
            .ok_or(AppError::Unauthenticated(
                "you are no longer a member of this organization",
            ))?;
        Ok(Principal {
            subject: Subject::User(session.user_id),
            home: session.organization_id,
            permissions: membership.role.permissions(),
        })
    }

    /// The CSRF token that goes with a session token.
    #[must_use]
    pub fn csrf_token(&self, session_token: &str) -> String {
        use base64::Engine;
        let Ok(mut mac) = Hmac::<sha2::Sha256>::new_from_slice(&self.keys.csrf) else {
            return String::new();
        };
        mac.update(session_token.as_bytes());
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }

    /// True when `presented` is the CSRF token of `session_token` (constant time).
    #[must_use]
    pub fn csrf_matches(&self, session_token: &str, presented: &str) -> bool {
        let expected = self.csrf_token(session_token);
        !presented.is_empty() && bool::from(expected.as_bytes().ct_eq(presented.as_bytes()))
    }
}
