//! Campaigns on SQLite (ADR 0008): recipients are written on the direct connection in
//! group commits, and due recipients read on its read-only twin.

use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, ChannelKind, Contact, Grant, OrgId, Pace, Recipient, SkipReason,
};
use parley_store::{AudienceSlice, Settle, Share, StoreError};
use parley_store_sql::CampaignsEngine;

use crate::{Sqlite, SqliteStore};

mod holders;
mod recipients;

#[async_trait::async_trait]
impl CampaignsEngine for Sqlite {
    async fn add_recipients(
        store: &SqliteStore,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        store
            .engine()
            .direct
            .run(move |c| recipients::add_recipients(c, organization, campaign, kind, slice, at))
            .await
    }

    async fn due_recipients(
        store: &SqliteStore,
        organization: OrgId,
        campaign: CampaignId,
        now: DateTime<Utc>,
        share: Share,
        limit: u32,
    ) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError> {
        store
            .engine()
            .reads
            .run(move |c| recipients::due_recipients(c, organization, campaign, now, share, limit))
            .await
    }

    async fn hold_campaign(
        store: &SqliteStore,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| holders::hold(c, campaign, &holder, now, until))
            .await
    }

    async fn release_campaign(
        store: &SqliteStore,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| holders::release(c, campaign, &holder))
            .await
    }

    async fn take_pace(
        store: &SqliteStore,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| holders::take_pace(c, campaign, pace, want, now))
            .await
    }

    async fn settle_recipients(
        store: &SqliteStore,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| recipients::settle(c, campaign, &changes, at))
            .await
    }

    async fn skip_pending(
        store: &SqliteStore,
        campaign: CampaignId,
        reason: SkipReason,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        store
            .engine()
            .direct
            .run_grouped(move |c| recipients::skip_pending(c, campaign, reason.as_str(), limit, at))
            .await
    }
}
