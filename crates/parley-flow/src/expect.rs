//! Checks a customer's reply against what an `ask` expects and gives the canonical form
//! that is saved: numbers and money as exact decimals, dates `YYYY-MM-DD`, yes/no as
//! `yes`/`no`, e-mail with a lower-case domain, postcodes in their national layout, a
//! choice as the option is written in the flow. The readers are the importer's
//! (`parley_domain::values`), so a reply means what the same text in a file would.

use parley_domain::values::{
    money_text, parse_bool, parse_date, parse_decimal_text, parse_email, parse_money_text,
    parse_postcode,
};
use parley_domain::{CountryCode, DateOrder};

use crate::document::Expect;
use crate::value::text_eq;

/// Longest reply saved, in characters; longer replies are cut there.
pub const MAX_REPLY_CHARS: usize = 1_000;

/// The canonical form of `reply`, or `None` when it is not what `expect` wants.
pub(crate) fn check(
    expect: Expect,
    options: &[String],
    reply: &str,
    order: DateOrder,
    country: CountryCode,
) -> Option<String> {
    let text = reply.trim();
    if text.is_empty() {
        return None;
    }
    match expect {
        Expect::Text => Some(text.chars().take(MAX_REPLY_CHARS).collect()),
        Expect::Number => parse_decimal_text(text, false)
            .ok()
            .map(|d| d.normalize().to_string()),
        Expect::Money => parse_money_text(text).ok().map(money_text),
        Expect::Date => parse_date(text, order)
            .ok()
            .map(|d| d.format("%Y-%m-%d").to_string()),
        Expect::YesNo => yes_no(text).map(|b| if b { "yes" } else { "no" }.to_owned()),
        Expect::Email => parse_email(text).ok(),
        Expect::Postcode => parse_postcode(text, country).ok(),
        Expect::Choice => choice(options, text),
    }
}

fn yes_no(text: &str) -> Option<bool> {
    let word = text.trim_end_matches(['.', '!']).trim().to_lowercase();
    match word.as_str() {
        "yeah" | "yep" | "yup" | "sure" | "ok" | "okay" | "correct" => Some(true),
        "nope" | "nah" | "no thanks" => Some(false),
        _ => parse_bool(&word).ok(),
    }
}

/// An option by its text (trimmed, any case) or by its 1-based number.
fn choice(options: &[String], text: &str) -> Option<String> {
    if let Some(o) = options.iter().find(|o| text_eq(o, text)) {
        return Some(o.clone());
    }
    let n: usize = text.trim_end_matches(['.', ')']).parse().ok()?;
    options.get(n.checked_sub(1)?).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gb(expect: Expect, reply: &str) -> Option<String> {
        check(expect, &[], reply, DateOrder::Dmy, "GB".parse().unwrap())
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(
            gb(Expect::Date, " 01/02/1980 ").as_deref(),
            Some("1980-02-01")
        );
        assert_eq!(
            gb(Expect::Date, "1 Feb 1980").as_deref(),
            Some("1980-02-01")
        );
        assert_eq!(gb(Expect::Money, "£1,234.5").as_deref(), Some("1234.50"));
        assert_eq!(gb(Expect::Number, "1,000").as_deref(), Some("1000"));
        assert_eq!(gb(Expect::YesNo, "Yep!").as_deref(), Some("yes"));
        assert_eq!(gb(Expect::YesNo, "N").as_deref(), Some("no"));
        assert_eq!(
            gb(Expect::Email, "Jo@Example.COM").as_deref(),
            Some("Jo@example.com")
        );
        assert_eq!(gb(Expect::Postcode, "sw1a1aa").as_deref(), Some("SW1A 1AA"));
        assert_eq!(gb(Expect::Text, "  hello ").as_deref(), Some("hello"));
    }

    #[test]
    fn refusals() {
        for (expect, reply) in [
            (Expect::Date, "yesterday"),
            (Expect::Date, "31/02/1980"),
            (Expect::Money, "lots"),
            (Expect::YesNo, "maybe"),
            (Expect::Email, "jo at example"),
            (Expect::Postcode, "12345"),
            (Expect::Text, "   "),
        ] {
            assert_eq!(gb(expect, reply), None, "{expect:?} {reply:?}");
        }
    }

    #[test]
    fn choices_by_text_or_number() {
        let options = ["Pay now".to_owned(), "Plan".to_owned()];
        let pick = |r| {
            check(
                Expect::Choice,
                &options,
                r,
                DateOrder::Dmy,
                "GB".parse().unwrap(),
            )
        };
        assert_eq!(pick(" pay NOW ").as_deref(), Some("Pay now"));
        assert_eq!(pick("2").as_deref(), Some("Plan"));
        assert_eq!(pick("3"), None);
        assert_eq!(pick("0"), None);
        assert_eq!(pick("later"), None);
    }
}
