//! Contacts and their custom fields (SPEC §2): field keys and types, the built-in fields,
//! channel kinds and addresses, and the contact itself.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ContactId, OrgId, ValueError};

/// Longest field key accepted.
pub const MAX_FIELD_KEY_LEN: usize = 64;

/// A field key: snake_case, starting with a letter, at most 64 characters
/// (`date_of_birth`).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "String")]
pub struct FieldKey(String);

impl FieldKey {
    /// The key as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for the keys every organization has without defining them.
    #[must_use]
    pub fn is_builtin(&self) -> bool {
        BUILTIN_FIELDS.iter().any(|(k, _)| *k == self.0)
    }
}

impl FromStr for FieldKey {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let bytes = s.as_bytes();
        let shape_ok = !bytes.is_empty()
            && bytes.len() <= MAX_FIELD_KEY_LEN
            && bytes[0].is_ascii_lowercase()
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        if shape_ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValueError::new(
                "field key",
                "snake_case: a lower-case letter, then letters, digits or `_`, at most 64 characters",
            ))
        }
    }
}

impl From<FieldKey> for String {
    fn from(k: FieldKey) -> String {
        k.0
    }
}

/// The type of a custom field; decides how imported values are read (SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FieldType {
    /// Free text.
    Text,
    /// A decimal number, kept exactly.
    Number,
    /// An amount of money, kept as an exact decimal with at most 4 fractional digits.
    Money,
    /// A calendar date.
    Date,
    /// An instant.
    Datetime,
    /// True or false.
    Boolean,
    /// A phone number, kept in E.164.
    Phone,
    /// An e-mail address.
    Email,
    /// A postal code (UK, US and Irish forms are checked and normalised).
    Postcode,
    /// An `http` or `https` URL.
    Url,
}

impl FieldType {
    /// Every type, in the SPEC's order.
    pub const ALL: [FieldType; 10] = [
        FieldType::Text,
        FieldType::Number,
        FieldType::Money,
        FieldType::Date,
        FieldType::Datetime,
        FieldType::Boolean,
        FieldType::Phone,
        FieldType::Email,
        FieldType::Postcode,
        FieldType::Url,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            FieldType::Text => "text",
            FieldType::Number => "number",
            FieldType::Money => "money",
            FieldType::Date => "date",
            FieldType::Datetime => "datetime",
            FieldType::Boolean => "boolean",
            FieldType::Phone => "phone",
            FieldType::Email => "email",
            FieldType::Postcode => "postcode",
            FieldType::Url => "url",
        }
    }
}

impl FromStr for FieldType {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        FieldType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or(ValueError::new(
                "field type",
                "text, number, money, date, datetime, boolean, phone, email, postcode or url",
            ))
    }
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The built-in fields: `customer_id` is the organization's own reference (a column of
/// the contact, unique per organization); the others are ordinary text values.
pub const BUILTIN_FIELDS: [(&str, &str); 4] = [
    ("customer_id", "Customer ID"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("timezone", "Time zone"),
];

/// A field definition of one organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldDefinition {
    /// The organization.
    pub organization_id: OrgId,
    /// The key, unique per organization.
    pub key: FieldKey,
    /// What people see.
    pub label: String,
    /// How values are read.
    #[serde(rename = "type")]
    pub field_type: FieldType,
    /// Whether values are personal data (masked in logs, erased on request).
    pub pii: bool,
    /// Built-in fields exist in every organization and cannot be changed.
    pub builtin: bool,
    /// Creation time (the epoch for built-ins).
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl FieldDefinition {
    /// The built-in definitions of `organization`.
    #[must_use]
    pub fn builtins(organization: OrgId) -> Vec<FieldDefinition> {
        BUILTIN_FIELDS
            .iter()
            .map(|(key, label)| FieldDefinition {
                organization_id: organization,
                key: FieldKey((*key).to_owned()),
                label: (*label).to_owned(),
                field_type: FieldType::Text,
                pii: *key != "customer_id" && *key != "timezone",
                builtin: true,
                created_at: DateTime::<Utc>::UNIX_EPOCH,
                updated_at: DateTime::<Utc>::UNIX_EPOCH,
            })
            .collect()
    }
}

/// The channels a contact can be reached on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// SMS; the address is E.164.
    Sms,
    /// WhatsApp; the address is E.164.
    Whatsapp,
    /// Facebook Messenger; the address is the page-scoped id.
    Messenger,
    /// The web-chat widget; the address is the visitor id.
    Webchat,
}

impl ChannelKind {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Sms => "sms",
            ChannelKind::Whatsapp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Webchat => "webchat",
        }
    }

    /// True when addresses are phone numbers in E.164.
    #[must_use]
    pub const fn uses_phone_numbers(self) -> bool {
        matches!(self, ChannelKind::Sms | ChannelKind::Whatsapp)
    }
}

impl FromStr for ChannelKind {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "sms" => Ok(ChannelKind::Sms),
            "whatsapp" => Ok(ChannelKind::Whatsapp),
            "messenger" => Ok(ChannelKind::Messenger),
            "webchat" => Ok(ChannelKind::Webchat),
            _ => Err(ValueError::new(
                "channel kind",
                "sms, whatsapp, messenger or webchat",
            )),
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One way to reach a contact, unique per organization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ChannelAddress {
    /// The channel kind.
    pub kind: ChannelKind,
    /// E.164 for phone channels, the provider's id otherwise.
    pub address: String,
}

/// A contact with its values and addresses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    /// The id.
    pub id: ContactId,
    /// The organization.
    pub organization_id: OrgId,
    /// The organization's own reference, unique per organization when set.
    pub customer_id: Option<String>,
    /// Typed values by field key: text, phone, email, postcode, url, date (`YYYY-MM-DD`),
    /// datetime (RFC 3339) and money (decimal string) as JSON strings; numbers as JSON
    /// numbers; booleans as JSON booleans.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Channel addresses, ordered.
    pub addresses: Vec<ChannelAddress>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

macro_rules! serde_via_from_str {
    ($($t:ty),*) => {$(
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
serde_via_from_str!(FieldKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_keys_are_snake_case() {
        assert!("date_of_birth".parse::<FieldKey>().is_ok());
        assert!("a1".parse::<FieldKey>().is_ok());
        for bad in ["", "Date", "1st", "_x", "with space", "é", &"x".repeat(65)] {
            assert!(bad.parse::<FieldKey>().is_err(), "{bad:?} accepted");
        }
        assert!(
            "customer_id"
                .parse::<FieldKey>()
                .is_ok_and(|k| k.is_builtin())
        );
    }

    #[test]
    fn wire_names_round_trip() {
        for t in FieldType::ALL {
            assert_eq!(t.as_str().parse::<FieldType>(), Ok(t));
        }
        for k in ["sms", "whatsapp", "messenger", "webchat"] {
            assert_eq!(k.parse::<ChannelKind>().map(|c| c.as_str()), Ok(k));
        }
        assert!("telegram".parse::<ChannelKind>().is_err());
    }
}
