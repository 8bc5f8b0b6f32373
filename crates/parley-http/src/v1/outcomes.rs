//! `/api/v1/outcome-statuses`: the organization's outcome statuses (SPEC §5). Anyone who
//! reads conversations lists them; administrators define and remove them.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::conversations::outcomes::{NewOutcome, OutcomePatch};
use parley_domain::OutcomeStatus;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ProblemResponses};

/// An outcome status.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeStatusResponse {
    /// The key flows and agents name.
    pub key: String,
    /// What people read.
    pub label: String,
    /// `positive`, `neutral` or `negative`.
    pub category: String,
    /// Whether tagging it closes the conversation.
    pub closes: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<OutcomeStatus> for OutcomeStatusResponse {
    fn from(s: OutcomeStatus) -> Self {
        Self {
            key: s.key,
            label: s.label,
            category: s.category.as_str().to_owned(),
            closes: s.closes,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

/// The organization's outcome statuses.
#[derive(Debug, Serialize, ToSchema)]
pub struct OutcomeStatusList {
    /// By key, `opted_out` included.
    pub data: Vec<OutcomeStatusResponse>,
}

/// A status to define.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOutcomeStatusRequest {
    /// Lower-case letters, digits and `_`, starting with a letter (at most 64).
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub key: String,
    /// What people read (1 to 100 characters).
    #[schema(min_length = 1, max_length = 100)]
    pub label: String,
    /// `positive`, `neutral` or `negative`.
    #[schema(value_type = super::vocab::CategoryName)]
    pub category: String,
    /// Whether tagging it closes the conversation (default false).
    #[serde(default)]
    pub closes: bool,
}

/// Changes to a status; absent fields stay.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOutcomeStatusRequest {
    /// A new label.
    #[schema(min_length = 1, max_length = 100)]
    pub label: Option<String>,
    /// A new category.
    #[schema(value_type = Option<super::vocab::CategoryName>)]
    pub category: Option<String>,
    /// Whether tagging it closes the conversation.
    pub closes: Option<bool>,
}

/// The organization's outcome statuses.
#[utoipa::path(get, operation_id = "list_outcome_statuses", path = "/outcome-statuses", tag = "conversations",
    responses((status = 200, body = OutcomeStatusList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<Json<OutcomeStatusList>, ApiError> {
    let data = state.app.list_outcome_statuses(&access).await?;
    Ok(Json(OutcomeStatusList {
        data: data.into_iter().map(Into::into).collect(),
    }))
}

/// Define an outcome status.
#[utoipa::path(post, operation_id = "create_outcome_status", path = "/outcome-statuses", tag = "conversations", request_body = CreateOutcomeStatusRequest,
    responses((status = 201, body = OutcomeStatusResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateOutcomeStatusRequest>,
) -> Result<(StatusCode, Json<OutcomeStatusResponse>), ApiError> {
    let new = NewOutcome {
        key: body.key,
        label: body.label,
        category: body.category,
        closes: body.closes,
    };
    let created = state.app.create_outcome_status(&access, new).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Change an outcome status's label, category or `closes`.
#[utoipa::path(patch, operation_id = "update_outcome_status", path = "/outcome-statuses/{key}", tag = "conversations", request_body = UpdateOutcomeStatusRequest,
    params(("key" = String, Path, description = "promise_to_pay")),
    responses((status = 200, body = OutcomeStatusResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<UpdateOutcomeStatusRequest>,
) -> Result<Json<OutcomeStatusResponse>, ApiError> {
    let patch = OutcomePatch {
        label: body.label,
        category: body.category,
        closes: body.closes,
    };
    Ok(Json(
        state
            .app
            .update_outcome_status(&access, &key, patch)
            .await?
            .into(),
    ))
}

/// Remove an outcome status (conversations tagged with it keep it).
#[utoipa::path(delete, operation_id = "delete_outcome_status", path = "/outcome-statuses/{key}", tag = "conversations",
    params(("key" = String, Path, description = "promise_to_pay")),
    responses((status = 204), ProblemResponses))]
pub async fn delete(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_outcome_status(&access, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}
