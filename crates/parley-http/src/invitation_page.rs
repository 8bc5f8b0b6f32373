//! `GET /invitation`: the page an invitation's link opens (`…/invitation#<token>`), where
//! the person sees what they are invited to and accepts it with their password. Plain
//! HTML, CSS and one small module of our own, compiled into the binary; a strict
//! `Content-Security-Policy` (nothing inline, nothing from elsewhere, no framing) and no
//! referrer. The token stays in the fragment, so it never reaches a server log.

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::get;
use http::header;

use crate::AppState;

const PAGE: &str = include_str!("../assets/invitation/invitation.html");
const SCRIPT: &str = include_str!("../assets/invitation/page.js");
const STYLE: &str = include_str!("../assets/invitation/page.css");
const ICON: &str = include_str!("../assets/invitation/icon.svg");

use crate::web::CSP;

/// The routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(parley_app::tenancy::ACCEPT_PATH, get(page))
        .route("/invitation/page.js", get(script))
        .route("/invitation/page.css", get(style))
        .route("/invitation/icon.svg", get(icon))
}

fn served(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
}

async fn page() -> impl IntoResponse {
    served("text/html; charset=utf-8", PAGE)
}

async fn script() -> impl IntoResponse {
    served("text/javascript; charset=utf-8", SCRIPT)
}

async fn icon() -> impl IntoResponse {
    served("image/svg+xml", ICON)
}

async fn style() -> impl IntoResponse {
    served("text/css; charset=utf-8", STYLE)
}
