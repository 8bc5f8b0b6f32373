//! Idempotency keys on SQLite.

use chrono::{DateTime, Utc};
use parley_domain::to_millis;
use parley_store::decode::{self, RowSource};
use parley_store::{
    IdempotencyBegin, IdempotencyStore, NewIdempotencyRecord, StoreError, StoredResponse,
};

use crate::SqliteStore;
use crate::rows::{Cols, map_err};

#[async_trait::async_trait]
impl IdempotencyStore for SqliteStore {
    async fn begin_idempotent(
        &self,
        r: NewIdempotencyRecord,
    ) -> Result<IdempotencyBegin, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 \
             AND (expires_at <= $3 OR (status IS NULL AND created_at < $4))",
        )
        .bind(&r.scope)
        .bind(&r.key)
        .bind(to_millis(r.at))
        .bind(to_millis(r.stale_before))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let inserted = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
        )
        .bind(&r.scope)
        .bind(&r.key)
        .bind(&r.fingerprint)
        .bind(to_millis(r.at))
        .bind(to_millis(r.expires_at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?
        .rows_affected();
        let outcome = if inserted == 1 {
            IdempotencyBegin::Started
        } else {
            let row = sqlx::query("SELECT * FROM idempotency_keys WHERE scope = $1 AND key = $2")
                .bind(&r.scope)
                .bind(&r.key)
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            classify(&Cols(&row), &r.fingerprint)?
        };
        tx.commit().await.map_err(map_err)?;
        Ok(outcome)
    }

    async fn finish_idempotent(
        &self,
        scope: &str,
        key: &str,
        response: StoredResponse,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5 WHERE scope = $1 AND key = $2")
            .bind(scope)
            .bind(key)
            .bind(i64::from(response.status))
            .bind(response.content_type)
            .bind(response.body)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn abandon_idempotent(&self, scope: &str, key: &str) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM idempotency_keys WHERE scope = $1 AND key = $2 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn purge_idempotency(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected())
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
