//! The one mapping from failures to RFC 9457 problem documents. Every error a client can
//! see has a stable `type` slug listed in [`ProblemType`]; internal causes are logged with
//! the request id and never sent.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use parley_app::{AppError, FieldError};
use serde::Serialize;

/// Every problem type Parley returns. The slug is part of the API contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProblemType {
    /// The body cannot be read as its content type says (JSON, multipart, a form).
    MalformedBody,
    /// The body or query is well-formed but has invalid, missing or unknown fields.
    ValidationFailed,
    /// The request needs another content type.
    UnsupportedMediaType,
    /// The body is larger than the limit.
    PayloadTooLarge,
    /// No or bad credentials.
    Unauthenticated,
    /// Authenticated but not allowed.
    Forbidden,
    /// A cookie-authenticated change without a valid CSRF token.
    CsrfFailed,
    /// No such resource (or outside the caller's organizations).
    NotFound,
    /// The method is not allowed on this path.
    MethodNotAllowed,
    /// The request conflicts with the current state.
    Conflict,
    /// An `Idempotency-Key` was reused with a different request.
    IdempotencyKeyReused,
    /// A request with the same `Idempotency-Key` is still running.
    IdempotencyInProgress,
    /// Too many attempts from this client or on this account; retry after `Retry-After`.
    RateLimited,
    /// The service cannot answer now; retry later.
    Unavailable,
    /// An unexpected failure; the request id identifies it in the logs.
    Internal,
}

impl ProblemType {
    /// Every problem type, for documentation and snapshot tests.
    pub const ALL: [ProblemType; 15] = [
        ProblemType::MalformedBody,
        ProblemType::ValidationFailed,
        ProblemType::UnsupportedMediaType,
        ProblemType::PayloadTooLarge,
        ProblemType::Unauthenticated,
        ProblemType::Forbidden,
        ProblemType::CsrfFailed,
        ProblemType::NotFound,
        ProblemType::MethodNotAllowed,
        ProblemType::Conflict,
        ProblemType::IdempotencyKeyReused,
        ProblemType::IdempotencyInProgress,
        ProblemType::RateLimited,
        ProblemType::Unavailable,
        ProblemType::Internal,
    ];

    /// `(slug, HTTP status, title)`.
    #[must_use]
    pub const fn describe(self) -> (&'static str, StatusCode, &'static str) {
        use ProblemType as P;
        match self {
            P::MalformedBody => (
                "malformed-body",
                StatusCode::BAD_REQUEST,
                "The request body is malformed",
            ),
            P::ValidationFailed => (
                "validation-failed",
                StatusCode::UNPROCESSABLE_ENTITY,
                "The request has invalid fields",
            ),
            P::UnsupportedMediaType => (
                "unsupported-media-type",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Send the body as application/json",
            ),
            P::PayloadTooLarge => (
                "payload-too-large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "The request body is too large",
            ),
            P::Unauthenticated => (
                "unauthenticated",
                StatusCode::UNAUTHORIZED,
                "Authentication is required",
            ),
            P::Forbidden => (
                "forbidden",
                StatusCode::FORBIDDEN,
                "You are not allowed to do this",
            ),
            P::CsrfFailed => (
                "csrf-failed",
                StatusCode::FORBIDDEN,
                "The CSRF token is missing or wrong",
            ),
            P::NotFound => ("not-found", StatusCode::NOT_FOUND, "Not found"),
            P::MethodNotAllowed => (
                "method-not-allowed",
                StatusCode::METHOD_NOT_ALLOWED,
                "Method not allowed",
            ),
            P::Conflict => (
                "conflict",
                StatusCode::CONFLICT,
                "The request conflicts with the current state",
            ),
            P::IdempotencyKeyReused => (
                "idempotency-key-reused",
                StatusCode::UNPROCESSABLE_ENTITY,
                "This Idempotency-Key was used with another request",
            ),
            P::IdempotencyInProgress => (
                "idempotency-in-progress",
                StatusCode::CONFLICT,
                "A request with this Idempotency-Key is still running",
            ),
            P::RateLimited => (
                "rate-limited",
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts; wait as Retry-After says",
            ),
            P::Unavailable => (
                "unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "Temporarily unavailable; retry later",
            ),
            P::Internal => (
                "internal",
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
            ),
        }
    }
}

/// The answer every operation may give with a 4XX status: a problem document. Listed in
/// each operation's `responses(…)` once, as `ProblemResponses`.
pub struct ProblemResponses;

impl utoipa::IntoResponses for ProblemResponses {
    fn responses() -> std::collections::BTreeMap<
        String,
        utoipa::openapi::RefOr<utoipa::openapi::response::Response>,
    > {
        use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
        let problem = ResponseBuilder::new()
            .description("Problem document")
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build();
        std::collections::BTreeMap::from([("4XX".to_owned(), problem.into())])
    }
}

