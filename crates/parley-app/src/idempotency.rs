//! `Idempotency-Key` as the HTTP layer keeps it: the first request with a key claims it,
//! its answer is stored for the repeats, and a request that fails without an answer worth
//! replaying lets the key go. The rules (scope, fingerprint, what is kept, sealed) are the
//! HTTP layer's; this module is its one way to the store.

use parley_store::{IdempotencyBegin, NewIdempotencyRecord, StoredResponse};

use crate::{App, AppError};

impl App {
    /// Claims `record`'s key, or says what holds it (see [`IdempotencyBegin`]).
    pub async fn begin_idempotent(
        &self,
        record: NewIdempotencyRecord,
    ) -> Result<IdempotencyBegin, AppError> {
        Ok(self.store.begin_idempotent(record).await?)
    }

    /// Stores the answer of the request holding `key` in `scope`.
    pub async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), AppError> {
        Ok(self.store.finish_idempotent(scope, key, response).await?)
    }

    /// Lets `key` in `scope` go: its request failed without an answer worth replaying.
    pub async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), AppError> {
        Ok(self.store.abandon_idempotent(scope, key).await?)
    }
}
