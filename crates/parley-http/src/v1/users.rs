//! `/api/v1/users`: members of the acting organization and their roles.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use parley_app::tenancy::AddMember;
use parley_domain::Role;
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{MemberList, MemberResponse};
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, Problem};

/// A person to add; `name` and `password` are needed only for a new account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// Email.
    pub email: String,
    /// Display name (new accounts).
    pub name: Option<String>,
    /// Password, at least 10 characters (new accounts).
    pub password: Option<String>,
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    #[schema(value_type = String)]
    pub role: Role,
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    #[schema(value_type = String)]
    pub role: Role,
}

/// Members of the acting organization.
#[utoipa::path(get, path = "/users", tag = "users", params(PageQuery),
    responses((status = 200, body = MemberList), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(
        state.app.list_members(&access, q.page()?).await?.into(),
    ))
}

/// Add a member (creating the account if needed).
#[utoipa::path(post, path = "/users", tag = "users", request_body = AddMemberRequest,
    responses((status = 201, body = MemberResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn add(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<(StatusCode, Json<MemberResponse>), ApiError> {
    let input = AddMember {
        email: body.email,
        name: body.name,
        password: body.password,
        role: body.role,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.app.add_member(&access, input).await?.into()),
    ))
}

/// One member.
#[utoipa::path(get, path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    responses((status = 200, body = MemberResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<MemberResponse>, ApiError> {
    let id = path_id(&id, "member")?;
    Ok(Json(state.app.get_member(&access, id).await?.into()))
}

/// Change a member's role.
#[utoipa::path(patch, path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    request_body = ChangeRoleRequest,
    responses((status = 200, body = MemberResponse), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn change_role(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ChangeRoleRequest>,
) -> Result<Json<MemberResponse>, ApiError> {
    let id = path_id(&id, "member")?;
    Ok(Json(
        state.app.change_role(&access, id, body.role).await?.into(),
    ))
}

/// Remove a member from the acting organization.
#[utoipa::path(delete, path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    responses((status = 204), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "member")?;
    state.app.remove_member(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
