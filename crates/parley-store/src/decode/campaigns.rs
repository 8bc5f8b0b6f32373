//! Decoding of campaigns, their recipients and their counters' groups.

use super::{RowSource, StoreError, count, instant, int, json, named, opt_parsed, parsed, text};

/// `campaigns.*`
pub fn campaign(r: &impl RowSource) -> Result<parley_domain::Campaign, StoreError> {
    Ok(parley_domain::Campaign {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        name: text(r, "name")?,
        audience: json(r, "audience")?,
        flow_id: parsed(r, "flow_id")?,
        flow_version: count(r, "flow_version")?,
        channel_id: parsed(r, "channel_id")?,
        start_at: r.opt_int("start_at")?.map(parley_domain::from_millis),
        end_at: r.opt_int("end_at")?.map(parley_domain::from_millis),
        window: json(r, "send_window")?,
        rate_per_second: count(r, "rate_per_second")?,
        status: named(r, "status", parley_domain::CampaignStatus::from_name)?,
        recipients_total: u64::try_from(int(r, "recipients_total")?)
            .map_err(|_| StoreError::corrupt("campaigns.recipients_total is negative"))?,
        audience_done: int(r, "audience_done")? != 0,
        audience_cursor: r.opt_text("audience_cursor")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
        revision: u64::try_from(int(r, "revision")?)
            .map_err(|_| StoreError::corrupt("campaigns.revision is negative"))?,
        archived_at: r.opt_int("archived_at")?.map(parley_domain::from_millis),
    })
}

/// `campaign_recipients.*`
pub fn recipient(r: &impl RowSource) -> Result<parley_domain::Recipient, StoreError> {
    let next_at = int(r, "next_at")?;
    let state = named(r, "state", parley_domain::RecipientState::from_name)?;
    // One column: why a skipped recipient was skipped, or why a pending one waits.
    let reason = r.opt_text("reason")?;
    let bad_reason =
        |name: &str| StoreError::corrupt(format!("campaign_recipients.reason {name:?}"));
    Ok(parley_domain::Recipient {
        campaign_id: parsed(r, "campaign_id")?,
        seq: u64::try_from(int(r, "seq")?)
            .map_err(|_| StoreError::corrupt("campaign_recipients.seq is negative"))?,
        contact_id: parsed(r, "contact_id")?,
        address: r.opt_text("address")?,
        state,
        reason: match (state, &reason) {
            (parley_domain::RecipientState::Pending, _) | (_, None) => None,
            (_, Some(name)) => {
                Some(parley_domain::SkipReason::from_name(name).ok_or_else(|| bad_reason(name))?)
            }
        },
        waiting: match (state, &reason) {
            (parley_domain::RecipientState::Pending, Some(name)) => {
                Some(parley_domain::WaitReason::from_name(name).ok_or_else(|| bad_reason(name))?)
            }
            _ => None,
        },
        error: r.opt_text("error")?,
        next_at: (next_at > 0).then(|| parley_domain::from_millis(next_at)),
        conversation_id: opt_parsed(r, "conversation_id")?,
        message_id: opt_parsed(r, "message_id")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// One group of `sql::COUNT_RECIPIENTS`.
pub fn count_row(r: &impl RowSource) -> Result<crate::CountRow, StoreError> {
    Ok(crate::CountRow {
        state: named(r, "state", parley_domain::RecipientState::from_name)?,
        reason: r.opt_text("reason")?,
        message_status: r.opt_text("message_status")?,
        closed: int(r, "closed")? != 0,
        outcome: r.opt_text("outcome")?,
        replied: int(r, "replied")? != 0,
        n: u64::try_from(int(r, "n")?).unwrap_or(0),
    })
}
