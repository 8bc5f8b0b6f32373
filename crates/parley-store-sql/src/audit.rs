//! The audit log, and the helpers that write a change together with its audit entry.

use parley_domain::{AuditAction, AuditEntry, NewAuditEntry, OrgId, to_millis};
use parley_store::decode;
use parley_store::{AuditFilter, AuditLog, Page, PageRequest, StoreError};

use crate::{Cols, Conn, Engine, Sql, SqlStore, commit, query, sql};

/// Writes audit entry `e` on `conn` (inside its caller's transaction).
pub async fn insert_audit<E: Engine>(
    conn: &mut Conn<E>,
    e: &NewAuditEntry,
) -> Result<(), StoreError> {
    query::<E>(sql::INSERT_AUDIT)
        .bind(e.id.to_string())
        .bind(e.organization_id.map(|o| o.to_string()))
        .bind(&e.actor)
        .bind(e.action.as_str())
        .bind(&e.subject)
        .bind(e.detail.to_string())
        .bind(to_millis(e.at))
        .execute(conn)
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl<E: Engine> AuditLog for SqlStore<E> {
    async fn append_audit(&self, entry: NewAuditEntry) -> Result<(), StoreError> {
        insert_audit::<E>(&mut *self.conn().await?, &entry).await
    }

    async fn list_audit(
        &self,
        organization: OrgId,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, StoreError> {
        let items = query::<E>(sql::LIST_AUDIT)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .bind(filter.actor.as_deref())
            .bind(filter.action.map(AuditAction::as_str))
            .bind(filter.since.map(to_millis))
            .bind(filter.until.map(to_millis))
            .fetch_all_as(&mut *self.conn().await?, |r| decode::audit_entry(r))
            .await?;
        Ok(page.finish(items, |e| e.id.to_string()))
    }
}

impl<E: Engine> SqlStore<E> {
    /// Runs `query` (one statement ending `RETURNING *`) with its audit entry in one
    /// transaction and decodes the row; `None` (and nothing written) when no row matched.
    pub(crate) async fn write_audited<T>(
        &self,
        query: Sql<E>,
        decode: impl Fn(&Cols<'_, E>) -> Result<T, StoreError>,
        audit: &NewAuditEntry,
    ) -> Result<Option<T>, StoreError> {
        let mut tx = self.write().await?;
        let Some(row) = query.fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let stored = decode(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, audit).await?;
        commit::<E>(tx).await?;
        Ok(Some(stored))
    }

    /// Runs `query` (one `DELETE`) with its audit entry in one transaction; `NotFound`
    /// (and nothing written) when it deleted nothing.
    pub(crate) async fn delete_audited(
        &self,
        query: Sql<E>,
        audit: &NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self.write().await?;
        let deleted = query.execute(&mut *tx).await?;
        if deleted == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit::<E>(&mut tx, audit).await?;
        commit::<E>(tx).await?;
        Ok(())
    }
}
