//! `/api/v1/users` and `/api/v1/invitations`: members of the acting organization, their
//! roles, and the invitations by which people join.

use axum::Json;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::FieldError;
use parley_app::tenancy::AcceptRequest;
use parley_domain::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dto::{
    CreatedInvitationResponse, InvitationList, InvitationResponse, MemberList, MemberResponse,
};
use crate::AppState;
use crate::caller::Caller;
use crate::client::ClientAddr;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A person to invite. Their name and password are theirs to choose when they accept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddMemberRequest {
    /// Email.
    pub email: String,
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    #[schema(value_type = super::vocab::RoleName)]
    pub role: Role,
    /// Not accepted: the person chooses it when they accept the invitation.
    #[schema(value_type = Option<String>)]
    pub name: Option<serde_json::Value>,
    /// Not accepted: the person chooses it when they accept the invitation.
    #[schema(value_type = Option<String>)]
    pub password: Option<serde_json::Value>,
}

/// A new role.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeRoleRequest {
    /// `owner`, `admin`, `supervisor`, `agent` or `viewer`.
    #[schema(value_type = super::vocab::RoleName)]
    pub role: Role,
}

/// Members of the acting organization.
#[utoipa::path(get, operation_id = "list_users", path = "/users", tag = "users", params(PageQuery),
    responses((status = 200, body = MemberList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<MemberList>, ApiError> {
    Ok(Json(
        state.app.list_members(&access, q.page()?).await?.into(),
    ))
}

/// Invite a person: a pending invitation and its one-time link (shown once) to pass on.
/// Nothing is granted until they accept it, and the answer is the same whether or not an
/// account has the email.
#[utoipa::path(post, operation_id = "add_user", path = "/users", tag = "users", request_body = AddMemberRequest,
    responses((status = 201, body = CreatedInvitationResponse), ProblemResponses))]
pub async fn add(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<AddMemberRequest>,
) -> Result<(StatusCode, Json<CreatedInvitationResponse>), ApiError> {
    let chosen_by_them = [
        ("name", body.name.is_some()),
        ("password", body.password.is_some()),
    ]
    .into_iter()
    .filter(|(_, given)| *given)
    .map(|(field, _)| {
        FieldError::new(
            field,
            "is chosen by the person when they accept the invitation; send only email and role",
        )
    })
    .collect::<Vec<_>>();
    if !chosen_by_them.is_empty() {
        return Err(ApiError::fields(chosen_by_them));
    }
    let created = state.app.invite(&access, &body.email, body.role).await?;
    let now = state.app.clock.now();
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitationResponse {
            invitation: InvitationResponse::of(created.invitation, now),
            token: created.token,
            accept_url: created.accept_url,
        }),
    ))
}

/// Pending and past invitations of the acting organization.
#[utoipa::path(get, path = "/invitations", tag = "users", params(PageQuery),
    responses((status = 200, body = InvitationList), ProblemResponses))]
pub async fn list_invitations(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<InvitationList>, ApiError> {
    let page = state.app.list_invitations(&access, q.page()?).await?;
    let now = state.app.clock.now();
    Ok(Json(InvitationList {
        data: page
            .items
            .into_iter()
            .map(|i| InvitationResponse::of(i, now))
            .collect(),
        next_cursor: crate::extract::encode_cursor(page.next_cursor),
    }))
}

/// Withdraw a pending invitation (its link stops working).
#[utoipa::path(delete, path = "/invitations/{id}", tag = "users", params(("id" = String, Path, description = "inv_…")),
    responses((status = 200, body = InvitationResponse), ProblemResponses))]
pub async fn revoke_invitation(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<InvitationResponse>, ApiError> {
    let id = path_id(&id, "invitation")?;
    let revoked = state.app.revoke_invitation(&access, id).await?;
    Ok(Json(InvitationResponse::of(revoked, state.app.clock.now())))
}

/// An invitation's token, from its link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InvitationTokenRequest {
    /// The part of the link after `#`.
    pub token: String,
}

/// What an invitation is for.
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationPreviewResponse {
    /// `org_…`
    pub organization_id: String,
    /// The organization's name.
    pub organization_name: String,
    /// The email invited.
    pub email: String,
    /// The role offered.
    pub role: String,
    /// When the link stops working.
    pub expires_at: DateTime<Utc>,
}

/// What an invitation's link offers (no credentials needed: the token is the credential).
/// Unknown, used, withdrawn and expired tokens all answer 404.
#[utoipa::path(post, path = "/invitations/preview", tag = "users", request_body = InvitationTokenRequest,
    responses((status = 200, body = InvitationPreviewResponse), ProblemResponses))]
pub async fn preview_invitation(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<InvitationTokenRequest>,
) -> Result<Json<InvitationPreviewResponse>, ApiError> {
    let preview = state.app.preview_invitation(&client, &body.token).await?;
    Ok(Json(InvitationPreviewResponse {
        organization_id: preview.invitation.organization_id.to_string(),
        organization_name: preview.organization_name,
        email: preview.invitation.email,
        role: preview.invitation.role.as_str().to_owned(),
        expires_at: preview.invitation.expires_at,
    }))
}

/// Accepting an invitation.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvitationRequest {
    /// The part of the link after `#`.
    pub token: String,
    /// The password of the account that has the invited email; or, when none has it yet,
    /// the new account's password (10 to 1024 characters).
    pub password: String,
    /// A new account's display name (the email's local part when absent).
    pub name: Option<String>,
}

/// An accepted invitation.
#[derive(Debug, Serialize, ToSchema)]
pub struct AcceptedInvitationResponse {
    /// `usr_…`
    pub user_id: String,
    /// `org_…`
    pub organization_id: String,
    /// The role held there now.
    pub role: String,
    /// Whether accepting created the account.
    pub created_account: bool,
}

/// Accept an invitation: with the invited account's password, or by choosing a password
/// for a new account. Then sign in as usual. Limited like sign-in (429 with
/// `Retry-After`).
#[utoipa::path(post, path = "/invitations/accept", tag = "users", request_body = AcceptInvitationRequest,
    responses((status = 200, body = AcceptedInvitationResponse), ProblemResponses))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<AcceptInvitationRequest>,
) -> Result<Json<AcceptedInvitationResponse>, ApiError> {
    let accepted = state
        .app
        .accept_invitation(AcceptRequest {
            token: body.token,
            password: body.password,
            name: body.name,
            client,
        })
        .await?;
    Ok(Json(AcceptedInvitationResponse {
        user_id: accepted.user.to_string(),
        organization_id: accepted.membership.organization_id.to_string(),
        role: accepted.membership.role.as_str().to_owned(),
        created_account: accepted.created_account,
    }))
}

/// One member.
#[utoipa::path(get, operation_id = "get_user", path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    responses((status = 200, body = MemberResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<MemberResponse>, ApiError> {
    let id = path_id(&id, "member")?;
    Ok(Json(state.app.get_member(&access, id).await?.into()))
}

/// Change a member's role.
#[utoipa::path(patch, operation_id = "change_user_role", path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    request_body = ChangeRoleRequest,
    responses((status = 200, body = MemberResponse), ProblemResponses))]
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
#[utoipa::path(delete, operation_id = "remove_user", path = "/users/{id}", tag = "users", params(("id" = String, Path, description = "usr_…")),
    responses((status = 204), ProblemResponses))]
pub async fn remove(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "member")?;
    state.app.remove_member(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
