//! `/api/v1/webhooks`: endpoints, their secrets, messages, attempts log, replay and tests
//! (SPEC §7). Every route needs the `admin` permission.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::webhooks::endpoints::subscription_names;
use parley_app::webhooks::{
    NewWebhook, ReplayRequest, RotateSecret, SampleKind, TestExchange, WebhookPatch,
};
use parley_domain::{Delivery, DeliveryAttempt, DeliveryStatus, EventId, WebhookEndpoint};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::dto::list_type;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A webhook endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookResponse {
    /// `whk_…`
    pub id: String,
    /// Where deliveries go.
    pub url: String,
    /// A note for people.
    pub description: String,
    /// Subscribed event types; `["*"]` for all.
    pub events: Vec<String>,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Why it is disabled: `manual`, `gone` (it answered 410) or `failing` (5 days).
    pub disabled_reason: Option<String>,
    /// Since when every attempt has failed.
    pub failing_since: Option<DateTime<Utc>>,
    /// Until when the secret before the last rotation still signs.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<WebhookEndpoint> for WebhookResponse {
    fn from(e: WebhookEndpoint) -> Self {
        Self {
            id: e.id.to_string(),
            url: e.url,
            description: e.description,
            events: subscription_names(&e.events),
            enabled: e.enabled,
            disabled_reason: e.disabled_reason.map(|r| r.as_str().to_owned()),
            failing_since: e.failing_since,
            previous_secret_expires_at: e.previous_secret.map(|(_, until)| until),
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with the secret just set: shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookWithSecret {
    /// The endpoint.
    #[serde(flatten)]
    pub endpoint: WebhookResponse,
    /// `whsec_…`: store it now, it cannot be shown again.
    pub secret: String,
}

/// A message: one event for one endpoint.
#[derive(Debug, Serialize, ToSchema)]
pub struct MessageResponse {
    /// `evt_…`, the `webhook-id` of every attempt.
    pub event_id: String,
    /// The event type.
    pub event_type: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts in the current round (a replay starts a new round).
    pub attempts: u32,
    /// When the next attempt is due.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When it was queued.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<Delivery> for MessageResponse {
    fn from(d: Delivery) -> Self {
        Self {
            event_id: d.event_id.to_string(),
            event_type: d.event_type.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

/// One attempt.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptResponse {
    /// `evt_…`
    pub event_id: String,
    /// When it was sent.
    pub at: DateTime<Utc>,
    /// The HTTP status, when the receiver answered.
    pub status_code: Option<u16>,
    /// Milliseconds from sending to the end of the answer.
    pub latency_ms: u32,
    /// The first KiB of the answer.
    pub response: String,
    /// What went wrong; absent for a success.
    pub error: Option<String>,
    /// `scheduled` or `replay`.
    pub trigger: String,
}

impl From<DeliveryAttempt> for AttemptResponse {
    fn from(a: DeliveryAttempt) -> Self {
        Self {
            event_id: a.event_id.to_string(),
            at: a.at,
            status_code: a.status_code,
            latency_ms: a.latency_ms,
            response: a.response_excerpt,
            error: a.error,
            trigger: a.trigger.as_str().to_owned(),
        }
    }
}

list_type!(WebhookList, WebhookResponse);
list_type!(MessageList, MessageResponse);
list_type!(AttemptList, AttemptResponse);

/// An endpoint to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhookRequest {
    /// An `http` or `https` URL.
    #[schema(pattern = "^https?://")]
    pub url: String,
    /// A note for people.
    #[serde(default)]
    pub description: String,
    /// Event types to receive (see docs/webhooks.md); absent or `["*"]` for all.
    pub events: Option<Vec<String>>,
    /// A `whsec_…` secret (24 to 64 bytes); generated when absent.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: Option<String>,
    /// Start disabled when false.
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWebhookRequest {
    /// A new URL.
    #[schema(pattern = "^https?://")]
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new subscription (`["*"]` for all).
    pub events: Option<Vec<String>>,
    /// Enable or disable (enabling clears the reason and the failing streak).
    pub enabled: Option<bool>,
}

/// A secret rotation; the body may be left out.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateSecretRequest {
    /// The new `whsec_…` secret; generated when absent.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: Option<String>,
    /// Seconds the old secret keeps signing (default `webhooks.secret_overlap`, at most
    /// 7 days; 0 stops it at once).
    #[schema(minimum = 0, maximum = 604800)]
    pub overlap_seconds: Option<u64>,
}

/// What to replay: one message, or every failed message since a time.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayBody {
    /// One message (`evt_…`), whatever its status.
    pub event_id: Option<String>,
    /// Every failed message queued at or after this time.
    pub failed_since: Option<DateTime<Utc>>,
}

/// How many messages a replay queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReplayResponse {
    /// Messages queued again.
    pub replayed: u64,
}

/// Which test to send.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// `ping`, `inboundMessage`, `deliveryReport`, `setStatus` or `customValueRequest`.
    #[schema(value_type = super::vocab::TestKindName)]
    pub kind: String,
}

/// The request a test sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct SentRequestResponse {
    /// `POST` or `GET`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers in sending order, as `[name, value]` pairs.
    #[schema(value_type = Vec<Vec<String>>)]
    pub headers: Vec<(String, String)>,
    /// The body sent (empty for a GET).
    pub body: String,
}

