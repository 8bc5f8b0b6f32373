//! Organizations and bootstrap.

use chrono::{DateTime, Utc};
use parley_domain::{
    NewAuditEntry, NewOrganization, OrgId, Organization, OrganizationPatch, Patch, to_millis,
};
use parley_store::decode::{self, org_path};
use parley_store::{Bootstrap, OrganizationStore, Page, PageRequest, StoreError};

use crate::api_keys::insert_api_key;
use crate::audit::insert_audit;
use crate::users::{insert_membership, insert_user};
use crate::{Cols, Conn, Engine, SqlStore, commit, query, sql};

pub(crate) async fn insert_organization<E: Engine>(
    conn: &mut Conn<E>,
    new: &NewOrganization,
    path: &str,
) -> Result<(), StoreError> {
    query::<E>(E::INSERT_ORGANIZATION)
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
        .bind(sql::contact_hours_json(&new.contact_hours))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn path_of<E: Engine>(
    conn: &mut Conn<E>,
    id: OrgId,
) -> Result<String, StoreError> {
    query::<E>("SELECT path FROM organizations WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional_text(conn)
        .await?
        .ok_or(StoreError::NotFound)
}

#[async_trait::async_trait]
impl<E: Engine> OrganizationStore for SqlStore<E> {
    async fn bootstrap(&self, b: Bootstrap) -> Result<bool, StoreError> {
        let mut tx = self.write().await?;
        // Two processes starting on an empty database must not both bootstrap it.
        if let Some(lock) = E::LOCK_ORGANIZATIONS {
            query::<E>(lock).execute(&mut *tx).await?;
        }
        let existing: i64 = query::<E>("SELECT COUNT(*) FROM organizations")
            .fetch_int(&mut *tx)
            .await?;
        if existing > 0 {
            return Ok(false);
        }
        let path = org_path(&[], b.organization.id);
        insert_organization::<E>(&mut tx, &b.organization, &path).await?;
        insert_user::<E>(&mut tx, &b.owner).await?;
        let at = b.organization.created_at;
        insert_membership::<E>(&mut tx, b.owner.id, b.organization.id, b.role, at).await?;
        insert_api_key::<E>(&mut tx, &b.api_key).await?;
        for entry in &b.audit {
            insert_audit::<E>(&mut tx, entry).await?;
        }
        commit::<E>(tx).await?;
        Ok(true)
    }

    async fn create_organization(
        &self,
        new: NewOrganization,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.write().await?;
        let prefix = match new.parent_id {
            Some(parent) => path_of::<E>(&mut tx, parent).await?,
            None => String::new(),
        };
        let path = format!("{prefix}{}/", new.id);
        insert_organization::<E>(&mut tx, &new, &path).await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        let row = query::<E>("SELECT * FROM organizations WHERE id = $1")
            .bind(new.id.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let organization = decode::organization(&Cols::<E>(&row))?;
        commit::<E>(tx).await?;
        Ok(organization)
    }

    async fn get_organization(&self, id: OrgId) -> Result<Organization, StoreError> {
        let row = query::<E>("SELECT * FROM organizations WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?
            .ok_or(StoreError::NotFound)?;
        decode::organization(&Cols::<E>(&row))
    }

    async fn update_organization(
        &self,
        id: OrgId,
        patch: OrganizationPatch,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.write().await?;
        let (help_changes, help_text) = match patch.help_text {
            Patch::Keep => (false, None),
            Patch::Clear => (true, None),
            Patch::Set(text) => (true, Some(text)),
        };
        let row = query::<E>(sql::UPDATE_ORGANIZATION)
            .bind(id.to_string())
            .bind(patch.name)
            .bind(patch.region)
            .bind(patch.default_country.map(|c| c.as_str().to_owned()))
            .bind(patch.timezone.map(|t| t.as_str().to_owned()))
            .bind(patch.locale.map(|l| l.as_str()))
            .bind(to_millis(at))
            .bind(help_changes)
            .bind(help_text)
            .bind(patch.contact_hours.as_ref().map(sql::contact_hours_json))
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        let organization = decode::organization(&Cols::<E>(&row))?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(organization)
    }

    async fn list_organizations(
        &self,
        root: OrgId,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError> {
        let items = query::<E>(
            "SELECT o.* FROM organizations o JOIN organizations r ON r.id = $1 \
             WHERE substr(o.path, 1, length(r.path)) = r.path AND ($2 IS NULL OR o.id > $2) \
             ORDER BY o.id LIMIT $3",
        )
        .bind(root.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::organization(r))
        .await?;
        Ok(page.finish(items, |o| o.id.to_string()))
    }

    async fn list_root_organizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM organizations WHERE parent_id IS NULL AND ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        )
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::organization(r))
        .await?;
        Ok(page.finish(items, |o| o.id.to_string()))
    }

    async fn count_organizations(&self) -> Result<u64, StoreError> {
        let n = query::<E>("SELECT COUNT(*) FROM organizations")
            .fetch_int(&mut *self.conn().await?)
            .await?;
        Ok(u64::try_from(n).unwrap_or_default())
    }
}
