//! Organizations and sub-organizations.

use parley_domain::{
    AuditAction, CountryCode, DateOrder, NewOrganization, OrgId, Organization, OrganizationPatch,
    Permission, TimeZoneName,
};
use parley_store::{Page, PageRequest};

use super::clean_name;
use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError};

/// A sub-organization to create under the caller's organization. Absent settings are
/// inherited from the parent.
#[derive(Debug, Clone)]
pub struct CreateOrganization {
    /// Display name.
    pub name: String,
    /// Data-location label.
    pub region: Option<String>,
    /// Default country for phone numbers.
    pub default_country: Option<CountryCode>,
    /// IANA time zone.
    pub timezone: Option<TimeZoneName>,
    /// Date order for imports.
    pub locale: Option<DateOrder>,
}

impl App {
    /// Creates a sub-organization of the organization `access` acts on.
    pub async fn create_organization(
        &self,
        access: &Access,
        input: CreateOrganization,
    ) -> Result<Organization, AppError> {
        access.require(Permission::Administer)?;
        let parent = &access.organization;
        let new = NewOrganization {
            id: OrgId::generate(),
            name: clean_name("name", &input.name)?,
            parent_id: Some(parent.id),
            region: match input.region {
                Some(r) => clean_name("region", &r)?,
                None => parent.region.clone(),
            },
            default_country: input.default_country.unwrap_or(parent.default_country),
            timezone: input.timezone.unwrap_or_else(|| parent.timezone.clone()),
            locale: input.locale.unwrap_or(parent.locale),
            created_at: self.clock.now(),
        };
        let detail = serde_json::json!({"name": new.name, "parent_id": parent.id});
        let entry = self.audit(
            Some(parent.id),
            &access.principal.actor(),
            AuditAction::OrganizationCreated,
            &new.id.to_string(),
            detail,
        );
        self.store
            .create_organization(new, entry)
            .await
            .or_not_found("organization")
    }

    /// The organization `access` acts on and everything below it.
    pub async fn list_organizations(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<Organization>, AppError> {
        Ok(self.store.list_organizations(access.org_id(), page).await?)
    }

    /// One organization inside the caller's reach.
    pub async fn get_organization(
        &self,
        access: &Access,
        id: OrgId,
    ) -> Result<Organization, AppError> {
        let org = self
            .store
            .get_organization(id)
            .await
            .or_not_found("organization")?;
        if org.is_within(access.org_id()) {
            Ok(org)
        } else {
            Err(AppError::NotFound("organization"))
        }
    }

    /// Changes an organization's settings.
    pub async fn update_organization(
        &self,
        access: &Access,
        id: OrgId,
        mut patch: OrganizationPatch,
    ) -> Result<Organization, AppError> {
        access.require(Permission::Administer)?;
        self.get_organization(access, id).await?;
        if let Some(name) = &patch.name {
            patch.name = Some(clean_name("name", name)?);
        }
        if let Some(region) = &patch.region {
            patch.region = Some(clean_name("region", region)?);
        }
        let detail = serde_json::json!({
            "name": patch.name, "region": patch.region,
            "default_country": patch.default_country.map(|c| c.to_string()),
            "timezone": patch.timezone.as_ref().map(ToString::to_string),
            "locale": patch.locale.map(DateOrder::as_str),
        });
        let entry = self.audit(
            Some(id),
            &access.principal.actor(),
            AuditAction::OrganizationUpdated,
            &id.to_string(),
            detail,
        );
        self.store
            .update_organization(id, patch, self.clock.now(), entry)
            .await
            .or_not_found("organization")
    }
}
