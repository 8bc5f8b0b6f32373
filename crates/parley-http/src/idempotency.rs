//! `Idempotency-Key` on creating POSTs (SPEC §7.5).
//!
//! * The first request with a key runs and its response (any status below 500) is
//!   stored; a retry with the same key and body gets the stored response with
//!   `Idempotency-Replayed: true`; the same key with another body is refused (422); a
//!   retry while the first is still running gets 409.
//! * Keys belong to the **principal** (the API key or the user, however many tokens or
//!   sessions it has had) and the organization acted on, so a client that refreshes its
//!   token and retries gets its first answer, and tenants never see each other's.
//!   Requests without credentials are not idempotent: they run (and are refused by their
//!   handler when they need credentials).
//! * The request runs in a task of its own: a client that goes away does not stop it,
//!   and its answer is stored for the retry. A server error releases the key so a retry
//!   runs again; a claim left running by a process that stopped is released once it is
//!   older than [`STALE_AFTER`] (no request runs that long).
//! * The stored answer is sealed with the master key (it may hold a secret shown once: a
//!   new API key, a webhook secret, an invitation link), bound to its scope and key.
//! * The body is hashed as it arrives: up to the general limit in memory, and an upload
//!   (`POST /api/v1/imports`) beyond that in a temporary file, streamed to the handler
//!   from there, so an idempotent upload takes no more memory than any other.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, Method, header};
use http_body_util::BodyExt;
use parley_store::{IdempotencyBegin, NewIdempotencyRecord, StoredResponse};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::caller::{Authenticated, ORGANIZATION_HEADER, authenticate};
use crate::problem::{ApiError, ProblemType};

const HEADER: &str = "idempotency-key";
const REPLAYED: &str = "idempotency-replayed";

/// How old a claim still running may be before it counts as left by a stopped process:
/// well past the request timeout.
pub const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(120);

/// The largest body `path` accepts: an upload's configured limit (plus room for the
/// multipart framing) for imports, the general limit elsewhere.
pub(crate) fn body_limit(state: &AppState, path: &str) -> u64 {
    if path == "/api/v1/imports" {
        let upload = state.app.settings.max_import_bytes + 64 * 1024;
        upload
            .max(crate::v1::MAX_ROWS_BODY as u64)
            .min(crate::v1::MAX_UPLOAD_CEILING as u64)
    } else {
        crate::BODY_LIMIT as u64
    }
}

/// A body read whole: in memory, or in a temporary file past the memory limit.
enum Spooled {
    Memory(Bytes),
    File(tempfile::NamedTempFile),
}

impl Spooled {
    /// The body again, for the handler (streamed from the file when there is one).
    async fn body(&self) -> Result<Body, std::io::Error> {
        match self {
            Spooled::Memory(bytes) => Ok(Body::from(bytes.clone())),
            Spooled::File(file) => {
                let reader = tokio::fs::File::open(file.path()).await?;
                Ok(Body::from_stream(tokio_util::io::ReaderStream::new(reader)))
            }
        }
    }
}

/// Reads `body` (at most `limit` bytes) into memory or, past the general limit, a
/// temporary file, hashing it on the way. `None` when it is larger than `limit`.
async fn spool(
    body: Body,
    hasher: &mut Sha256,
    limit: u64,
) -> Result<Option<Spooled>, std::io::Error> {
    use tokio::io::AsyncWriteExt;
    let mut body = body;
    let mut memory: Vec<u8> = Vec::new();
    let mut file: Option<(tempfile::NamedTempFile, tokio::fs::File)> = None;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(std::io::Error::other)?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total += chunk.len() as u64;
        if total > limit {
            return Ok(None);
        }
        hasher.update(&chunk);
        if file.is_none() && memory.len() + chunk.len() > crate::BODY_LIMIT {
            let named = tempfile::Builder::new()
                .prefix("parley-idempotent-")
                .tempfile()?;
            let mut writer = tokio::fs::File::from_std(named.as_file().try_clone()?);
            writer.write_all(&memory).await?;
            memory = Vec::new();
            file = Some((named, writer));
        }
        match &mut file {
            Some((_, writer)) => writer.write_all(&chunk).await?,
            None => memory.extend_from_slice(&chunk),
        }
    }
    Ok(Some(match file {
        Some((named, mut writer)) => {
            writer.flush().await?;
            Spooled::File(named)
        }
        None => Spooled::Memory(Bytes::from(memory)),
    }))
}

fn too_large(limit: u64) -> Response {
    ApiError::new(
        ProblemType::PayloadTooLarge,
        format!(
            "this route takes bodies of at most {}",
            crate::problem::size(limit)
        ),
    )
    .into_response()
}

pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST || !request.uri().path().starts_with("/api/v1/") {
        return next.run(request).await;
    }
    let key = match key_of(request.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return next.run(request).await,
        Err(refused) => return refused.into_response(),
    };
    let Ok(principal) = authenticate(&state.app, request.method(), request.headers()).await else {
        // No credentials: nothing to scope a key by; the handler answers as it would.
        return next.run(request).await;
    };
    let scope = scope_of(&principal, request.headers());
    let (mut parts, body) = request.into_parts();
    parts.extensions.insert(Authenticated(principal));
    let limit = body_limit(&state, parts.uri.path());
    let mut hasher = Sha256::new();
    hasher.update(parts.method.as_str());
    hasher.update(parts.uri.path());
    hasher.update([0u8]);
    let spooled = match spool(body, &mut hasher, limit).await {
        Ok(Some(spooled)) => spooled,
        Ok(None) => return too_large(limit),
        Err(e) => {
            tracing::warn!(error = %e, "an idempotent request's body could not be read");
            return ApiError::new(ProblemType::MalformedBody, "the body could not be read")
                .into_response();
        }
    };
    let record = new_record(&state, &scope, &key, hasher);
    match state.app.begin_idempotent(record).await {
        Err(e) => ApiError::from(e).into_response(),
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
        Ok(IdempotencyBegin::Replay(stored)) => replay(&state.app, &scope, &key, &stored),
        Ok(IdempotencyBegin::Started) => {
            run_started(&state, (scope, key), parts, spooled, next).await
        }
    }
}

