//! The browser sessions port. The cookie holds a random token; the store keeps its SHA-256.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{NewAuditEntry, OrgId, SessionId, UserId};

use crate::StoreError;

/// A session to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSession {
    /// Its id (for audit and listing; never a credential).
    pub id: SessionId,
    /// Hex SHA-256 of the cookie token.
    pub token_hash: String,
    /// Who signed in.
    pub user_id: UserId,
    /// The organization the session acts for.
    pub organization_id: OrgId,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
}

/// A stored session.
pub type Session = NewSession;

/// Browser sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a session and the sign-in audit entry in one transaction.
    async fn create_session(
        &self,
        new: NewSession,
        audit: NewAuditEntry,
    ) -> Result<Session, StoreError>;

    /// The unexpired session with this token hash.
    async fn find_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError>;

    /// Ends a session (no error when it is already gone) and records the audit entry.
    async fn delete_session(
        &self,
        token_hash: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Deletes sessions that expired before `now`; returns how many.
    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
