//! `/api/v1/campaigns`: campaigns (SPEC §6) — create, list, read with live counters,
//! move (`schedule`, `start`, `pause`, `resume`, `cancel`), and their recipients as a
//! list or a CSV file. Reading needs `campaigns:read`, everything else
//! `campaigns:write`.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use http::{StatusCode, header};
use parley_app::campaigns::{AudienceInput, CampaignView, Move, NewCampaign, WindowInput};
use parley_domain::{Campaign, CampaignId, Recipient, RecipientState};
use parley_store::{CampaignCounts, PageRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use super::dto::list_type;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, ListQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A campaign's counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct CountsResponse {
    /// Recipients in state `pending`: not sent to yet.
    pub pending: u64,
    /// Of those, the ones held back, by their `reason`: `open_conversation` (the
    /// contact is in a conversation on the channel), `outside_window` (their send window
    /// is closed now), `retrying`.
    pub waiting: BTreeMap<String, u64>,
    /// Recipients in state `sent`: their first message was handed to the send path.
    pub sent: u64,
    /// Of those, first messages the provider reported delivered (or read).
    pub delivered: u64,
    /// Of those, first messages the provider refused or could not deliver.
    pub undelivered: u64,
    /// Recipients in state `failed`: their first message could not be made.
    pub failed: u64,
    /// Recipients in state `skipped`, by their `reason`.
    pub skipped: BTreeMap<String, u64>,
    /// Conversations in which the customer wrote back.
    pub replied: u64,
    /// Conversations that ended with an opt-out.
    pub opted_out: u64,
    /// Closed conversations by outcome status (`none`: without one).
    pub completed: BTreeMap<String, u64>,
}

impl From<CampaignCounts> for CountsResponse {
    fn from(c: CampaignCounts) -> Self {
        Self {
            pending: c.pending,
            waiting: c.waiting,
            sent: c.sent,
            delivered: c.delivered,
            undelivered: c.undelivered,
            failed: c.failed,
            skipped: c.skipped,
            replied: c.replied,
            opted_out: c.opted_out,
            completed: c.completed,
        }
    }
}

/// A campaign.
#[derive(Debug, Serialize, ToSchema)]
pub struct CampaignResponse {
    /// `cmp_…`
    pub id: String,
    /// A name people recognise.
    pub name: String,
    /// `{"import_id": …}` or `{"filter": {"fields": {…}}}`.
    #[schema(value_type = Object)]
    pub audience: Value,
    /// `flow_…`
    pub flow_id: String,
    /// The published version every conversation runs.
    pub flow_version: u32,
    /// `chn_…`
    pub channel_id: String,
    /// When it may start.
    pub start_at: Option<DateTime<Utc>>,
    /// When it stops.
    pub end_at: Option<DateTime<Utc>>,
    /// `{"days": […], "opens": "08:00", "closes": "21:00"}` in each contact's local time.
    #[schema(value_type = Object)]
    pub window: Value,
    /// First messages a second.
    pub rate_per_second: u32,
    /// `draft`, `scheduled`, `running`, `paused`, `completed` or `cancelled`.
    pub status: String,
    /// Recipients written so far.
    pub recipients_total: u64,
    /// Whether every contact of the audience has its recipient.
    pub audience_complete: bool,
    /// Counters (absent in lists). While the campaign runs, the state counters
    /// (`pending`, `waiting`, `sent`, `failed`, `skipped`) are at most a tenth of a second
    /// old and the others (`delivered`, `undelivered`, `replied`, `opted_out`,
    /// `completed`) at most about two seconds; they are exact as soon as the campaign
    /// changes status (started, paused, completed, cancelled).
    pub counts: Option<CountsResponse>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was archived (left out of lists unless `archived=true`; see the archive
    /// operation).
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<Campaign> for CampaignResponse {
    fn from(c: Campaign) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name,
            audience: c.audience,
            flow_id: c.flow_id.to_string(),
            flow_version: c.flow_version,
            channel_id: c.channel_id.to_string(),
            start_at: c.start_at,
            end_at: c.end_at,
            window: c.window,
            rate_per_second: c.rate_per_second,
            status: c.status.as_str().to_owned(),
            recipients_total: c.recipients_total,
            audience_complete: c.audience_done,
            counts: None,
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
        }
    }
}

