//! The outcome statuses port: an organization's list of statuses that flows and agents
//! tag conversations with (SPEC §5), each change with its audit entry.

use async_trait::async_trait;
use parley_domain::{NewAuditEntry, OrgId, OutcomeStatus};

use crate::StoreError;

/// Outcome statuses.
#[async_trait]
pub trait OutcomeStore: Send + Sync {
    /// Defines a status (`Conflict { constraint: "outcome_statuses_pkey" }` when its key
    /// exists).
    async fn create_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError>;

    /// Replaces the label, category, `closes` and `updated_at` of the status with
    /// `status.key` (`NotFound` when there is none).
    async fn update_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError>;

    /// The organization's statuses, by key.
    async fn list_outcome_statuses(
        &self,
        organization: OrgId,
    ) -> Result<Vec<OutcomeStatus>, StoreError>;

    /// Removes a status (`NotFound` when there is none). Conversations tagged with it
    /// keep the key they were tagged with.
    async fn delete_outcome_status(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
}
