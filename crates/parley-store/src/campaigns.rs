//! The campaigns port (SPEC §6): an organization's campaigns and how they move. Each
//! change is written with its audit entry in one transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{Campaign, CampaignId, CampaignStatus, NewAuditEntry, OrgId};

use crate::{Page, PageRequest, StoreError};

/// Campaigns.
#[async_trait]
pub trait CampaignStore: Send + Sync {
    /// Stores a new campaign with its audit entry.
    async fn create_campaign(
        &self,
        campaign: Campaign,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError>;

    /// A campaign of `organization`.
    async fn get_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
    ) -> Result<Option<Campaign>, StoreError>;

    /// Campaigns of exactly `organization`, by id.
    async fn list_campaigns(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError>;

    /// Moves a campaign of `organization` to `next` at `at`, with its audit entry, when
    /// its status as it stands may become `next` (`CampaignStatus::can_become`);
    /// `Conflict { constraint: "campaign_status" }` when it may not, `NotFound` when there
    /// is no such campaign. Nothing is written unless it moves.
    async fn move_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
        next: CampaignStatus,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError>;
}

/// The statuses a campaign may move to `next` from, as a JSON array (the engines'
/// guarded update takes it as one parameter).
#[must_use]
pub fn statuses_before(next: CampaignStatus) -> String {
    let from: Vec<&str> = CampaignStatus::ALL
        .into_iter()
        .filter(|s| s.can_become(next))
        .map(CampaignStatus::as_str)
        .collect();
    serde_json::to_string(&from).unwrap_or_else(|_| "[]".to_owned())
}
