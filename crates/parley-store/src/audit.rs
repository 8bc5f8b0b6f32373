//! The audit-log port: append-only.

use async_trait::async_trait;
use parley_domain::{AuditEntry, NewAuditEntry, OrgId};

use crate::{Page, PageRequest, StoreError};

/// The audit log.
#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Appends one entry on its own (for events with no other write, like a failed sign-in).
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError>;

    /// Entries about exactly `organization`, newest first.
    async fn list_audit(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError>;
}
