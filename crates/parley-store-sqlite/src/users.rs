//! Users and memberships on SQLite.

use chrono::{DateTime, Utc};
use parley_domain::{Membership, NewAuditEntry, NewUser, OrgId, Role, User, UserId, to_millis};
use parley_store::decode;
use parley_store::{Member, Page, PageRequest, StoreError, UserCredentials, UserStore};
use sqlx::SqliteConnection;

use crate::SqliteStore;
use crate::audit::insert_audit;
use crate::rows::{Cols, map_err};

pub(crate) async fn insert_user(
    conn: &mut SqliteConnection,
    new: &NewUser,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new.id.to_string())
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(to_millis(new.created_at))
        .execute(conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn insert_membership(
    conn: &mut SqliteConnection,
    user: UserId,
    organization: OrgId,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO memberships (user_id, organization_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at",
    )
    .bind(user.to_string())
    .bind(organization.to_string())
    .bind(role.as_str())
    .bind(to_millis(at))
    .execute(conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

#[async_trait::async_trait]
impl UserStore for SqliteStore {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(map_err)?;
        insert_user(&mut conn, &new).await?;
        Ok(User {
            id: new.id,
            email: new.email,
            name: new.name,
            created_at: new.created_at,
        })
    }

    async fn get_user(&self, id: UserId) -> Result<User, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
        decode::user(&Cols(&row), "created_at")
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        let row = sqlx::query("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(&self.pool)
            .await
            .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::credentials(&Cols(r)))
            .transpose()
    }

    async fn set_membership(
        &self,
        m: Membership,
        audit: NewAuditEntry,
    ) -> Result<Membership, StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        insert_membership(&mut tx, m.user_id, m.organization_id, m.role, m.updated_at).await?;
        insert_audit(&mut tx, &audit).await?;
        let row =
            sqlx::query("SELECT * FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(m.user_id.to_string())
                .bind(m.organization_id.to_string())
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
        let stored = decode::membership(&Cols(&row))?;
        tx.commit().await.map_err(map_err)?;
        Ok(stored)
    }

    async fn remove_membership(
        &self,
        user: UserId,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let removed =
            sqlx::query("DELETE FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(user.to_string())
                .bind(organization.to_string())
                .execute(&mut *tx)
                .await
                .map_err(map_err)?
                .rows_affected();
        if removed == 0 {
            return Err(StoreError::NotFound);
        }
        insert_audit(&mut tx, &audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn find_membership(
        &self,
        user: UserId,
        organization: OrgId,
    ) -> Result<Option<Membership>, StoreError> {
        let row =
            sqlx::query("SELECT * FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(user.to_string())
                .bind(organization.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(map_err)?;
        row.as_ref()
            .map(|r| decode::membership(&Cols(r)))
            .transpose()
    }

    async fn list_memberships_of_user(&self, user: UserId) -> Result<Vec<Membership>, StoreError> {
        let rows =
            sqlx::query("SELECT * FROM memberships WHERE user_id = $1 ORDER BY organization_id")
                .bind(user.to_string())
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.iter().map(|r| decode::membership(&Cols(r))).collect()
    }

    async fn list_members(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Member>, StoreError> {
        let rows = sqlx::query(
            "SELECT u.id, u.email, u.name, u.created_at AS user_created_at, m.* FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND ($2 IS NULL OR m.user_id > $2) \
             ORDER BY m.user_id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&self.pool)
        .await
        .map_err(map_err)?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(Member {
                    user: decode::user(&Cols(r), "user_created_at")?,
                    membership: decode::membership(&Cols(r))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page.finish(items, |m| m.user.id.to_string()))
    }
}