impl From<CampaignView> for CampaignResponse {
    fn from(v: CampaignView) -> Self {
        Self {
            counts: Some(v.counts.into()),
            ..v.campaign.into()
        }
    }
}

list_type!(CampaignList, CampaignResponse);

/// A recipient.
#[derive(Debug, Serialize, ToSchema)]
pub struct RecipientResponse {
    /// Its place in the audience, from 1 (the list's cursor).
    pub seq: u64,
    /// `ct_…`
    pub contact_id: String,
    /// The address written to.
    pub address: Option<String>,
    /// `pending`, `sent`, `failed` or `skipped`.
    pub state: String,
    /// Why it was skipped (`opted_out`, `invalid_address`, `duplicate`,
    /// `window_expired`, `cancelled`), or why a pending one waits (`open_conversation`,
    /// `outside_window`, `retrying`).
    pub reason: Option<String>,
    /// Why it failed.
    pub error: Option<String>,
    /// Not sent before this time (a closed window, a conversation in progress).
    pub next_at: Option<DateTime<Utc>>,
    /// `conv_…`: the conversation its first message started.
    pub conversation_id: Option<String>,
    /// `msg_…`: its first message.
    pub message_id: Option<String>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Recipient> for RecipientResponse {
    fn from(r: Recipient) -> Self {
        let reason = reason_of(&r).map(str::to_owned);
        Self {
            seq: r.seq,
            contact_id: r.contact_id.to_string(),
            address: r.address,
            state: r.state.as_str().to_owned(),
            reason,
            error: r.error,
            next_at: r.next_at,
            conversation_id: r.conversation_id.map(|c| c.to_string()),
            message_id: r.message_id.map(|m| m.to_string()),
            updated_at: r.updated_at,
        }
    }
}

list_type!(RecipientList, RecipientResponse);

/// A recipient's `reason`: why it was skipped, or why it still waits.
fn reason_of(r: &Recipient) -> Option<&'static str> {
    r.reason
        .map(|x| x.as_str())
        .or(r.waiting.map(|w| w.as_str()))
}

/// Who a campaign is for: exactly one of `import_id` and `filter`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AudienceRequest {
    /// `imp_…`: the contacts of a completed import.
    #[schema(pattern = "^imp_[0-9a-z]{26}$")]
    pub import_id: Option<String>,
    /// Contacts whose fields equal these values.
    pub filter: Option<FilterRequest>,
}

/// A contact filter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterRequest {
    /// Field key → value, read by the field's type (every contact when empty).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
}

/// When a campaign sends; each part left out is the organization's contact hours' (at
/// first every day, 08:00 to 21:00). The same shape gives an organization's contact hours.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowRequest {
    /// Weekdays: `mon` … `sun`.
    #[schema(value_type = Option<Vec<super::vocab::WeekdayName>>)]
    pub days: Option<Vec<String>>,
    /// `HH:MM`, local to each contact.
    #[schema(pattern = "^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    pub opens: Option<String>,
    /// `HH:MM` (or `24:00`), local to each contact.
    #[schema(pattern = "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")]
    pub closes: Option<String>,
}

/// A campaign to create (as a draft).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCampaignRequest {
    /// A name people recognise.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Who it is for.
    pub audience: AudienceRequest,
    /// `flow_…`
    #[schema(pattern = "^flow_[0-9a-z]{26}$")]
    pub flow_id: String,
    /// A published version (default: the latest).
    #[schema(minimum = 1)]
    pub flow_version: Option<u32>,
    /// `chn_…`
    #[schema(pattern = "^chn_[0-9a-z]{26}$")]
    pub channel_id: String,
    /// When it may start (default: when started).
    pub start_at: Option<DateTime<Utc>>,
    /// When it stops (default: when every recipient is done).
    pub end_at: Option<DateTime<Utc>>,
    /// When it sends.
    #[serde(default)]
    pub window: WindowRequest,
    /// First messages a second (default: the channel's rate).
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_per_second: Option<u32>,
}

