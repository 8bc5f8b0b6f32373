//! Campaigns on PostgreSQL: each write with its audit entry in one
//! transaction; a move is one guarded update (the status it may move from is part of
//! its `WHERE`), so two people moving a campaign at once cannot both win.

use chrono::{DateTime, Utc};
use parley_domain::{Campaign, CampaignId, CampaignStatus, NewAuditEntry, OrgId, to_millis};
use parley_store::{CampaignStore, Page, PageRequest, StoreError, decode, sql, statuses_before};

use crate::PgStore;
use crate::rows::{Cols, map_err};

/// Moves a campaign whose status is one of `$5` (a JSON array).
const MOVE_CAMPAIGN: &str = "UPDATE campaigns SET status = $3, updated_at = $4, \
     revision = revision + 1 WHERE id = $1 AND organization_id = $2 \
     AND status IN (SELECT jsonb_array_elements_text($5::jsonb)) RETURNING *";

#[async_trait::async_trait]
impl CampaignStore for PgStore {
    async fn create_campaign(
        &self,
        c: Campaign,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError> {
        let query = sqlx::query(sql::INSERT_CAMPAIGN)
            .bind(c.id.to_string())
            .bind(c.organization_id.to_string())
            .bind(c.name.clone())
            .bind(c.audience.to_string())
            .bind(c.flow_id.to_string())
            .bind(i64::from(c.flow_version))
            .bind(c.channel_id.to_string())
            .bind(c.start_at.map(to_millis))
            .bind(c.window.to_string())
            .bind(i64::from(c.rate_per_second))
            .bind(c.status.as_str())
            .bind(to_millis(c.created_at))
            .bind(to_millis(c.updated_at))
            .bind(i64::try_from(c.revision).unwrap_or(i64::MAX));
        self.write_audited(query, |r| decode::campaign(r), &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn get_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
    ) -> Result<Option<Campaign>, StoreError> {
        let row = sqlx::query(sql::FIND_CAMPAIGN)
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref().map(|r| decode::campaign(&Cols(r))).transpose()
    }

    async fn list_campaigns(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError> {
        let rows = sqlx::query(sql::LIST_CAMPAIGNS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::campaign(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |c| c.id.to_string()))
    }

    async fn move_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
        next: CampaignStatus,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError> {
        let query = sqlx::query(MOVE_CAMPAIGN)
            .bind(id.to_string())
            .bind(organization.to_string())
            .bind(next.as_str())
            .bind(to_millis(at))
            .bind(statuses_before(next));
        if let Some(moved) = self
            .write_audited(query, |r| decode::campaign(r), &audit)
            .await?
        {
            return Ok(moved);
        }
        match self.get_campaign(organization, id).await? {
            Some(_) => Err(StoreError::Conflict {
                constraint: "campaign_status",
            }),
            None => Err(StoreError::NotFound),
        }
    }
}
