//! Small validated values an organization carries. Each parse error names what was expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A value that failed validation: which one, and what it should look like.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what}: expected {expected}")]
pub struct ValueError {
    /// What was being read (`country`, `timezone`, …).
    pub what: &'static str,
    /// What a valid value looks like.
    pub expected: &'static str,
}

impl ValueError {
    pub(crate) const fn new(what: &'static str, expected: &'static str) -> Self {
        Self { what, expected }
    }
}

/// ISO 3166-1 alpha-2 codes (officially assigned), from the ISO 3166 Maintenance Agency list.
const ISO_3166_ALPHA2: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI \
FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT \
JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS \
RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA \
UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// An ISO 3166-1 alpha-2 country code, upper case (`GB`, `IE`, `US`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(into = "String")]
pub struct CountryCode([u8; 2]);

impl CountryCode {
    /// The United Kingdom, the default country of a new organization.
    pub const GB: CountryCode = CountryCode(*b"GB");

    /// The code as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Constructed only from two ASCII letters.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl FromStr for CountryCode {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let upper = s.trim().to_ascii_uppercase();
        let err = ValueError::new("country", "an ISO 3166-1 alpha-2 code such as GB, IE or US");
        if upper.len() != 2 || !ISO_3166_ALPHA2.split(' ').any(|c| c == upper) {
            return Err(err);
        }
        let b = upper.as_bytes();
        Ok(Self([b[0], b[1]]))
    }
}

impl From<CountryCode> for String {
    fn from(c: CountryCode) -> String {
        c.as_str().to_owned()
    }
}

/// An IANA time-zone name (`Europe/London`, `UTC`) that the zone database knows
/// (`Mars/Olympus` has the right shape and is refused).
#[derive(Clone, PartialEq, Eq, Hash, Serialize)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    /// The name as text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The calendar date at `now` in this zone (what a flow's `today` is for the
    /// organization: a conversation at 23:30 UTC on the 31st in Sydney is on the 1st).
    #[must_use]
    pub fn today(&self, now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
        self.local(now).date()
    }

    /// The wall-clock time at `at` in this zone (what a page shows as a message's time).
    #[must_use]
    pub fn local(&self, at: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
        match self.0.parse::<chrono_tz::Tz>() {
            Ok(zone) => at.with_timezone(&zone).naive_local(),
            // A name is checked when it is made; one that no longer parses reads as UTC.
            Err(_) => at.naive_utc(),
        }
    }

    /// The zone names to offer people choosing one: the zone database's regional names
    /// (`Europe/London`), then `UTC`; its old aliases (`US/Eastern`, `Etc/GMT+5`) are left
    /// out, though they are still accepted.
    pub fn offered() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS
            .iter()
            .map(|z| z.name())
            .filter(|n| {
                let region = n.split('/').next().unwrap_or_default();
                n.contains('/')
                    && matches!(
                        region,
                        "Africa"
                            | "America"
                            | "Antarctica"
                            | "Asia"
                            | "Atlantic"
                            | "Australia"
                            | "Europe"
                            | "Indian"
                            | "Pacific"
                    )
            })
            .chain(std::iter::once("UTC"))
    }

    /// The instant `date` begins in this zone (its first wall-clock minute that exists:
    /// where a clock change skips midnight, the first moment after the gap).
    #[must_use]
    pub fn start_of(&self, date: chrono::NaiveDate) -> chrono::DateTime<chrono::Utc> {
        self.instant(date.and_time(chrono::NaiveTime::MIN))
    }

    /// The instant the wall clock of this zone reads `local`: the earlier one where the
    /// clocks go back and it reads twice, the first minute after the gap where they go
    /// forward and it never reads so.
    #[must_use]
    pub fn instant(&self, local: chrono::NaiveDateTime) -> chrono::DateTime<chrono::Utc> {
        use chrono::TimeZone;
        let Ok(zone) = self.0.parse::<chrono_tz::Tz>() else {
            return local.and_utc();
        };
        (0..=24 * 60)
            .map(|m| local + chrono::Duration::minutes(m))
            .find_map(|at| zone.from_local_datetime(&at).earliest())
            .map_or_else(|| local.and_utc(), |at| at.with_timezone(&chrono::Utc))
    }
}

