//! Operations endpoints (`/healthz`, `/readyz`, `/metrics`, the OpenAPI document) and the
//! request span and metrics middleware.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use http::header;
use utoipa::openapi::OpenApi;

use crate::AppState;
use crate::problem::{ApiError, ProblemType};

/// `document` is serialised once here, not on every request.
pub(crate) fn router(document: &OpenApi) -> Router<AppState> {
    let json = axum::body::Bytes::from(serde_json::to_vec(document).unwrap_or_default());
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route(
            "/api/v1/openapi.json",
            get(move || async move { ([(header::CONTENT_TYPE, "application/json")], json) }),
        )
}

/// The process is up.
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "ok"}))
}

/// The process can serve: the store answers.
async fn readyz(State(state): State<AppState>) -> Response {
    match state.app.ready().await {
        Ok(engine) => Json(serde_json::json!({"status": "ready", "store": engine})).into_response(),
        Err(e) => {
            tracing::warn!(error = ?e, "readiness check failed");
            ApiError::new(ProblemType::Unavailable, "the store does not answer").into_response()
        }
    }
}

/// Prometheus text exposition.
async fn metrics(State(state): State<AppState>) -> Response {
    let body = state
        .metrics
        .as_ref()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}

/// Counts requests and records their latency by route template, method and status, and
/// logs one `info` line per request.
pub(crate) async fn record_metrics(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let elapsed = started.elapsed();
    // One line per request, inside the request's span (which carries its request id).
    tracing::info!(
        method = %method,
        route = %route,
        status,
        latency_ms = elapsed.as_secs_f64() * 1000.0,
        "request"
    );
    let labels = [
        ("route", route),
        ("method", method),
        ("status", status.to_string()),
    ];
    metrics::counter!("parley_http_requests_total", &labels).increment(1);
    metrics::histogram!("parley_http_request_duration_seconds", &labels)
        .record(elapsed.as_secs_f64());
    response
}

/// The tracing span of one request, carrying its request id.
pub(crate) fn request_span(request: &Request) -> tracing::Span {
    let id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
}
