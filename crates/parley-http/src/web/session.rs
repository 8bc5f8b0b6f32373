//! Who is signed in on a page, and the organization its URL names. A request without a
//! live session is sent to sign in and brought back afterwards; a form that changes
//! something must carry the session's CSRF token and come from this origin (a browser
//! says where a request comes from in `Sec-Fetch-Site` and `Origin`).

use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Redirect, Response};
use http::request::Parts;
use http::{HeaderMap, header};
use parley_app::auth::{Access, Principal};
use parley_domain::{OrgId, User};

use super::pages::PageError;
use crate::AppState;
use crate::caller::{SESSION_COOKIE, cookie};
use crate::problem::{ApiError, ProblemType};

/// A live browser session.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    /// Who.
    pub(crate) principal: Principal,
    /// The cookie's token.
    pub(crate) token: String,
}

impl Session {
    /// The token a form must echo in its `csrf` field.
    pub(crate) fn csrf(&self, state: &AppState) -> String {
        state.app.csrf_token(&self.token)
    }
}

/// The session of a request, if it has a live one.
pub(crate) async fn current(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let token = cookie(headers, SESSION_COOKIE)?;
    let principal = state.app.authenticate_session(token).await.ok()?;
    Some(Session {
        principal,
        token: token.to_owned(),
    })
}

impl FromRequestParts<AppState> for Session {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        current(state, &parts.headers)
            .await
            .ok_or_else(|| PageError::SignIn {
                next: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| parts.uri.path().to_owned(), |p| p.as_str().to_owned()),
            })
    }
}

/// A signed-in person acting on the organization a page's URL names.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// What they may do there.
    pub(crate) access: Access,
    /// Their account.
    pub(crate) user: Option<User>,
    /// The CSRF token their forms carry.
    pub(crate) csrf: String,
}

impl Viewer {
    /// `session` on `org`: refused as the API refuses an organization out of reach.
    pub(crate) async fn on(
        state: &AppState,
        session: &Session,
        org: OrgId,
    ) -> Result<Self, PageError> {
        let access = state
            .app
            .access(session.principal.clone(), Some(org))
            .await?;
        let user = state.app.signed_in_user(&access).await?;
        Ok(Self {
            access,
            user,
            csrf: session.csrf(state),
        })
    }
}

/// Refuses a form post that another site could have made: one a browser says came from
/// elsewhere, or (with a session) one without the session's CSRF token.
pub(crate) fn check_form(
    state: &AppState,
    headers: &HeaderMap,
    session: Option<&Session>,
    csrf: &str,
) -> Result<(), PageError> {
    let refused =
        |why: &str| PageError::Problem(ApiError::new(ProblemType::CsrfFailed, why.to_owned()));
    if !same_origin(headers) {
        return Err(refused(
            "this form was sent from another site; open the page again and send it from there",
        ));
    }
    if let Some(session) = session
        && !state.app.csrf_matches(&session.token, csrf)
    {
        return Err(refused(
            "this form is out of date (it was opened before you last signed in); open the page again",
        ));
    }
    Ok(())
}

/// Whether a request comes from this origin, as far as the browser tells: requests that
/// say nothing (not from a browser) pass; the CSRF token still guards them.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text(header::ORIGIN.as_str()), text(header::HOST.as_str())) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority == host),
        (Some(_), None) => false,
        (None, _) => true,
    }
}

/// Where a page may send someone after signing in: a path of this application only
/// (never another site, never a scheme-relative `//host`).
pub(crate) fn local_target(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with("/app/") && !n.starts_with("//") && !n.contains('\\'))
}

/// The desk of an organization.
pub(crate) fn desk_of(org: OrgId) -> String {
    format!("/app/{org}/conversations")
}

/// `GET /` and `GET /app`: the desk when signed in, else the sign-in page.
pub(crate) async fn root(
    axum::extract::State(state): axum::extract::State<AppState>,
    headers: HeaderMap,
) -> Response {
    match current(&state, &headers).await {
        Some(session) => Redirect::to(&desk_of(session.principal.home)).into_response(),
        None => Redirect::to("/app/sign-in").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_app_paths_are_returned_to() {
        assert_eq!(
            local_target(Some("/app/org_1/conversations?view=mine")),
            Some("/app/org_1/conversations?view=mine")
        );
        for hostile in [
            "https://evil.example/app/",
            "//evil.example/app/",
            "/app\\..",
            "/api/v1/x",
            "javascript:alert(1)",
        ] {
            assert_eq!(local_target(Some(hostile)), None, "{hostile}");
        }
        assert_eq!(local_target(None), None);
    }

    #[test]
    fn a_browser_saying_another_site_is_refused() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h), "not a browser: the token decides");
        h.insert("sec-fetch-site", "cross-site".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(same_origin(&h));
        let mut h = HeaderMap::new();
        h.insert(header::HOST, "parley.example".parse().unwrap());
        h.insert(header::ORIGIN, "https://evil.example".parse().unwrap());
        assert!(!same_origin(&h));
        h.insert(header::ORIGIN, "https://parley.example".parse().unwrap());
        assert!(same_origin(&h));
    }
}
