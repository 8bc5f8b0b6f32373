//! `GET|POST /app/sign-in`, `POST /app/sign-out` and `POST /app/switch`: the browser side
//! of the session the API's `/auth/sign-in` makes (same use case, same cookies, same rate
//! limits). A wrong email and a wrong password read the same; a limited client is told
//! when to try again. A switch moves the session to another organization the person is a
//! member of.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use parley_app::AppError;
use parley_app::auth::SignIn;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::pages::{PageError, render};
use super::session::{self, Session, check_form, desk_of, local_target};
use crate::AppState;
use crate::caller::{clear_session_cookies, set_session_cookies};
use crate::client::ClientAddr;

/// The sign-in page.
#[derive(Template)]
#[template(path = "app/sign_in.html")]
struct SignInPage<'a> {
    asset: Assets,
    email: &'a str,
    next: &'a str,
    problem: Option<String>,
}

/// Where to go after signing in.
#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// `GET /app/sign-in`: the form, or straight on for someone signed in already.
pub(crate) async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<Next>,
) -> Response {
    let next = local_target(query.next.as_deref());
    if let Some(signed) = session::current(&state, &headers).await {
        let target = next.map_or_else(|| desk_of(signed.principal.home), str::to_owned);
        return Redirect::to(&target).into_response();
    }
    render(
        StatusCode::OK,
        &SignInPage {
            asset: assets::urls(),
            email: "",
            next: next.unwrap_or_default(),
            problem: None,
        },
    )
}

/// The sign-in form as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /app/sign-in`.
pub(crate) async fn submit(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, None, "")?;
    let next = local_target(Some(&form.next));
    let attempt = state
        .app
        .sign_in(SignIn {
            email: form.email.clone(),
            password: form.password,
            organization_id: None,
            client,
        })
        .await;
    let (status, problem, retry_after) = match attempt {
        Ok(signed) => {
            let target = next.map_or_else(|| desk_of(signed.principal.home), str::to_owned);
            let mut response = Redirect::to(&target).into_response();
            set_session_cookies(
                response.headers_mut(),
                &signed,
                state.app.clock.now(),
                state.secure_cookies,
            );
            return Ok(response);
        }
        Err(AppError::Unauthenticated(_)) => (
            StatusCode::UNAUTHORIZED,
            "That email and password do not match an account. Check both and try again.".to_owned(),
            None,
        ),
        Err(AppError::RateLimited { retry_after, .. }) => (
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many attempts. Try again in {}.",
                wait_words(retry_after.as_secs())
            ),
            Some(retry_after),
        ),
        Err(AppError::Busy { retry_after, .. }) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Parley is busy signing people in. Try again in a moment.".to_owned(),
            Some(retry_after),
        ),
        Err(other) => return Err(other.into()),
    };
    let mut response = render(
        status,
        &SignInPage {
            asset: assets::urls(),
            email: &form.email,
            next: next.unwrap_or_default(),
            problem: Some(problem),
        },
    );
    if let Some(after) = retry_after {
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    Ok(response)
}

/// "45 seconds", "1 minute", "5 minutes".
fn wait_words(seconds: u64) -> String {
    match seconds {
        0..=1 => "a second".to_owned(),
        2..=59 => format!("{seconds} seconds"),
        60..=119 => "a minute".to_owned(),
        _ => format!("{} minutes", seconds.div_ceil(60)),
    }
}

/// The sign-out form as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct SignOutForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /app/sign-out`: ends the session (with its CSRF token, so another site cannot
/// sign anyone out) and returns to the sign-in page.
pub(crate) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<SignOutForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    state.app.sign_out(&session.token).await?;
    let mut response = Redirect::to("/app/sign-in").into_response();
    clear_session_cookies(response.headers_mut());
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::wait_words;

    #[test]
    fn waits_read_as_words() {
        assert_eq!(wait_words(1), "a second");
        assert_eq!(wait_words(45), "45 seconds");
        assert_eq!(wait_words(60), "a minute");
        assert_eq!(wait_words(299), "5 minutes");
    }
}

/// The organization switch as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct SwitchForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    org: String,
}

/// `POST /app/switch`: moves the session to another organization the person is a member
/// of (a new session there; the old one ends) and opens its desk.
pub(crate) async fn switch(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    session: Session,
    Form(form): Form<SwitchForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let target: parley_domain::OrgId = form
        .org
        .parse()
        .map_err(|_| AppError::NotFound("organization"))?;
    let signed = state
        .app
        .switch_organization(&session.token, target, &client)
        .await?;
    let mut response = Redirect::to(&desk_of(target)).into_response();
    set_session_cookies(
        response.headers_mut(),
        &signed,
        state.app.clock.now(),
        state.secure_cookies,
    );
    Ok(response)
}
