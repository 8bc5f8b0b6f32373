//! The application error: what went wrong in a use case, in terms the HTTP layer maps to
//! problem documents and the CLI prints. Internal causes stay in the source chain.

use parley_store::{BoxError, StoreError};

/// What kind of thing was not found or conflicted.
pub type What = &'static str;

/// One invalid input field: its JSON path and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FieldError {
    /// JSON path of the field (`name`, `permissions[1]`).
    pub field: String,
    /// What is wrong, in words a user can act on.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// `file is larger than 200 bytes`: how the CLI and stored records (an import's `error`)
/// spell a field error.
impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.field, self.message)
    }
}

/// Field errors joined with `; `.
fn list(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// A use case's failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    /// No credentials, or credentials that are wrong, expired or revoked.
    #[error("not authenticated: {0}")]
    Unauthenticated(&'static str),
    /// Authenticated, but the permission is missing.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// The thing does not exist or is outside the caller's organizations.
    #[error("{0} not found")]
    NotFound(What),
    /// The input is invalid; every field error is listed.
    #[error("invalid input: {}", list(.0))]
    Invalid(Vec<FieldError>),
    /// The request conflicts with the current state (a taken email, the last owner…).
    #[error("conflict: {0}")]
    Conflict(What),
    /// The store is unreachable or overloaded; retry later.
    #[error("temporarily unavailable")]
    Unavailable(#[source] BoxError),
    /// This node is at capacity for this kind of work (password hashing); retry after
    /// `retry_after`.
    #[error("busy: {why}")]
    Busy {
        /// When to try again.
        retry_after: std::time::Duration,
        /// What is busy, for the client.
        why: &'static str,
    },
    /// Too many attempts from this client or on this account; retry after `retry_after`.
    #[error("rate limited: {why}")]
    RateLimited {
        /// When to try again.
        retry_after: std::time::Duration,
        /// What was limited, for the client.
        why: &'static str,
    },
    /// A bug or an unexpected failure; details are logged, never shown to clients.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl AppError {
    /// One invalid field.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("resource"),
            StoreError::Conflict { constraint } => AppError::Conflict(constraint),
            StoreError::Unavailable(source) => AppError::Unavailable(source),
            other => AppError::Internal(Box::new(other)),
        }
    }
}

/// Maps store results at the call site, naming what was missing or conflicting.
pub(crate) trait StoreResultExt<T> {
    /// `NotFound` becomes `AppError::NotFound(what)`.
    fn or_not_found(self, what: What) -> Result<T, AppError>;
}

impl<T> StoreResultExt<T> for Result<T, StoreError> {
    fn or_not_found(self, what: What) -> Result<T, AppError> {
        self.map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        })
    }
}

/// Collects a validation's field errors into `errors` so every bad field is reported at
/// once: the value, or `None` with its field errors added. Other errors end the use case.
pub(crate) fn absorb<T>(
    errors: &mut Vec<FieldError>,
    result: Result<T, AppError>,
) -> Result<Option<T>, AppError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(AppError::Invalid(list)) => {
            errors.extend(list);
            Ok(None)
        }
        Err(other) => Err(other),
    }
}
