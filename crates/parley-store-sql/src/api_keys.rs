//! API keys.

use crate::{Cols, Conn, Engine, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::{ApiKey, ApiKeyId, NewApiKey, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ApiKeyStore, Page, PageRequest, StoreError, StoredApiKey};

use crate::audit::insert_audit;

pub(crate) async fn insert_api_key<E: Engine>(
    conn: &mut Conn<E>,
    new: &NewApiKey,
) -> Result<(), StoreError> {
    let k = &new.key;
    query::<E>(
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
    .execute(conn).await?;
    Ok(())
}

#[async_trait::async_trait]
impl<E: Engine> ApiKeyStore for SqlStore<E> {
    async fn create_api_key(
        &self,
        new: NewApiKey,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self.write().await?;
        insert_api_key::<E>(&mut tx, &new).await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(new.key)
    }

    async fn find_api_key(&self, id: ApiKeyId) -> Result<Option<StoredApiKey>, StoreError> {
        query::<E>("SELECT * FROM api_keys WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::stored_api_key(r))
            .await
    }

    async fn list_api_keys(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM api_keys WHERE organization_id = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::api_key(r))
        .await?;
        Ok(page.finish(items, |k| k.id.to_string()))
    }

    async fn revoke_api_key(
        &self,
        organization: OrgId,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError> {
        let mut tx = self.write().await?;
        let row = query::<E>(
            "UPDATE api_keys SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND organization_id = $2 RETURNING *",
        )
        .bind(id.to_string())
        .bind(organization.to_string())
        .bind(to_millis(at))
        .fetch_optional(&mut *tx).await?
        .ok_or(StoreError::NotFound)?;
        let key = decode::api_key(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(key)
    }
}
