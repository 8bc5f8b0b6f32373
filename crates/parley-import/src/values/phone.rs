//! Phone numbers to E.164, read with the organization's default country.
//!
//! Parsing (national prefixes, `00` and other international prefixes, `(0)`) is
//! libphonenumber's, through the `phonenumber` crate. Validity is ours, from the same
//! metadata: the national significant number must have one of the region's possible
//! lengths, match the region's general pattern, and, for one of its number types, have
//! one of that type's lengths and match that type's pattern, each *entirely*
//! (libphonenumber's rule).
//! The crate's own `is_valid` runs each pattern unanchored behind a shared mutex (about 4×
//! slower here) and accepts a number whose *prefix* matches, so some over-long numbers
//! pass it (IE `22000000`); the property test `phone_validity_agrees_with_the_library`
//! checks that everything we accept, it accepts with the same E.164.
//!
//! Fast path: most cells are plain digits, either `+` and a country code or the default
//! country's national form. For those, [`PhoneNormaliser::plain`] reads the number
//! itself, following the same steps as the crate's parser for such input (country code =
//! the first known one of 1–3 digits; one national prefix stripped) and answers only when
//! the result is valid; anything else (other punctuation, international dialling prefixes,
//! carrier codes, prefix rules given as patterns, numbers it would refuse) goes through
//! the crate. Unlike the crate's grammar, it does not care where the punctuation is
//! (the crate reads `+447-911 123456` as country code 447 and refuses it). The crate's
//! parser was ~⅓ of the validation threads' time on a million-row import. The property
//! test `the_fast_path_agrees_with_the_parser` compares the two on generated numbers.
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
    /// The region's general pattern, anchored: every valid number matches it.
    general: Option<Regex>,
    /// One entry per number type: its possible lengths (the region's when the type
    /// names none) and its pattern, anchored.
    types: Vec<(Vec<u16>, Regex)>,
}

/// What the fast path needs of the default country.
#[derive(Debug)]
struct Home {
    code: u16,
    /// The country code as digits.
    code_text: String,
    /// The national prefix (stripped a second time by the parser when still there).
    national_prefix: Option<String>,
    /// The prefixes that parsing strips, in the metadata's order: its prefix-for-parsing
    /// pattern when that is a list of digit strings (GB: `0|180020`), else the national
    /// prefix.
    parsing_prefixes: Vec<String>,
    /// The international dialling prefix, anchored at the start.
    international_prefix: Option<Regex>,
}

impl Home {
    /// `None` when the country's prefix rules are patterns the fast path does not follow.
    fn of(country: phonenumber::country::Id) -> Option<Self> {
        let meta = DATABASE.by_id(country.as_ref())?;
        let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
        let national_prefix = meta.national_prefix().map(str::to_owned);
        if meta.national_prefix_transform_rule().is_some()
            || national_prefix.as_deref().is_some_and(|p| !digits(p))
        {
            return None;
        }
        let parsing_prefixes = match meta.national_prefix_for_parsing() {
            Some(pattern) => {
                let list: Vec<String> = pattern.as_str().split('|').map(str::to_owned).collect();
                if !list.iter().all(|p| digits(p)) {
                    return None;
                }
                list
            }
            None => national_prefix.iter().cloned().collect(),
        };
        let international_prefix = match meta.international_prefix() {
            Some(p) => Some(
                RegexBuilder::new(&format!("^(?:{})", p.as_str()))
                    .ignore_whitespace(true)
                    .build()
                    .ok()?,
            ),
            None => None,
        };
        Some(Self {
            code: meta.country_code(),
            code_text: meta.country_code().to_string(),
            national_prefix,
            parsing_prefixes,
            international_prefix,
        })
    }

    /// Whether parsing would strip something from the start of `national`.
    fn strips(&self, national: &str) -> bool {
        self.parsing_prefixes
            .iter()
            .chain(&self.national_prefix)
            .any(|p| national.starts_with(p.as_str()))
    }
}

