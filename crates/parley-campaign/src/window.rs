//! A campaign's send window, in each contact's local time (SPEC §6,
//! `reference/channels.md` §7.5).
//!
//! * A window is a set of weekdays and a span of the day, `opens` inclusive to `closes`
//!   exclusive, both on the same day (default: every day, 08:00 to 21:00).
//! * A contact is held to a set of zones; the window is open for them at an instant when
//!   it is open in **every** one of those zones (the conservative reading when a number
//!   may be in several).
//! * The zones (`zones_for`): the contact's own `timezone` field when it names a zone;
//!   else the zones of its number's prefix when they say where the person is; else the
//!   organization's zone (`reference/channels.md` §7.5). A number's zones do not say where
//!   the person is when their UTC offsets spread over more than [`MAX_SPREAD`] (a
//!   toll-free +1 800 number matches only `1`: 42 zones from Guam to Pago Pago, which
//!   would leave a slot of two or three hours a day that no one chose), or when they
//!   never meet inside the window. It never "fails open": every path ends in a zone.
//! * When the window next opens is found exactly, not by stepping: the earliest instant at
//!   which every zone is inside is always the opening instant of one of them, so only
//!   those are tried. A local opening time skipped by a daylight-saving change opens at
//!   the first local time after the gap.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use chrono::{
    DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc,
    Weekday,
};
use chrono_tz::Tz;

use crate::zones::zones_of_number;

/// Why a window cannot be made; `field` names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct WindowError {
    /// `days`, `opens` or `closes`.
    pub field: &'static str,
    /// Why.
    pub reason: String,
}

/// When a campaign may send, in the contact's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    /// Bit 0 is Monday … bit 6 Sunday.
    days: u8,
    /// Minutes after midnight, inclusive.
    opens: u16,
    /// Minutes after midnight, exclusive.
    closes: u16,
}

impl Default for SendWindow {
    /// Every day, 08:00 to 21:00.
    fn default() -> Self {
        Self {
            days: 0x7f,
            opens: 8 * 60,
            closes: 21 * 60,
        }
    }
}

fn minutes(field: &'static str, text: &str) -> Result<u16, WindowError> {
    let bad = || WindowError {
        field,
        reason: format!("{text:?} is not a time of day such as 08:00"),
    };
    let time = NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| bad())?;
    u16::try_from(time.hour() * 60 + time.minute()).map_err(|_| bad())
}

fn weekday(text: &str) -> Option<Weekday> {
    Weekday::from_str(text).ok()
}

impl SendWindow {
    /// A window from its API form: weekday names (`mon` … `sun`, or full names; at least
    /// one) and `HH:MM` times with `opens` before `closes` (`closes` may be `24:00`).
    pub fn parse(days: &[&str], opens: &str, closes: &str) -> Result<Self, WindowError> {
        Self::check(days, opens, closes).map_err(|mut errors| errors.swap_remove(0))
    }

    /// As [`SendWindow::parse`], with every problem at once (days, opens, closes, then
    /// their order when both times are readable); never an empty list.
    pub fn check(days: &[&str], opens: &str, closes: &str) -> Result<Self, Vec<WindowError>> {
        let mut errors = Vec::new();
        if days.is_empty() {
            errors.push(WindowError {
                field: "days",
                reason: "must name at least one day".to_owned(),
            });
        }
        let mut set = 0u8;
        let unknown: Vec<String> = days
            .iter()
            .filter_map(|day| match weekday(day) {
                Some(d) => {
                    set |= 1 << d.num_days_from_monday();
                    None
                }
                None => Some(format!("{day:?}")),
            })
            .collect();
        if !unknown.is_empty() {
            errors.push(WindowError {
                field: "days",
                reason: format!("{} is not a day such as mon or monday", unknown.join(", ")),
            });
        }
        let opens = minutes("opens", opens).map_err(|e| errors.push(e)).ok();
        let closes = if closes == "24:00" {
            Some(24 * 60)
        } else {
            minutes("closes", closes).map_err(|e| errors.push(e)).ok()
        };
        if let (Some(o), Some(c)) = (opens, closes)
            && o >= c
        {
            errors.push(WindowError {
                field: "closes",
                reason: "must be later in the day than opens".to_owned(),
            });
        }
        match (opens, closes) {
            (Some(opens), Some(closes)) if errors.is_empty() => Ok(Self {
                days: set,
                opens,
                closes,
            }),
            _ => Err(errors),
        }
    }

