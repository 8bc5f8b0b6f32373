//! Members and roles. People join by invitation (`invitations`); a caller can only grant
//! roles whose permissions it holds itself, can only change or remove members whose role
//! it could have granted, and cannot leave an organization without an owner.

use parley_domain::{AuditAction, AuditEntry, Membership, Permission, Role, User, UserId};
use parley_store::{Member, Page, PageRequest};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, Conflict};

pub(super) fn check_grantable(
    access: &Access,
    role: Role,
    what: &'static str,
) -> Result<(), AppError> {
    if role
        .permissions()
        .is_subset_of(access.principal.permissions)
    {
        Ok(())
    } else {
        Err(AppError::Forbidden(what))
    }
}

impl App {
    /// The account of the person behind `access` (`None` for an API key): what a page
    /// shows as who is signed in.
    pub async fn signed_in_user(&self, access: &Access) -> Result<Option<User>, AppError> {
        let Some(id) = access.principal.user() else {
            return Ok(None);
        };
        Ok(Some(self.store.get_user(id).await.or_not_found("user")?))
    }

    /// The names of the people behind `ids` (authors of messages and notes in
    /// conversations the caller reads), for showing who wrote what; an id that names no
    /// account is left out.
    pub async fn names_of_people(
        &self,
        access: &Access,
        ids: impl IntoIterator<Item = UserId>,
    ) -> Result<std::collections::HashMap<UserId, String>, AppError> {
        access.require(Permission::ConversationsReadOwnQueues)?;
        let mut names = std::collections::HashMap::new();
        for id in ids {
            if names.contains_key(&id) {
                continue;
            }
            match self.store.get_user(id).await {
                Ok(user) => {
                    names.insert(id, user.name);
                }
                Err(parley_store::StoreError::NotFound) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Ok(names)
    }

    /// Direct members of the caller's organization.
    pub async fn list_members(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<Member>, AppError> {
        access.require(Permission::Administer)?;
        Ok(self.store.list_members(access.org_id(), page).await?)
    }

    /// One direct member of the caller's organization.
    pub async fn get_member(&self, access: &Access, user: UserId) -> Result<Member, AppError> {
        access.require(Permission::Administer)?;
        let membership = self
            .store
            .find_membership(user, access.org_id())
            .await?
            .ok_or(AppError::NotFound("member"))?;
        let user = self.store.get_user(user).await.or_not_found("member")?;
        Ok(Member { user, membership })
    }

    /// Changes a direct member's role.
    pub async fn change_role(
        &self,
        access: &Access,
        user: UserId,
        role: Role,
    ) -> Result<Member, AppError> {
        let current = self.get_member(access, user).await?;
        check_grantable(
            access,
            current.membership.role,
            "this member's role is above your own",
        )?;
        check_grantable(access, role, "you cannot grant a role above your own")?;
        if current.membership.role == Role::Owner && role != Role::Owner {
            self.ensure_another_owner(access, user).await?;
        }
        let membership = self
            .write_role(access, user, role, Some(current.membership.role))
            .await?;
        Ok(Member {
            user: current.user,
            membership,
        })
    }

    /// Removes a direct member.
    pub async fn remove_member(&self, access: &Access, user: UserId) -> Result<(), AppError> {
        let current = self.get_member(access, user).await?;
        check_grantable(
            access,
            current.membership.role,
            "this member's role is above your own",
        )?;
        if current.membership.role == Role::Owner {
            self.ensure_another_owner(access, user).await?;
        }
        let detail = serde_json::json!({"role": current.membership.role});
        let entry = self.entry(access, AuditAction::MemberRemoved, user, detail);
        self.store
            .remove_membership(user, access.org_id(), entry)
            .await
            .or_not_found("member")
    }

    async fn write_role(
        &self,
        access: &Access,
        user: UserId,
        role: Role,
        previous: Option<Role>,
    ) -> Result<Membership, AppError> {
        let now = self.clock.now();
        let membership = Membership {
            user_id: user,
            organization_id: access.org_id(),
            role,
            created_at: now,
            updated_at: now,
        };
        let entry = self.entry(
            access,
            AuditAction::RoleChanged,
            user,
            serde_json::json!({"role": role, "previous": previous}),
        );
        self.store
            .set_membership(membership, entry)
            .await
            .or_not_found("member")
    }

    fn entry(
        &self,
        access: &Access,
        action: AuditAction,
        user: UserId,
        detail: serde_json::Value,
    ) -> AuditEntry {
        self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            action,
            &user.to_string(),
            detail,
        )
    }

    /// A root organization must keep an owner: refuses when `leaving` is the last one.
    async fn ensure_another_owner(&self, access: &Access, leaving: UserId) -> Result<(), AppError> {
        if access.organization.parent_id.is_some() {
            return Ok(()); // owners of the parent still own a sub-organization
        }
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let members = self
                .store
                .list_members(access.org_id(), page.clone())
                .await?;
            if members
                .items
                .iter()
                .any(|m| m.membership.role == Role::Owner && m.user.id != leaving)
            {
                return Ok(());
            }
            match members.next_cursor {
                Some(cursor) => page = PageRequest::after(cursor, PageRequest::MAX_LIMIT),
                None => return Err(AppError::Conflict(Conflict::LAST_OWNER)),
            }
        }
    }
}
