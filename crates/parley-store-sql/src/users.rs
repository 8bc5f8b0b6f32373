//! Users and memberships.

use crate::{Cols, Conn, Engine, SqlStore, commit, query};
use chrono::{DateTime, Utc};
use parley_domain::{Membership, NewAuditEntry, NewUser, OrgId, Role, User, UserId, to_millis};
use parley_store::decode;
use parley_store::{Member, Page, PageRequest, StoreError, UserCredentials, UserStore};

use crate::audit::insert_audit;

pub(crate) async fn insert_user<E: Engine>(
    conn: &mut Conn<E>,
    new: &NewUser,
) -> Result<(), StoreError> {
    query::<E>("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new.id.to_string())
        .bind(&new.email)
        .bind(&new.name)
        .bind(&new.password_hash)
        .bind(to_millis(new.created_at))
        .execute(conn).await?;
    Ok(())
}

pub(crate) async fn insert_membership<E: Engine>(
    conn: &mut Conn<E>,
    user: UserId,
    organization: OrgId,
    role: Role,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    query::<E>(
        "INSERT INTO memberships (user_id, organization_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id, organization_id) DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at",
    )
    .bind(user.to_string())
    .bind(organization.to_string())
    .bind(role.as_str())
    .bind(to_millis(at))
    .execute(conn).await?;
    Ok(())
}

#[async_trait::async_trait]
impl<E: Engine> UserStore for SqlStore<E> {
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError> {
        let mut conn = self.pool.acquire().await.map_err(E::map_err)?;
        insert_user::<E>(&mut conn, &new).await?;
        Ok(User {
            id: new.id,
            email: new.email,
            name: new.name,
            created_at: new.created_at,
        })
    }

    async fn get_user(&self, id: UserId) -> Result<User, StoreError> {
        let row = query::<E>("SELECT * FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *self.conn().await?)
            .await?
            .ok_or(StoreError::NotFound)?;
        decode::user(&Cols::<E>(&row), "created_at")
    }

    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError> {
        query::<E>("SELECT * FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::credentials(r))
            .await
    }

    async fn set_membership(
        &self,
        m: Membership,
        audit: NewAuditEntry,
    ) -> Result<Membership, StoreError> {
        let mut tx = self.write().await?;
        insert_membership::<E>(&mut tx, m.user_id, m.organization_id, m.role, m.updated_at).await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        let row =
            query::<E>("SELECT * FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(m.user_id.to_string())
                .bind(m.organization_id.to_string())
                .fetch_one(&mut *tx)
                .await?;
        let stored = decode::membership(&Cols::<E>(&row))?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn remove_membership(
        &self,
        user: UserId,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        self.delete_audited(
            query::<E>("DELETE FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(user.to_string())
                .bind(organization.to_string()),
            &audit,
        )
        .await
    }

    async fn find_membership(
        &self,
        user: UserId,
        organization: OrgId,
    ) -> Result<Option<Membership>, StoreError> {
        let row =
            query::<E>("SELECT * FROM memberships WHERE user_id = $1 AND organization_id = $2")
                .bind(user.to_string())
                .bind(organization.to_string())
                .fetch_optional(&mut *self.conn().await?)
                .await?;
        row.as_ref()
            .map(|r| decode::membership(&Cols::<E>(r)))
            .transpose()
    }

    async fn list_memberships_of_user(&self, user: UserId) -> Result<Vec<Membership>, StoreError> {
        let rows =
            query::<E>("SELECT * FROM memberships WHERE user_id = $1 ORDER BY organization_id")
                .bind(user.to_string())
                .fetch_all(&mut *self.conn().await?)
                .await?;
        rows.iter()
            .map(|r| decode::membership(&Cols::<E>(r)))
            .collect()
    }

    async fn list_members(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Member>, StoreError> {
        let rows = query::<E>(
            "SELECT u.id, u.email, u.name, u.created_at AS user_created_at, m.* FROM memberships m \
             JOIN users u ON u.id = m.user_id WHERE m.organization_id = $1 AND ($2 IS NULL OR m.user_id > $2) \
             ORDER BY m.user_id LIMIT $3",
        )
        .bind(organization.to_string())
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all(&mut *self.conn().await?).await?;
        let items = rows
            .iter()
            .map(|r| {
                Ok(Member {
                    user: decode::user(&Cols::<E>(r), "user_created_at")?,
                    membership: decode::membership(&Cols::<E>(r))?,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(page.finish(items, |m| m.user.id.to_string()))
    }
}