    /// Whether a local time is inside the window.
    #[must_use]
    pub fn allows(&self, local: NaiveDateTime) -> bool {
        let day = 1u8 << local.weekday().num_days_from_monday();
        let minute = u16::try_from(local.hour() * 60 + local.minute()).unwrap_or(u16::MAX);
        self.days & day != 0 && (self.opens..self.closes).contains(&minute)
    }

    /// The instant the window opens on local `date` in `zone`, when it opens that day.
    fn opening(&self, zone: Tz, date: NaiveDate) -> Option<DateTime<Utc>> {
        if self.days & (1 << date.weekday().num_days_from_monday()) == 0 {
            return None;
        }
        let mut local = date.and_hms_opt(0, 0, 0)? + Duration::minutes(i64::from(self.opens));
        // A local time skipped by a daylight-saving change: the first one after the gap
        // (gaps begin and end on whole minutes and last at most a few hours).
        for _ in 0..=(4 * 60) {
            if let Some(at) = zone.from_local_datetime(&local).earliest() {
                return Some(at.with_timezone(&Utc));
            }
            local += Duration::minutes(1);
        }
        None
    }
}

/// The zones a contact is held to: never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Zones(Vec<Tz>);

/// Where a contact's zones came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneSource {
    /// Its `timezone` field.
    Contact,
    /// Its number's prefix.
    Number,
    /// The organization's zone.
    Organization,
}

impl Zones {
    /// The zones themselves.
    #[must_use]
    pub fn as_slice(&self) -> &[Tz] {
        &self.0
    }

    /// Whether the window is open in every zone at `at`.
    #[must_use]
    pub fn open_at(&self, window: &SendWindow, at: DateTime<Utc>) -> bool {
        self.0
            .iter()
            .all(|z| window.allows(at.with_timezone(z).naive_local()))
    }

    /// The first instant from `from` (inclusive) to `until` (exclusive) at which the
    /// window is open in every zone; `None` when there is none.
    #[must_use]
    pub fn next_opening(
        &self,
        window: &SendWindow,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        if from >= until {
            return None;
        }
        if self.open_at(window, from) {
            return Some(from);
        }
        let mut candidates: Vec<DateTime<Utc>> = Vec::new();
        for zone in &self.0 {
            let first = from.with_timezone(zone).date_naive();
            let last = until.with_timezone(zone).date_naive();
            let mut date = first;
            while date <= last {
                if let Some(at) = window.opening(*zone, date)
                    && at > from
                    && at < until
                {
                    candidates.push(at);
                }
                date = date.succ_opt()?;
            }
        }
        candidates.sort_unstable();
        candidates.dedup();
        candidates.into_iter().find(|at| self.open_at(window, *at))
    }
}

/// The widest spread of UTC offsets a number's zones may have and still be taken as
/// where the person is (the Eastern to Pacific span of the contiguous United States).
pub const MAX_SPREAD: Duration = Duration::hours(3);

/// How far apart `zones`' UTC offsets are at `at`: the shortest arc of the day's circle
/// that holds them all (+10 and -11 are three hours apart, across the date line).
fn spread(zones: &[Tz], at: DateTime<Utc>) -> Duration {
    use chrono::Offset;
    const DAY: i32 = 24 * 3_600;
    let mut offsets: Vec<i32> = zones
        .iter()
        .map(|z| {
            at.with_timezone(z)
                .offset()
                .fix()
                .local_minus_utc()
                .rem_euclid(DAY)
        })
        .collect();
    offsets.sort_unstable();
    offsets.dedup();
    let widest_gap = offsets
        .windows(2)
        .map(|w| w[1] - w[0])
        .chain(
            offsets
                .first()
                .zip(offsets.last())
                .map(|(f, l)| f + DAY - l),
        )
        .max()
        .unwrap_or(DAY);
    Duration::seconds(i64::from(DAY - widest_gap))
}

