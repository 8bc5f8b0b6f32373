//! Numbers and money written as text, read as exact decimals: currency symbols, thousands
//! separators and either decimal mark. Shared by the importer and the flow language, so
//! `£1,234.50` is the same amount in a contact file and in a condition.
//!
//! Reading rules, in order:
//! * a sign is `-` before or after the digits, or parentheses around them (`(12.50)`);
//! * money may carry currency symbols (`£ $ € ¥ ₹ …`) or a three-letter ISO code (`GBP`)
//!   at either end;
//! * spaces, non-breaking spaces and `'` group thousands;
//! * when both `.` and `,` appear, the last one is the decimal mark;
//! * when one of them appears more than once, it groups thousands;
//! * when one appears once, with exactly three digits after it and one to three digits
//!   (not starting with 0) before it (`1,234`, `1.234`), it groups thousands; otherwise it
//!   is the decimal mark (`12,50`, `0.125`, `1234.567`), so the canonical form of any
//!   value reads back as itself;
//! * groups after the first are exactly three digits.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::Reason;
use crate::Money;

const CURRENCY_SYMBOLS: &str = "$£€¥₹₩₽₺₴₦₱₪฿¢₫₡₲₵₸₼₾";

fn strip_currency(text: &str) -> &str {
    let mut t = text.trim();
    for _ in 0..2 {
        t = t.trim_matches(|c: char| CURRENCY_SYMBOLS.contains(c) || c.is_whitespace());
        let bytes = t.as_bytes();
        if bytes.len() > 3 && bytes[..3].iter().all(u8::is_ascii_uppercase) {
            t = &t[3..];
        }
        let bytes = t.as_bytes();
        if bytes.len() > 3 && bytes[bytes.len() - 3..].iter().all(u8::is_ascii_uppercase) {
            t = &t[..bytes.len() - 3];
        }
    }
    t.trim()
}

/// Parses decimal text by the rules above.
pub fn parse_decimal_text(text: &str, money: bool) -> Result<Decimal, Reason> {
    let not_a = || -> Reason {
        if money {
            "not an amount of money".into()
        } else {
            "not a number".into()
        }
    };
    let mut t = text.trim();
    let mut negative = false;
    if let Some(inner) = t.strip_prefix('(').and_then(|s| s.strip_suffix(')')) {
        negative = true;
        t = inner.trim();
    }
    if money {
        t = strip_currency(t);
    }
    if let Some(rest) = t.strip_prefix('-').or_else(|| t.strip_prefix('−')) {
        negative = !negative;
        t = rest.trim_start();
    } else if let Some(rest) = t.strip_suffix('-') {
        negative = !negative;
        t = rest.trim_end();
    } else if let Some(rest) = t.strip_prefix('+') {
        t = rest.trim_start();
    }
    if money {
        t = strip_currency(t);
    }
    // Only digits, marks and grouping characters may remain.
    let mut digits = String::with_capacity(t.len());
    let (dots, commas) = (t.matches('.').count(), t.matches(',').count());
    let decimal_mark = match (dots, commas) {
        (0, 0) => None,
        (_, 0) | (0, _) => {
            let (mark, count) = if dots > 0 { ('.', dots) } else { (',', commas) };
            let (int_part, frac) = t.rsplit_once(mark).unwrap_or((t, ""));
            let looks_like_group = frac.len() == 3
                && (1..=3).contains(&int_part.len())
                && !int_part.starts_with('0')
                && int_part.chars().all(|c| c.is_ascii_digit());
            if count > 1 || looks_like_group {
                None
            } else {
                Some(mark)
            }
        }
        _ => {
            let last_dot = t.rfind('.').unwrap_or(0);
            let last_comma = t.rfind(',').unwrap_or(0);
            Some(if last_dot > last_comma { '.' } else { ',' })
        }
    };
    let (int_part, frac_part) = match decimal_mark {
        Some(mark) => {
            let (i, f) = t.rsplit_once(mark).ok_or_else(not_a)?;
            (i, Some(f))
        }
        None => (t, None),
    };
    // Integer part: digits with optional grouping, groups of three after the first.
    let groups: Vec<&str> = int_part
        .split(['.', ',', ' ', '\'', '\u{a0}', '\u{202f}'])
        .collect();
    if groups.len() > 1 {
        let first_ok = (1..=3).contains(&groups[0].len());
        let rest_ok = groups[1..].iter().all(|g| g.len() == 3);
        if !first_ok || !rest_ok {
            return Err("digits are grouped unevenly (thousands come in threes)".into());
        }
    }
    for g in &groups {
        if !g.chars().all(|c| c.is_ascii_digit()) {
            return Err(not_a());
        }
        digits.push_str(g);
    }
    if digits.is_empty() {
        // `.5` is read as 0.5.
        if frac_part.is_none_or(str::is_empty) {
            return Err(not_a());
        }
        digits.push('0');
    }
    if let Some(frac) = frac_part {
        if frac.is_empty() || !frac.chars().all(|c| c.is_ascii_digit()) {
            return Err(not_a());
        }
        digits.push('.');
        digits.push_str(frac);
    }
    let value =
        Decimal::from_str(&digits).map_err(|_| -> Reason { "number out of range".into() })?;
    Ok(if negative { -value } else { value })
}

/// A money amount written as text: at most four decimal places.
pub fn parse_money_text(text: &str) -> Result<Decimal, Reason> {
    check_money(parse_decimal_text(text, true)?)
}

/// The canonical text of a money amount: at least two decimals (`12.50`), otherwise as
/// precise as given (`12.125`). What contacts store and what a money reply is saved as.
#[must_use]
pub fn money_text(amount: Decimal) -> String {
    let mut m = amount.normalize();
    if m.scale() < 2 {
        m.rescale(2);
    }
    m.to_string()
}

/// `amount` when it has at most four decimal places.
pub fn check_money(amount: Decimal) -> Result<Decimal, Reason> {
    Money::new(amount)
        .map(Money::amount)
        .map_err(|_| "more than 4 decimal places".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn money(t: &str) -> Result<String, Reason> {
        parse_money_text(t).map(|d| d.to_string())
    }

    #[test]
    fn money_keeps_two_decimals() {
        assert_eq!(money_text(Decimal::new(125, 1)), "12.50");
        assert_eq!(money_text(Decimal::new(12_125, 3)), "12.125");
        assert_eq!(money_text(Decimal::new(7, 0)), "7.00");
    }

    #[test]
    fn money_in_many_spellings() {
        for (text, expected) in [
            ("£1,234.56", "1234.56"),
            ("1.234,56 €", "1234.56"),
            ("€1.234,5", "1234.5"),
            ("1 234,56", "1234.56"),
            ("1'234.50", "1234.5"),
            ("12,50", "12.5"),
            ("1,234", "1234"),
            ("0.125", "0.125"),
            ("GBP 99", "99"),
            ("99.00 USD", "99"),
            ("-£5", "-5"),
            ("(12.50)", "-12.5"),
            ("12.50-", "-12.5"),
            ("$1,000,000.00", "1000000"),
            (".5", "0.5"),
        ] {
            assert_eq!(money(text).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn money_refusals_say_why() {
        assert!(money("12.34567").unwrap_err().contains("4 decimal places"));
        assert!(money("1,23,456.00").unwrap_err().contains("grouped"));
        for bad in ["", "abc", "12abc", "1.2.3,4,5", "£", "--5", "1e5"] {
            assert!(money(bad).is_err(), "{bad:?} accepted");
        }
    }
}
