//! Browser sessions.

use crate::{Engine, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::{NewAuditEntry, to_millis};
use parley_store::decode;
use parley_store::{NewSession, Session, SessionStore, StoreError};

use crate::audit::insert_audit;

#[async_trait::async_trait]
impl<E: Engine> SessionStore for SqlStore<E> {
    async fn create_session(
        &self,
        new: NewSession,
        audit: NewAuditEntry,
    ) -> Result<Session, StoreError> {
        let mut tx = self.write().await?;
        query::<E>(
            "INSERT INTO sessions (token_hash, id, user_id, organization_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(&new.token_hash)
        .bind(new.id.to_string())
        .bind(new.user_id.to_string())
        .bind(new.organization_id.to_string())
        .bind(to_millis(new.created_at))
        .bind(to_millis(new.expires_at))
        .execute(&mut *tx).await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(new)
    }

    async fn find_session(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, StoreError> {
        query::<E>("SELECT * FROM sessions WHERE token_hash = $1 AND expires_at > $2")
            .bind(token_hash)
            .bind(to_millis(now))
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::session(r))
            .await
    }

    async fn delete_session(
        &self,
        token_hash: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        query::<E>("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&mut *tx)
            .await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        tx.commit().await.map_err(E::map_err)
    }

    async fn delete_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = query::<E>("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(to_millis(now))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(done)
    }
}
