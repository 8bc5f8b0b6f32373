//! Provider callbacks, outside `/api/v1`: no caller's credentials, but the provider's own
//! signature over the request, which `parley-app` checks with the named channel's
//! credentials before anything is read or changed. A forged or unsigned callback gets
//! 403 and changes nothing; a well-signed one Parley cannot read gets 422 naming the
//! field.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{OriginalUri, Path, State};
use axum::routing::post;
use http::{HeaderMap, StatusCode};
use parley_domain::ChannelId;

use crate::AppState;
use crate::problem::{ApiError, ProblemType};

/// The callback routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/hooks/twilio/{channel}/status", post(twilio_status))
}

/// A Twilio status callback on one of the channel's messages.
async fn twilio_status(
    State(state): State<AppState>,
    Path(channel): Path<String>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let no_channel = || ApiError::new(ProblemType::NotFound, "no such channel");
    let id: ChannelId = channel.parse().map_err(|_| no_channel())?;
    let channel = state
        .app
        .channel_for_callback(id)
        .await?
        .ok_or_else(no_channel)?;
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let signature = headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    state
        .app
        .twilio_status_callback(&channel, path, &params, signature)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