/// The request's `Idempotency-Key`: none, or a 422 when it is not 1 to 255 visible ASCII
/// characters.
fn key_of(headers: &http::HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(raw) = headers.get(HEADER) else {
        return Ok(None);
    };
    match raw.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 && k.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(k.to_owned()))
        }
        _ => Err(ApiError::field(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters",
        )),
    }
}

/// Whose key it is: the caller and the organization they act on, hashed.
fn scope_of(principal: &parley_app::auth::Principal, headers: &http::HeaderMap) -> String {
    let target = headers
        .get(ORGANIZATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map_or_else(|| principal.home.to_string(), |t| t.trim().to_owned());
    hex::encode(Sha256::digest(
        format!("{}\n{target}", principal.actor()).as_bytes(),
    ))
}

/// The key's record: the request's fingerprint (method, path, body), kept for the
/// configured time; a claim older than [`STALE_AFTER`] may be taken over.
fn new_record(state: &AppState, scope: &str, key: &str, hasher: Sha256) -> NewIdempotencyRecord {
    let now = state.app.clock.now();
    let ttl = chrono::Duration::from_std(state.app.settings.idempotency_ttl)
        .unwrap_or(chrono::Duration::hours(24));
    NewIdempotencyRecord {
        scope: scope.to_owned(),
        key: key.to_owned(),
        fingerprint: hex::encode(hasher.finalize()),
        at: now,
        expires_at: now + ttl,
        stale_before: now - chrono::Duration::from_std(STALE_AFTER).unwrap_or_default(),
    }
}

/// Runs the request that holds the key on its own task: if the client goes away, it still
/// finishes and its answer is kept for the retry.
async fn run_started(
    state: &AppState,
    (scope, key): (String, String),
    parts: http::request::Parts,
    spooled: Spooled,
    next: Next,
) -> Response {
    let app = state.app.clone();
    let (scope_task, key_task) = (scope.clone(), key.clone());
    let task = tokio::spawn(async move {
        let body = match spooled.body().await {
            Ok(body) => body,
            Err(e) => {
                let _ = app.abandon_idempotent(&scope_task, &key_task).await;
                tracing::warn!(error = %e, "an idempotent request's body could not be read back");
                return ApiError::new(ProblemType::Internal, "the body could not be read back")
                    .into_response();
            }
        };
        let response = next.run(Request::from_parts(parts, body)).await;
        drop(spooled);
        settle(&app, &scope_task, &key_task, response).await
    });
    match task.await {
        Ok(response) => response,
        Err(e) => {
            let _ = state.app.abandon_idempotent(&scope, &key).await;
            tracing::error!(error = %e, "an idempotent request's task failed");
            crate::problem::panic_response(Box::new(()))
        }
    }
}

/// Stores the response for retries (or releases the key after a server error) and
/// answers with it.
async fn settle(app: &parley_app::App, scope: &str, key: &str, response: Response) -> Response {
    let status = response.status();
    let (mut head, body) = response.into_parts();
    let Ok(body) = body
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
    else {
        let _ = app.abandon_idempotent(scope, key).await;
        return ApiError::new(ProblemType::Internal, "the response could not be read")
            .into_response();
    };
    if status.is_server_error() {
        let _ = app.abandon_idempotent(scope, key).await;
    } else {
        let content_type = head
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/json")
            .to_owned();
        let sealed = match app.keys.sealed_box.seal(&body, &seal_context(scope, key)) {
            Ok(sealed) => sealed.into_bytes(),
            Err(e) => {
                tracing::warn!(error = %e, "could not seal an idempotent response; a retry will run again");
                let _ = app.abandon_idempotent(scope, key).await;
                head.headers
                    .insert(REPLAYED, HeaderValue::from_static("false"));
                return Response::from_parts(head, Body::from(body));
            }
        };
        let stored = StoredResponse {
            status: status.as_u16(),
            content_type,
            body: sealed,
        };
        if let Err(e) = app.finish_idempotent(scope, key, stored).await {
            tracing::warn!(error = ?e, "could not store an idempotent response; a retry will run again");
            let _ = app.abandon_idempotent(scope, key).await;
        }
    }
    head.headers
        .insert(REPLAYED, HeaderValue::from_static("false"));
    Response::from_parts(head, Body::from(body))
}

/// What a stored answer is sealed to.
fn seal_context(scope: &str, key: &str) -> String {
    parley_app::sealing::context(parley_store::SealedKind::IdempotencyAnswer, scope, key)
}

fn replay(app: &parley_app::App, scope: &str, key: &str, stored: &StoredResponse) -> Response {
    let opened = std::str::from_utf8(&stored.body).ok().and_then(|sealed| {
        app.keys
            .sealed_box
            .open(sealed, &seal_context(scope, key))
            .ok()
    });
    let Some(body) = opened else {
        tracing::warn!("a stored idempotent response could not be opened (another master key?)");
        return ApiError::new(
            ProblemType::IdempotencyKeyReused,
            "this Idempotency-Key's first answer can no longer be read; use a new key",
        )
        .into_response();
    };
    let status = http::StatusCode::from_u16(stored.status).unwrap_or(http::StatusCode::OK);
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    if let Ok(ct) = HeaderValue::from_str(&stored.content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, ct);
    }
    response
        .headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    response
}
