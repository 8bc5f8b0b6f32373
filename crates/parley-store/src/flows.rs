//! The flows port: drafts and their immutable, numbered versions. Versions are only ever
//! inserted; no method updates or deletes one (a conversation keeps the version it
//! started with, SPEC §4).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{FlowId, FlowRecord, FlowVersion, NewAuditEntry, OrgId, UserId};

use crate::{Page, PageRequest, StoreError};

/// What publishing needs; the store assigns the version number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewFlowVersion {
    /// The flow.
    pub flow_id: FlowId,
    /// Its organization.
    pub organization_id: OrgId,
    /// The document's name.
    pub name: String,
    /// The validated document as canonical JSON.
    pub document: String,
    /// Who publishes.
    pub published_by: Option<UserId>,
    /// When.
    pub published_at: DateTime<Utc>,
}

/// Flows.
#[async_trait]
pub trait FlowStore: Send + Sync {
    /// Stores a new flow (its `latest_version` is ignored: a new flow has none) with its
    /// audit entry.
    async fn create_flow(
        &self,
        flow: FlowRecord,
        audit: NewAuditEntry,
    ) -> Result<FlowRecord, StoreError>;

    /// Replaces the draft of a flow of `organization` (`NotFound` otherwise).
    async fn update_flow_draft(
        &self,
        organization: OrgId,
        id: FlowId,
        name: &str,
        draft: &str,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<FlowRecord, StoreError>;

    /// A flow of `organization`.
    async fn find_flow(
        &self,
        organization: OrgId,
        id: FlowId,
    ) -> Result<Option<FlowRecord>, StoreError>;

    /// Flows of exactly `organization`, ordered by id.
    /// (`archived`: the archived ones instead of the others.)
    async fn list_flows(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<FlowRecord>, StoreError>;

    /// Publishes `new.document` (already validated by the caller) as the flow's next
    /// version, numbered one above the latest, in one transaction with the flow's
    /// `latest_version` and the audit entry. Concurrent publishers get consecutive numbers.
    /// `NotFound` unless the flow belongs to `new.organization_id`.
    async fn publish_flow_version(
        &self,
        new: NewFlowVersion,
        audit: NewAuditEntry,
    ) -> Result<FlowVersion, StoreError>;

    /// Versions of a flow of `organization`, newest first, paged by version number.
    async fn list_flow_versions(
        &self,
        organization: OrgId,
        id: FlowId,
        page: PageRequest,
    ) -> Result<Page<FlowVersion>, StoreError>;

    /// One version of a flow of `organization`.
    async fn find_flow_version(
        &self,
        organization: OrgId,
        id: FlowId,
        version: u32,
    ) -> Result<Option<FlowVersion>, StoreError>;
}
