//! The organizations port: the tenant tree, and the one-time bootstrap of an empty store.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    NewApiKey, NewAuditEntry, NewOrganization, NewUser, OrgId, Organization, OrganizationPatch,
    Role,
};

use crate::{Page, PageRequest, StoreError};

/// What `parley serve` writes into an empty store: a root organization, its owner, and one
/// API key, all or nothing.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The root organization.
    pub organization: NewOrganization,
    /// Its first owner.
    pub owner: NewUser,
    /// The owner's role (always `Role::Owner`; a field so the engine does not decide it).
    pub role: Role,
    /// One API key for the organization.
    pub api_key: NewApiKey,
    /// Audit entries for the above.
    pub audit: Vec<NewAuditEntry>,
}

/// Organizations and their ancestry.
#[async_trait]
pub trait OrganizationStore: Send + Sync {
    /// Writes `bootstrap` if and only if the store holds no organization yet; returns
    /// whether it did. Two processes racing here cannot both succeed.
    async fn bootstrap(&self, bootstrap: Bootstrap) -> Result<bool, StoreError>;

    /// Creates an organization under its parent (copying the parent's ancestry).
    /// `NotFound` when the parent does not exist.
    async fn create_organization(
        &self,
        new: NewOrganization,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError>;

    /// One organization, or `NotFound`.
    async fn get_organization(&self, id: OrgId) -> Result<Organization, StoreError>;

    /// Applies `patch`, or `NotFound`.
    async fn update_organization(
        &self,
        id: OrgId,
        patch: OrganizationPatch,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<Organization, StoreError>;

    /// `root` and every organization below it, ordered by id.
    async fn list_organizations(
        &self,
        root: OrgId,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError>;

    /// Organizations without a parent, ordered by id.
    async fn list_root_organizations(
        &self,
        page: PageRequest,
    ) -> Result<Page<Organization>, StoreError>;

    /// How many organizations exist in the whole installation.
    async fn count_organizations(&self) -> Result<u64, StoreError>;
}
