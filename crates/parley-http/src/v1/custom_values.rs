//! `/api/v1/custom-value-endpoint`: the organization's one custom value endpoint (SPEC
//! §7.3), where flow `fetch` steps get live values. Needs the `admin` permission.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::webhooks::custom_values::PutCustomValueEndpoint;
use parley_domain::CustomValueEndpoint;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ProblemResponses};

/// The custom value endpoint (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct CustomValueEndpointResponse {
    /// Where the GET goes.
    pub url: String,
    /// Milliseconds an answer may take.
    pub timeout_ms: u32,
    /// The `whsec_…` secret, only in the answer of the call that set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl CustomValueEndpointResponse {
    fn new(e: CustomValueEndpoint, secret: Option<String>) -> Self {
        Self {
            url: e.url,
            timeout_ms: e.timeout_ms,
            secret,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// The endpoint to set.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PutCustomValueEndpointRequest {
    /// An `http` or `https` URL.
    #[schema(pattern = "^https?://")]
    pub url: String,
    /// A `whsec_…` secret; generated the first time, kept afterwards, when absent.
    #[schema(pattern = "^whsec_[A-Za-z0-9+/]+={0,2}$")]
    pub secret: Option<String>,
    /// Milliseconds an answer may take (100 to 30,000; default 5,000).
    #[schema(minimum = 100, maximum = 30000)]
    pub timeout_ms: Option<u32>,
}

/// The organization's custom value endpoint.
#[utoipa::path(get, operation_id = "get_custom_value_endpoint", path = "/custom-value-endpoint", tag = "webhooks",
    responses((status = 200, body = CustomValueEndpointResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<Json<CustomValueEndpointResponse>, ApiError> {
    let endpoint = state.app.get_custom_value_endpoint(&access).await?;
    Ok(Json(CustomValueEndpointResponse::new(endpoint, None)))
}

/// Set the custom value endpoint (the answer holds the secret when this call set it).
#[utoipa::path(put, operation_id = "put_custom_value_endpoint", path = "/custom-value-endpoint", tag = "webhooks", request_body = PutCustomValueEndpointRequest,
    responses((status = 200, body = CustomValueEndpointResponse), ProblemResponses))]
pub async fn put(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<PutCustomValueEndpointRequest>,
) -> Result<Json<CustomValueEndpointResponse>, ApiError> {
    let set = state
        .app
        .put_custom_value_endpoint(
            &access,
            PutCustomValueEndpoint {
                url: body.url,
                secret: body.secret,
                timeout_ms: body.timeout_ms,
            },
        )
        .await?;
    Ok(Json(CustomValueEndpointResponse::new(
        set.endpoint,
        set.secret,
    )))
}

/// Remove the custom value endpoint (flow `fetch` steps then fail as not configured).
#[utoipa::path(delete, operation_id = "delete_custom_value_endpoint", path = "/custom-value-endpoint", tag = "webhooks",
    responses((status = 204), ProblemResponses))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<StatusCode, ApiError> {
    state.app.delete_custom_value_endpoint(&access).await?;
    Ok(StatusCode::NO_CONTENT)
}
