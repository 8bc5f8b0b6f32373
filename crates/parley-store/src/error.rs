//! The engine-neutral storage error. Engines map their own codes into it, naming unique
//! constraints by the stable names both migration sets use.

/// A boxed error from an engine, kept as a source so the chain reaches the logs intact.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What went wrong in a store call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The row asked for does not exist (or is not visible to the caller's organization).
    #[error("not found")]
    NotFound,
    /// A uniqueness rule or a fencing check refused the write; `constraint` is its stable name.
    #[error("conflict on {constraint}")]
    Conflict {
        /// Stable name such as `users_email_key` or `job_lease`.
        constraint: &'static str,
    },
    /// The store could not be reached or is overloaded; retrying later may work.
    #[error("store unavailable")]
    Unavailable(#[source] BoxError),
    /// Anything else, including rows that do not decode.
    #[error("store failure")]
    Other(#[source] BoxError),
}

impl StoreError {
    /// Wraps a message as an `Other` error (used for rows that fail to decode).
    pub fn corrupt(message: impl Into<String>) -> Self {
        StoreError::Other(message.into().into())
    }
}
