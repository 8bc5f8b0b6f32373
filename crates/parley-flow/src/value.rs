//! Runtime values of the condition language and their **typed** comparisons (SPEC §4).
//!
//! Placeholders and replies arrive as text; literals and functions may be typed. Two values
//! compare as:
//! * **dates** when either is a date, or both texts read as dates under the organization's
//!   date order (`01/02/1980` equals `1980-02-01` under `dmy`);
//! * **exact decimals** when either is a number, or both texts read as amounts
//!   (`£1,234.50` equals `1234.5`);
//! * **yes/no** when either is a boolean;
//! * otherwise **text**, trimmed and case-insensitive.
//!
//! A text only counts as a date when it is not plain digits (`19800201` and `1234` are
//! numbers to a person reading a condition). When one side is typed and the other cannot be
//! read as that type, the values are unequal and unordered: `<` and friends are false.
//! An unset placeholder is the empty text.

use std::borrow::Cow;
use std::cmp::Ordering;

use chrono::NaiveDate;
use parley_domain::DateOrder;
use parley_domain::values::{parse_bool, parse_date, parse_decimal_text};
use rust_decimal::Decimal;

/// A value while a condition is evaluated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// Text, as written or as stored.
    Text(Cow<'a, str>),
    /// An exact decimal.
    Number(Decimal),
    /// A calendar date.
    Date(NaiveDate),
    /// True or false.
    Bool(bool),
}

impl Value<'_> {
    /// The value as text: decimals without trailing zeros, dates as `YYYY-MM-DD`.
    #[must_use]
    pub fn to_text(&self) -> Cow<'_, str> {
        match self {
            Value::Text(t) => Cow::Borrowed(t),
            Value::Number(n) => Cow::Owned(n.normalize().to_string()),
            Value::Date(d) => Cow::Owned(d.format("%Y-%m-%d").to_string()),
            Value::Bool(b) => Cow::Borrowed(if *b { "true" } else { "false" }),
        }
    }

    /// True when the value holds something other than blank text.
    #[must_use]
    pub fn is_set(&self) -> bool {
        match self {
            Value::Text(t) => !t.trim().is_empty(),
            _ => true,
        }
    }

    /// The value as a condition's outcome: booleans as they are, text read as yes/no,
    /// numbers true unless zero, dates true.
    #[must_use]
    pub fn truthy(&self) -> bool {
        match self {
            Value::Bool(b) => *b,
            Value::Text(t) => parse_bool(t).unwrap_or(false),
            Value::Number(n) => !n.is_zero(),
            Value::Date(_) => true,
        }
    }

    /// Reads the value as a date.
    #[must_use]
    pub fn as_date(&self, order: DateOrder) -> Option<NaiveDate> {
        match self {
            Value::Date(d) => Some(*d),
            Value::Text(t) => text_date(t, order),
            _ => None,
        }
    }

    fn as_number(&self) -> Option<Decimal> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(t) => parse_decimal_text(t, true).ok(),
            _ => None,
        }
    }

    fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::Text(t) => parse_bool(t).ok(),
            Value::Number(n) if n.is_zero() => Some(false),
            Value::Number(n) if *n == Decimal::ONE => Some(true),
            _ => None,
        }
    }
}

fn text_date(text: &str, order: DateOrder) -> Option<NaiveDate> {
    let t = text.trim();
    if t.is_empty() || t.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    parse_date(t, order).ok()
}

/// Compares two values by the rules of the module doc; `None` when they cannot be ordered.
#[must_use]
pub fn compare(a: &Value<'_>, b: &Value<'_>, order: DateOrder) -> Option<Ordering> {
    use Value::{Bool, Date, Number, Text};
    match (a, b) {
        (Date(_), _) | (_, Date(_)) => Some(a.as_date(order)?.cmp(&b.as_date(order)?)),
        (Number(_), _) | (_, Number(_)) => Some(a.as_number()?.cmp(&b.as_number()?)),
        (Bool(_), _) | (_, Bool(_)) => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        (Text(x), Text(y)) => {
            if let (Some(p), Some(q)) = (text_date(x, order), text_date(y, order)) {
                return Some(p.cmp(&q));
            }
            if let (Ok(p), Ok(q)) = (parse_decimal_text(x, true), parse_decimal_text(y, true)) {
                return Some(p.cmp(&q));
            }
            Some(fold(x).cmp(fold(y)))
        }
    }
}

/// Trimmed, lower-cased characters: the form text is compared in.
pub(crate) fn fold(text: &str) -> impl Iterator<Item = char> + '_ {
    text.trim().chars().flat_map(char::to_lowercase)
}

/// Whether two texts are equal once trimmed and lower-cased.
pub(crate) fn text_eq(a: &str, b: &str) -> bool {
    fold(a).eq(fold(b))
}

/// Trimmed, lower-cased text.
pub(crate) fn folded(text: &str) -> String {
    fold(text).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(t: &str) -> Value<'_> {
        Value::Text(Cow::Borrowed(t))
    }

    fn eq(a: &Value<'_>, b: &Value<'_>, order: DateOrder) -> bool {
        compare(a, b, order) == Some(Ordering::Equal)
    }

    #[test]
    fn dates_compare_as_dates_under_the_org_order() {
        assert!(eq(&text("01/02/1980"), &text("1980-02-01"), DateOrder::Dmy));
        assert!(!eq(
            &text("01/02/1980"),
            &text("1980-02-01"),
            DateOrder::Mdy
        ));
        assert!(eq(&text("01/02/1980"), &text("1980-01-02"), DateOrder::Mdy));
        assert!(eq(
            &text(" 1 Feb 1980 "),
            &text("1980-02-01"),
            DateOrder::Dmy
        ));
        let d = Value::Date(NaiveDate::from_ymd_opt(2026, 11, 21).unwrap());
        assert_eq!(
            compare(&text("20/11/2026"), &d, DateOrder::Dmy),
            Some(Ordering::Less)
        );
        assert_eq!(compare(&text("not a date"), &d, DateOrder::Dmy), None);
    }

    #[test]
    fn money_and_numbers_compare_as_exact_decimals() {
        assert!(eq(&text("£1,234.50"), &text("1234.5"), DateOrder::Dmy));
        assert!(eq(
            &text("£1,234.50"),
            &Value::Number(Decimal::new(12345, 1)),
            DateOrder::Dmy
        ));
        assert_eq!(
            compare(&text("99.99"), &text("100"), DateOrder::Dmy),
            Some(Ordering::Less)
        );
        // Digits alone are numbers, not Excel dates.
        assert_eq!(
            compare(&text("1980"), &text("200"), DateOrder::Dmy),
            Some(Ordering::Greater)
        );
    }

    #[test]
    fn text_is_trimmed_and_case_insensitive() {
        assert!(eq(&text("  PAY "), &text("pay"), DateOrder::Dmy));
        assert!(eq(&text("ÉCOLE"), &text("école"), DateOrder::Dmy));
        assert!(!eq(&text("pay"), &text("plan"), DateOrder::Dmy));
        assert!(eq(&text(""), &text("   "), DateOrder::Dmy));
    }

    #[test]
    fn booleans_read_yes_and_no() {
        assert!(eq(&text("Yes"), &Value::Bool(true), DateOrder::Dmy));
        assert_eq!(
            compare(&text("maybe"), &Value::Bool(true), DateOrder::Dmy),
            None
        );
        assert!(text("y").truthy() && !text("no").truthy() && !text("pay").truthy());
    }
}
