//! Response bodies. Domain types are never serialised directly, so the API's shape can
//! evolve apart from storage.

use chrono::{DateTime, Utc};
use parley_domain::{ApiKey, AuditEntry, Organization};
use parley_store::Member;
use serde::Serialize;
use utoipa::ToSchema;

/// An organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationResponse {
    /// `org_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Parent organization, for a sub-organization.
    pub parent_id: Option<String>,
    /// Data-location label.
    pub region: String,
    /// ISO 3166-1 alpha-2 country for local phone numbers.
    pub default_country: String,
    /// IANA time zone.
    pub timezone: String,
    /// `dmy` or `mdy`.
    pub locale: String,
    /// The answer to `HELP` on channels without their own.
    pub help_text: Option<String>,
    /// When contacts may be messaged unless a campaign names its own window.
    pub contact_hours: ContactHoursResponse,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

/// An organization's contact hours.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactHoursResponse {
    /// Weekdays, `mon` … `sun`.
    pub days: Vec<String>,
    /// `HH:MM`, local to each contact.
    pub opens: String,
    /// `HH:MM` (or `24:00`), local to each contact.
    pub closes: String,
}

impl From<Organization> for OrganizationResponse {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id.to_string(),
            name: o.name,
            parent_id: o.parent_id.map(|p| p.to_string()),
            region: o.region,
            default_country: o.default_country.to_string(),
            timezone: o.timezone.to_string(),
            locale: o.locale.as_str().to_owned(),
            help_text: o.help_text,
            contact_hours: ContactHoursResponse {
                days: o.contact_hours.days,
                opens: o.contact_hours.opens,
                closes: o.contact_hours.closes,
            },
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// A member of an organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberResponse {
    /// `usr_…`
    pub id: String,
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role on this organization.
    pub role: String,
    /// When the membership began.
    pub member_since: DateTime<Utc>,
}

impl From<Member> for MemberResponse {
    fn from(m: Member) -> Self {
        Self {
            id: m.user.id.to_string(),
            email: m.user.email,
            name: m.user.name,
            role: m.membership.role.as_str().to_owned(),
            member_since: m.membership.created_at,
        }
    }
}

/// An invitation (never its token, which only its creation shows).
#[derive(Debug, Serialize, ToSchema)]
pub struct InvitationResponse {
    /// `inv_…`
    pub id: String,
    /// `org_…`
    pub organization_id: String,
    /// The email invited.
    pub email: String,
    /// The role offered.
    pub role: String,
    /// `pending`, `accepted`, `revoked` or `expired`.
    pub state: String,
    /// Who invited (`usr_…`, `key_…` or `cli`).
    pub invited_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When its link stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account that accepted it.
    pub accepted_by: Option<String>,
}

impl InvitationResponse {
    /// The invitation as it stands at `now`.
    #[must_use]
    pub fn of(i: parley_domain::Invitation, now: DateTime<Utc>) -> Self {
        Self {
            id: i.id.to_string(),
            organization_id: i.organization_id.to_string(),
            state: i.state(now).as_str().to_owned(),
            email: i.email,
            role: i.role.as_str().to_owned(),
            invited_by: i.invited_by,
            created_at: i.created_at,
            expires_at: i.expires_at,
            accepted_at: i.accepted_at,
            accepted_by: i.accepted_by.map(|u| u.to_string()),
        }
    }
}

/// A new invitation: its link is shown here once.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedInvitationResponse {
    /// The invitation.
    pub invitation: InvitationResponse,
    /// The one-time token (also the part of `accept_url` after `#`).
    pub token: String,
    /// The link to pass on to the person.
    pub accept_url: String,
}

/// An API key (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct ApiKeyResponse {
    /// `key_…`
    pub id: String,
    /// Label.
    pub name: String,
    /// Permission names.
    pub permissions: Vec<String>,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Revocation time.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for ApiKeyResponse {
    fn from(k: ApiKey) -> Self {
        let permissions = serde_json::to_value(k.permissions)
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        Self {
            id: k.id.to_string(),
            name: k.name,
            permissions,
            created_by: k.created_by.map(|u| u.to_string()),
            created_at: k.created_at,
            revoked_at: k.revoked_at,
        }
    }
}

/// An audit-log entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryResponse {
    /// `aud_…`
    pub id: String,
    /// Who acted (`usr_…`, `key_…`, `cli`).
    pub actor: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub subject: String,
    /// Structured detail.
    pub detail: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

impl From<AuditEntry> for AuditEntryResponse {
    fn from(e: AuditEntry) -> Self {
        Self {
            id: e.id.to_string(),
            actor: e.actor,
            action: e.action.as_str().to_owned(),
            subject: e.subject,
            detail: e.detail,
            at: e.at,
        }
    }
}

macro_rules! list_type {
    ($name:ident, $item:ty) => {
        /// One page of a list.
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// The items.
            pub data: Vec<$item>,
            /// Pass as `cursor` to read the next page; absent on the last page.
            pub next_cursor: Option<String>,
        }

        impl<T: Into<$item>> From<parley_store::Page<T>> for $name {
            fn from(page: parley_store::Page<T>) -> Self {
                Self {
                    data: page.items.into_iter().map(Into::into).collect(),
                    next_cursor: crate::extract::encode_cursor(page.next_cursor),
                }
            }
        }
    };
}

pub(crate) use list_type;

list_type!(OrganizationList, OrganizationResponse);
list_type!(MemberList, MemberResponse);
list_type!(InvitationList, InvitationResponse);
list_type!(ApiKeyList, ApiKeyResponse);
list_type!(AuditLogPage, AuditEntryResponse);