/// The answer a test received.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceivedResponseBody {
    /// The HTTP status, absent when there was no answer.
    pub status: Option<u16>,
    /// Milliseconds from sending to the end of the body read.
    pub latency_ms: u32,
    /// The first KiB of the answer.
    pub body: String,
    /// What went wrong; absent for a 2xx.
    pub error: Option<String>,
}

/// A test's request and response.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestResponse {
    /// What was sent.
    pub request: SentRequestResponse,
    /// What came back.
    pub response: ReceivedResponseBody,
}

impl From<TestExchange> for TestResponse {
    fn from(t: TestExchange) -> Self {
        Self {
            request: SentRequestResponse {
                method: t.request.method,
                url: t.request.url,
                headers: t.request.headers,
                body: t.request.body,
            },
            response: ReceivedResponseBody {
                status: t.response.status,
                latency_ms: t.response.latency_ms,
                body: t.response.body,
                error: t.response.error,
            },
        }
    }
}

/// `?status=&limit=&cursor=` for messages.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MessageQuery {
    /// `pending`, `delivered` or `failed`.
    pub status: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// `?event_id=&limit=&cursor=` for attempts.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AttemptQuery {
    /// Only this message's attempts.
    pub event_id: Option<String>,
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// The acting organization's endpoints.
#[utoipa::path(get, operation_id = "list_webhooks", path = "/webhooks", tag = "webhooks", params(PageQuery),
    responses((status = 200, body = WebhookList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<WebhookList>, ApiError> {
    Ok(Json(
        state.app.list_webhooks(&access, q.page()?).await?.into(),
    ))
}

/// Create an endpoint; the response holds its secret, which is never shown again.
#[utoipa::path(post, operation_id = "create_webhook", path = "/webhooks", tag = "webhooks", request_body = CreateWebhookRequest,
    responses((status = 201, body = WebhookWithSecret), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookWithSecret>), ApiError> {
    let created = state
        .app
        .create_webhook(
            &access,
            NewWebhook {
                url: body.url,
                description: body.description,
                events: body.events,
                secret: body.secret,
                enabled: body.enabled,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(WebhookWithSecret {
            endpoint: created.endpoint.into(),
            secret: created.secret,
        }),
    ))
}

/// One endpoint.
#[utoipa::path(get, operation_id = "get_webhook", path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = WebhookResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let id = path_id(&id, "webhook")?;
    Ok(Json(state.app.get_webhook(&access, id).await?.into()))
}

/// Change an endpoint's URL, description, events or enabled flag.
#[utoipa::path(patch, operation_id = "update_webhook", path = "/webhooks/{id}", tag = "webhooks", request_body = UpdateWebhookRequest,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = WebhookResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateWebhookRequest>,
) -> Result<Json<WebhookResponse>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let patch = WebhookPatch {
        url: body.url,
        description: body.description,
        events: body.events,
        enabled: body.enabled,
    };
    Ok(Json(
        state.app.update_webhook(&access, id, patch).await?.into(),
    ))
}

/// Delete an endpoint with its messages and attempts log.
#[utoipa::path(delete, operation_id = "delete_webhook", path = "/webhooks/{id}", tag = "webhooks", params(("id" = String, Path, description = "whk_…")),
    responses((status = 204), ProblemResponses))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "webhook")?;
    state.app.delete_webhook(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set a new secret; the old one keeps signing for the overlap, so receivers can switch
/// without losing a message.
#[utoipa::path(post, operation_id = "rotate_webhook_secret", path = "/webhooks/{id}/rotate-secret", tag = "webhooks", request_body = RotateSecretRequest,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = WebhookWithSecret), ProblemResponses))]
pub async fn rotate_secret(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    body: Option<ApiJson<RotateSecretRequest>>,
) -> Result<Json<WebhookWithSecret>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let body = body.map(|ApiJson(b)| b).unwrap_or_default();
    let rotated = state
        .app
        .rotate_webhook_secret(
            &access,
            id,
            RotateSecret {
                secret: body.secret,
                overlap: body.overlap_seconds.map(std::time::Duration::from_secs),
            },
        )
        .await?;
    Ok(Json(WebhookWithSecret {
        endpoint: rotated.endpoint.into(),
        secret: rotated.secret,
    }))
}

