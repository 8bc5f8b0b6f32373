//! Who is calling and for which organization: a bearer JWT (API keys) or the session
//! cookie (browsers, with the CSRF header required on unsafe methods), then the
//! `Parley-Organization` header to act on a sub-organization.

use axum::extract::FromRequestParts;
use http::request::Parts;
use http::{HeaderMap, Method, header};
use parley_app::App;
use parley_app::auth::{Access, Principal};
use parley_domain::OrgId;

use crate::AppState;
use crate::problem::{ApiError, ProblemType};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "parley_session";
/// The CSRF cookie's name (readable by the page, unlike the session cookie).
pub const CSRF_COOKIE: &str = "parley_csrf";
/// The header the page echoes the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The header naming the organization to act on.
pub const ORGANIZATION_HEADER: &str = "parley-organization";

/// An authenticated caller acting on one organization.
#[derive(Debug, Clone)]
pub struct Caller(pub Access);

/// The value of a cookie in the `Cookie` headers.
pub(crate) fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Adds the cookies of a new browser session to `headers`: the HttpOnly session cookie
/// and the CSRF cookie the page reads, both ending with the session.
pub(crate) fn set_session_cookies(
    headers: &mut HeaderMap,
    signed: &parley_app::auth::SignedIn,
    now: chrono::DateTime<chrono::Utc>,
    secure: bool,
) {
    let max_age = (signed.expires_at - now).num_seconds().max(0);
    let secure = if secure { "; Secure" } else { "" };
    append_cookie(
        headers,
        &format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}",
            signed.session_token
        ),
    );
    append_cookie(
        headers,
        &format!(
            "{CSRF_COOKIE}={}; Path=/; SameSite=Lax; Max-Age={max_age}{secure}",
            signed.csrf_token
        ),
    );
}

/// Adds cookies that remove the session's cookies from the browser.
pub(crate) fn clear_session_cookies(headers: &mut HeaderMap) {
    append_cookie(
        headers,
        &format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"),
    );
    append_cookie(
        headers,
        &format!("{CSRF_COOKIE}=; Path=/; SameSite=Lax; Max-Age=0"),
    );
}

fn append_cookie(headers: &mut HeaderMap, value: &str) {
    if let Ok(v) = http::HeaderValue::from_str(value) {
        headers.append(header::SET_COOKIE, v);
    }
}

/// The answer to a cookie-authenticated change without its CSRF token.
pub(crate) fn csrf_refused() -> ApiError {
    ApiError::new(
        ProblemType::CsrfFailed,
        "send the CSRF token from sign-in in X-CSRF-Token",
    )
}

/// The bearer token of the `Authorization` header, if any.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, ApiError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let text = value.to_str().map_err(|_| {
        ApiError::new(
            ProblemType::Unauthenticated,
            "the Authorization header is not text",
        )
    })?;
    match text.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(ApiError::new(
            ProblemType::Unauthenticated,
            "use Authorization: Bearer <token>",
        )),
    }
}

/// A principal already authenticated for this request (by the idempotency layer, which
/// scopes keys by it), so the handler does not authenticate twice.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated(pub(crate) Principal);

/// The principal behind the request's bearer token or session cookie (with the CSRF
/// token on unsafe methods).
pub(crate) async fn authenticate(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Principal, ApiError> {
    if let Some(token) = bearer(headers)? {
        Ok(app.authenticate_bearer(token).await?)
    } else if let Some(session) = cookie(headers, SESSION_COOKIE) {
        let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
        if !safe {
            let presented = headers
                .get(CSRF_HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if !app.csrf_matches(session, presented) {
                return Err(csrf_refused());
            }
        }
        Ok(app.authenticate_session(session).await?)
    } else {
        Err(ApiError::new(
            ProblemType::Unauthenticated,
            "send Authorization: Bearer <token> or sign in",
        ))
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let app = &state.app;
        let principal = match parts.extensions.get::<Authenticated>() {
            Some(Authenticated(principal)) => principal.clone(),
            None => authenticate(app, &parts.method, &parts.headers).await?,
        };
        let target = match parts.headers.get(ORGANIZATION_HEADER) {
            None => None,
            Some(v) => Some(
                v.to_str()
                    .ok()
                    .and_then(|t| t.trim().parse::<OrgId>().ok())
                    .ok_or_else(|| {
                        ApiError::field("Parley-Organization", "must be an organization id (org_…)")
                    })?,
            ),
        };
        Ok(Caller(app.access(principal, target).await?))
    }
}
