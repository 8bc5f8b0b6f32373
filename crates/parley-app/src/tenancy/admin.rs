//! Installation-level operations run from the command line by whoever controls the
//! server: bootstrap, root organizations, users, keys. They act as `cli` in the audit log.

use parley_domain::NewApiKey;
use parley_domain::{
    AuditAction, CountryCode, DateOrder, NewOrganization, NewUser, OrgId, Organization, Role,
    TimeZoneName, User, UserId,
};
use parley_store::{Bootstrap, PageRequest};

use super::{CreatedApiKey, clean_email, clean_name};
use crate::auth::{new_api_key_secret, secret_hash};
use crate::error::StoreResultExt;
use crate::{App, AppError};

const CLI: &str = "cli";

/// What `parley serve` creates in an empty store.
#[derive(Debug, Clone)]
pub struct BootstrapRequest {
    /// The first organization's name.
    pub organization_name: String,
    /// The owner's email.
    pub owner_email: String,
    /// The owner's password.
    pub owner_password: String,
}

/// What bootstrap created, to print once.
#[derive(Debug, Clone)]
pub struct Bootstrapped {
    /// The organization.
    pub organization: OrgId,
    /// The owner.
    pub owner: User,
    /// The API key, with its secret.
    pub api_key: CreatedApiKey,
}

fn new_root(name: &str, now: chrono::DateTime<chrono::Utc>) -> Result<NewOrganization, AppError> {
    Ok(NewOrganization {
        id: OrgId::generate(),
        name: clean_name("name", name)?,
        parent_id: None,
        region: "default".to_owned(),
        default_country: "GB"
            .parse::<CountryCode>()
            .map_err(|e| AppError::Internal(Box::new(e)))?,
        timezone: "UTC"
            .parse::<TimeZoneName>()
            .map_err(|e| AppError::Internal(Box::new(e)))?,
        locale: DateOrder::Dmy,
        help_text: None,
        contact_hours: parley_domain::ContactHours::default(),
        created_at: now,
    })
}

impl App {
    /// Creates an organization, its owner and an API key if the store is empty; `None` when
    /// it already holds an organization (so restarts never bootstrap twice).
    pub async fn bootstrap(
        &self,
        request: BootstrapRequest,
    ) -> Result<Option<Bootstrapped>, AppError> {
        if self.store.count_organizations().await? > 0 {
            return Ok(None);
        }
        let now = self.clock.now();
        let organization = new_root(&request.organization_name, now)?;
        let org = organization.id;
        let owner = NewUser {
            id: UserId::generate(),
            email: clean_email(&request.owner_email)?,
            name: "Owner".to_owned(),
            password_hash: self.hash(request.owner_password).await?,
            created_at: now,
        };
        let secret = new_api_key_secret()?;
        let key = parley_domain::ApiKey {
            id: parley_domain::ApiKeyId::generate(),
            organization_id: org,
            name: "bootstrap".to_owned(),
            permissions: Role::Owner.permissions(),
            created_by: Some(owner.id),
            created_at: now,
            revoked_at: None,
        };
        let audit = vec![
            self.audit(
                Some(org),
                CLI,
                AuditAction::OrganizationCreated,
                &org.to_string(),
                serde_json::json!({"bootstrap": true}),
            ),
            self.audit(
                Some(org),
                CLI,
                AuditAction::RoleChanged,
                &owner.id.to_string(),
                serde_json::json!({"role": Role::Owner}),
            ),
            self.audit(
                Some(org),
                CLI,
                AuditAction::ApiKeyCreated,
                &key.id.to_string(),
                serde_json::json!({"name": key.name}),
            ),
        ];
        let user = User {
            id: owner.id,
            email: owner.email.clone(),
            name: owner.name.clone(),
            created_at: now,
        };
        let bootstrap = Bootstrap {
            organization,
            owner,
            role: Role::Owner,
            api_key: NewApiKey {
                key: key.clone(),
                secret_hash: secret_hash(&secret),
            },
            audit,
        };
        if !self.store.bootstrap(bootstrap).await? {
            return Ok(None);
        }
        Ok(Some(Bootstrapped {
            organization: org,
            owner: user,
            api_key: CreatedApiKey { key, secret },
        }))
    }

    /// Creates a root organization (or a sub-organization of `parent`).
    pub async fn admin_create_organization(
        &self,
        name: &str,
        parent: Option<OrgId>,
    ) -> Result<Organization, AppError> {
        let mut new = new_root(name, self.clock.now())?;
        if let Some(p) = parent {
            let parent_org = self
                .store
                .get_organization(p)
                .await
                .or_not_found("parent organization")?;
            new.parent_id = Some(p);
            new.default_country = parent_org.default_country;
            new.timezone = parent_org.timezone;
            new.locale = parent_org.locale;
            new.region = parent_org.region;
            new.help_text = parent_org.help_text;
            new.contact_hours = parent_org.contact_hours;
        }
        let entry = self.audit(
            Some(new.id),
            CLI,
            AuditAction::OrganizationCreated,
            &new.id.to_string(),
            serde_json::json!({"name": new.name}),
        );
        self.store
            .create_organization(new, entry)
            .await
            .or_not_found("parent organization")
    }

    /// Every organization of the installation: each root followed by its subtree.
    pub async fn admin_list_organizations(&self) -> Result<Vec<Organization>, AppError> {
        let mut out = Vec::new();
        let mut roots_page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let roots = self.store.list_root_organizations(roots_page).await?;
            for root in &roots.items {
                let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
                loop {
                    let subtree = self.store.list_organizations(root.id, page).await?;
                    out.extend(subtree.items);
                    match subtree.next_cursor {
                        Some(cursor) => page = PageRequest::after(cursor, PageRequest::MAX_LIMIT),
                        None => break,
                    }
                }
            }
            match roots.next_cursor {
                Some(cursor) => roots_page = PageRequest::after(cursor, PageRequest::MAX_LIMIT),
                None => return Ok(out),
            }
        }
    }

    /// Creates an API key with every permission of `role` for `organization`.
    pub async fn admin_create_api_key(
        &self,
        organization: OrgId,
        name: &str,
        role: Role,
    ) -> Result<CreatedApiKey, AppError> {
        self.store
            .get_organization(organization)
            .await
            .or_not_found("organization")?;
        self.store_new_key(
            organization,
            clean_name("name", name)?,
            role.permissions(),
            None,
            CLI,
        )
        .await
    }

    pub(crate) async fn hash(&self, password: String) -> Result<String, AppError> {
        self.passwords.hash(password, self.settings.argon2).await
    }
}