/// How far ahead a number's zones are tried for a common opening before they are judged
/// never to be open together (a week and a day: every weekday, whatever the zones).
const EVER: Duration = Duration::days(8);

/// The zones a contact is held to, and where they came from (see the module's
/// documentation). `at` is when sending starts: the number's zones must share an opening
/// in the 8 days from then. An organization zone the database does not know counts as UTC.
///
/// The number rule costs a search over its zones; callers handling many contacts keep
/// the answer per prefix.
#[must_use]
pub fn zones_for(
    window: &SendWindow,
    contact_timezone: Option<&str>,
    number: Option<&str>,
    organization_timezone: &str,
    at: DateTime<Utc>,
) -> (Zones, ZoneSource) {
    if let Some(zone) = contact_timezone.and_then(|t| Tz::from_str(t.trim()).ok()) {
        return (Zones(vec![zone]), ZoneSource::Contact);
    }
    if let Some(number) = number {
        let found = zones_of_number(number);
        if !found.is_empty() && spread(found, at) <= MAX_SPREAD {
            let zones = Zones(found.to_vec());
            if zones.next_opening(window, at, at + EVER).is_some() {
                return (zones, ZoneSource::Number);
            }
        }
    }
    let zone = Tz::from_str(organization_timezone).unwrap_or(Tz::UTC);
    (Zones(vec![zone]), ZoneSource::Organization)
}

/// [`zones_for`] for many contacts of one campaign: the answer depends only on the
/// contact's `timezone` field or on the prefix its number matched, so it is worked out
/// once per zone name and once per prefix (a few thousand prefixes in all) and shared.
#[derive(Debug)]
pub struct ZoneBook {
    window: SendWindow,
    organization: String,
    at: DateTime<Utc>,
    by_zone: HashMap<String, Arc<Zones>>,
    by_prefix: HashMap<&'static str, (Arc<Zones>, ZoneSource)>,
    fallback: Arc<Zones>,
}

impl ZoneBook {
    /// A book for a campaign with `window`, in an organization of `organization_timezone`,
    /// sending from `at`.
    #[must_use]
    pub fn new(window: SendWindow, organization_timezone: &str, at: DateTime<Utc>) -> Self {
        let (fallback, _) = zones_for(&window, None, None, organization_timezone, at);
        Self {
            window,
            organization: organization_timezone.to_owned(),
            at,
            by_zone: HashMap::new(),
            by_prefix: HashMap::new(),
            fallback: Arc::new(fallback),
        }
    }

