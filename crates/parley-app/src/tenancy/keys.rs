//! API keys and the audit log, as seen by an organization's administrators.

use parley_domain::{
    ApiKey, ApiKeyId, AuditAction, AuditEntry, NewApiKey, Permission, PermissionSet,
};
use parley_store::{AuditFilter, Page, PageRequest};

use super::clean_name;
use crate::auth::{Access, Subject, new_api_key_secret, secret_hash};
use crate::error::StoreResultExt;
use crate::{App, AppError};

/// A key to create.
#[derive(Debug, Clone)]
pub struct CreateApiKey {
    /// A label.
    pub name: String,
    /// What it may do; the caller's own permissions when absent. Must be a subset of them.
    pub permissions: Option<PermissionSet>,
}

/// A created key with its secret, which is never shown again.
#[derive(Debug, Clone)]
pub struct CreatedApiKey {
    /// The key.
    pub key: ApiKey,
    /// The secret (`pk_…`).
    pub secret: String,
}

impl App {
    /// Creates an API key for the caller's organization.
    pub async fn create_api_key(
        &self,
        access: &Access,
        input: CreateApiKey,
    ) -> Result<CreatedApiKey, AppError> {
        access.require(Permission::Administer)?;
        let permissions = input.permissions.unwrap_or(access.principal.permissions);
        if !permissions.is_subset_of(access.principal.permissions) {
            return Err(AppError::invalid(
                "permissions",
                "may only include permissions you hold yourself",
            ));
        }
        let created_by = match access.principal.subject {
            Subject::User(u) => Some(u),
            Subject::ApiKey(_) => None,
        };
        let name = clean_name("name", &input.name)?;
        self.store_new_key(
            access.org_id(),
            name,
            permissions,
            created_by,
            &access.principal.actor(),
        )
        .await
    }

    pub(crate) async fn store_new_key(
        &self,
        organization: parley_domain::OrgId,
        name: String,
        permissions: PermissionSet,
        created_by: Option<parley_domain::UserId>,
        actor: &str,
    ) -> Result<CreatedApiKey, AppError> {
        let secret = new_api_key_secret()?;
        let key = ApiKey {
            id: ApiKeyId::generate(),
            organization_id: organization,
            name,
            permissions,
            created_by,
            created_at: self.clock.now(),
            revoked_at: None,
        };
        let detail = serde_json::json!({"name": key.name, "permissions": permissions});
        let entry = self.audit(
            Some(organization),
            actor,
            AuditAction::ApiKeyCreated,
            &key.id.to_string(),
            detail,
        );
        let key = self
            .store
            .create_api_key(
                NewApiKey {
                    key,
                    secret_hash: secret_hash(&secret),
                },
                entry,
            )
            .await
            .or_not_found("organization")?;
        Ok(CreatedApiKey { key, secret })
    }

    /// The caller's organization's keys.
    pub async fn list_api_keys(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, AppError> {
        access.require(Permission::Administer)?;
        Ok(self.store.list_api_keys(access.org_id(), page).await?)
    }

    /// Revokes a key of the caller's organization; tokens issued for it stop working at once.
    pub async fn revoke_api_key(&self, access: &Access, id: ApiKeyId) -> Result<ApiKey, AppError> {
        access.require(Permission::Administer)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::ApiKeyRevoked,
            &id.to_string(),
            serde_json::json!({}),
        );
        self.store
            .revoke_api_key(access.org_id(), id, self.clock.now(), entry)
            .await
            .or_not_found("API key")
    }

    /// The caller's organization's audit log that `filter` keeps, newest first.
    pub async fn list_audit(
        &self,
        access: &Access,
        filter: &AuditFilter,
        page: PageRequest,
    ) -> Result<Page<AuditEntry>, AppError> {
        access.require(Permission::Administer)?;
        if let (Some(since), Some(until)) = (filter.since, filter.until)
            && until < since
        {
            return Err(AppError::invalid("until", "must not be before since"));
        }
        Ok(self.store.list_audit(access.org_id(), filter, page).await?)
    }
}
