//! What the processes running a campaign share, on SQLite (migration 0019): the holders'
//! marks and the campaign's one pace. Each is a piece of the group commit on the direct
//! connection, so a mark or a take costs no transaction of its own. (A SQLite database
//! has one process; the rows still make the rule the same on both engines.)

use chrono::{DateTime, Utc};
use parley_domain::{CampaignId, Grant, Pace, to_millis};
use parley_store::{Share, StoreError};
use rusqlite::{Connection, params};

use crate::rows::{numbered_sql, sql_err};
use parley_store_sql::sql;

numbered_sql! {
    HOLD_CAMPAIGN = sql::HOLD_CAMPAIGN;
    EXPIRE_HOLDERS = sql::EXPIRE_HOLDERS;
    CAMPAIGN_HOLDERS = sql::CAMPAIGN_HOLDERS;
    RELEASE_CAMPAIGN = sql::RELEASE_CAMPAIGN;
    PACE_STATE = sql::PACE_STATE;
    SET_PACE = sql::SET_PACE;
}

/// See `CampaignStore::hold_campaign`.
pub(crate) fn hold(
    tx: &Connection,
    campaign: CampaignId,
    holder: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Share, StoreError> {
    let id = campaign.to_string();
    tx.prepare_cached(&HOLD_CAMPAIGN)
        .and_then(|mut s| s.execute(params![id, holder, to_millis(until)]))
        .map_err(sql_err)?;
    tx.prepare_cached(&EXPIRE_HOLDERS)
        .and_then(|mut s| s.execute(params![id, to_millis(now)]))
        .map_err(sql_err)?;
    let holders = tx
        .prepare_cached(&CAMPAIGN_HOLDERS)
        .and_then(|mut s| {
            s.query_map(params![id], |r| r.get::<_, String>(0))?
                .collect::<Result<Vec<_>, _>>()
        })
        .map_err(sql_err)?;
    Ok(Share::among(&holders, holder))
}

/// See `CampaignStore::release_campaign`.
pub(crate) fn release(
    tx: &Connection,
    campaign: CampaignId,
    holder: &str,
) -> Result<(), StoreError> {
    tx.prepare_cached(&RELEASE_CAMPAIGN)
        .and_then(|mut s| s.execute(params![campaign.to_string(), holder]))
        .map_err(sql_err)?;
    Ok(())
}

/// See `CampaignStore::take_pace` (the group transaction is the only writer).
pub(crate) fn take_pace(
    tx: &Connection,
    campaign: CampaignId,
    pace: Pace,
    want: u32,
    now: DateTime<Utc>,
) -> Result<Grant, StoreError> {
    let id = campaign.to_string();
    let state: i64 = tx
        .prepare_cached(&PACE_STATE)
        .and_then(|mut s| s.query_row(params![id], |r| r.get(0)))
        .map_err(sql_err)?;
    let grant = pace.take(state, now.timestamp_micros(), want);
    tx.prepare_cached(&SET_PACE)
        .and_then(|mut s| s.execute(params![id, grant.state]))
        .map_err(sql_err)?;
    Ok(grant)
}