    /// The zones a contact is held to, as [`zones_for`] decides.
    pub fn zones(
        &mut self,
        contact_timezone: Option<&str>,
        number: Option<&str>,
    ) -> (Arc<Zones>, ZoneSource) {
        if let Some(name) = contact_timezone.map(str::trim).filter(|n| !n.is_empty()) {
            if let Some(zones) = self.by_zone.get(name) {
                return (zones.clone(), ZoneSource::Contact);
            }
            if let Ok(zone) = Tz::from_str(name) {
                let zones = Arc::new(Zones(vec![zone]));
                self.by_zone.insert(name.to_owned(), zones.clone());
                return (zones, ZoneSource::Contact);
            }
        }
        let Some((prefix, _)) = number.and_then(crate::zones::lookup) else {
            return (self.fallback.clone(), ZoneSource::Organization);
        };
        let (window, organization, at) = (&self.window, &self.organization, self.at);
        let (zones, source) = self.by_prefix.entry(prefix).or_insert_with(|| {
            let (zones, source) = zones_for(window, None, Some(prefix), organization, at);
            (Arc::new(zones), source)
        });
        (zones.clone(), *source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("an RFC 3339 time")
            .with_timezone(&Utc)
    }

    fn zones(names: &[&str]) -> Zones {
        Zones(
            names
                .iter()
                .map(|n| Tz::from_str(n).expect("a zone"))
                .collect(),
        )
    }

    #[test]
    fn windows_are_read_with_each_bad_field_named() {
        assert_eq!(
            SendWindow::parse(
                &["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                "08:00",
                "21:00"
            ),
            Ok(SendWindow::default())
        );
        let weekdays = SendWindow::parse(&["Monday", "fri"], "09:30", "24:00").expect("window");
        assert!(
            weekdays.allows(
                NaiveDate::from_ymd_opt(2026, 12, 7)
                    .unwrap()
                    .and_hms_opt(23, 59, 0)
                    .unwrap()
            )
        );
        assert!(
            !weekdays.allows(
                NaiveDate::from_ymd_opt(2026, 12, 8)
                    .unwrap()
                    .and_hms_opt(12, 0, 0)
                    .unwrap()
            ),
            "a Tuesday"
        );
        assert!(
            !weekdays.allows(
                NaiveDate::from_ymd_opt(2026, 12, 7)
                    .unwrap()
                    .and_hms_opt(9, 29, 0)
                    .unwrap()
            )
        );
        let field = |r: Result<SendWindow, WindowError>| r.unwrap_err().field;
        let all = SendWindow::check(&["someday"], "25:00", "8pm").unwrap_err();
        let fields: Vec<&str> = all.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["days", "opens", "closes"]);
        assert_eq!(field(SendWindow::parse(&[], "08:00", "21:00")), "days");
        assert_eq!(
            field(SendWindow::parse(&["someday"], "08:00", "21:00")),
            "days"
        );
        assert_eq!(field(SendWindow::parse(&["mon"], "8am", "21:00")), "opens");
        assert_eq!(
            field(SendWindow::parse(&["mon"], "08:00", "25:00")),
            "closes"
        );
        assert_eq!(
            field(SendWindow::parse(&["mon"], "21:00", "08:00")),
            "closes"
        );
    }

    #[test]
    fn the_window_is_open_only_when_every_zone_is_inside() {
        let w = SendWindow::default();
        let london_and_ny = zones(&["Europe/London", "America/New_York"]);
        // 12:00 UTC in December: London 12:00, New York 07:00 (closed).
        assert!(!london_and_ny.open_at(&w, utc("2026-12-07T12:00:00Z")));
        // 13:00 UTC: New York 08:00, London 13:00.
        assert!(london_and_ny.open_at(&w, utc("2026-12-07T13:00:00Z")));
        // 21:00 UTC: London closes (21:00 exclusive).
        assert!(!london_and_ny.open_at(&w, utc("2026-12-07T21:00:00Z")));
        assert_eq!(
            london_and_ny.next_opening(
                &w,
                utc("2026-12-07T21:00:00Z"),
                utc("2026-12-20T00:00:00Z")
            ),
            Some(utc("2026-12-08T13:00:00Z"))
        );
        assert_eq!(
            london_and_ny.next_opening(
                &w,
                utc("2026-12-07T12:00:00Z"),
                utc("2026-12-07T12:30:00Z")
            ),
            None,
            "nothing opens before `until`"
        );
    }

    #[test]
    fn a_local_opening_skipped_by_daylight_saving_opens_after_the_gap() {
        // New York springs forward at 02:00 on 2026-03-08; a window opening at 02:30 that
        // day opens at 03:00 local (07:00 UTC).
        let w = SendWindow::parse(&["sun"], "02:30", "05:00").expect("window");
        let ny = zones(&["America/New_York"]);
        assert_eq!(
            ny.next_opening(&w, utc("2026-03-07T12:00:00Z"), utc("2026-03-09T00:00:00Z")),
            Some(utc("2026-03-08T07:00:00Z"))
        );
        // A window of 02:01 to 03:01 that day is open from the gap's end, 03:00 local,
        // for one minute (found by the property test below).
        let narrow = SendWindow::parse(&["sun"], "02:01", "03:01").expect("window");
        assert_eq!(
            ny.next_opening(
                &narrow,
                utc("2026-03-06T07:01:00Z"),
                utc("2026-03-09T00:00:00Z")
            ),
            Some(utc("2026-03-08T07:00:00Z"))
        );
    }

    #[test]
    fn a_contact_is_held_to_its_own_zone_else_its_numbers_else_the_organizations() {
        let w = SendWindow::default();
        let at = utc("2026-12-07T00:00:00Z");
        let (z, source) = zones_for(
            &w,
            Some("Asia/Tokyo"),
            Some("+12125551234"),
            "Europe/Dublin",
            at,
        );
        assert_eq!(
            (z.as_slice(), source),
            (&[chrono_tz::Asia::Tokyo][..], ZoneSource::Contact)
        );
        let (z, source) = zones_for(
            &w,
            Some("Mars/Olympus"),
            Some("+12125551234"),
            "Europe/Dublin",
            at,
        );
        assert_eq!(
            (z.as_slice(), source),
            (&[chrono_tz::America::New_York][..], ZoneSource::Number)
        );
        // +1 800: only the entry of all North America, 42 zones spread over ten hours.
        let (z, source) = zones_for(&w, None, Some("+18005551234"), "Europe/Dublin", at);
        assert_eq!(
            (z.as_slice(), source),
            (&[chrono_tz::Europe::Dublin][..], ZoneSource::Organization)
        );
        let (z, source) = zones_for(&w, None, None, "Nowhere/Special", at);
        assert_eq!(
            (z.as_slice(), source),
            (&[Tz::UTC][..], ZoneSource::Organization)
        );
        // A UK mobile: three zones of one offset, which meet every day.
        let (z, source) = zones_for(&w, None, Some("+447911123456"), "UTC", at);
        assert_eq!((z.as_slice().len(), source), (3, ZoneSource::Number));
        // Anchorage and Adak (an hour apart) share the window for most of the day.
        let (z, source) = zones_for(&w, None, Some("+19075551234"), "UTC", at);
        assert_eq!((z.as_slice().len(), source), (2, ZoneSource::Number));
        // Zones that never meet: a window of one hour and two zones an hour apart.
        let narrow = SendWindow::parse(&["mon"], "08:00", "09:00").expect("window");
        let (z, source) = zones_for(&narrow, None, Some("+19075551234"), "UTC", at);
        assert_eq!(
            (z.as_slice(), source),
            (&[Tz::UTC][..], ZoneSource::Organization)
        );
    }

    const SOME_ZONES: &[&str] = &[
        "Europe/London",
        "America/New_York",
        "America/Los_Angeles",
        "Australia/Sydney",
        "Asia/Kolkata",
        "Pacific/Chatham",
        "America/St_Johns",
        "Pacific/Honolulu",
        "Asia/Tokyo",
    ];

    /// A three-day campaign to London, New York, Los Angeles and Sydney, a send tried
    /// every seven minutes of it: each contact is sent to at its next opening, which is
    /// always between 08:00 and 21:00 where they are; a contact whose window does not open
    /// before the campaign ends is not sent to (`window_expired`).
    #[test]
    fn a_three_day_campaign_sends_only_inside_each_contacts_hours() {
        let w = SendWindow::default();
        let start = utc("2026-12-07T00:00:00Z");
        let end = start + Duration::days(3);
        let contacts = [
            ("+442071234567", "Europe/London"),
            ("+12125551234", "America/New_York"),
            ("+12135551234", "America/Los_Angeles"),
            ("+61291234567", "Australia/Sydney"),
        ];
        for (number, zone) in contacts {
            let (z, source) = zones_for(&w, None, Some(number), "UTC", start);
            assert_eq!(source, ZoneSource::Number, "{number}");
            let tz = Tz::from_str(zone).expect("zone");
            let mut tried = start;
            let mut sent = 0;
            while tried < end {
                if let Some(at) = z.next_opening(&w, tried, end) {
                    let local = at.with_timezone(&tz).time();
                    assert!(
                        local >= NaiveTime::from_hms_opt(8, 0, 0).unwrap()
                            && local < NaiveTime::from_hms_opt(21, 0, 0).unwrap(),
                        "{number} sent at {at} ({local} local)"
                    );
                    sent += 1;
                }
                tried += Duration::minutes(7);
            }
            assert!(sent > 0, "{number} was never sent to");
        }
        // A campaign that ends before a contact's window opens never sends to them.
        let (sydney, _) = zones_for(&w, None, Some("+61291234567"), "UTC", start);
        // 11:00 UTC is 22:00 in Sydney; the campaign ends at 20:00 UTC (07:00 there).
        assert_eq!(
            sydney.next_opening(&w, utc("2026-12-07T11:00:00Z"), utc("2026-12-07T20:00:00Z")),
            None
        );
    }

    #[test]
    fn the_book_answers_as_zones_for_does() {
        let w = SendWindow::default();
        let at = utc("2026-12-07T00:00:00Z");
        let mut book = ZoneBook::new(w, "Europe/Dublin", at);
        let cases: [(Option<&str>, Option<&str>); 8] = [
            (None, Some("+12125551234")),
            (None, Some("+12125559999")),
            (None, Some("+18005551234")),
            (None, Some("+447911123456")),
            (Some("Asia/Tokyo"), Some("+12125551234")),
            (Some("Nowhere/Special"), Some("+61291234567")),
            (None, None),
            (None, Some("not a number")),
        ];
        for (tz, number) in cases {
            let (zones, source) = book.zones(tz, number);
            let (expected, expected_source) = zones_for(&w, tz, number, "Europe/Dublin", at);
            assert_eq!(
                (zones.as_ref(), source),
                (&expected, expected_source),
                "{tz:?} {number:?}"
            );
        }
        assert_eq!(book.by_prefix.len(), 4, "one entry per prefix met");
    }

    #[test]
    fn spreads_are_measured_around_the_day() {
        let at = utc("2026-12-07T00:00:00Z");
        let z = |names: &[&str]| zones(names).0;
        assert_eq!(spread(&z(&["Europe/London"]), at), Duration::zero());
        assert_eq!(
            spread(&z(&["America/New_York", "America/Los_Angeles"]), at),
            Duration::hours(3)
        );
        assert_eq!(
            spread(&z(&["Pacific/Guam", "Pacific/Pago_Pago"]), at),
            Duration::hours(3)
        );
        assert_eq!(
            spread(
                &z(&["Pacific/Guam", "Pacific/Pago_Pago", "America/St_Johns"]),
                at
            ),
            Duration::minutes(10 * 60 + 30)
        );
    }

    proptest! {
        /// `next_opening` agrees with a minute-by-minute search over two days: it finds
        /// an open instant, and no earlier minute is open.
        #[test]
        fn the_next_opening_is_the_first_open_minute(
            picks in proptest::collection::vec(0..SOME_ZONES.len(), 1..4),
            start in 0i64..(365 * 24 * 60),
            days in 1u8..0x7f,
            opens in 0u16..(20 * 60),
            length in 30u16..(10 * 60),
        ) {
            let names: Vec<&str> = picks.iter().map(|i| SOME_ZONES[*i]).collect();
            let z = zones(&names);
            let w = SendWindow { days, opens, closes: (opens + length).min(24 * 60) };
            let from = utc("2026-01-01T00:00:00Z") + Duration::minutes(start);
            let until = from + Duration::days(2);
            let found = z.next_opening(&w, from, until);
            let mut brute = None;
            let mut at = from;
            while at < until {
                if z.open_at(&w, at) {
                    brute = Some(at);
                    break;
                }
                // Openings fall on whole minutes of the zones' offsets (some are :45).
                at += Duration::minutes(1);
            }
            match (found, brute) {
                (Some(f), Some(b)) => {
                    prop_assert!(z.open_at(&w, f));
                    prop_assert!(f <= b, "found {f}, but {b} is open");
                    prop_assert!(b - f < Duration::minutes(1), "found {f}, first open minute {b}");
                }
                (None, None) => {}
                other => prop_assert!(false, "next_opening {:?} but brute force {:?}", other.0, other.1),
            }
        }
    }
}
