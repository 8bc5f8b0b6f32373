//! The time zones a phone number may be in: libphonenumber's number-prefix map
//! (`data/timezones.txt`, see the crate's README), read once, and a longest-prefix lookup.
//! For a mobile number this is the zone of its area code, not where the phone is.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::LazyLock;

use chrono_tz::Tz;

/// The map as shipped.
const MAP: &str = include_str!("../data/timezones.txt");
/// The longest prefix in the map.
const LONGEST_PREFIX: usize = 9;

/// Prefix → zones. Names the time-zone database does not know are left out (none are,
/// in the shipped data: a test checks).
static TABLE: LazyLock<HashMap<&'static str, Vec<Tz>>> = LazyLock::new(|| {
    MAP.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| l.split_once('|'))
        .map(|(prefix, zones)| {
            let zones = zones
                .split('&')
                .filter_map(|z| Tz::from_str(z).ok())
                .collect();
            (prefix, zones)
        })
        .collect()
});

/// The candidate zones of an E.164 number (`+447911123456`, or its digits), by the
/// longest prefix of the map that the number starts with; empty when none matches or the
/// text is not a number.
#[must_use]
pub fn zones_of_number(number: &str) -> &'static [Tz] {
    lookup(number).map_or(&[], |(_, zones)| zones)
}

/// The longest prefix of the map that `number` starts with, and its zones.
#[must_use]
pub fn lookup(number: &str) -> Option<(&'static str, &'static [Tz])> {
    let digits = number.strip_prefix('+').unwrap_or(number);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    (1..=digits.len().min(LONGEST_PREFIX))
        .rev()
        .find_map(|n| TABLE.get_key_value(&digits[..n]))
        .map(|(prefix, zones)| (*prefix, zones.as_slice()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn names(number: &str) -> Vec<&'static str> {
        zones_of_number(number).iter().map(|z| z.name()).collect()
    }

    #[test]
    fn every_zone_of_the_map_is_known_to_the_time_zone_database() {
        for line in MAP.lines().filter(|l| !l.starts_with('#')) {
            let (prefix, zones) = line.split_once('|').expect("prefix|zones");
            assert!(prefix.bytes().all(|b| b.is_ascii_digit()) && prefix.len() <= LONGEST_PREFIX);
            for zone in zones.split('&') {
                assert!(Tz::from_str(zone).is_ok(), "{prefix}: {zone}");
            }
        }
        assert_eq!(TABLE.len(), 3240);
    }

    /// The reference's local check against `phonenumbers` 9.0.43 (`reference/channels.md`
    /// §7.6), and the cities of the campaign window tests. (For a UK mobile number
    /// libphonenumber's own API answers the country's four zones; the map's longest
    /// prefix, `4479`, names three.)
    #[test]
    fn the_longest_prefix_wins() {
        assert_eq!(names("+12082011234"), ["America/Denver"]);
        assert_eq!(names("+12125551234"), ["America/New_York"]);
        assert_eq!(
            names("+447911123456"),
            ["Europe/Guernsey", "Europe/Isle_of_Man", "Europe/London"]
        );
        assert_eq!(zones_of_number("+18005551234").len(), 42);
        assert_eq!(names("+13105551234"), ["America/Los_Angeles"]);
        assert_eq!(
            names("+13100001234").len(),
            42,
            "a prefix the map does not split"
        );
        assert_eq!(names("+12135551234"), ["America/Los_Angeles"]);
        assert_eq!(names("+61291234567"), ["Australia/Sydney"]);
        assert_eq!(names("12125551234"), ["America/New_York"], "digits alone");
        assert_eq!(names("+201001234567"), ["Africa/Cairo"]);
        for nothing in ["", "+", "+44 7911", "visitor:abc"] {
            assert!(zones_of_number(nothing).is_empty(), "{nothing}");
        }
    }

    proptest! {
        #[test]
        fn any_text_gets_zones_or_none_without_panic(text in ".{0,24}") {
            let _ = zones_of_number(&text);
        }

        #[test]
        fn a_longer_number_keeps_a_prefix_match(digits in "[1-9][0-9]{0,14}", more in "[0-9]{0,4}") {
            // Appending digits can only make the match more specific, never lose it.
            let short = zones_of_number(&digits);
            let long = zones_of_number(&format!("{digits}{more}"));
            prop_assert!(short.is_empty() || !long.is_empty());
        }
    }
}