/// The problem document.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// `/problems/<slug>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the problem type.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// What happened in this case.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// One entry per invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One invalid field.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProblemField {
    /// JSON path of the field.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    kind: ProblemType,
    detail: Option<String>,
    errors: Vec<FieldError>,
    /// Sent as `Retry-After` (whole seconds, at least 1).
    retry_after: Option<std::time::Duration>,
}

impl ApiError {
    /// A problem of `kind` with a detail line.
    pub fn new(kind: ProblemType, detail: impl Into<String>) -> Self {
        Self {
            kind,
            detail: Some(detail.into()),
            errors: Vec::new(),
            retry_after: None,
        }
    }

    /// Its HTTP status, title and detail line, for a page that shows it to a person.
    pub(crate) fn for_people(&self) -> (StatusCode, &'static str, Option<&str>) {
        let (_, status, title) = self.kind.describe();
        (status, title, self.detail.as_deref())
    }

    /// The invalid fields it names, as `(field, message)`.
    pub(crate) fn field_errors(&self) -> impl Iterator<Item = (&str, &str)> {
        self.errors
            .iter()
            .map(|e| (e.field.as_str(), e.message.as_str()))
    }

    /// The `Retry-After` it carries.
    pub(crate) fn retry_after_value(&self) -> Option<std::time::Duration> {
        self.retry_after
    }

    /// The same problem with a `Retry-After`.
    #[must_use]
    pub fn retry_after(mut self, after: std::time::Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// A validation problem about the given fields.
    #[must_use]
    pub fn fields(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            kind: ProblemType::ValidationFailed,
            detail: Some(detail),
            errors,
            retry_after: None,
        }
    }

    /// A validation problem about one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::fields(vec![FieldError::new(field, message)])
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthenticated(why) => ApiError::new(ProblemType::Unauthenticated, why),
            AppError::Forbidden(why) => ApiError::new(ProblemType::Forbidden, why),
            AppError::NotFound(what) => {
                ApiError::new(ProblemType::NotFound, format!("no such {what}"))
            }
            AppError::Invalid(errors) => ApiError::fields(errors),
            // The conflict's field, when it names one, is listed as the field that conflicts.
            AppError::Conflict(c) => ApiError {
                errors: c
                    .field
                    .map(|field| FieldError::new(field, c.detail))
                    .into_iter()
                    .collect(),
                ..ApiError::new(ProblemType::Conflict, c.detail)
            },
            AppError::Unavailable(source) => {
                tracing::warn!(error = ?source, "store unavailable");
                ApiError::new(ProblemType::Unavailable, "the store is busy or unreachable")
            }
            AppError::Busy { retry_after, why } => {
                ApiError::new(ProblemType::Unavailable, why).retry_after(retry_after)
            }
            AppError::RateLimited { retry_after, why } => {
                ApiError::new(ProblemType::RateLimited, why).retry_after(retry_after)
            }
            AppError::Internal(source) => {
                tracing::error!(error = ?source, "internal error");
                ApiError::internal()
            }
            other => {
                tracing::error!(error = ?other, "unmapped application error");
                ApiError::internal()
            }
        }
    }
}

impl ApiError {
    /// A 500 that says nothing of its cause (which is logged).
    pub(crate) fn internal() -> Self {
        ApiError {
            kind: ProblemType::Internal,
            detail: None,
            errors: Vec::new(),
            retry_after: None,
        }
    }
}

/// A size in bytes as people read it: `1 MiB`, `64 MiB`, `1.5 GiB`, `900 bytes`.
#[must_use]
pub fn size(bytes: u64) -> String {
    const KIB: u64 = 1024;
    let units = [(KIB * KIB * KIB, "GiB"), (KIB * KIB, "MiB"), (KIB, "KiB")];
    for (unit, name) in units {
        if bytes >= unit {
            #[allow(clippy::cast_precision_loss)]
            let value = bytes as f64 / unit as f64;
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{value:.1} {name}")
            };
        }
    }
    format!("{bytes} bytes")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (slug, status, title) = self.kind.describe();
        let body = Problem {
            problem_type: format!("/problems/{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail: self.detail,
            errors: self
                .errors
                .into_iter()
                .map(|e| ProblemField {
                    field: e.field,
                    message: e.message,
                })
                .collect(),
        };
        let mut response = (status, Json(body)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(after) = self.retry_after {
            let seconds = after.as_secs() + u64::from(after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        if status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::new(ProblemType::NotFound, "no route matches this path")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ProblemType::MethodNotAllowed,
        "this path does not accept this method",
    )
}

pub(crate) fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError::internal().into_response()
}
