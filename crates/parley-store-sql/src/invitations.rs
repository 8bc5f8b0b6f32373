//! Invitations.

use crate::{Cols, Engine, SqlStore, commit, query, sql};
use chrono::{DateTime, Utc};
use parley_domain::{Invitation, InvitationId, Membership, NewAuditEntry, OrgId, to_millis};
use parley_store::{AcceptInvitation, InvitationStore, Page, PageRequest, StoreError, decode};

use crate::audit::insert_audit;
use crate::users::insert_user;

fn not_pending() -> StoreError {
    StoreError::Conflict {
        constraint: "invitation_not_pending",
    }
}

#[async_trait::async_trait]
impl<E: Engine> InvitationStore for SqlStore<E> {
    async fn create_invitation(
        &self,
        invitation: Invitation,
        token_hash: String,
        audit: NewAuditEntry,
    ) -> Result<Invitation, StoreError> {
        let mut tx = self.write().await?;
        query::<E>(sql::REVOKE_PENDING_INVITATIONS)
            .bind(invitation.organization_id.to_string())
            .bind(&invitation.email)
            .bind(to_millis(invitation.created_at))
            .execute(&mut *tx)
            .await?;
        query::<E>(sql::INSERT_INVITATION)
            .bind(invitation.id.to_string())
            .bind(invitation.organization_id.to_string())
            .bind(&invitation.email)
            .bind(invitation.role.as_str())
            .bind(&token_hash)
            .bind(&invitation.invited_by)
            .bind(to_millis(invitation.created_at))
            .bind(to_millis(invitation.expires_at))
            .execute(&mut *tx)
            .await?;
        insert_audit::<E>(&mut tx, &audit).await?;
        commit::<E>(tx).await?;
        Ok(invitation)
    }

    async fn find_invitation_by_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<Invitation>, StoreError> {
        query::<E>(sql::FIND_INVITATION_BY_TOKEN)
            .bind(token_hash)
            .fetch_optional_as(&mut *self.conn().await?, |r| decode::invitation(r))
            .await
    }

    async fn list_invitations(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Invitation>, StoreError> {
        let items = query::<E>(sql::LIST_INVITATIONS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(page.fetch_limit())
            .fetch_all_as(&mut *self.conn().await?, |r| decode::invitation(r))
            .await?;
        Ok(page.finish(items, |i| i.id.to_string()))
    }

    async fn revoke_invitation(
        &self,
        organization: OrgId,
        id: InvitationId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Invitation, StoreError> {
        let mut tx = self.write().await?;
        let changed = query::<E>(sql::REVOKE_INVITATION)
            .bind(id.to_string())
            .bind(organization.to_string())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await?;
        let row = query::<E>(sql::FIND_INVITATION)
            .bind(id.to_string())
            .bind(organization.to_string())
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(StoreError::NotFound)?;
        if changed == 0 {
            return Err(not_pending());
        }
        insert_audit::<E>(&mut tx, &audit).await?;
        let stored = decode::invitation(&Cols::<E>(&row))?;
        commit::<E>(tx).await?;
        Ok(stored)
    }

    async fn accept_invitation(&self, accept: AcceptInvitation) -> Result<Membership, StoreError> {
        let mut tx = self.write().await?;
        if let Some(new) = &accept.new_user {
            insert_user::<E>(&mut tx, new).await?;
        }
        let used = query::<E>(sql::ACCEPT_INVITATION)
            .bind(accept.invitation.to_string())
            .bind(to_millis(accept.at))
            .bind(accept.user.to_string())
            .execute(&mut *tx)
            .await?;
        if used == 0 {
            return Err(not_pending());
        }
        query::<E>(sql::INSERT_MEMBERSHIP_KEEPING_ROLE)
            .bind(accept.user.to_string())
            .bind(accept.organization.to_string())
            .bind(accept.role.as_str())
            .bind(to_millis(accept.at))
            .execute(&mut *tx)
            .await?;
        for entry in &accept.audit {
            insert_audit::<E>(&mut tx, entry).await?;
        }
        let row = query::<E>(sql::FIND_MEMBERSHIP)
            .bind(accept.user.to_string())
            .bind(accept.organization.to_string())
            .fetch_one(&mut *tx)
            .await?;
        let membership = decode::membership(&Cols::<E>(&row))?;
        commit::<E>(tx).await?;
        Ok(membership)
    }
}
