//! The idempotency-key port behind `Idempotency-Key` on creating POSTs: the first request
//! with a key runs, later ones with the same key and body get the stored response.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

/// A key being claimed by a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewIdempotencyRecord {
    /// Whose key it is (principal and organization), so keys never collide across tenants.
    pub scope: String,
    /// The client's `Idempotency-Key`.
    pub key: String,
    /// Hash of method, path and body: the same key with another request is refused.
    pub fingerprint: String,
    /// When the request arrived.
    pub at: DateTime<Utc>,
    /// After this the key may be reused.
    pub expires_at: DateTime<Utc>,
    /// A claim still running that began before this was left by a process that stopped
    /// (no request runs that long): it is released and this request takes the key.
    pub stale_before: DateTime<Utc>,
}

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdempotencyBegin {
    /// The key was free (or expired) and is now held by this request.
    Started,
    /// Another request with this key is still running.
    InProgress,
    /// A request with this key and fingerprint finished; here is its response.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
}

/// Idempotency keys.
#[async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims a key (see [`IdempotencyBegin`]).
    async fn begin_idempotent(
        &self,
        record: NewIdempotencyRecord,
    ) -> Result<IdempotencyBegin, StoreError>;

    /// Stores the response of the request holding the key.
    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError>;

    /// Releases a key whose request failed without a response worth replaying.
    async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError>;

    /// Deletes keys that expired before `now`; returns how many.
    async fn purge_idempotency(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;
}
