//! The users port: accounts and memberships (a role on an organization).

use async_trait::async_trait;
use parley_domain::{Membership, NewAuditEntry, NewUser, OrgId, User, UserId};

use crate::{Page, PageRequest, StoreError};

/// A user with the stored password hash, for sign-in only.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCredentials {
    /// The account.
    pub user: User,
    /// Argon2id PHC string.
    pub password_hash: String,
}

impl std::fmt::Debug for UserCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCredentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// A user as a member of one organization.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account.
    pub user: User,
    /// Its role on the organization listed.
    pub membership: Membership,
}

/// Users and memberships.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account; `Conflict { constraint: "users_email_key" }` if the email is taken.
    async fn create_user(&self, new: NewUser) -> Result<User, StoreError>;

    /// One account, or `NotFound`.
    async fn get_user(&self, id: UserId) -> Result<User, StoreError>;

    /// The account with this (lower-cased) email, with its password hash.
    async fn find_user_by_email(&self, email: &str) -> Result<Option<UserCredentials>, StoreError>;

    /// Gives a user a role on an organization, or changes it (keeping `created_at`).
    /// `NotFound` when the user or the organization does not exist.
    async fn set_membership(
        &self,
        membership: Membership,
        audit: NewAuditEntry,
    ) -> Result<Membership, StoreError>;

    /// Removes a membership, or `NotFound`.
    async fn remove_membership(
        &self,
        user: UserId,
        organization: OrgId,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;

    /// The membership of `user` on exactly `organization` (not inherited ones).
    async fn find_membership(
        &self,
        user: UserId,
        organization: OrgId,
    ) -> Result<Option<Membership>, StoreError>;

    /// Every membership a user holds, ordered by organization id.
    async fn list_memberships_of_user(&self, user: UserId) -> Result<Vec<Membership>, StoreError>;

    /// Users holding a role directly on `organization`, ordered by user id.
    async fn list_members(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<Member>, StoreError>;
}
