#![doc = include_str!("../README.md")]

mod caller;
mod client;
mod extract;
mod hooks;
mod idempotency;
mod invitation_page;
mod ops;
mod problem;
mod problem_pages;
mod v1;
mod web;
mod webchat;

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use metrics_exporter_prometheus::PrometheusHandle;
use parley_app::App;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use caller::Caller;
pub use client::{ClientAddr, UNKNOWN_CLIENT, client_address};
pub use problem::{ApiError, ProblemType};

/// Largest request body accepted, in bytes.
pub const BODY_LIMIT: usize = 1024 * 1024;
/// Longest a request may take before it is answered 408.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    /// The application.
    pub app: App,
    /// Renders `/metrics`.
    pub metrics: Option<PrometheusHandle>,
    /// Whether session cookies carry `Secure` (set when served over HTTPS).
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` names the client (`server.trusted_proxies`).
    pub trusted_proxies: std::sync::Arc<[std::net::IpAddr]>,
}

/// The `/api/v1` routes with their OpenAPI description.
fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(v1::base_document()).nest("/api/v1", v1::router())
}

/// The OpenAPI 3.1 document of the whole API.
#[must_use]
pub fn openapi() -> OpenApi {
    let mut document = api().into_openapi();
    v1::describe_responses(&mut document);
    document
}

/// The complete router as a service for `axum::serve`: one router shared by every
/// connection. (Serving the `Router` itself makes each new connection copy every route;
/// with the ~1,700 connections a provider's status callbacks held open in the Twilio
/// campaign benchmark that was ~300 MB of Parley's heap, measured with heaptrack.)
/// Each request knows its connection's peer address (rate limits, the audit log).
pub fn service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    router(state).into_make_service_with_connect_info::<std::net::SocketAddr>()
}

/// The complete router: API, operations endpoints and middleware.
pub fn router(state: AppState) -> Router {
    let (api, mut document) = api().split_for_parts();
    v1::describe_responses(&mut document);
    api.merge(ops::router(&document))
        .merge(hooks::router())
        .merge(webchat::router())
        .merge(invitation_page::router())
        .merge(web::router())
        .merge(problem_pages::router())
        .fallback(problem::not_found)
        .method_not_allowed_fallback(problem::method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            idempotency::layer,
        ))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(ops::record_metrics))
        .layer(CatchPanicLayer::custom(problem::panic_response))
        .layer(TimeoutLayer::with_status_code(
            http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(ops::request_span))
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(state)
}
