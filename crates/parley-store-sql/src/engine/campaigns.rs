//! What each engine writes its own way for the campaigns port: [`CampaignsEngine`].

use super::Engine;
use crate::SqlStore;
use chrono::{DateTime, Utc};
use parley_domain::{
    Campaign, CampaignId, ChannelKind, Contact, Grant, OrgId, Pace, Recipient, SkipReason,
};
use parley_store::{AudienceSlice, Settle, Share, StoreError};

/// The campaign operations each engine writes its own way (ADR 0008): SQLite on its
/// direct connection, in group commits; PostgreSQL under the campaign's row lock.
#[async_trait::async_trait]
pub trait CampaignsEngine: Sized {
    /// See `CampaignStore::add_recipients`.
    async fn add_recipients(
        store: &SqlStore<Self>,
        organization: OrgId,
        campaign: CampaignId,
        kind: ChannelKind,
        slice: AudienceSlice,
        at: DateTime<Utc>,
    ) -> Result<Campaign, StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::due_recipients` (the campaign is the organization's).
    async fn due_recipients(
        store: &SqlStore<Self>,
        organization: OrgId,
        campaign: CampaignId,
        now: DateTime<Utc>,
        share: Share,
        limit: u32,
    ) -> Result<Vec<(Recipient, Option<Contact>)>, StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::hold_campaign`.
    async fn hold_campaign(
        store: &SqlStore<Self>,
        campaign: CampaignId,
        holder: String,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Share, StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::release_campaign`.
    async fn release_campaign(
        store: &SqlStore<Self>,
        campaign: CampaignId,
        holder: String,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::take_pace`.
    async fn take_pace(
        store: &SqlStore<Self>,
        campaign: CampaignId,
        pace: Pace,
        want: u32,
        now: DateTime<Utc>,
    ) -> Result<Grant, StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::settle_recipients` (the campaign is the organization's).
    async fn settle_recipients(
        store: &SqlStore<Self>,
        campaign: CampaignId,
        changes: Vec<(u64, Settle)>,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>
    where
        Self: Engine;

    /// See `CampaignStore::skip_pending` (the campaign is the organization's).
    async fn skip_pending(
        store: &SqlStore<Self>,
        campaign: CampaignId,
        reason: SkipReason,
        limit: u32,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError>
    where
        Self: Engine;
}
