//! Phone numbers to E.164, read with the organization's default country.
//!
//! Parsing (national prefixes, `00` and other international prefixes, `(0)`) is
//! libphonenumber's, through the `phonenumber` crate. Validity is ours, from the same
//! metadata: the national significant number must have one of the region's possible
//! lengths and match one of its number-type patterns *entirely* (libphonenumber's rule).
//! The crate's own `is_valid` runs each pattern unanchored behind a shared mutex (about 4×
//! slower here) and accepts a number whose *prefix* matches, so some over-long numbers
//! pass it (IE `22000000`); the property test `phone_validity_agrees_with_the_library`
//! checks that everything we accept, it accepts with the same E.164.
//!
//! Spreadsheet quirks handled first: a numeric cell that lost its leading zero
//! (`871234567`) is read as national digits; scientific notation (`4.47911E+11`) is
//! refused because its digits are gone; a leading `'` (Excel's text marker) is dropped.

use std::collections::HashMap;

use parley_domain::CountryCode;
use phonenumber::metadata::DATABASE;
use regex::{Regex, RegexBuilder};

use super::{Reason, cell_text};
use crate::source::CellRef;

/// The compiled checks of one region.
#[derive(Debug)]
struct RegionCheck {
    possible_lengths: Vec<u16>,
    leading_digits: Option<Regex>,
    valid: Option<Regex>,
}

/// Turns cells into E.164 numbers. Holds compiled patterns; make one per thread.
#[derive(Debug)]
pub struct PhoneNormaliser {
    country: Option<phonenumber::country::Id>,
    regions: HashMap<u16, Vec<RegionCheck>>,
}

fn anchored(patterns: &[&str]) -> Option<Regex> {
    if patterns.is_empty() {
        return None;
    }
    // The metadata's patterns are written with insignificant whitespace.
    RegexBuilder::new(&format!("^(?:{})$", patterns.join("|")))
        .ignore_whitespace(true)
        .build()
        .ok()
}

fn region_checks(code: u16) -> Vec<RegionCheck> {
    let Some(ids) = DATABASE.region(&code) else {
        return Vec::new();
    };
    ids.into_iter()
        .filter_map(|id| DATABASE.by_id(id))
        .map(|meta| {
            let d = meta.descriptors();
            let patterns: Vec<&str> = [
                d.fixed_line(),
                d.mobile(),
                d.toll_free(),
                d.premium_rate(),
                d.shared_cost(),
                d.personal_number(),
                d.voip(),
                d.pager(),
                d.uan(),
                d.voicemail(),
            ]
            .into_iter()
            .flatten()
            .map(|desc| desc.national_number().as_str())
            .collect();
            RegionCheck {
                possible_lengths: d.general().possible_length().to_vec(),
                leading_digits: meta.leading_digits().and_then(|l| {
                    RegexBuilder::new(&format!("^(?:{})", l.as_str()))
                        .ignore_whitespace(true)
                        .build()
                        .ok()
                }),
                valid: anchored(&patterns),
            }
        })
        .collect()
}

impl PhoneNormaliser {
    /// A normaliser reading local numbers as `country`'s.
    #[must_use]
    pub fn new(country: CountryCode) -> Self {
        Self {
            country: country.as_str().parse().ok(),
            regions: HashMap::new(),
        }
    }

    /// The E.164 form of the cell, or why it is not a phone number.
    pub fn normalise(&mut self, cell: CellRef<'_>) -> Result<String, Reason> {
        let owned;
        let text: &str = match cell {
            CellRef::Number(n) => {
                if n.fract() != 0.0 || n <= 0.0 || n >= 1e16 {
                    return Err("not a phone number".into());
                }
                owned = cell_text(cell).into_owned();
                &owned
            }
            CellRef::Text(t) => t.trim(),
            _ => return Err("not a phone number".into()),
        };
        let text = text.strip_prefix('\'').unwrap_or(text);
        let text = text.strip_prefix("tel:").unwrap_or(text).trim();
        if text.contains(['e', 'E']) && text.contains('.') {
            return Err("written in scientific notation, so its last digits are lost".into());
        }
        if text.chars().any(char::is_alphabetic) {
            return Err("contains letters".into());
        }
        let digits = text.chars().filter(char::is_ascii_digit).count();
        if !(5..=17).contains(&digits) {
            return Err("not a phone number (wrong number of digits)".into());
        }
        let international;
        let text = if let Some(rest) = text.strip_prefix("00") {
            international = format!("+{rest}");
            international.as_str()
        } else {
            text
        };
        let parsed = phonenumber::parse(self.country, text)
            .map_err(|_| -> Reason { "not a phone number".into() })?;
        let code = parsed.code().value();
        let national = parsed.national().to_string();
        if self.is_valid(code, &national) {
            Ok(format!("+{code}{national}"))
        } else {
            Err(format!("not a valid number for +{code}").into())
        }
    }

    fn is_valid(&mut self, code: u16, national: &str) -> bool {
        let checks = self
            .regions
            .entry(code)
            .or_insert_with(|| region_checks(code));
        let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
        // Several regions share a code (+1, +44, +7…): the first whose leading digits
        // fit, or, failing that, whose patterns match, decides.
        checks.iter().any(|c| {
            (c.possible_lengths.is_empty() || c.possible_lengths.contains(&len))
                && c.leading_digits
                    .as_ref()
                    .is_none_or(|l| l.is_match(national))
                && c.valid.as_ref().is_some_and(|v| v.is_match(national))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(country: &str, text: &str) -> Result<String, Reason> {
        PhoneNormaliser::new(country.parse().unwrap()).normalise(CellRef::Text(text))
    }

    #[test]
    fn the_spec_examples() {
        assert_eq!(e164("IE", "087 123 4567").as_deref(), Ok("+353871234567"));
        assert_eq!(
            e164("IE", "+353 87 123 4567").as_deref(),
            Ok("+353871234567")
        );
        assert_eq!(e164("IE", "00353871234567").as_deref(), Ok("+353871234567"));
        assert_eq!(e164("US", "(415) 555-0123").as_deref(), Ok("+14155550123"));
        assert_eq!(e164("GB", "07911 123456").as_deref(), Ok("+447911123456"));
        assert_eq!(
            e164("GB", "+44 (0)7911-123456").as_deref(),
            Ok("+447911123456")
        );
        assert_eq!(
            e164("US", "0044 7911 123456").as_deref(),
            Ok("+447911123456")
        );
    }

    #[test]
    fn a_number_cell_that_lost_its_zero_uses_the_default_country() {
        let mut p = PhoneNormaliser::new("IE".parse().unwrap());
        assert_eq!(
            p.normalise(CellRef::Number(871_234_567.0)).as_deref(),
            Ok("+353871234567")
        );
        assert!(p.normalise(CellRef::Number(8.5)).is_err());
    }

    #[test]
    fn refusals() {
        assert!(e164("GB", "12345").is_err());
        assert!(
            e164("GB", "4.47911E+11")
                .unwrap_err()
                .contains("scientific")
        );
        assert!(e164("GB", "07911 ABC456").unwrap_err().contains("letters"));
        assert!(e164("GB", "+44 1").is_err());
        assert!(e164("GB", "").is_err());
    }

    #[test]
    fn shared_codes_know_their_regions() {
        assert_eq!(e164("US", "+1 604 555 0199").as_deref(), Ok("+16045550199"));
    }
}
