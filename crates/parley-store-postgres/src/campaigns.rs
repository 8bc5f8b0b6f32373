//! Campaigns on PostgreSQL (ADR 0008): recipients are written and claimed under the
//! campaign's row lock, and the processes running a campaign share its pace in one
//! transaction each.

use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, ChannelKind, Contact, Grant, OrgId, Pace, Recipient, SkipReason,
    to_millis,
};
use parley_store::{AudienceSlice, Settle, Share, StoreError};
use parley_store_sql::{CampaignsEngine, sql};

use crate::rows::map_err;
use crate::{PgStore, Postgres};

mod holders;
mod recipients;

#[async_trait::async_trait]
impl CampaignsEngine for Postgres {
    async fn add_recipients(
        store: &PgStore,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        recipients::write_slice(store, organization, campaign, kind, slice, at).await
    }

    async fn due_recipients(
        store: &PgStore,
        organization: OrgId,
        campaign: CampaignId,
        now: DateTime<Utc>,
        share: Share,
        limit: u32,
    ) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError> {
        recipients::due(store, organization, campaign, now, share, limit).await
    }

    async fn hold_campaign(
        store: &PgStore,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError> {
        holders::hold(store, campaign, &holder, now, until).await
    }

    async fn release_campaign(
        store: &PgStore,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError> {
        holders::release(store, campaign, &holder).await
    }

    async fn take_pace(
        store: &PgStore,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError> {
        holders::take(store, campaign, pace, want, now).await
    }

    async fn settle_recipients(
        store: &PgStore,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        recipients::settle(store, campaign, changes, at).await
    }

    async fn skip_pending(
        store: &PgStore,
        campaign: CampaignId,
        reason: SkipReason,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let n = sqlx::query(sql::SKIP_PENDING)
            .bind(campaign.to_string())
            .bind(reason.as_str())
            .bind(i64::from(limit))
            .bind(to_millis(at))
            .execute(store.pool())
            .await
            .map_err(map_err)?
            .rows_affected();
        Ok(n)
    }
}