fn invalid(field: &str, message: &str) -> ApiError {
    ApiError::from(parley_app::AppError::invalid(field, message))
}

fn audience(a: AudienceRequest) -> Result<AudienceInput, ApiError> {
    match (a.import_id, a.filter) {
        (Some(id), None) => id
            .parse()
            .map(AudienceInput::Import)
            .map_err(|_| invalid("audience.import_id", "must be an import id (imp_…)")),
        (None, Some(f)) => {
            let mut fields = Vec::with_capacity(f.fields.len());
            for (key, value) in f.fields {
                let text = match value {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => {
                        return Err(invalid(
                            &format!("audience.filter.fields.{key}"),
                            "must be text, a number or a boolean",
                        ));
                    }
                };
                fields.push((key, text));
            }
            Ok(AudienceInput::Filter(fields))
        }
        _ => Err(invalid(
            "audience",
            "must name exactly one of import_id and filter",
        )),
    }
}

/// The organization's campaigns (without counters).
#[utoipa::path(get, operation_id = "list_campaigns", path = "/campaigns", tag = "campaigns", params(ListQuery),
    responses((status = 200, body = CampaignList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<CampaignList>, ApiError> {
    Ok(Json(
        state
            .app
            .list_campaigns(&access, q.archived(), q.page()?)
            .await?
            .into(),
    ))
}

/// Create a campaign, as a draft.
#[utoipa::path(post, operation_id = "create_campaign", path = "/campaigns", tag = "campaigns", request_body = CreateCampaignRequest,
    responses((status = 201, body = CampaignResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateCampaignRequest>,
) -> Result<(StatusCode, Json<CampaignResponse>), ApiError> {
    let audience = audience(body.audience)?;
    let flow_id = body
        .flow_id
        .parse()
        .map_err(|_| invalid("flow_id", "must be a flow id (flow_…)"))?;
    let channel_id = body
        .channel_id
        .parse()
        .map_err(|_| invalid("channel_id", "must be a channel id (chn_…)"))?;
    let created = state
        .app
        .create_campaign(
            &access,
            NewCampaign {
                name: body.name,
                audience,
                flow_id,
                flow_version: body.flow_version,
                channel_id,
                start_at: body.start_at,
                end_at: body.end_at,
                window: WindowInput {
                    days: body.window.days,
                    opens: body.window.opens,
                    closes: body.window.closes,
                },
                rate_per_second: body.rate_per_second,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One campaign with its live counters (at most a second old).
#[utoipa::path(get, operation_id = "get_campaign", path = "/campaigns/{id}", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id = path_id(&id, "campaign")?;
    Ok(Json(state.app.get_campaign(&access, id).await?.into()))
}

async fn moved(
    state: &AppState,
    access: &parley_app::auth::Access,
    id: &str,
    how: Move,
) -> Result<Json<CampaignResponse>, ApiError> {
    let id: CampaignId = path_id(id, "campaign")?;
    Ok(Json(state.app.move_campaign(access, id, how).await?.into()))
}

/// Schedule a draft for its `start_at`.
#[utoipa::path(post, operation_id = "schedule_campaign", path = "/campaigns/{id}/schedule", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn schedule(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    moved(&state, &access, &id, Move::Schedule).await
}

/// Start a draft or scheduled campaign now.
#[utoipa::path(post, operation_id = "start_campaign", path = "/campaigns/{id}/start", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn start(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    moved(&state, &access, &id, Move::Start).await
}

/// Pause a scheduled or running campaign: nothing more is sent within a second.
#[utoipa::path(post, operation_id = "pause_campaign", path = "/campaigns/{id}/pause", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn pause(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    moved(&state, &access, &id, Move::Pause).await
}

/// Resume a paused campaign.
#[utoipa::path(post, operation_id = "resume_campaign", path = "/campaigns/{id}/resume", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn resume(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    moved(&state, &access, &id, Move::Resume).await
}

/// Cancel a campaign: the recipients not sent to are skipped with `cancelled`.
#[utoipa::path(post, operation_id = "cancel_campaign", path = "/campaigns/{id}/cancel", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…")),
    responses((status = 200, body = CampaignResponse), ProblemResponses))]
