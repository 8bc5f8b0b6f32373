//! `/api/v1/auth`: API-key tokens, browser sign-in and sign-out, and who-am-I.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use http::{HeaderMap, StatusCode};
use parley_app::auth::{SignIn, Subject};
use parley_domain::{ApiKeyId, OrgId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::{
    CSRF_HEADER, Caller, SESSION_COOKIE, clear_session_cookies, cookie, csrf_refused,
    set_session_cookies,
};
use crate::client::ClientAddr;
use crate::extract::ApiJson;
use crate::problem::{ApiError, ProblemResponses};

/// An API key's id and secret.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    /// `key_…`
    #[schema(value_type = String, pattern = "^key_[0-9a-z]{26}$")]
    pub key_id: ApiKeyId,
    /// `pk_…`, shown once when the key was created.
    #[schema(pattern = "^pk_")]
    pub secret: String,
}

/// A bearer token.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// The JWT for `Authorization: Bearer`.
    pub token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The organization it acts for.
    pub organization_id: String,
}

/// Exchange an API key for a short-lived JWT.
#[utoipa::path(post, path = "/auth/token", tag = "auth", request_body = TokenRequest,
    responses((status = 200, body = TokenResponse), ProblemResponses))]
pub async fn issue_token(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<TokenRequest>,
) -> Result<Json<TokenResponse>, ApiError> {
    let issued = state
        .app
        .issue_token_from(&client, body.key_id, &body.secret)
        .await?;
    Ok(Json(TokenResponse {
        token: issued.token,
        token_type: "Bearer",
        expires_at: issued.expires_at,
        organization_id: issued.organization_id.to_string(),
    }))
}

/// Email and password.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Account email.
    pub email: String,
    /// Password.
    pub password: String,
    /// Organization to act for; the first membership when absent.
    #[schema(value_type = Option<String>, pattern = "^org_[0-9a-z]{26}$")]
    pub organization_id: Option<OrgId>,
}

/// A browser session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Echo in `X-CSRF-Token` on every state-changing request (also set as a cookie).
    pub csrf_token: String,
    /// When the session ends.
    pub expires_at: DateTime<Utc>,
    /// Who signed in.
    pub user_id: String,
    /// The organization the session acts for.
    pub organization_id: String,
}

/// Sign in; sets the HttpOnly session cookie and the CSRF cookie.
#[utoipa::path(post, path = "/auth/sign-in", tag = "auth", request_body = SignInRequest,
    responses((status = 200, body = SessionResponse), ProblemResponses))]
pub async fn sign_in(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<SignInRequest>,
) -> Result<Response, ApiError> {
    let signed = state
        .app
        .sign_in(SignIn {
            email: body.email,
            password: body.password,
            organization_id: body.organization_id,
            client,
        })
        .await?;
    let user_id = match signed.principal.subject {
        Subject::User(u) => u.to_string(),
        Subject::ApiKey(k) => k.to_string(),
    };
    let mut response = Json(SessionResponse {
        csrf_token: signed.csrf_token.clone(),
        expires_at: signed.expires_at,
        user_id,
        organization_id: signed.principal.home.to_string(),
    })
    .into_response();
    set_session_cookies(
        response.headers_mut(),
        &signed,
        state.app.clock.now(),
        state.secure_cookies,
    );
    Ok(response)
}

/// Sign out: ends the session and clears its cookies. Like every cookie-authenticated
/// change it needs the session's CSRF token in `X-CSRF-Token` (403 without it, and the
/// session goes on), so another site cannot sign a user out.
#[utoipa::path(post, path = "/auth/sign-out", tag = "auth",
    responses((status = 204), ProblemResponses))]
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        let presented = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        if !state.app.csrf_matches(token, presented) {
            return Err(csrf_refused());
        }
        state.app.sign_out(token).await?;
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    clear_session_cookies(response.headers_mut());
    Ok(response)
}

/// Who the caller is.
#[derive(Debug, Serialize, ToSchema)]
pub struct WhoAmI {
    /// `usr_…` or `key_…`.
    pub subject: String,
    /// The credential's own organization.
    pub home_organization_id: String,
    /// The organization this request acts on.
    pub organization_id: String,
    /// Permission names.
    pub permissions: Vec<String>,
}

/// The authenticated caller and the organization it acts on.
#[utoipa::path(get, path = "/auth/session", tag = "auth",
    responses((status = 200, body = WhoAmI), ProblemResponses))]
pub async fn whoami(Caller(access): Caller) -> Json<WhoAmI> {
    let permissions = serde_json::to_value(access.principal.permissions)
        .ok()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default();
    Json(WhoAmI {
        subject: access.principal.actor(),
        home_organization_id: access.principal.home.to_string(),
        organization_id: access.org_id().to_string(),
        permissions,
    })
}
