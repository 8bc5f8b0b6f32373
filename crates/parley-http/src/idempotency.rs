//! `Idempotency-Key` on creating POSTs (SPEC §7.5). The first request with a key runs and
//! its response (any status below 500) is stored; a retry with the same key, credentials
//! and body gets the stored response with `Idempotency-Replayed: true`; the same key with
//! another body is refused; a retry while the first is still running gets 409. Keys are
//! scoped by a hash of the credential and the `Parley-Organization` header, so tenants
//! never see each other's responses. Server errors release the key so a retry runs again.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, header};
use parley_store::{IdempotencyBegin, NewIdempotencyRecord, StoredResponse};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::caller::{ORGANIZATION_HEADER, SESSION_COOKIE, cookie};
use crate::problem::{ApiError, ProblemType};

const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotency-replayed";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().starts_with("/api/v1/") {
        return next.run(request).await;
    }
    let Some(raw_key) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match raw_key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            k.to_owned()
        }
        _ => {
            return ApiError::field(
                "Idempotency-Key",
                "must be 1 to 255 visible ASCII characters",
            )
            .into_response();
        }
    };
    let headers = request.headers();
    let credential = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .or_else(|| cookie(headers, SESSION_COOKIE))
        .unwrap_or_default();
    let target = headers
        .get(ORGANIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scope = hex(&Sha256::digest(
        format!("{credential}\n{target}").as_bytes(),
    ));
    let (parts, body) = request.into_parts();
    let Ok(bytes) = to_bytes(body, crate::BODY_LIMIT).await else {
        return ApiError::new(ProblemType::PayloadTooLarge, "the body is too large")
            .into_response();
    };
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(parts.uri.path());
    hasher.update(&bytes);
    let now = state.app.clock.now();
    let ttl = chrono::Duration::from_std(state.app.settings.idempotency_ttl)
        .unwrap_or(chrono::Duration::hours(24));
    let record = NewIdempotencyRecord {
        scope: scope.clone(),
        key: key.clone(),
        fingerprint: hex(&hasher.finalize()),
        at: now,
        expires_at: now + ttl,
    };
    match state.app.store.begin_idempotent(record).await {
        Err(e) => ApiError::from(parley_app::AppError::from(e)).into_response(),
        Ok(IdempotencyBegin::Mismatch) => ApiError::new(
            ProblemType::IdempotencyKeyReused,
            "use a new Idempotency-Key for a different request",
        )
        .into_response(),
        Ok(IdempotencyBegin::InProgress) => ApiError::new(
            ProblemType::IdempotencyInProgress,
            "retry once the first request has finished",
        )
        .into_response(),
        Ok(IdempotencyBegin::Replay(stored)) => replay(stored),
        Ok(IdempotencyBegin::Started) => {
            let response = next
                .run(Request::from_parts(parts, Body::from(bytes)))
                .await;
            let status = response.status();
            let (mut head, body) = response.into_parts();
            let Ok(body) = to_bytes(body, usize::MAX).await else {
                let _ = state.app.store.abandon_idempotent(&scope, &key).await;
                return ApiError::new(ProblemType::Internal, "the response could not be read")
                    .into_response();
            };
            if status.is_server_error() {
                let _ = state.app.store.abandon_idempotent(&scope, &key).await;
            } else {
                let content_type = head
                    .headers
                    .get(header::CONTENT_TYPE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("application/json")
                    .to_owned();
                let stored = StoredResponse {
                    status: status.as_u16(),
                    content_type,
                    body: body.to_vec(),
                };
                if let Err(e) = state
                    .app
                    .store
                    .finish_idempotent(&scope, &key, stored)
                    .await
                {
                    tracing::warn!(error = ?e, "could not store an idempotent response; a retry will run again");
                    let _ = state.app.store.abandon_idempotent(&scope, &key).await;
                }
            }
            head.headers
                .insert(REPLAYED, HeaderValue::from_static("false"));
            Response::from_parts(head, Body::from(body))
        }
    }
}

fn replay(stored: StoredResponse) -> Response {
    let status = http::StatusCode::from_u16(stored.status).unwrap_or(http::StatusCode::OK);
    let mut response = Response::new(Body::from(stored.body));
    *response.status_mut() = status;
    if let Ok(ct) = HeaderValue::from_str(&stored.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
