//! Outcome statuses on SQLite: each change with its audit entry in one `BEGIN IMMEDIATE`
//! transaction.

use parley_domain::{NewAuditEntry, OrgId, OutcomeStatus, to_millis};
use parley_store::{OutcomeStore, StoreError, decode, sql};

use crate::SqliteStore;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};

impl SqliteStore {
    /// Runs `sql` (binding every column, `RETURNING *`) with its audit entry in one
    /// transaction; `None` when no row matched.
    async fn write_outcome_status(
        &self,
        sql: &'static str,
        status: &OutcomeStatus,
        audit: &NewAuditEntry,
    ) -> Result<Option<OutcomeStatus>, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let Some(row) = sqlx::query(sql)
            .bind(status.organization_id.to_string())
            .bind(&status.key)
            .bind(&status.label)
            .bind(status.category.as_str())
            .bind(i64::from(status.closes))
            .bind(to_millis(status.created_at))
            .bind(to_millis(status.updated_at))
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
        else {
            return Ok(None);
        };
        let stored = decode::outcome_status(&Cols(&row))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(stored))
    }
}

#[async_trait::async_trait]
impl OutcomeStore for SqliteStore {
    async fn create_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError> {
        self.write_outcome_status(sql::INSERT_OUTCOME_STATUS, &status, &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn update_outcome_status(
        &self,
        status: OutcomeStatus,
        audit: NewAuditEntry,
    ) -> Result<OutcomeStatus, StoreError> {
        self.write_outcome_status(sql::UPDATE_OUTCOME_STATUS, &status, &audit)
            .await?
            .ok_or(StoreError::NotFound)
    }

    async fn list_outcome_statuses(
        &self,
        organization: OrgId,
    ) -> Result<Vec<OutcomeStatus>, StoreError> {
        let rows = sqlx::query(sql::LIST_OUTCOME_STATUSES)
            .bind(organization.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| decode::outcome_status(&Cols(r)))
            .collect()
    }

    async fn delete_outcome_status(
        &self,
        organization: OrgId,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let deleted = sqlx::query(sql::DELETE_OUTCOME_STATUS)
            .bind(organization.to_string())
            .bind(key)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }
}
