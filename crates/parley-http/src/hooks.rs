//! Provider callbacks, outside `/api/v1` (Twilio: `/hooks/twilio/{channel}/status` and
//! `/inbound`; WhatsApp: `/hooks/whatsapp/{channel}`, `GET` for the handshake): no caller's credentials, but the provider's own
//! signature over the request, which `parley-app` checks with the named channel's
//! credentials before anything is read or changed. A forged or unsigned callback gets
//! 403 and changes nothing; a well-signed one Parley cannot read gets 422 naming the
//! field.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use http::{HeaderMap, StatusCode, Uri};
use parley_domain::{Channel, ChannelId};

use crate::AppState;
use crate::problem::{ApiError, ProblemType};

/// The callback routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/hooks/twilio/{channel}/status", post(twilio_status))
        .route("/hooks/twilio/{channel}/inbound", post(twilio_inbound))
        .route(
            "/hooks/whatsapp/{channel}",
            get(whatsapp_handshake).post(whatsapp),
        )
}

/// The channel a callback's path names, whatever its organization.
async fn callback_channel(state: &AppState, raw: &str) -> Result<Channel, ApiError> {
    let no_channel = || ApiError::new(ProblemType::NotFound, "no such channel");
    let id: ChannelId = raw.parse().map_err(|_| no_channel())?;
    state
        .app
        .channel_for_callback(id)
        .await?
        .ok_or_else(no_channel)
}

/// A Twilio form callback's parameters, signature and signed path.
fn twilio_form(
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> (Vec<(String, String)>, String, String) {
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let path = uri
        .path_and_query()
        .map_or(uri.path(), |p| p.as_str())
        .to_owned();
    (params, signature, path)
}

/// A Twilio status callback on one of the channel's messages.
async fn twilio_status(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let channel = callback_channel(&state, &channel).await?;
    let (params, signature, path) = twilio_form(&uri, &headers, &body);
    state
        .app
        .twilio_status_callback(&channel, &path, &params, &signature)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Empty TwiML: Parley answers through the Messages API (paced by the send queue), not
/// in the webhook's response.
const EMPTY_TWIML: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>";

/// A customer's message through Twilio.
async fn twilio_inbound(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<impl IntoResponse, ApiError> {
    let channel = callback_channel(&state, &channel).await?;
    let (params, signature, path) = twilio_form(&uri, &headers, &body);
    state
        .app
        .twilio_inbound_callback(&channel, &path, &params, &signature)
        .await?;
    Ok(([(http::header::CONTENT_TYPE, "text/xml")], EMPTY_TWIML))
}

/// Meta's verification query.
#[derive(Debug, serde::Deserialize)]
struct Handshake {
    #[serde(rename = "hub.mode")]
    mode: Option<String>,
    #[serde(rename = "hub.verify_token")]
    token: Option<String>,
    #[serde(rename = "hub.challenge")]
    challenge: Option<String>,
}

/// WhatsApp's verification handshake: the challenge, echoed as plain text.
async fn whatsapp_handshake(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    Query(q): Query<Handshake>,
) -> Result<String, ApiError> {
    let channel = callback_channel(&state, &channel).await?;
    Ok(state.app.whatsapp_handshake(
        &channel,
        q.mode.as_deref(),
        q.token.as_deref(),
        q.challenge.as_deref(),
    )?)
}

/// A WhatsApp webhook: customers' messages and statuses of ours.
async fn whatsapp(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let channel = callback_channel(&state, &channel).await?;
    let signature = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    state
        .app
        .whatsapp_callback(&channel, &body, signature)
        .await?;
    Ok(StatusCode::OK)
}
