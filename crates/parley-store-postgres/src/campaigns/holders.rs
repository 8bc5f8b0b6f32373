//! What the processes running a campaign share, on PostgreSQL (migration 0019): the
//! holders' marks, and the campaign's one pace, read under its row lock and written back
//! in one transaction so processes take from it in turn.

use chrono::{DateTime, Utc};
use parley_domain::{CampaignId, Grant, Pace, to_millis};
use parley_store::{Share, StoreError};

use crate::PgStore;
use crate::rows::map_err;
use parley_store_sql::sql;

/// See `CampaignStore::hold_campaign`.
pub(super) async fn hold(
    store: &PgStore,
    campaign: CampaignId,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Share, StoreError> {
    let id = campaign.to_string();
    let mut tx = store.pool().begin().await.map_err(map_err)?;
    sqlx::query(sql::HOLD_CAMPAIGN)
        .bind(&id)
        .bind(holder)
        .bind(to_millis(until))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    sqlx::query(sql::EXPIRE_HOLDERS)
        .bind(&id)
        .bind(to_millis(now))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    let holders: Vec<String> = sqlx::query_scalar(sql::CAMPAIGN_HOLDERS)
        .bind(&id)
        .fetch_all(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(Share::among(&holders, holder))
}

/// See `CampaignStore::release_campaign`.
pub(super) async fn release(
    store: &PgStore,
    campaign: CampaignId,
    holder: &str,
) -> Result<(), StoreError> {
    sqlx::query(sql::RELEASE_CAMPAIGN)
        .bind(campaign.to_string())
        .bind(holder)
        .execute(store.pool())
        .await
        .map_err(map_err)?;
    Ok(())
}

/// See `CampaignStore::take_pace`.
pub(super) async fn take(
    store: &PgStore,
    campaign: CampaignId,
    pace: Pace,
    want: u32,
    now: DateTime<Utc>,
) -> Result<Grant, StoreError> {
    let id = campaign.to_string();
    let mut tx = store.pool().begin().await.map_err(map_err)?;
    let state: i64 = sqlx::query_scalar(sql::PACE_STATE)
        .bind(&id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
    let grant = pace.take(state, now.timestamp_micros(), want);
    sqlx::query(sql::SET_PACE)
        .bind(&id)
        .bind(grant.state)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    tx.commit().await.map_err(map_err)?;
    Ok(grant)
}
