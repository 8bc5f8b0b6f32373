//! Idempotency keys.

use crate::{Cols, Engine, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::to_millis;
use parley_store::decode::{self, RowSource};
use parley_store::{
    IdempotencyBegin, IdempotencyStore, NewIdempotencyRecord, StoreError, StoredResponse,
};

#[async_trait::async_trait]
impl<E: Engine> IdempotencyStore for SqlStore<E> {
    async fn begin_idempotent(
        &self,
        r: NewIdempotencyRecord,
    ) -> Result<IdempotencyBegin, StoreError> {
        let mut tx = self.write().await?;
        query::<E>(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 \
             AND (expires_at <= $3 OR (status IS NULL AND created_at < $4))",
        )
        .bind(&r.scope)
        .bind(&r.key)
        .bind(to_millis(r.at))
        .bind(to_millis(r.stale_before))
        .execute(&mut *tx)
        .await?;
        let inserted = query::<E>(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.scope)
        .bind(&r.key)
        .bind(&r.fingerprint)
        .bind(to_millis(r.at))
        .bind(to_millis(r.expires_at))
        .execute(&mut *tx).await?;
        let outcome = if inserted == 1 {
            IdempotencyBegin::Started
        } else {
            let row = query::<E>("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2")
                .bind(&r.scope)
                .bind(&r.key)
                .fetch_one(&mut *tx)
                .await?;
            classify(&Cols::<E>(&row), &r.fingerprint)?
        };
        commit::<E>(tx).await?;
        Ok(outcome)
    }

    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        query::<E>("UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .bind(i64::from(response.status))
            .bind(response.content_type)
            .bind(response.body)
            .execute(&mut *self.conn().await?).await?;
        Ok(())
    }

    async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        query::<E>("DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL")
            .bind(scope)
            .bind(key)
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn purge_idempotency(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = query::<E>("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(done)
    }
}

/// What an existing record means for a request with `fingerprint`.
fn classify(row: &impl RowSource, fingerprint: &str) -> Result<IdempotencyBegin, StoreError> {
    if decode::text(row, "fingerprint")? != fingerprint {
        return Ok(IdempotencyBegin::Mismatch);
    }
    let Some(status) = row.opt_int("status")? else {
        return Ok(IdempotencyBegin::InProgress);
    };
    Ok(IdempotencyBegin::Replay(StoredResponse {
        status: u16::try_from(status)
            .map_err(|_| StoreError::corrupt("idempotency status out of range"))?,
        content_type: decode::text(row, "content_type")?,
        body: decode::bytes(row, "body")?,
    }))
}
