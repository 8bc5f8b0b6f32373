//! Typed values written as text, one reader per field type of SPEC §2 that does not need
//! a spreadsheet cell or a phone-number library: dates, numbers and money, yes/no, e-mail,
//! postcodes and web addresses. The importer reads cells with them and the flow language
//! reads customers' replies and compares values with them, so a value means the same thing
//! wherever it is written. None panics on any input (property-tested and fuzzed).

mod date;
mod number;
mod postcode;

use std::borrow::Cow;

pub use date::{check_year, excel_serial_to_date, parse_date, parse_datetime};
pub use number::{check_money, money_text, parse_decimal_text, parse_money_text};
pub use postcode::parse_postcode;

/// Why a value was refused, in words a person can act on.
pub type Reason = Cow<'static, str>;

/// Booleans: true/false, yes/no, y/n, t/f, on/off, 1/0 (any case), or a boolean cell.
pub fn parse_bool(text: &str) -> Result<bool, Reason> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "t" | "on" | "1" => Ok(true),
        "false" | "no" | "n" | "f" | "off" | "0" => Ok(false),
        _ => Err("not a yes/no value (expected true/false, yes/no, y/n or 1/0)".into()),
    }
}

/// E-mail: one `@`, a local part of allowed characters, a domain of at least two valid
/// labels. The domain is lower-cased; the local part is kept as written.
pub fn parse_email(text: &str) -> Result<String, Reason> {
    let text = text.trim();
    let text = text.strip_prefix("mailto:").unwrap_or(text);
    if text.len() > 254 {
        return Err("longer than 254 characters".into());
    }
    let Some((local, domain)) = text.rsplit_once('@') else {
        return Err("not an e-mail address (no @)".into());
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
    if !local_ok {
        return Err("the part before @ is not valid".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
    if !domain_ok {
        return Err("the domain after @ is not valid".into());
    }
    Ok(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// URL: `http://` or `https://`, a host, no whitespace, at most 2048 characters.
pub fn parse_url(text: &str) -> Result<String, Reason> {
    let text = text.trim();
    if text.len() > 2048 {
        return Err("longer than 2048 characters".into());
    }
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("not a web address (must start with http:// or https://)")?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if host.is_empty() || text.chars().any(char::is_whitespace) {
        return Err("not a web address (no host, or contains spaces)".into());
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn booleans() {
        for (t, v) in [("Yes", true), ("n", false), (" TRUE ", true), ("0", false)] {
            assert_eq!(parse_bool(t), Ok(v));
        }
        assert!(parse_bool("maybe").is_err());
    }

    #[test]
    fn emails() {
        assert_eq!(
            parse_email(" Jo.Smith+x@Example.CO.UK ").as_deref(),
            Ok("Jo.Smith+x@example.co.uk")
        );
        for bad in [
            "jo",
            "jo@",
            "@x.com",
            "jo@x",
            "jo@-x.com",
            "a..b@x.com",
            "jo@x.c0m.1",
        ] {
            assert!(parse_email(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn urls() {
        assert!(parse_url("https://pay.example.com/x?y=1").is_ok());
        assert!(parse_url("ftp://x").is_err());
        assert!(parse_url("https:// x").is_err());
    }
}