pub async fn cancel(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<CampaignResponse>, ApiError> {
    moved(&state, &access, &id, Move::Cancel).await
}

/// A recipient's state, as the `state` filters name it (the document's enum; the
/// handlers read the text so a bad value is a 422 naming the parameter).
#[derive(ToSchema)]
#[schema(rename_all = "snake_case")]
#[allow(dead_code)]
pub enum RecipientStateName {
    Pending,
    Sent,
    Failed,
    Skipped,
}

/// Which recipients to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecipientQuery {
    /// Only recipients in this state.
    #[param(value_type = Option<RecipientStateName>, inline)]
    pub state: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn recipient_state(raw: Option<&str>) -> Result<Option<RecipientState>, ApiError> {
    raw.map(|s| {
        RecipientState::from_name(s)
            .ok_or_else(|| invalid("state", "must be pending, sent, failed or skipped"))
    })
    .transpose()
}

/// A campaign's recipients in audience order.
#[utoipa::path(get, operation_id = "list_campaign_recipients", path = "/campaigns/{id}/recipients", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…"), RecipientQuery),
    responses((status = 200, body = RecipientList), ProblemResponses))]
pub async fn recipients(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RecipientQuery>,
) -> Result<Json<RecipientList>, ApiError> {
    let id: CampaignId = path_id(&id, "campaign")?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let filter = recipient_state(q.state.as_deref())?;
    Ok(Json(
        state
            .app
            .list_recipients(&access, id, filter, page)
            .await?
            .into(),
    ))
}

/// Which recipients to export.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// Only recipients in this state.
    #[param(value_type = Option<RecipientStateName>, inline)]
    pub state: Option<String>,
}

const EXPORT_PAGE: u32 = PageRequest::MAX_LIMIT;

fn csv_rows(rows: &[Recipient]) -> Vec<u8> {
    let mut out = String::new();
    for r in rows {
        let cells = [
            r.seq.to_string(),
            r.contact_id.to_string(),
            r.address.clone().unwrap_or_default(),
            r.state.as_str().to_owned(),
            reason_of(r).unwrap_or_default().to_owned(),
            r.error.clone().unwrap_or_default(),
            r.conversation_id.map(|c| c.to_string()).unwrap_or_default(),
            r.message_id.map(|m| m.to_string()).unwrap_or_default(),
            r.updated_at
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        ];
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            parley_domain::csv::push_field(&mut out, cell);
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

/// A campaign's recipients as CSV: `seq, contact_id, address, state, reason, error,
/// conversation_id, message_id, updated_at`, streamed in audience order.
#[utoipa::path(get, operation_id = "export_campaign_recipients", path = "/campaigns/{id}/recipients.csv", tag = "campaigns",
    params(("id" = String, Path, description = "cmp_…"), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String), ProblemResponses))]
pub async fn export(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> Result<Response, ApiError> {
    let id: CampaignId = path_id(&id, "campaign")?;
    let filter = recipient_state(q.state.as_deref())?;
    // The first page is read before answering, so access errors are a proper problem.
    let first = state
        .app
        .list_recipients(&access, id, filter, PageRequest::first(EXPORT_PAGE))
        .await?;
    let mut head =
        b"seq,contact_id,address,state,reason,error,conversation_id,message_id,updated_at\r\n"
            .to_vec();
    head.extend(csv_rows(&first.items));
    let app = state.app.clone();
    let rest = futures_util::stream::unfold(first.next_cursor, move |cursor| {
        let (app, access) = (app.clone(), access.clone());
        async move {
            let cursor = cursor?;
            let page = PageRequest::after(cursor, EXPORT_PAGE);
            match app.list_recipients(&access, id, filter, page).await {
                Ok(page) => Some((
                    Ok::<_, std::io::Error>(csv_rows(&page.items)),
                    page.next_cursor,
                )),
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), None)),
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-recipients.csv\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