fn message_status(text: Option<&str>) -> Result<Option<DeliveryStatus>, ApiError> {
    text.map(|t| {
        DeliveryStatus::from_name(t)
            .ok_or_else(|| ApiError::field("status", "must be one of pending, delivered, failed"))
    })
    .transpose()
}

fn event_id(field: &str, text: &str) -> Result<EventId, ApiError> {
    text.parse()
        .map_err(|_| ApiError::field(field, "must be an event id (evt_…)"))
}

/// The endpoint's messages, newest first.
#[utoipa::path(get, operation_id = "list_webhook_messages", path = "/webhooks/{id}/messages", tag = "webhooks",
    params(("id" = String, Path, description = "whk_…"), MessageQuery),
    responses((status = 200, body = MessageList), ProblemResponses))]
pub async fn messages(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<MessageQuery>,
) -> Result<Json<MessageList>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let status = message_status(q.status.as_deref())?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    Ok(Json(
        state
            .app
            .list_webhook_messages(&access, id, status, page)
            .await?
            .into(),
    ))
}

/// The endpoint's attempts log, newest first; `event_id` narrows it to one message.
#[utoipa::path(get, operation_id = "list_webhook_attempts", path = "/webhooks/{id}/attempts", tag = "webhooks",
    params(("id" = String, Path, description = "whk_…"), AttemptQuery),
    responses((status = 200, body = AttemptList), ProblemResponses))]
pub async fn attempts(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<AttemptQuery>,
) -> Result<Json<AttemptList>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let event = q
        .event_id
        .as_deref()
        .map(|e| event_id("event_id", e))
        .transpose()?;
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    Ok(Json(
        state
            .app
            .list_webhook_attempts(&access, id, event, page)
            .await?
            .into(),
    ))
}

/// One message's attempts, newest first.
#[utoipa::path(get, operation_id = "list_webhook_message_attempts", path = "/webhooks/{id}/messages/{event_id}/attempts", tag = "webhooks",
    params(("id" = String, Path, description = "whk_…"), ("event_id" = String, Path, description = "evt_…"), PageQuery),
    responses((status = 200, body = AttemptList), ProblemResponses))]
pub async fn message_attempts(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path((id, event)): Path<(String, String)>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AttemptList>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let event = path_id(&event, "message")?;
    Ok(Json(
        state
            .app
            .list_webhook_attempts(&access, id, Some(event), q.page()?)
            .await?
            .into(),
    ))
}

/// Deliver one message again, or every failed message since a time, with the same
/// `webhook-id` and a fresh retry schedule.
#[utoipa::path(post, operation_id = "replay_webhook_messages", path = "/webhooks/{id}/replay", tag = "webhooks", request_body = ReplayBody,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 202, body = ReplayResponse), ProblemResponses))]
pub async fn replay(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReplayBody>,
) -> Result<(StatusCode, Json<ReplayResponse>), ApiError> {
    let id = path_id(&id, "webhook")?;
    let request = match (body.event_id.as_deref(), body.failed_since) {
        (Some(event), None) => ReplayRequest::One(event_id("event_id", event)?),
        (None, Some(since)) => ReplayRequest::FailedSince(since),
        _ => {
            return Err(ApiError::field(
                "body",
                "give exactly one of event_id and failed_since",
            ));
        }
    };
    let replayed = state.app.replay_webhook(&access, id, request).await?;
    Ok((StatusCode::ACCEPTED, Json(ReplayResponse { replayed })))
}

/// Send a realistic sample now and show the request sent and the response received.
#[utoipa::path(post, operation_id = "test_webhook", path = "/webhooks/{id}/test", tag = "webhooks", request_body = TestRequest,
    params(("id" = String, Path, description = "whk_…")),
    responses((status = 200, body = TestResponse), ProblemResponses))]
pub async fn test(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<TestRequest>,
) -> Result<Json<TestResponse>, ApiError> {
    let id = path_id(&id, "webhook")?;
    let kind = SampleKind::from_wire(&body.kind).ok_or_else(|| {
        ApiError::field(
            "kind",
            "must be one of ping, inboundMessage, deliveryReport, setStatus, customValueRequest",
        )
    })?;
    Ok(Json(
        state.app.test_webhook(&access, id, kind).await?.into(),
    ))
}
