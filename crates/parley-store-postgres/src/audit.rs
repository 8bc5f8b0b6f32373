//! The audit log on PostgreSQL.

use parley_domain::{AuditAction, AuditEntry, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{AuditFilter, AuditLog, Page, PageRequest, StoreError};
use sqlx::PgConnection;

use crate::PgStore;
use crate::rows::{Cols, map_err};

pub(crate) async fn insert_audit(
    conn: &mut PgConnection,
    e: &NewAuditEntry,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO audit_log (id, organization_id, actor, action, subject, detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(e.id.to_string())
    .bind(e.organization_id.map(|o| o.to_string()))
    .bind(&e.actor)
    .bind(e.action.as_str())
    .bind(&e.subject)
    .bind(e.detail.to_string())
    .bind(to_millis(e.at))
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl AuditLog for PgStore {
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_audit(&mut conn, &entry).await
    }

    async fn list_audit(
        &self,
        organization: OrgId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let rows = sqlx::query(parley_store::sql::LIST_AUDIT)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(filter.actor.as_deref())
            .bind(filter.action.map(AuditAction::as_str))
            .bind(filter.since.map(to_millis))
            .bind(filter.until.map(to_millis))
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::audit_entry(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |e| e.id.to_string()))
    }
}

impl crate::PgStore {
    /// Runs `query` (one statement ending `RETURNING *`) with its audit entry in one
    /// transaction and decodes the row; `None` (and nothing written) when no row matched.
    pub(crate) async fn write_audited<T>(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        decode: impl Fn(&Cols<'_>) -> Result<T, StoreError>,
        audit: &NewAuditEntry,
    ) -> Result<Option<T>, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let Some(row) = query.fetch_optional(&mut *tx).await.map_err(map_err)? else {
            return Ok(None);
        };
        let stored = decode(&Cols(&row))?;
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(Some(stored))
    }

    /// Runs `query` (one `DELETE`) with its audit entry in one transaction; `NotFound`
    /// (and nothing written) when it deleted nothing.
    pub(crate) async fn delete_audited(
        &self,
        query: sqlx::query::Query<'_, sqlx::Postgres, sqlx::postgres::PgArguments>,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let deleted = query
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }
}
