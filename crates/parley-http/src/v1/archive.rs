//! Archiving and restoring flows, channels and campaigns: `POST …/{id}/archive` and
//! `POST …/{id}/restore`, each answering with the item as its `GET` shows it. Nothing is
//! deleted; what still uses an item (a campaign under way, a channel answering with a
//! flow) keeps it from being archived (409). Flows and campaigns need `campaigns:write`,
//! channels administration.

use axum::Json;
use axum::extract::{Path, State};
use parley_store::Archivable;

use super::campaigns::CampaignResponse;
use super::channels::ChannelResponse;
use super::flows::FlowResponse;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::path_id;
use crate::problem::{ApiError, ProblemResponses};

/// Archives or restores the flow `id`, then reads it.
async fn flow(
    state: AppState,
    caller: Caller,
    id: String,
    archive: bool,
) -> Result<Json<FlowResponse>, ApiError> {
    let what = Archivable::Flow(path_id(&id, "flow")?);
    state.app.set_archived(&caller.0, what, archive).await?;
    super::flows::get(State(state), caller, Path(id)).await
}

/// Archives or restores the channel `id`, then reads it.
async fn channel(
    state: AppState,
    caller: Caller,
    id: String,
    archive: bool,
) -> Result<Json<ChannelResponse>, ApiError> {
    let what = Archivable::Channel(path_id(&id, "channel")?);
    state.app.set_archived(&caller.0, what, archive).await?;
    super::channels::get(State(state), caller, Path(id)).await
}

/// Archives or restores the campaign `id`, then reads it.
async fn campaign(
    state: AppState,
    caller: Caller,
    id: String,
    archive: bool,
) -> Result<Json<CampaignResponse>, ApiError> {
    let what = Archivable::Campaign(path_id(&id, "campaign")?);
    state.app.set_archived(&caller.0, what, archive).await?;
    super::campaigns::get(State(state), caller, Path(id)).await
}

/// Archive a flow no channel answers with and no campaign under way runs: it leaves the
/// list and cannot be chosen again; its versions and conversations stay.
#[utoipa::path(post, operation_id = "archive_flow", path = "/flows/{id}/archive", tag = "flows",
    params(("id" = String, Path, description = "flow_…")),
    responses((status = 200, body = FlowResponse), ProblemResponses))]
pub async fn archive_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FlowResponse>, ApiError> {
    flow(state, caller, id, true).await
}

/// Restore an archived flow.
#[utoipa::path(post, operation_id = "restore_flow", path = "/flows/{id}/restore", tag = "flows",
    params(("id" = String, Path, description = "flow_…")),
    responses((status = 200, body = FlowResponse), ProblemResponses))]
pub async fn restore_flow(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<FlowResponse>, ApiError> {
    flow(state, caller, id, false).await
}

/// Archive a channel no campaign under way sends through: it is disabled, leaves the list
/// and cannot be chosen again; its conversations stay.
#[utoipa::path(post, operation_id = "archive_channel", path = "/channels/{id}/archive", tag = "channels",
    params(("id" = String, Path, description = "chn_…")),
    responses((status = 200, body = ChannelResponse), ProblemResponses))]
pub async fn archive_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChannelResponse>, ApiError> {
    channel(state, caller, id, true).await
}

/// Restore an archived channel (it stays disabled until it is enabled).
#[utoipa::path(post, operation_id = "restore_channel", path = "/channels/{id}/restore", tag = "channels",
    params(("id" = String, Path, description = "chn_…")),
    responses((status = 200, body = ChannelResponse), ProblemResponses))]
pub async fn restore_channel(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<ChannelResponse>, ApiError> {
    channel(state, caller, id, false).await
}

/// Archive a draft, completed or cancelled campaign: it leaves the list; its recipients and
/// conversations stay.
#[utoipa::path(post, operation_id = "archive_campaign", path = "/campaigns/{id}/archive", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn archive_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    campaign(state, caller, id, true).await
}

/// Restore an archived campaign.
#[utoipa::path(post, operation_id = "restore_campaign", path = "/campaigns/{id}/restore", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn restore_campaign(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    campaign(state, caller, id, false).await
}
