//! The SFTP import inbox port: each inbox's settings, a lease so one poller at a time
//! works an inbox (on one process or several), and what each poll did.
//!
//! A poll claims inboxes (`busy_until` moves to the lease's end), notes the import it is
//! running before running it, and ends by recording its outcome, which frees the inbox.
//! A poller that dies leaves the inbox claimed until the lease ends, and leaves the import
//! it was running named, so the next poll can mark that import failed.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{ImportId, NewAuditEntry, OrgId, SftpInbox, WebhookId};

use crate::StoreError;

/// What one poll of one inbox did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InboxPoll {
    /// The error that stopped the poll as a whole, if any.
    pub error: Option<String>,
    /// Files moved to `processed/`.
    pub processed: u64,
    /// Files moved to `failed/`.
    pub failed: u64,
    /// The import of the last file taken, if any was.
    pub last_import: Option<ImportId>,
}

/// SFTP import inboxes.
#[async_trait]
pub trait InboxStore: Send + Sync {
    /// Sets up or changes the inbox of endpoint `inbox.endpoint_id` (its folder, options
    /// and `enabled`; `created_at` and the poll record of one replaced are kept), with its
    /// audit entry. `NotFound` when the endpoint is not one of `inbox.organization_id`.
    async fn put_sftp_inbox(
        &self,
        inbox: SftpInbox,
        audit: NewAuditEntry,
    ) -> Result<SftpInbox, StoreError>;

    /// The inbox of an endpoint of `organization`.
    async fn find_sftp_inbox(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
    ) -> Result<Option<SftpInbox>, StoreError>;

    /// Removes the inbox of an endpoint of `organization`; `NotFound` when there is none.
    async fn delete_sftp_inbox(
        &self,
        organization: OrgId,
        endpoint: WebhookId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// Claims every enabled inbox (or only `only`) not claimed at `now`, until
    /// `lease_until`, by endpoint id.
    async fn claim_sftp_inboxes(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        only: Option<WebhookId>,
    ) -> Result<Vec<SftpInbox>, StoreError>;

    /// Extends a claim to `lease_until` and names the import the poll runs now (`None`
    /// between files).
    async fn extend_sftp_inbox(
        &self,
        endpoint: WebhookId,
        lease_until: DateTime<Utc>,
        current_import: Option<ImportId>,
    ) -> Result<(), StoreError>;

    /// Records a finished poll at `at` (adding its file counts) and frees the inbox.
    async fn finish_sftp_inbox_poll(
        &self,
        endpoint: WebhookId,
        at: DateTime<Utc>,
        poll: &InboxPoll,
    ) -> Result<(), StoreError>;
}
