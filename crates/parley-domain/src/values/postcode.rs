//! Postcodes: UK postcodes, US ZIP codes and Irish Eircodes are checked and put in their
//! national layout, chosen by the organization's default country. Other countries' codes
//! are upper-cased and checked for plausible characters only.
//!
//! A US ZIP of three or four digits lost its leading zeros to a spreadsheet (`2134` was
//! `02134`) and is padded back.

use super::Reason;
use crate::CountryCode;

/// A postcode written as text, for an organization in `country`.
pub fn parse_postcode(text: &str, country: CountryCode) -> Result<String, Reason> {
    let text = text.trim();
    let compact: String = text
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    if !compact.is_ascii() {
        return Err("not a postcode (unexpected characters)".into());
    }
    match country.as_str() {
        "GB" | "GG" | "JE" | "IM" => uk(&compact),
        "IE" => eircode(&compact),
        "US" | "PR" | "GU" | "VI" | "AS" | "MP" => zip(&compact),
        _ => {
            let ok = (2..=10).contains(&compact.len())
                && compact
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-');
            if ok {
                Ok(text
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .to_uppercase())
            } else {
                Err("not a postcode".into())
            }
        }
    }
}

fn uk(compact: &str) -> Result<String, Reason> {
    let b = compact.as_bytes();
    if compact == "GIR0AA" {
        return Ok("GIR 0AA".to_owned());
    }
    let bad = || -> Reason { "not a UK postcode (like SW1A 1AA)".into() };
    if !(5..=7).contains(&b.len()) {
        return Err(bad());
    }
    let (outward, inward) = compact.split_at(b.len() - 3);
    let i = inward.as_bytes();
    let inward_ok = i[0].is_ascii_digit()
        && i[1..]
            .iter()
            .all(|c| c.is_ascii_uppercase() && !b"CIKMOV".contains(c));
    // Outward code shapes: A9, A99, AA9, AA99, A9A, AA9A.
    let shape: String = outward
        .bytes()
        .map(|c| {
            if c.is_ascii_digit() {
                '9'
            } else if c.is_ascii_uppercase() {
                'A'
            } else {
                '?'
            }
        })
        .collect();
    let outward_ok = matches!(
        shape.as_str(),
        "A9" | "A99" | "AA9" | "AA99" | "A9A" | "AA9A"
    );
    if inward_ok && outward_ok {
        Ok(format!("{outward} {inward}"))
    } else {
        Err(bad())
    }
}

fn eircode(compact: &str) -> Result<String, Reason> {
    const ROUTING_LETTERS: &[u8] = b"ACDEFHKNPRTVWXY";
    const UNIQUE_CHARS: &[u8] = b"0123456789ACDEFHKNPRTVWXY";
    let bad = || -> Reason { "not an Eircode (like A65 F4E2)".into() };
    let b = compact.as_bytes();
    if b.len() != 7 {
        return Err(bad());
    }
    let routing_ok = compact.starts_with("D6W")
        || (ROUTING_LETTERS.contains(&b[0]) && b[1].is_ascii_digit() && b[2].is_ascii_digit());
    let unique_ok = b[3..].iter().all(|c| UNIQUE_CHARS.contains(c));
    if routing_ok && unique_ok {
        Ok(format!("{} {}", &compact[..3], &compact[3..]))
    } else {
        Err(bad())
    }
}

fn zip(compact: &str) -> Result<String, Reason> {
    let bad = || -> Reason { "not a US ZIP code (like 02134 or 02134-1234)".into() };
    let digits: String = compact.chars().filter(|c| *c != '-').collect();
    if !digits.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let hyphens = compact.matches('-').count();
    match (digits.len(), hyphens) {
        (3 | 4, 0) => Ok(format!("{digits:0>5}")),
        (5, 0) => Ok(digits),
        (9, 0) => Ok(format!("{}-{}", &digits[..5], &digits[5..])),
        (9, 1) if compact.find('-') == Some(5) => Ok(compact.to_owned()),
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pc(country: &str, text: &str) -> Result<String, Reason> {
        parse_postcode(text, country.parse().unwrap())
    }

    #[test]
    fn uk_postcodes() {
        for (t, e) in [
            ("sw1a1aa", "SW1A 1AA"),
            ("M1 1AE", "M1 1AE"),
            ("B33 8TH", "B33 8TH"),
            ("cr2 6xh", "CR2 6XH"),
            ("DN55 1PT", "DN55 1PT"),
            ("W1A 0AX", "W1A 0AX"),
        ] {
            assert_eq!(pc("GB", t).as_deref(), Ok(e), "{t}");
        }
        for bad in ["SW1A", "12345", "SW1A 1AI", "Q1A1AA1"] {
            assert!(pc("GB", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn eircodes_and_zips() {
        assert_eq!(pc("IE", "a65f4e2").as_deref(), Ok("A65 F4E2"));
        assert_eq!(pc("IE", "D6W 1234").as_deref(), Ok("D6W 1234"));
        assert!(pc("IE", "B65 F4E2").is_err());
        assert_eq!(pc("US", "02134").as_deref(), Ok("02134"));
        assert_eq!(pc("US", "2134").as_deref(), Ok("02134"));
        assert_eq!(pc("US", "021341234").as_deref(), Ok("02134-1234"));
        assert!(pc("US", "ABCDE").is_err());
        assert_eq!(pc("FR", "75008").as_deref(), Ok("75008"));
    }
}
