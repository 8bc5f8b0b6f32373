//! `GET /problems/{slug}`: the page each problem document's `type` names, saying what the
//! problem means and what to do about it, in the visual style of Parley's standalone pages
//! (the invitation page's stylesheet) and under the same strict policy.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

use crate::AppState;
use crate::problem::ProblemType;
use crate::web::CSP;

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/problems/{slug}", axum::routing::get(page))
}

/// What a problem means and what to do, for the person reading the page.
const fn explanation(kind: ProblemType) -> (&'static str, &'static str) {
    use ProblemType as P;
    match kind {
        P::MalformedBody => (
            "The request's body could not be read as the content type it declared: the JSON has a syntax error, the multipart form is cut short, or the YAML does not parse.",
            "Check the body against its `Content-Type`; `detail` names the line and column where reading stopped.",
        ),
        P::ValidationFailed => (
            "The body or query was readable, but some of its fields are missing, unknown or have values Parley cannot take.",
            "Every problem of the request is listed in `errors`, each with the `field` it concerns (a JSON path such as `window.opens`) and a `message`. Fix them all and send the request again; nothing was changed.",
        ),
        P::UnsupportedMediaType => (
            "The request's body is in a format this endpoint does not read.",
            "Send `Content-Type: application/json` (flow documents may also be `application/yaml`; imports take `multipart/form-data`).",
        ),
        P::PayloadTooLarge => (
            "The body is larger than this endpoint accepts.",
            "`detail` gives the limit. Split the data (for example a large import into several files) or raise the configured limit if you run the server.",
        ),
        P::Unauthenticated => (
            "The request carried no credentials, or ones Parley does not accept: a missing or expired bearer token, a revoked API key, or an ended session.",
            "Exchange your API key for a new token at `POST /api/v1/auth/token` (tokens last an hour), or sign in again.",
        ),
        P::Forbidden => (
            "You are signed in, but your role does not allow this action in this organization.",
            "Ask an owner or administrator of the organization for a role that includes it, or act on an organization where you have it (`Parley-Organization`).",
        ),
        P::CsrfFailed => (
            "A change was made with a browser session but without the session's CSRF token, so Parley cannot tell it came from Parley's own pages.",
            "Send the token the sign-in returned in the `X-CSRF-Token` header. Scripts should use a bearer token instead of a session.",
        ),
        P::NotFound => (
            "Nothing is at this address, or it belongs to an organization outside your reach.",
            "Check the id and its prefix (`chn_`, `flow_`, `conv_`…) and the organization you act on.",
        ),
        P::MethodNotAllowed => (
            "The address exists, but not with this HTTP method.",
            "The `Allow` header and the API description (`/api/v1/openapi.json`) list the methods it takes.",
        ),
        P::Conflict => (
            "The request is valid but cannot be applied to the resource as it is now: a key already in use, a campaign in a state that does not allow the move, a disabled channel.",
            "`detail` says what conflicts. Read the resource again and decide from its current state.",
        ),
        P::IdempotencyKeyReused => (
            "This `Idempotency-Key` was used before with a different request (another path, method or body).",
            "Use a new key for each distinct request; reuse a key only to retry the very same request.",
        ),
        P::IdempotencyInProgress => (
            "A request with the same `Idempotency-Key` is still being handled.",
            "Wait for `Retry-After` seconds and send it again: you will get the first request's answer.",
        ),
        P::RateLimited => (
            "Too many attempts came from this client or on this account in a short time (sign-ins and token requests are limited to slow down guessing).",
            "Wait for the number of seconds in `Retry-After` before trying again.",
        ),
        P::Unavailable => (
            "Parley cannot answer right now: its store does not respond, or it is too busy to take the request.",
            "Retry after `Retry-After` seconds when it is given, otherwise after a short wait with backoff. If it persists, the operator should check `/readyz` and the logs.",
        ),
        P::Internal => (
            "Something unexpected failed inside Parley. No internal detail is shown to clients.",
            "Retry once. If it happens again, give the operator the request id from the `x-request-id` header: it identifies the failure in the logs.",
        ),
    }
}

/// Escapes text for HTML, turning `code` spans into `<code>`.
fn html(text: &str) -> String {
    let escaped = text
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

async fn page(Path(slug): Path<String>) -> Response {
    let Some(kind) = ProblemType::ALL
        .into_iter()
        .find(|k| k.describe().0 == slug)
    else {
        return crate::problem::ApiError::new(ProblemType::NotFound, "no such problem type")
            .into_response();
    };
    let (_, status, title) = kind.describe();
    let (meaning, action) = explanation(kind);
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} · Parley</title>\n\
         <link rel=\"icon\" href=\"/invitation/icon.svg\" type=\"image/svg+xml\">\n\
         <link rel=\"stylesheet\" href=\"/invitation/page.css\">\n</head>\n<body>\n\
         <main class=\"card\" aria-labelledby=\"title\">\n<p class=\"brand\">Parley</p>\n\
         <h1 id=\"title\">{title}</h1>\n\
         <p class=\"hint\">HTTP {code} · <code>/problems/{slug}</code></p>\n\
         <p class=\"lead\">{meaning}</p>\n<p class=\"lead\">{action}</p>\n\
         </main>\n</body>\n</html>\n",
        title = html(title),
        code = status.as_u16(),
        meaning = html(meaning),
        action = html(action),
    );
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}
