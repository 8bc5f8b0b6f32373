//! `/api/v1/channels`: the organization's messaging channels (SPEC §5). Needs the `admin`
//! permission. Credentials go in and never come out: answers name the ones set.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::channels::{ChannelPatch, ChannelView, NewChannel};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::dto::list_type;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, ListQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A channel (never its credentials).
#[derive(Debug, Serialize, ToSchema)]
pub struct ChannelResponse {
    /// `chn_…`
    pub id: String,
    /// `sim`, `twilio`, `whatsapp` or `webchat`.
    pub provider: String,
    /// A name people recognise.
    pub name: String,
    /// Our address at the provider.
    pub sender: String,
    /// The flow started for customers who write first.
    pub inbound_flow: Option<String>,
    /// Where they wait without one.
    pub inbound_queue: String,
    /// Messages per second.
    pub rate_per_second: u32,
    /// The provider's settings.
    #[schema(value_type = Object)]
    pub settings: Map<String, Value>,
    /// Names of the credentials set.
    pub credentials: Vec<String>,
    /// Whether it sends and takes messages.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was archived (left out of lists unless `archived=true`; see the archive
    /// operation).
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<ChannelView> for ChannelResponse {
    fn from(v: ChannelView) -> Self {
        let c = v.channel;
        Self {
            id: c.id.to_string(),
            provider: c.provider.as_str().to_owned(),
            name: c.name,
            sender: c.sender,
            inbound_flow: c.inbound_flow.map(|f| f.to_string()),
            inbound_queue: c.inbound_queue,
            rate_per_second: c.rate_per_second,
            settings: c.settings,
            credentials: v.credentials,
            enabled: c.enabled,
            created_at: c.created_at,
            updated_at: c.updated_at,
            archived_at: c.archived_at,
        }
    }
}

list_type!(ChannelList, ChannelResponse);

/// A channel to create (described to clients by `channel_schemas::CreateChannelSchema`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateChannelRequest {
    /// `sim`, `twilio`, `whatsapp` or `webchat`.
    pub provider: String,
    /// A name people recognise.
    pub name: String,
    /// Our address at the provider (see the provider's rules).
    pub sender: String,
    /// `flow_…` with a published version.
    pub inbound_flow: Option<String>,
    /// Default `general`.
    pub inbound_queue: Option<String>,
    /// Default: what the provider allows a new sender.
    pub rate_per_second: Option<u32>,
    /// The provider's settings.
    #[serde(default)]
    pub settings: Map<String, Value>,
    /// The provider's credentials.
    #[serde(default)]
    pub credentials: Map<String, Value>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Changes to a channel; absent fields stay. In `settings` and `credentials`, `null`
/// removes a key.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateChannelRequest {
    /// A new name.
    pub name: Option<String>,
    /// A new sender.
    pub sender: Option<String>,
    /// A new inbound flow, or `null` for none.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub inbound_flow: Option<Option<String>>,
    /// A new inbound queue (a queue's key).
    #[schema(pattern = "^[a-z0-9_-]{1,64}$")]
    pub inbound_queue: Option<String>,
    /// A new rate.
    #[schema(minimum = 1, maximum = 10000)]
    pub rate_per_second: Option<u32>,
    /// Settings to set, or remove with `null`: the keys the channel's provider takes, as
    /// `CreateChannelRequest` describes them.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub settings: Map<String, Value>,
    /// Credentials to set, or remove with `null`: the keys the channel's provider takes,
    /// as `CreateChannelRequest` describes them.
    #[schema(value_type = Object)]
    #[serde(default)]
    pub credentials: Map<String, Value>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A field that is present, even as `null` (absent stays `None` through `default`).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

fn flow_id(raw: &str) -> Result<parley_domain::FlowId, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::from(parley_app::AppError::invalid(
            "inbound_flow",
            "must be a flow id (flow_…)",
        ))
    })
}

/// The acting organization's channels.
#[utoipa::path(get, operation_id = "list_channels", path = "/channels", tag = "channels", params(ListQuery),
    responses((status = 200, body = ChannelList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ChannelList>, ApiError> {
    Ok(Json(
        state
            .app
            .list_channels(&access, q.archived(), q.page()?)
            .await?
            .into(),
    ))
}

/// Create a channel.
#[utoipa::path(post, operation_id = "create_channel", path = "/channels", tag = "channels", request_body = super::channel_schemas::CreateChannelSchema,
    responses((status = 201, body = ChannelResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateChannelRequest>,
) -> Result<(StatusCode, Json<ChannelResponse>), ApiError> {
    let inbound_flow = body.inbound_flow.as_deref().map(flow_id).transpose()?;
    let created = state
        .app
        .create_channel(
            &access,
            NewChannel {
                provider: body.provider,
                name: body.name,
                sender: body.sender,
                inbound_flow,
                inbound_queue: body.inbound_queue,
                rate_per_second: body.rate_per_second,
                settings: body.settings,
                credentials: body.credentials,
                enabled: body.enabled,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// One channel.
#[utoipa::path(get, operation_id = "get_channel", path = "/channels/{id}", tag = "channels",
    params(("id" = String, Path, description = "chn_…")),
    responses((status = 200, body = ChannelResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<ChannelResponse>, ApiError> {
    let id = path_id(&id, "channel")?;
    Ok(Json(state.app.get_channel(&access, id).await?.into()))
}

/// Change a channel's name, sender, inbound flow or queue, rate, settings, credentials or
/// enabled flag.
#[utoipa::path(patch, operation_id = "update_channel", path = "/channels/{id}", tag = "channels", request_body = UpdateChannelRequest,
    params(("id" = String, Path, description = "chn_…")),
    responses((status = 200, body = ChannelResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateChannelRequest>,
) -> Result<Json<ChannelResponse>, ApiError> {
    let id = path_id(&id, "channel")?;
    let inbound_flow = match body.inbound_flow {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(Some(flow_id(&raw)?)),
    };
    let patch = ChannelPatch {
        name: body.name,
        sender: body.sender,
        inbound_flow,
        inbound_queue: body.inbound_queue,
        rate_per_second: body.rate_per_second,
        settings: body.settings,
        credentials: body.credentials,
        enabled: body.enabled,
    };
    Ok(Json(
        state.app.update_channel(&access, id, patch).await?.into(),
    ))
}
