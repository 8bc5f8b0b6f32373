//! API keys on SQLite.

use chrono::{DateTime, Utc};
use parley_domain::{ApiKey, ApiKeyId, NewApiKey, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ApiKeyStore, Page, PageRequest, StoreError, StoredApiKey};
use sqlx::SqliteConnection;

use crate::SqliteStore;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};

pub(crate) async fn insert_api_key(
    conn: &mut SqliteConnection,
    new: &NewApiKey,
) -> Result<(), StoreError> {
    let k = &new.key;
    sqlx::query(
        "INSERT INTO api_keys (id, organization_id, name, permissions, secret_hash, created_by, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(k.id.to_string())
    .bind(k.organization_id.to_string())
    .bind(&k.name)
    .bind(k.permissions.bits())
    .bind(&new.secret_hash)
    .bind(k.created_by.map(|u| u.to_string()))
    .bind(to_millis(k.created_at))
    .bind(k.revoked_at.map(to_millis))
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create_api_key(
        &self,
        new: NewApiKey,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        insert_api_key(&mut tx, &new).await?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(new.key)
    }

    async fn find_api_key(&self, id: ApiKeyId) -> Result<Option<StoredApiKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::stored_api_key(&Cols(r)))
            .transpose()
    }

    async fn list_api_keys(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::api_key(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |k| k.id.to_string()))
    }

    async fn revoke_api_key(
        &self,
        organization: OrgId,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let row = sqlx::query(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND organization_id = $2 RETURNING *",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(to_millis(at))
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound)?;
        let key = decode::api_key(&Cols(&row))?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(key)
    }
}
