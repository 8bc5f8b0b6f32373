//! `/api/v1/api-keys`: the acting organization's API keys.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use parley_app::tenancy::CreateApiKey;
use parley_domain::PermissionSet;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{ApiKeyList, ApiKeyResponse};
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A key to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateApiKeyRequest {
    /// A label.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Permission names; the caller's own when absent, and never more than them.
    #[schema(value_type = Option<Vec<String>>)]
    pub permissions: Option<PermissionSet>,
}

/// A created key and its secret, shown this once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedApiKeyResponse {
    /// The key.
    #[serde(flatten)]
    pub key: ApiKeyResponse,
    /// `pk_…`: store it now, it cannot be shown again.
    pub secret: String,
}

/// The acting organization's keys.
#[utoipa::path(get, operation_id = "list_api_keys", path = "/api-keys", tag = "api-keys", params(PageQuery),
    responses((status = 200, body = ApiKeyList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ApiKeyList>, ApiError> {
    Ok(Json(
        state.app.list_api_keys(&access, q.page()?).await?.into(),
    ))
}

/// Create a key; the response holds its secret, which is never shown again.
#[utoipa::path(post, operation_id = "create_api_key", path = "/api-keys", tag = "api-keys", request_body = CreateApiKeyRequest,
    responses((status = 201, body = CreatedApiKeyResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateApiKeyRequest>,
) -> Result<(StatusCode, Json<CreatedApiKeyResponse>), ApiError> {
    let created = state
        .app
        .create_api_key(
            &access,
            CreateApiKey {
                name: body.name,
                permissions: body.permissions,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedApiKeyResponse {
            key: created.key.into(),
            secret: created.secret,
        }),
    ))
}

/// Revoke a key; its tokens stop working at once.
#[utoipa::path(delete, operation_id = "revoke_api_key", path = "/api-keys/{id}", tag = "api-keys", params(("id" = String, Path, description = "key_…")),
    responses((status = 200, body = ApiKeyResponse), ProblemResponses))]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<ApiKeyResponse>, ApiError> {
    let id = path_id(&id, "API key")?;
    Ok(Json(state.app.revoke_api_key(&access, id).await?.into()))
}