impl FromStr for TimeZoneName {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let err = ValueError::new(
            "timezone",
            "an IANA time-zone name such as Europe/London or UTC",
        );
        let part_ok = |p: &str| {
            !p.is_empty()
                && p.len() <= 30
                && p.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '+'))
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts.len() > 3
            || !parts.iter().all(|p| part_ok(p))
            || s.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(err);
        }
        Ok(Self(s.to_owned()))
    }
}

/// How an organization's files write dates: day first or month first (SPEC §1 `locale`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// `dd/mm/yyyy`.
    Dmy,
    /// `mm/dd/yyyy`.
    Mdy,
}

impl DateOrder {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            DateOrder::Dmy => "dmy",
            DateOrder::Mdy => "mdy",
        }
    }
}

impl FromStr for DateOrder {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "dmy" => Ok(DateOrder::Dmy),
            "mdy" => Ok(DateOrder::Mdy),
            _ => Err(ValueError::new("locale", "dmy or mdy")),
        }
    }
}

macro_rules! display_and_deserialize_via_from_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    )*};
}
display_and_deserialize_via_from_str!(CountryCode, TimeZoneName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_zones_are_regional_names_that_parse() {
        let offered: Vec<&str> = TimeZoneName::offered().collect();
        assert!(offered.contains(&"Europe/London") && offered.contains(&"UTC"));
        assert!(!offered.contains(&"US/Eastern") && !offered.iter().any(|z| z.starts_with("Etc/")));
        assert!(offered.len() > 300, "{}", offered.len());
        assert!(offered.iter().all(|z| z.parse::<TimeZoneName>().is_ok()));
    }

    #[test]
    fn a_day_starts_at_local_midnight_or_after_a_skipped_one() {
        let day = |d: &str| d.parse::<chrono::NaiveDate>().expect("date");
        let zone = |z: &str| z.parse::<TimeZoneName>().expect("zone");
        let utc = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .expect("time")
                .to_utc()
        };
        assert_eq!(
            zone("Europe/London").start_of(day("2026-07-01")),
            utc("2026-06-30T23:00:00Z")
        );
        assert_eq!(
            zone("Asia/Tokyo").start_of(day("2026-01-01")),
            utc("2025-12-31T15:00:00Z")
        );
        // London's clocks go back at 02:00 on 25 October 2026: 01:30 reads twice.
        let twice = "2026-10-25T01:30:00"
            .parse::<chrono::NaiveDateTime>()
            .expect("time");
        assert_eq!(
            zone("Europe/London").instant(twice),
            utc("2026-10-25T00:30:00Z")
        );
        // Brazil's clocks went from 00:00 to 01:00 on 4 November 2018.
        assert_eq!(
            zone("America/Sao_Paulo").start_of(day("2018-11-04")),
            utc("2018-11-04T03:00:00Z")
        );
    }

    #[test]
    fn today_is_the_date_in_the_zone() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-31T23:30:00Z")
            .unwrap()
            .to_utc();
        let day = |zone: &str| zone.parse::<TimeZoneName>().unwrap().today(now).to_string();
        assert_eq!(day("Australia/Sydney"), "2027-01-01");
        assert_eq!(day("Europe/London"), "2026-12-31");
        assert_eq!(day("America/New_York"), "2026-12-31");
    }

    #[test]
    fn countries_are_checked_against_the_iso_list() {
        assert_eq!(
            "ie".parse::<CountryCode>().map(|c| c.to_string()),
            Ok("IE".to_owned())
        );
        assert!("GB".parse::<CountryCode>().is_ok());
        assert!("UK".parse::<CountryCode>().is_err());
        assert!("GBR".parse::<CountryCode>().is_err());
        assert_eq!(ISO_3166_ALPHA2.split(' ').count(), 249);
    }

    #[test]
    fn timezones_are_shaped_like_iana_names() {
        for ok in [
            "UTC",
            "Europe/London",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
        ] {
            assert!(ok.parse::<TimeZoneName>().is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Europe/",
            "/London",
            "Europe London",
            "a/b/c/d",
            "Europe/../etc",
        ] {
            assert!(bad.parse::<TimeZoneName>().is_err(), "{bad}");
        }
    }
}
