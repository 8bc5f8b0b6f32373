//! Campaigns on SQLite: each write with its audit entry in one `BEGIN IMMEDIATE`
//! transaction; a move is one guarded update (the status it may move from is part of
//! its `WHERE`), so two people moving a campaign at once cannot both win.

use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, CampaignStatus, ChannelKind, Contact, Grant, NewAuditEntry, OrgId, Pace,
    Recipient, RecipientState, SkipReason, to_millis,
};
use parley_store::{
    AudienceSlice, CampaignCounts, CampaignStore, Page, PageRequest, Settle, Share, StoreError,
    decode, sql, statuses_before,
};

use crate::SqliteStore;
use crate::rows::{Cols, map_err};

mod holders;
mod recipients;

/// Moves a campaign whose status is one of `$5` (a JSON array).
const MOVE_CAMPAIGN: &str = "UPDATE campaigns SET status = $3, updated_at = $4, \
     revision = revision + 1 WHERE id = $1 AND organization_id = $2 \
     AND status IN (SELECT value FROM json_each($5)) RETURNING *";

#[async_trait::async_trait]
impl CampaignStore for SqliteStore {
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
            .bind(i64::try_from(c.revision).unwrap_or(i64::MAX))
            .bind(c.end_at.map(to_millis));
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
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError> {
        let rows = sqlx::query(sql::LIST_CAMPAIGNS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(archived)
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

    async fn complete_campaign(
        &self,
        organization: OrgId,
        id: CampaignId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Option<Campaign>, StoreError> {
        let query = sqlx::query(sql::COMPLETE_CAMPAIGN)
            .bind(to_millis(at))
            .bind(id.to_string())
            .bind(organization.to_string());
        self.write_audited(query, |r| decode::campaign(r), &audit)
            .await
    }

    async fn campaigns_to_dispatch(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Campaign>, StoreError> {
        let rows = sqlx::query(sql::CAMPAIGNS_TO_DISPATCH)
            .bind(to_millis(now))
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter().map(|r| decode::campaign(&Cols(r))).collect()
    }

    async fn add_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        self.direct
            .run(move |c| recipients::add_recipients(c, organization, campaign, kind, slice, at))
            .await
    }

    async fn due_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        now: DateTime<Utc>,
        share: Share,
        limit: u32,
    ) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError> {
        self.owned(organization, campaign).await?;
        self.reads
            .run(move |c| recipients::due_recipients(c, organization, campaign, now, share, limit))
            .await
    }

    async fn hold_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError> {
        self.direct
            .run_grouped(move |c| holders::hold(c, campaign, &holder, now, until))
            .await
    }

    async fn release_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError> {
        self.direct
            .run_grouped(move |c| holders::release(c, campaign, &holder))
            .await
    }

    async fn take_pace(
        &self,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError> {
        self.direct
            .run_grouped(move |c| holders::take_pace(c, campaign, pace, want, now))
            .await
    }

    async fn settle_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.owned(organization, campaign).await?;
        self.direct
            .run_grouped(move |c| recipients::settle(c, campaign, &changes, at))
            .await
    }

    async fn skip_pending(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        reason: SkipReason,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.owned(organization, campaign).await?;
        self.direct
            .run_grouped(move |c| recipients::skip_pending(c, campaign, reason.as_str(), limit, at))
            .await
    }

    async fn list_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        state: Option<RecipientState>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, StoreError> {
        self.owned(organization, campaign).await?;
        // The application hands over cursors it checked; anything else ends the list.
        let after = page
            .after
            .as_deref()
            .map(|a| a.parse::<i64>().unwrap_or(i64::MAX));
        let rows = sqlx::query(sql::LIST_RECIPIENTS)
            .bind(campaign.to_string())
            .bind(state.map(RecipientState::as_str))
            .bind(after)
            .bind(page.fetch_limit())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::recipient(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |r| r.seq.to_string()))
    }

    async fn campaign_counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
    ) -> Result<CampaignCounts, StoreError> {
        self.counts(organization, campaign, sql::COUNT_RECIPIENTS)
            .await
    }

    async fn campaign_state_counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
    ) -> Result<CampaignCounts, StoreError> {
        self.counts(organization, campaign, sql::COUNT_RECIPIENT_STATES)
            .await
    }
}

impl SqliteStore {
    /// A campaign's counters by one of the two count queries.
    async fn counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        query: &'static str,
    ) -> Result<CampaignCounts, StoreError> {
        self.owned(organization, campaign).await?;
        let rows = sqlx::query(query)
            .bind(campaign.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let rows = rows
            .iter()
            .map(|r| decode::count_row(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CampaignCounts::from_rows(&rows))
    }

    /// `NotFound` unless the campaign is `organization`'s.
    async fn owned(&self, organization: OrgId, campaign: CampaignId) -> Result<(), StoreError> {
        sqlx::query("SELECT 1 FROM campaigns WHERE id = ?1 AND organization_id = ?2")
            .bind(campaign.to_string())
            .bind(organization.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
