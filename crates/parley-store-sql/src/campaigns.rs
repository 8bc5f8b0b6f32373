//! Campaigns: each write with its audit entry in one transaction; a move is one guarded
//! update (the status it may move from is part of its `WHERE`), so two people moving a
//! campaign at once cannot both win. Recipients and the shared pace are each engine's own
//! ([`CampaignsEngine`]).

use crate::{Engine, SqlStore, query, query_built, sql};
use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, CampaignStatus, ChannelKind, Contact, Grant, NewAuditEntry, OrgId, Pace,
    Recipient, RecipientState, SkipReason, to_millis,
};
use parley_store::{
    AudienceSlice, CampaignCounts, CampaignStore, Page, PageRequest, Settle, Share, StoreError,
    decode, statuses_before,
};

#[async_trait::async_trait]
impl<E: Engine> CampaignStore for SqlStore<E> {
    async fn create_campaign(
        &self,
        c: Campaign,
        audit: NewAuditEntry,
    ) -> Result<Campaign, StoreError> {
        let query = query::<E>(sql::INSERT_CAMPAIGN)
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
        query::<E>(sql::FIND_CAMPAIGN)
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::campaign(r))
            .await
    }

    async fn list_campaigns(
        &self,
        organization: OrgId,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Campaign>, StoreError> {
        let items = query::<E>(sql::LIST_CAMPAIGNS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(archived)
            .fetch_all_as(&mut *self.conn().await?, |r| decode::campaign(r))
            .await?;
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
        // The statuses it may move from are a JSON array (`$5`).
        let statement = format!(
            "UPDATE campaigns SET status = $3, updated_at = $4, revision = revision + 1 \
             WHERE id = $1 AND organization_id = $2 AND status IN ({}) RETURNING *",
            E::json_texts("$5")
        );
        let query = query_built::<E>(statement)
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
        let query = query::<E>(sql::COMPLETE_CAMPAIGN)
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
        query::<E>(sql::CAMPAIGNS_TO_DISPATCH)
            .bind(to_millis(now))
            .bind(i64::from(limit))
            .fetch_all_as(&mut *self.conn().await?, |r| decode::campaign(r))
            .await
    }

    async fn add_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        E::add_recipients(self, organization, campaign, kind, slice, at).await
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
        E::due_recipients(self, organization, campaign, now, share, limit).await
    }

    async fn hold_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError> {
        E::hold_campaign(self, campaign, holder, now, until).await
    }

    async fn release_campaign(
        &self,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError> {
        E::release_campaign(self, campaign, holder).await
    }

    async fn take_pace(
        &self,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError> {
        E::take_pace(self, campaign, pace, want, now).await
    }

    async fn settle_recipients(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        self.owned(organization, campaign).await?;
        E::settle_recipients(self, campaign, changes, at).await
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
        E::skip_pending(self, campaign, reason, limit, at).await
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
        let items = query::<E>(sql::LIST_RECIPIENTS)
            .bind(campaign.to_string())
            .bind(state.map(RecipientState::as_str))
            .bind(after)
            .bind(page.fetch_limit())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::recipient(r))
            .await?;
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

impl<E: Engine> SqlStore<E> {
    /// A campaign's counters by one of the two count queries.
    async fn counts(
        &self,
        organization: OrgId,
        campaign: CampaignId,
        statement: &'static str,
    ) -> Result<CampaignCounts, StoreError> {
        self.owned(organization, campaign).await?;
        let rows = query::<E>(statement)
            .bind(campaign.to_string())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::count_row(r))
            .await?;
        Ok(CampaignCounts::from_rows(&rows))
    }

    /// `NotFound` unless the campaign is `organization`'s.
    async fn owned(&self, organization: OrgId, campaign: CampaignId) -> Result<(), StoreError> {
        query::<E>("SELECT 1 FROM campaigns WHERE id = $1 AND organization_id = $2")
            .bind(campaign.to_string())
            .bind(organization.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?
            .map(|_| ())
            .ok_or(StoreError::NotFound)
    }
}
