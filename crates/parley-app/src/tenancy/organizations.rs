//! Organizations and sub-organizations.

use parley_domain::{
    AuditAction, ContactHours, CountryCode, DateOrder, NewOrganization, OrgId, Organization,
    OrganizationPatch, Patch, Permission, TimeZoneName,
};
use parley_store::{Page, PageRequest};

use super::clean_name;
use crate::auth::Access;
use crate::error::{StoreResultExt, absorb};
use crate::{App, AppError, FieldError};

/// An organization's settings as a request writes them. Each is checked here and every
/// problem is reported at once, each naming its field.
#[derive(Debug, Clone, Default)]
pub struct OrganizationSettings {
    /// Display name (1 to 200 characters).
    pub name: Option<String>,
    /// Data-location label.
    pub region: Option<String>,
    /// Default country for phone numbers: ISO 3166-1 alpha-2.
    pub default_country: Option<String>,
    /// IANA time zone the zone database knows.
    pub timezone: Option<String>,
    /// Date order for imports: `dmy` or `mdy`.
    pub locale: Option<String>,
    /// The answer to `HELP` on channels without their own (up to 480 characters);
    /// `Some("")` removes it.
    pub help_text: Option<String>,
    /// When contacts may be messaged unless a campaign names its own window.
    pub contact_hours: Option<ContactHoursInput>,
}

/// Contact hours as a request writes them; an absent part is the default's (every day,
/// 08:00 to 21:00).
#[derive(Debug, Clone, Default)]
pub struct ContactHoursInput {
    /// Weekdays, `mon` to `sun`.
    pub days: Option<Vec<String>>,
    /// Opening time, `HH:MM`.
    pub opens: Option<String>,
    /// Closing time, `HH:MM`.
    pub closes: Option<String>,
}

/// The longest help text: three SMS parts of GSM-7 (3 × 153 characters) and then some.
pub const HELP_TEXT_MAX: usize = 480;

/// Contact hours checked by the campaign window's own rules, each problem named
/// `contact_hours.<part>`.
pub(crate) fn check_contact_hours(
    input: &ContactHoursInput,
) -> Result<ContactHours, Vec<FieldError>> {
    let standard = ContactHours::default();
    let hours = ContactHours {
        days: input.days.clone().unwrap_or(standard.days),
        opens: input.opens.clone().unwrap_or(standard.opens),
        closes: input.closes.clone().unwrap_or(standard.closes),
    };
    let days: Vec<&str> = hours.days.iter().map(String::as_str).collect();
    parley_campaign::SendWindow::check(&days, &hours.opens, &hours.closes).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| FieldError::new(format!("contact_hours.{}", e.field), e.reason))
            .collect::<Vec<_>>()
    })?;
    Ok(hours)
}

/// Reads one setting with `parse`, adding its problem to `errors`.
fn setting<T>(
    errors: &mut Vec<FieldError>,
    field: &str,
    raw: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, String>,
) -> Option<T> {
    match parse(raw?) {
        Ok(value) => Some(value),
        Err(why) => {
            errors.push(FieldError::new(field, why));
            None
        }
    }
}

impl OrganizationSettings {
    /// The settings as a patch, or every problem found; a new organization must be named.
    fn check(&self, name_required: bool) -> Result<OrganizationPatch, AppError> {
        let mut errors = Vec::new();
        if name_required && self.name.is_none() {
            errors.push(FieldError::new("name", "is required"));
        }
        let name = absorb(
            &mut errors,
            self.name
                .as_deref()
                .map(|n| clean_name("name", n))
                .transpose(),
        )?
        .flatten();
        let region = absorb(
            &mut errors,
            self.region
                .as_deref()
                .map(|r| clean_name("region", r))
                .transpose(),
        )?
        .flatten();
        let default_country = setting(
            &mut errors,
            "default_country",
            self.default_country.as_deref(),
            |c| {
                c.parse::<CountryCode>()
                    .map_err(|e| format!("must be {}", e.expected))
            },
        );
        let timezone = setting(&mut errors, "timezone", self.timezone.as_deref(), |z| {
            z.parse::<TimeZoneName>()
                .map_err(|e| format!("must be {}", e.expected))
        });
        let locale = setting(&mut errors, "locale", self.locale.as_deref(), |l| {
            l.parse::<DateOrder>()
                .map_err(|_| "must be dmy or mdy".to_owned())
        });
        let help_text = match self.help_text.as_deref().map(str::trim) {
            None => Patch::Keep,
            Some("") => Patch::Clear,
            Some(text) if text.chars().count() > HELP_TEXT_MAX => {
                errors.push(FieldError::new(
                    "help_text",
                    format!("must be at most {HELP_TEXT_MAX} characters"),
                ));
                Patch::Keep
            }
            Some(text) => Patch::Set(text.to_owned()),
        };
        let contact_hours = match self.contact_hours.as_ref().map(check_contact_hours) {
            None => None,
            Some(Ok(hours)) => Some(hours),
            Some(Err(problems)) => {
                errors.extend(problems);
                None
            }
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(OrganizationPatch {
            name,
            region,
            default_country,
            timezone,
            locale,
            help_text,
            contact_hours,
        })
    }
}

impl App {
    /// Creates a sub-organization of the organization `access` acts on.
    pub async fn create_organization(
        &self,
        access: &Access,
        settings: &OrganizationSettings,
    ) -> Result<Organization, AppError> {
        access.require(Permission::Administer)?;
        let parent = &access.organization;
        let input = settings.check(true)?;
        let new = NewOrganization {
            id: OrgId::generate(),
            name: input.name.unwrap_or_default(),
            parent_id: Some(parent.id),
            region: input.region.unwrap_or_else(|| parent.region.clone()),
            default_country: input.default_country.unwrap_or(parent.default_country),
            timezone: input.timezone.unwrap_or_else(|| parent.timezone.clone()),
            locale: input.locale.unwrap_or(parent.locale),
            help_text: match input.help_text {
                Patch::Keep => parent.help_text.clone(),
                Patch::Clear => None,
                Patch::Set(text) => Some(text),
            },
            contact_hours: input
                .contact_hours
                .unwrap_or_else(|| parent.contact_hours.clone()),
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
        changes: &OrganizationSettings,
    ) -> Result<Organization, AppError> {
        access.require(Permission::Administer)?;
        self.get_organization(access, id).await?;
        let patch = changes.check(false)?;
        let detail = serde_json::json!({
            "name": patch.name, "region": patch.region,
            "default_country": patch.default_country.map(|c| c.to_string()),
            "timezone": patch.timezone.as_ref().map(ToString::to_string),
            "locale": patch.locale.map(DateOrder::as_str),
            "help_text": match &patch.help_text {
                Patch::Keep => serde_json::Value::Null,
                Patch::Clear => serde_json::json!(""),
                Patch::Set(text) => serde_json::json!(text),
            },
            "contact_hours": patch.contact_hours,
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