/// Turns cells into E.164 numbers. Holds compiled patterns; make one per thread.
#[derive(Debug)]
pub struct PhoneNormaliser {
    country: Option<phonenumber::country::Id>,
    home: Option<Home>,
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
            let general = d.general().possible_length();
            let types = [
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
            .filter_map(|desc| {
                let lengths = match desc.possible_length() {
                    [] => general,
                    own => own,
                };
                Some((
                    lengths.to_vec(),
                    anchored(&[desc.national_number().as_str()])?,
                ))
            })
            .collect();
            RegionCheck {
                possible_lengths: d.general().possible_length().to_vec(),
                leading_digits: meta.leading_digits().and_then(|l| {
                    RegexBuilder::new(&format!("^(?:{})", l.as_str()))
                        .ignore_whitespace(true)
                        .build()
                        .ok()
                }),
                general: anchored(&[d.general().national_number().as_str()]),
                types,
            }
        })
        .collect()
}

/// Whether `code` is a country calling code the metadata knows (its checks, cached).
fn known_code(regions: &mut HashMap<u16, Vec<RegionCheck>>, code: u16) -> bool {
    !regions
        .entry(code)
        .or_insert_with(|| region_checks(code))
        .is_empty()
}

impl PhoneNormaliser {
    /// A normaliser reading local numbers as `country`'s.
    #[must_use]
    pub fn new(country: CountryCode) -> Self {
        let country: Option<phonenumber::country::Id> = country.as_str().parse().ok();
        Self {
            country,
            home: country.and_then(Home::of),
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
        match self.plain(text) {
            Some(e164) => Ok(e164),
            None => self.library(text),
        }
    }

    /// Parsing by the crate, then our validity check.
    fn library(&mut self, text: &str) -> Result<String, Reason> {
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

    /// The fast path (see the module's documentation): `Some` only for a valid number
    /// written as digits, spaces, `-`, `.` and brackets, with or without a leading `+`.
    fn plain(&mut self, text: &str) -> Option<String> {
        let home = self.home.as_ref()?;
        let mut digits = String::with_capacity(text.len());
        let mut plus = false;
        for (i, b) in text.bytes().enumerate() {
            match b {
                b'0'..=b'9' => digits.push(char::from(b)),
                b'+' if i == 0 => plus = true,
                b' ' | b'-' | b'.' | b'(' | b')' => {}
                _ => return None,
            }
        }
        let (code, national) = if plus {
            if digits.starts_with('0') {
                return None;
            }
            // The first known country code of one to three digits.
            let (code, len) = (1..=3.min(digits.len())).find_map(|len| {
                let code: u16 = digits[..len].parse().ok()?;
                known_code(&mut self.regions, code).then_some((code, len))
            })?;
            let national = &digits[len..];
            // The parser applies the default country's prefixes here too.
            if home.strips(national) {
                return None;
            }
            (code, national)
        } else {
            if home
                .international_prefix
                .as_ref()
                .is_some_and(|p| p.is_match(&digits))
                || digits.starts_with(&home.code_text)
            {
                return None;
            }
            // The first prefix that fits is stripped once; one still there is left to
            // the parser.
            let national = home
                .parsing_prefixes
                .iter()
                .find_map(|p| digits.strip_prefix(p.as_str()))
                .unwrap_or(&digits);
            if home.strips(national) {
                return None;
            }
            (home.code, national)
        };
        self.is_valid(code, national)
            .then(|| format!("+{code}{national}"))
    }

    fn is_valid(&mut self, code: u16, national: &str) -> bool {
        let checks = self
            .regions
            .entry(code)
            .or_insert_with(|| region_checks(code));
        let len = u16::try_from(national.len()).unwrap_or(u16::MAX);
        // Several regions share a code (+1, +44, +7…): valid in any of them (whose leading
        // digits fit) is valid. Within a region: the general pattern matches, and some
        // number type allows the length and matches, all entirely (libphonenumber's
        // getNumberType).
        checks.iter().any(|c| {
            (c.possible_lengths.is_empty() || c.possible_lengths.contains(&len))
                && c.leading_digits
                    .as_ref()
                    .is_none_or(|l| l.is_match(national))
                && c.general.as_ref().is_some_and(|g| g.is_match(national))
                && c.types.iter().any(|(lengths, pattern)| {
                    (lengths.is_empty() || lengths.contains(&len)) && pattern.is_match(national)
                })
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
        // Fits an Austrian number type's pattern but not the region's general one.
        assert!(e164("GB", "+434351000").is_err());
        assert!(e164("GB", "").is_err());
    }

    #[test]
    fn the_fast_path_reads_common_forms() {
        let mut gb = PhoneNormaliser::new("GB".parse().unwrap());
        for text in [
            "+447911123456",
            "+44 7911 123456",
            "07911 123456",
            "07911-123-456",
        ] {
            assert_eq!(gb.plain(text).as_deref(), Some("+447911123456"), "{text}");
        }
        // Left to the crate: a national prefix after the code, letters, `00`.
        assert_eq!(gb.plain("+44 (0)7911 123456"), None);
        assert_eq!(gb.plain("0044 7911 123456"), None);
        let mut us = PhoneNormaliser::new("US".parse().unwrap());
        assert_eq!(us.plain("(415) 555-0123").as_deref(), Some("+14155550123"));
        assert_eq!(us.plain("011 44 7911 123456"), None);
    }

    /// Example numbers of the metadata (mobile and fixed line) for `country`.
    fn examples(country: &str) -> Vec<String> {
        let meta = DATABASE.by_id(country).unwrap();
        let d = meta.descriptors();
        [d.mobile(), d.fixed_line()]
            .into_iter()
            .flatten()
            .filter_map(|desc| desc.example().map(str::to_owned))
            .collect()
    }

    const COUNTRIES: &[&str] = &[
        "GB", "IE", "US", "CA", "DE", "FR", "IT", "ES", "NL", "AU", "NZ", "JP", "IN", "BR", "AR",
        "MX", "ZA", "NG", "KE", "RU", "CN", "SG", "AE", "CH", "SE",
    ];

    proptest::proptest! {
        /// Whatever the fast path answers, the crate's parser (with our validity check)
        /// answers the same for the same digits: the metadata's example numbers of many countries, read in
        /// many countries, with or without `+` and code, a national or international
        /// prefix, and punctuation; plus random digits.
        #[test]
        fn the_fast_path_agrees_with_the_parser(
            home in proptest::sample::select(COUNTRIES),
            of in proptest::sample::select(COUNTRIES),
            which in 0usize..2,
            random in "[1-9][0-9]{4,11}",
            form in 0usize..5,
            separators in proptest::collection::vec(proptest::sample::select(vec!["", " ", "-", ".", "(", ")"]), 13),
        ) {
            let examples = examples(of);
            let body = examples.get(which).cloned().unwrap_or(random);
            let code = DATABASE.by_id(of).unwrap().country_code();
            let national_prefix = DATABASE.by_id(of).unwrap().national_prefix().unwrap_or("").to_owned();
            let start = match form {
                0 => format!("+{code}"),
                1 => String::new(),
                2 => national_prefix,
                3 => format!("00{code}"),
                _ => format!("+{code}{national_prefix}"),
            };
            let mut text = start;
            for (i, c) in body.chars().enumerate() {
                text.push(c);
                text.push_str(separators[i % separators.len()]);
            }
            // Punctuation does not change a number; the crate's grammar refuses some
            // (`+447-911…` reads `447` as the code), the fast path does not.
            let bare: String = text.chars().filter(|c| *c == '+' || c.is_ascii_digit()).collect();
            let mut normaliser = PhoneNormaliser::new(home.parse().unwrap());
            let fast = normaliser.plain(&text);
            proptest::prop_assert_eq!(&fast, &normaliser.plain(&bare), "{} in {}", text, home);
            if let Some(fast) = fast {
                proptest::prop_assert_eq!(Ok(fast), normaliser.library(&bare), "{} in {}", text, home);
            }
        }
    }

    /// The generated cases above mostly take the fast path (so the comparison is not
    /// vacuous): every country's own examples, written `+code…` or nationally, do.
    #[test]
    fn examples_take_the_fast_path() {
        let mut fast = 0;
        let mut all = 0;
        for &country in COUNTRIES {
            let mut normaliser = PhoneNormaliser::new(country.parse().unwrap());
            let meta = DATABASE.by_id(country).unwrap();
            for example in examples(country) {
                for text in [
                    format!("+{}{example}", meta.country_code()),
                    format!("{}{example}", meta.national_prefix().unwrap_or("")),
                ] {
                    all += 1;
                    if let Some(e164) = normaliser.plain(&text) {
                        fast += 1;
                        assert_eq!(Ok(e164), normaliser.library(&text), "{text} in {country}");
                    }
                }
            }
        }
        assert!(fast * 4 >= all * 3, "{fast} of {all} took the fast path");
    }

    #[test]
    fn shared_codes_know_their_regions() {
        assert_eq!(e164("US", "+1 604 555 0199").as_deref(), Ok("+16045550199"));
    }
}
