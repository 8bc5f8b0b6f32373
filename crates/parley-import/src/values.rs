//! Typed value parsers, one per field type of SPEC §2. Each takes a cell as the file held
//! it and returns the canonical value or the reason it cannot be read; none panics on any
//! input (property-tested and fuzzed).
//!
//! Canonical forms (what contacts store, and what makes a re-import a no-op): text
//! trimmed; numbers as exact decimals; money as an exact decimal string with at least two
//! decimals; dates `YYYY-MM-DD`; date-times RFC 3339 in UTC; phones E.164; e-mail with a
//! lower-case domain; postcodes upper case in their national layout; URLs as given.

mod date;
mod number;
mod phone;

use std::borrow::Cow;

use parley_domain::{CountryCode, DateOrder, FieldType, values};
use rust_decimal::Decimal;

use crate::source::CellRef;

pub use date::{parse_date, parse_datetime};
pub use number::{parse_money, parse_number};
pub use parley_domain::values::excel_serial_to_date;
pub use phone::PhoneNormaliser;

/// Longest text value kept.
pub const MAX_TEXT_CHARS: usize = 10_000;

/// Why a value was refused, in words for the rejects report.
pub use parley_domain::values::Reason;

/// A parsed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Stored as a JSON string.
    Text(String),
    /// Stored as a JSON number.
    Number(Decimal),
    /// Stored as a JSON boolean.
    Bool(bool),
}

impl Value {
    /// Appends the value as JSON to `out`.
    pub fn write_json(&self, out: &mut String) {
        match self {
            Value::Text(t) => write_json_string(out, t),
            Value::Number(n) => out.push_str(&n.to_string()),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
    }
}

/// Appends `text` as a JSON string literal.
pub fn write_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What the parsers need to know about the organization.
#[derive(Debug)]
pub struct ValueContext {
    /// The country of local phone numbers and the postcode format.
    pub country: CountryCode,
    /// Day or month first.
    pub date_order: DateOrder,
    /// The phone parser (caches compiled patterns; one per thread).
    pub phones: PhoneNormaliser,
}

impl ValueContext {
    /// A context for `country` and `date_order`.
    #[must_use]
    pub fn new(country: CountryCode, date_order: DateOrder) -> Self {
        Self {
            country,
            date_order,
            phones: PhoneNormaliser::new(country),
        }
    }
}

/// Parses a non-empty cell as `field_type`.
pub fn parse_value(
    field_type: FieldType,
    cell: CellRef<'_>,
    ctx: &mut ValueContext,
) -> Result<Value, Reason> {
    if let CellRef::Error(e) = cell {
        return Err(format!("the cell holds the spreadsheet error {e}").into());
    }
    match field_type {
        FieldType::Text => parse_text(cell).map(Value::Text),
        FieldType::Number => parse_number(cell).map(Value::Number),
        FieldType::Money => parse_money(cell).map(|m| Value::Text(values::money_text(m))),
        FieldType::Date => parse_date(cell, ctx.date_order).map(|d| Value::Text(d.to_string())),
        FieldType::Datetime => parse_datetime(cell, ctx.date_order)
            .map(|d| Value::Text(d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))),
        FieldType::Boolean => parse_bool(cell).map(Value::Bool),
        FieldType::Phone => ctx.phones.normalise(cell).map(Value::Text),
        FieldType::Email => parse_email(cell).map(Value::Text),
        FieldType::Postcode => parse_postcode(cell, ctx.country).map(Value::Text),
        FieldType::Url => parse_url(cell).map(Value::Text),
    }
}

/// A cell as trimmed text (numbers as a person would have typed them).
#[must_use]
pub fn cell_text(cell: CellRef<'_>) -> Cow<'_, str> {
    match cell {
        CellRef::Text(t) => Cow::Borrowed(t.trim()),
        other => Cow::Owned(other.to_string()),
    }
}

/// Text: trimmed, at most [`MAX_TEXT_CHARS`] characters.
pub fn parse_text(cell: CellRef<'_>) -> Result<String, Reason> {
    let text = cell_text(cell);
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(format!("longer than {MAX_TEXT_CHARS} characters").into());
    }
    Ok(text.into_owned())
}

/// Booleans: true/false, yes/no, y/n, t/f, on/off, 1/0 (any case), or a boolean cell.
pub fn parse_bool(cell: CellRef<'_>) -> Result<bool, Reason> {
    match cell {
        CellRef::Bool(b) => Ok(b),
        CellRef::Number(1.0) => Ok(true),
        CellRef::Number(0.0) => Ok(false),
        _ => values::parse_bool(&cell_text(cell)),
    }
}

/// E-mail (see [`values::parse_email`]).
pub fn parse_email(cell: CellRef<'_>) -> Result<String, Reason> {
    values::parse_email(&cell_text(cell))
}

/// URL (see [`values::parse_url`]).
pub fn parse_url(cell: CellRef<'_>) -> Result<String, Reason> {
    values::parse_url(&cell_text(cell))
}

/// A postcode (see [`values::parse_postcode`]).
pub fn parse_postcode(cell: CellRef<'_>, country: CountryCode) -> Result<String, Reason> {
    values::parse_postcode(&cell_text(cell), country)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for (t, v) in [("Yes", true), ("n", false), ("TRUE", true), ("0", false)] {
            assert_eq!(parse_bool(CellRef::Text(t)), Ok(v));
        }
        assert_eq!(parse_bool(CellRef::Bool(true)), Ok(true));
        assert!(parse_bool(CellRef::Text("maybe")).is_err());
    }

    #[test]
    fn urls_and_text() {
        assert!(parse_url(CellRef::Text("https://pay.example.com/x?y=1")).is_ok());
        assert_eq!(
            parse_text(CellRef::Number(871_234_567.0)).as_deref(),
            Ok("871234567")
        );
        assert!(parse_text(CellRef::Text(&"x".repeat(10_001))).is_err());
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut out = String::new();
        write_json_string(&mut out, "a\"b\\c\nd\u{1}");
        assert_eq!(out, r#""a\"b\\c\nd\u0001""#);
        assert_eq!(
            serde_json::from_str::<String>(&out).unwrap(),
            "a\"b\\c\nd\u{1}"
        );
    }
}
