//! Principals and their access to one organization.

use parley_domain::{ApiKeyId, OrgId, Organization, Permission, PermissionSet, UserId};

use crate::error::StoreResultExt;
use crate::{App, AppError};

/// Who is calling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// An integration, through an API key's JWT.
    ApiKey(ApiKeyId),
    /// A person, through a browser session.
    User(UserId),
}

/// An authenticated caller: who, for which organization, allowed to do what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Who.
    pub subject: Subject,
    /// The organization the credential belongs to; its role applies there and below.
    pub home: OrgId,
    /// What it may do.
    pub permissions: PermissionSet,
}

impl Principal {
    /// The actor as written in audit entries (`key_…` or `usr_…`).
    #[must_use]
    pub fn actor(&self) -> String {
        match self.subject {
            Subject::ApiKey(id) => id.to_string(),
            Subject::User(id) => id.to_string(),
        }
    }

    /// The user behind the principal, if it is a person.
    #[must_use]
    pub fn user(&self) -> Option<UserId> {
        match self.subject {
            Subject::User(id) => Some(id),
            Subject::ApiKey(_) => None,
        }
    }
}

/// A principal acting on one organization (its home one or a descendant).
#[derive(Debug, Clone)]
pub struct Access {
    /// Who.
    pub principal: Principal,
    /// On which organization.
    pub organization: Organization,
}

impl Access {
    /// Fails with `Forbidden` unless the principal holds `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), AppError> {
        if self.principal.permissions.contains(permission) {
            Ok(())
        } else {
            Err(AppError::Forbidden("your role does not allow this"))
        }
    }

    /// The organization's id.
    #[must_use]
    pub fn org_id(&self) -> OrgId {
        self.organization.id
    }
}

impl App {
    /// Resolves the organization a request acts on: `target` (from `Parley-Organization`)
    /// or the principal's home. Organizations outside the principal's subtree are reported
    /// as not found, so their existence is not revealed.
    pub async fn access(
        &self,
        principal: Principal,
        target: Option<OrgId>,
    ) -> Result<Access, AppError> {
        let id = target.unwrap_or(principal.home);
        let organization = self
            .store
            .get_organization(id)
            .await
            .or_not_found("organization")?;
        if !organization.is_within(principal.home) {
            return Err(AppError::NotFound("organization"));
        }
        Ok(Access {
            principal,
            organization,
        })
    }
}
