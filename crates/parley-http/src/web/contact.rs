//! The contact panel of an open conversation: the contact's customer id, its fields
//! formatted by their type (dates written out unambiguously, money with the currency of
//! the organization's country, yes/no), its addresses with whether each opted out, and
//! its other conversations as links, and the campaigns that wrote to it (each with a link
//! to the conversation it started).

use std::fmt::Write as _;

use chrono::NaiveDate;
use parley_app::auth::Access;
use parley_domain::{ContactId, ConversationId, FieldType};
use parley_store::{ConversationFilter, PageRequest};

use super::pages::PageError;
use crate::AppState;

/// Other conversations listed.
const OTHERS: u32 = 10;

/// One field as shown.
pub(crate) struct Fact {
    pub(crate) label: String,
    pub(crate) value: String,
}

/// One address as shown.
pub(crate) struct Address {
    pub(crate) kind: &'static str,
    pub(crate) address: String,
    /// "Opted out on 3 December 2026 (STOP)", when it did.
    pub(crate) opted_out: Option<String>,
}

/// Another conversation of the contact.
pub(crate) struct Other {
    pub(crate) href: String,
    pub(crate) words: String,
}

/// The panel.
pub(crate) struct Panel {
    pub(crate) customer_id: Option<String>,
    pub(crate) facts: Vec<Fact>,
    pub(crate) addresses: Vec<Address>,
    pub(crate) others: Vec<Other>,
    /// The campaigns that started a conversation with the contact, newest first.
    pub(crate) campaigns: Vec<Other>,
}

/// Reads the panel of `contact` for the conversation `open` (left out of its other
/// conversations; none on the contact's own page), as `access` may see it.
pub(crate) async fn read(
    state: &AppState,
    access: &Access,
    base: &str,
    contact: ContactId,
    open: Option<ConversationId>,
) -> Result<Panel, PageError> {
    let app = &state.app;
    let contact = app.get_contact(access, contact).await?;
    let definitions = app.list_fields(access).await?;
    let currency = currency_of(access.organization.default_country.as_str());
    let facts = definitions
        .iter()
        .filter_map(|d| {
            let value = contact.fields.get(d.key.as_str())?;
            let text = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_owned);
            (!text.is_empty()).then(|| Fact {
                label: d.label.clone(),
                value: formatted(d.field_type, &text, currency),
            })
        })
        .collect();
    let mut addresses = Vec::with_capacity(contact.addresses.len());
    for a in &contact.addresses {
        let found = app
            .list_suppressions(
                access,
                Some(a.kind),
                Some(a.address.clone()),
                PageRequest::first(1),
            )
            .await?;
        let zone = &access.organization.timezone;
        addresses.push(Address {
            kind: kind_label(a.kind),
            address: a.address.clone(),
            opted_out: found.items.first().map(|s| {
                format!(
                    "Opted out on {} ({})",
                    zone.local(s.created_at).format("%-d %B %Y"),
                    s.reason
                )
            }),
        });
    }
    let listed = app
        .list_conversation_summaries(
            access,
            ConversationFilter {
                contact: Some(contact.id),
                ..ConversationFilter::default()
            },
            PageRequest::first(OTHERS + 1),
        )
        .await?
        .items;
    let zone = &access.organization.timezone;
    let mut campaigns: Vec<Other> = Vec::new();
    let mut seen = Vec::new();
    for s in &listed {
        let c = &s.conversation;
        if c.campaign_id.is_none() || seen.contains(&c.campaign_id) {
            continue;
        }
        seen.push(c.campaign_id);
        if let Some(name) = app.campaign_name_of(access, c).await? {
            campaigns.push(Other {
                href: format!("{base}/{}", c.id),
                words: format!("{name}, {}", zone.local(c.opened_at).format("%-d %b %Y")),
            });
        }
    }
    let others = listed
        .into_iter()
        .filter(|s| Some(s.conversation.id) != open)
        .take(OTHERS as usize)
        .map(|s| {
            let c = &s.conversation;
            let opened = zone.local(c.opened_at);
            Other {
                href: format!("{base}/{}", c.id),
                words: format!(
                    "{} on {}, {}",
                    opened.format("%-d %b %Y"),
                    s.channel_name,
                    c.state.as_str()
                ),
            }
        })
        .collect();
    Ok(Panel {
        customer_id: contact.customer_id,
        facts,
        addresses,
        others,
        campaigns,
    })
}

fn kind_label(kind: parley_domain::ChannelKind) -> &'static str {
    match kind {
        parley_domain::ChannelKind::Sms => "SMS",
        parley_domain::ChannelKind::Whatsapp => "WhatsApp",
        parley_domain::ChannelKind::Webchat => "Web chat",
        _ => "Address",
    }
}

/// A stored (canonical) value as a person reads it.
pub(crate) fn formatted(field_type: FieldType, text: &str, currency: Option<&str>) -> String {
    match field_type {
        FieldType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map_or_else(|_| text.to_owned(), |d| d.format("%-d %B %Y").to_string()),
        FieldType::Money => money(text, currency),
        FieldType::Boolean => match text {
            "true" => "Yes".to_owned(),
            "false" => "No".to_owned(),
            other => other.to_owned(),
        },
        _ => text.to_owned(),
    }
}

/// "1234.5" as "£1,234.50" (with the currency's symbol when the country's is known); a
/// value that is not a plain decimal is shown as it is.
fn money(text: &str, currency: Option<&str>) -> String {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let plain = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    if whole.is_empty() || !plain(whole) || !plain(fraction) || fraction.len() > 4 {
        return text.to_owned();
    }
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let mut out = String::new();
    if negative {
        out.push('−');
    }
    let _ = write!(out, "{}{grouped}.{fraction:0<2}", currency.unwrap_or(""));
    out
}

/// The symbol of the currency of an organization's country, where it is plain which.
pub(crate) fn currency_of(country: &str) -> Option<&'static str> {
    Some(match country {
        "GB" | "GG" | "JE" | "IM" => "£",
        "US" => "$",
        "CA" => "CA$",
        "AU" => "A$",
        "NZ" => "NZ$",
        "IE" | "DE" | "FR" | "ES" | "IT" | "NL" | "BE" | "AT" | "PT" | "FI" | "GR" | "LU"
        | "SK" | "SI" | "EE" | "LV" | "LT" | "MT" | "CY" | "HR" => "€",
        "IN" => "₹",
        "JP" => "¥",
        "ZA" => "R",
        "CH" => "CHF ",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_as_people_write_them() {
        assert_eq!(money("1234.5", Some("£")), "£1,234.50");
        assert_eq!(money("-12", Some("€")), "−€12.00");
        assert_eq!(money("999", None), "999.00");
        assert_eq!(money("1000000", Some("$")), "$1,000,000.00");
        assert_eq!(money("lots", Some("£")), "lots");
        assert_eq!(
            formatted(FieldType::Date, "1980-02-29", None),
            "29 February 1980"
        );
        assert_eq!(formatted(FieldType::Boolean, "true", None), "Yes");
        assert_eq!(currency_of("IE"), Some("€"));
        assert_eq!(currency_of("BR"), None);
    }
}
