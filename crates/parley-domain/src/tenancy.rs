//! Tenancy and access (SPEC §1): organizations with sub-organizations, users, memberships,
//! the five roles and the permission matrix, API keys, and the small validated values an
//! organization carries (country, time zone, date order).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::id::{ApiKeyId, OrgId, UserId};

mod permissions;
mod values;

pub use permissions::{Permission, PermissionSet, Role};
pub use values::{CountryCode, DateOrder, TimeZoneName, ValueError};

/// An organization: a tenant, possibly under a parent (any depth).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organization {
    /// Its id.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// The parent organization, if this is a sub-organization.
    pub parent_id: Option<OrgId>,
    /// Every ancestor, root first, excluding this organization; empty for a root.
    pub ancestors: Vec<OrgId>,
    /// Data-location label, e.g. `eu-west-1`.
    pub region: String,
    /// Country used to read local phone numbers.
    pub default_country: CountryCode,
    /// IANA time zone.
    pub timezone: TimeZoneName,
    /// Date order for imports.
    pub locale: DateOrder,
    /// The answer to `HELP` and `INFO` on a channel that has no `help_text` of its own.
    pub help_text: Option<String>,
    /// When its contacts may be messaged, unless a campaign names its own window.
    pub contact_hours: ContactHours,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

/// The days and the local hours an organization's contacts may be messaged: the send
/// window a campaign takes when it names none. Checked where it is set (the campaign
/// window's own rules: weekday names `mon`…`sun`, `HH:MM`, opening before closing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactHours {
    /// Weekdays, `mon` to `sun`.
    pub days: Vec<String>,
    /// Local opening time, `HH:MM`.
    pub opens: String,
    /// Local closing time, `HH:MM`.
    pub closes: String,
}

impl Default for ContactHours {
    /// Every day, 08:00 to 21:00: inside the US FDCPA's "convenient" hours (8 a.m. to
    /// 9 p.m. at the consumer's location, 12 CFR 1006.6(b)(1)(i)).
    fn default() -> Self {
        Self {
            days: ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
                .map(str::to_owned)
                .to_vec(),
            opens: "08:00".to_owned(),
            closes: "21:00".to_owned(),
        }
    }
}

impl Organization {
    /// True when `other` is this organization or one of its ancestors: a role held on
    /// `other` then applies here (roles apply downward only, SPEC §1).
    #[must_use]
    pub fn is_within(&self, other: OrgId) -> bool {
        self.id == other || self.ancestors.contains(&other)
    }
}

/// Everything needed to create an organization. The ancestry is the engine's business: it
/// copies the parent's ancestry in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganization {
    /// The id to create it with.
    pub id: OrgId,
    /// Display name.
    pub name: String,
    /// Parent, for a sub-organization.
    pub parent_id: Option<OrgId>,
    /// Data-location label.
    pub region: String,
    /// Country used to read local phone numbers.
    pub default_country: CountryCode,
    /// IANA time zone.
    pub timezone: TimeZoneName,
    /// Date order for imports.
    pub locale: DateOrder,
    /// The answer to `HELP` when a channel has none.
    pub help_text: Option<String>,
    /// When its contacts may be messaged.
    pub contact_hours: ContactHours,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

/// A partial update: absent fields are kept. The parent cannot change, because moving an
/// organization would silently widen or narrow who can reach it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    /// New name.
    pub name: Option<String>,
    /// New region.
    pub region: Option<String>,
    /// New default country.
    pub default_country: Option<CountryCode>,
    /// New time zone.
    pub timezone: Option<TimeZoneName>,
    /// New date order.
    pub locale: Option<DateOrder>,
    /// New help text, or none.
    pub help_text: Patch<String>,
    /// New contact hours.
    pub contact_hours: Option<ContactHours>,
}

/// A tri-state update of an optional value: keep it, clear it, or set it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Patch<T> {
    /// Leave the value as it is (the field was absent).
    #[default]
    Keep,
    /// Remove the value (the field was `null`).
    Clear,
    /// Replace the value.
    Set(T),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Patch<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Absent fields never reach here (`#[serde(default)]` gives Keep); null is Clear.
        Ok(match Option::<T>::deserialize(d)? {
            None => Patch::Clear,
            Some(v) => Patch::Set(v),
        })
    }
}

/// A person who can sign in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    /// Its id.
    pub id: UserId,
    /// Sign-in address, stored lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

/// A user to create, with its Argon2id PHC hash.
#[derive(Clone, PartialEq, Eq)]
pub struct NewUser {
    /// The id to create it with.
    pub id: UserId,
    /// Sign-in address, lower-cased.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for NewUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("email", &self.email)
            .field("name", &self.name)
            .field("password_hash", &"<redacted>")
            .finish()
    }
}

/// A user's role on one organization (and, by inheritance, on its descendants).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Membership {
    /// The member.
    pub user_id: UserId,
    /// The organization the role is held on.
    pub organization_id: OrgId,
    /// The role.
    pub role: Role,
    /// When the membership was created.
    pub created_at: DateTime<Utc>,
    /// When the role last changed.
    pub updated_at: DateTime<Utc>,
}

/// An invitation to join an organization with a role. It grants nothing until the person
/// accepts it with its one-time token (never stored, only its hash): with the password of
/// the account that has the email, or, when none has it yet, by choosing one, which
/// creates the account. Inviting an email tells the inviter nothing about whether an
/// account has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Invitation {
    /// Its id (`inv_…`).
    pub id: crate::InvitationId,
    /// The organization it is for.
    pub organization_id: OrgId,
    /// The email invited (lower-cased).
    pub email: String,
    /// The role the membership will have.
    pub role: Role,
    /// Who invited (`usr_…`, `key_…` or `cli`).
    pub invited_by: String,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// When the token stops working.
    pub expires_at: DateTime<Utc>,
    /// When it was accepted.
    pub accepted_at: Option<DateTime<Utc>>,
    /// The account that accepted it.
    pub accepted_by: Option<UserId>,
    /// When it was withdrawn (or replaced by a newer invitation of the same email).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// Where an invitation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationState {
    /// Waiting for the person.
    Pending,
    /// Accepted: the membership exists.
    Accepted,
    /// Withdrawn or replaced.
    Revoked,
    /// Not accepted in time.
    Expired,
}

impl InvitationState {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Revoked => "revoked",
            InvitationState::Expired => "expired",
        }
    }
}

impl Invitation {
    /// Where it stands at `now`.
    #[must_use]
    pub fn state(&self, now: DateTime<Utc>) -> InvitationState {
        if self.accepted_at.is_some() {
            InvitationState::Accepted
        } else if self.revoked_at.is_some() {
            InvitationState::Revoked
        } else if self.expires_at <= now {
            InvitationState::Expired
        } else {
            InvitationState::Pending
        }
    }
}

/// An API key as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiKey {
    /// Its id (`key_…`), half of the credential pair.
    pub id: ApiKeyId,
    /// The organization it acts for.
    pub organization_id: OrgId,
    /// A label chosen by its creator.
    pub name: String,
    /// What it may do: a subset of its creator's permissions.
    pub permissions: PermissionSet,
    /// Who created it (none for the key made at bootstrap or by the CLI).
    pub created_by: Option<UserId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An API key to create: the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApiKey {
    /// The key as it will be listed.
    pub key: ApiKey,
    /// Hex SHA-256 of the secret. Secrets are 256 random bits, so a fast hash suffices.
    pub secret_hash: String,
}
