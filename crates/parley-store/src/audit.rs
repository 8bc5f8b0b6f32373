//! The audit-log port: append-only.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{AuditAction, AuditEntry, NewAuditEntry, OrgId};

use crate::{Page, PageRequest, StoreError};

/// The audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one entry on its own (for events with no other write, like a failed sign-in).
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError>;

    /// Entries about exactly `organization` that `filter` keeps, newest first.
    async fn list_audit(
        &self,
        organization: OrgId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
}

/// Which entries of an organization's log a reader wants; an absent part keeps every entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Who acted, as entries name them (a user's or an API key's id, `cli`, `system`).
    pub actor: Option<String>,
    /// What they did.
    pub action: Option<AuditAction>,
    /// At or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Before this instant.
    pub until: Option<DateTime<Utc>>,
}
