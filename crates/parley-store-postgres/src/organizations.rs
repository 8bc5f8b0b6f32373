//! Organizations and bootstrap on PostgreSQL.

use chrono::{DateTime, Utc};
use parley_domain::{
    NewAuditEntry, NewOrganization, OrgId, Organization, OrganizationPatch, Patch, to_millis,
};
use parley_store::decode::{self, org_path};
use parley_store::{Bootstrap, OrganizationStore, Page, PageRequest, StoreError};
use sqlx::PgConnection;

use crate::PgStore;
use crate::api_keys::insert_api_key;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};
use crate::users::{insert_membership, insert_user};

const INSERT: &str = "INSERT INTO organizations (id, name, parent_id, path, region, default_country, timezone, locale, created_at, updated_at, help_text, contact_hours) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)";

async fn insert_organization(
    conn: &mut PgConnection,
    new: &NewOrganization,
    path: &str,
) -> Result<(), StoreError> {
    sqlx::query(INSERT)
        .bind(new.id.to_string())
        .bind(&new.name)
        .bind(new.parent_id.map(|p| p.to_string()))
        .bind(path)
        .bind(&new.region)
        .bind(new.default_country.as_str())
        .bind(new.timezone.as_str())
        .bind(new.locale.as_str())
        .bind(to_millis(new.created_at))
        .bind(new.help_text.as_deref())
        .bind(parley_store::sql::contact_hours_json(&new.contact_hours))
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

async fn path_of(conn: &mut PgConnection, id: OrgId) -> Result<String, StoreError> {
    sqlx::query_scalar("SELECT path FROM organizations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(conn)
        .await
        .map_err(map_err)?
        .ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl OrganizationStore for PgStore {
    async fn bootstrap(&self, b: Bootstrap) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        // Two processes starting on an empty database must not both bootstrap it.
        sqlx::query("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let existing: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if existing > 0 {
            return Ok(false);
        }
        let path = org_path(&[], b.organization.id);
        insert_organization(&mut tx, &b.organization, &path).await?;
        insert_user(&mut tx, &b.owner).await?;
        let at = b.organization.created_at;
        insert_membership(&mut tx, b.owner.id, b.organization.id, b.role, at).await?;
        insert_api_key(&mut tx, &b.api_key).await?;
        for entry in &b.audit {
            insert_audit(&mut tx, entry).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn create_organization(
        &self,
        new: NewOrganization,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let prefix = match new.parent_id {
            Some(parent) => path_of(&mut tx, parent).await?,
            None => String::new(),
        };
        let path = format!("{prefix}{}/", new.id);
        insert_organization(&mut tx, &new, &path).await?;
        insert_audit(&mut tx, &audit).await?;
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1")
            .bind(new.id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let organization = decode::organization(&Cols(&row))?;
        tx.commit().await.map_err(map_err)?;
        Ok(organization)
    }

    async fn get_organization(&self, id: OrgId) -> Result<Organization, StoreError> {
        let row = sqlx::query("SELECT * FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
        decode::organization(&Cols(&row))
    }

    async fn update_organization(
        &self,
        id: OrgId,
        patch: OrganizationPatch,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.pool.begin().await.map_err(map_err)?;
        let (help_changes, help_text) = match patch.help_text {
            Patch::Keep => (false, None),
            Patch::Clear => (true, None),
            Patch::Set(text) => (true, Some(text)),
        };
        let row = sqlx::query(parley_store::sql::UPDATE_ORGANIZATION)
            .bind(id.to_string())
            .bind(patch.name)
            .bind(patch.region)
            .bind(patch.default_country.map(|c| c.as_str().to_owned()))
            .bind(patch.timezone.map(|t| t.as_str().to_owned()))
            .bind(patch.locale.map(|l| l.as_str()))
            .bind(to_millis(at))
            .bind(help_changes)
            .bind(help_text)
            .bind(
                patch
                    .contact_hours
                    .as_ref()
                    .map(parley_store::sql::contact_hours_json),
            )
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
        let organization = decode::organization(&Cols(&row))?;
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(organization)
    }

    async fn list_organizations(
        &self,
        root: OrgId,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError> {
        let rows = sqlx::query(
            "SELECT o.* FROM organizations o JOIN organizations r ON r.id = $1 \
             WHERE substr(o.path, 1, length(r.path)) = r.path AND ($2 IS NULL OR o.id > $2) \
             ORDER BY o.id LIMIT $3",
        )
        .bind(root.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::organization(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |o| o.id.to_string()))
    }

    async fn list_root_organizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM organizations WHERE parent_id IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| decode::organization(&Cols(r)))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(page.finish(items, |o| o.id.to_string()))
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(u64::try_from(n).unwrap_or_default())
    }
}
