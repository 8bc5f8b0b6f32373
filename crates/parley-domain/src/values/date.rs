//! Dates and date-times written as text: ISO 8601, `dd/mm/yyyy` or `mm/dd/yyyy` by the
//! organization's date order (with `/`, `-` or `.`), compact `yyyymmdd`, month names
//! (`31 Jan 2026`, `Jan 31, 2026`), and Excel serial numbers (the 1900 system, including its
//! phantom 29 February 1900). Shared by the importer and the flow language, so a date reads
//! the same in a contact file and in a customer's reply.
//!
//! Decisions: a two-digit year is refused (`01/02/26` could be 1926 or 2026 for a date of
//! birth); years outside 1800–2200 are refused as typos. A date-time without an offset is
//! read as UTC (a file states local times with an offset, `2026-12-07T09:00+13:00`); one
//! with an offset is converted to UTC. Dates carry no zone: a date of birth or a due date
//! is the same day everywhere.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::Reason;
use crate::DateOrder;

const YEARS: std::ops::RangeInclusive<i32> = 1800..=2200;
/// Excel's largest serial date (9999-12-31).
const MAX_SERIAL: f64 = 2_958_465.0;

/// The date of an Excel serial number in the 1900 date system.
#[must_use]
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..=MAX_SERIAL).contains(&serial) {
        return None;
    }
    #[allow(clippy::cast_possible_truncation)]
    let days = serial.floor() as i64;
    // Serial 60 is 1900-02-29, which never existed; Excel kept Lotus 1-2-3's mistake.
    // From 61 on, counting from 1899-12-30 is right; before it, from 1899-12-31.
    if days == 60 {
        return None;
    }
    let epoch = if days > 60 {
        NaiveDate::from_ymd_opt(1899, 12, 30)?
    } else {
        NaiveDate::from_ymd_opt(1899, 12, 31)?
    };
    epoch.checked_add_signed(chrono::TimeDelta::try_days(days)?)
}

/// The date itself when its year is plausible (1800–2200), else why not.
pub fn check_year(d: NaiveDate) -> Result<NaiveDate, Reason> {
    if YEARS.contains(&d.year()) {
        Ok(d)
    } else {
        Err(format!("year {} is out of range (1800–2200)", d.year()).into())
    }
}

/// A date written as text. A time of day other than midnight is refused: a date holds
/// dates only.
pub fn parse_date(text: &str, order: DateOrder) -> Result<NaiveDate, Reason> {
    let text = text.trim();
    let (date, time) = split_time(text);
    if let Some(time) = time
        && time != NaiveTime::MIN
    {
        return Err("has a time of day; a date field holds dates only".into());
    }
    parse_date_text(date, order).and_then(check_year)
}

/// A date-time written as text: RFC 3339, or a date with an optional `HH:MM[:SS]`.
pub fn parse_datetime(text: &str, order: DateOrder) -> Result<DateTime<Utc>, Reason> {
    let text = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        let utc = dt.with_timezone(&Utc);
        check_year(utc.date_naive())?;
        return Ok(utc);
    }
    let (date, time) = split_time(text);
    let date = check_year(parse_date_text(date, order)?)?;
    Ok(NaiveDateTime::new(date, time.unwrap_or(NaiveTime::MIN)).and_utc())
}

/// Splits `date[ T]time` into the date text and a parsed time (`HH:MM[:SS[.fff]]`).
fn split_time(text: &str) -> (&str, Option<NaiveTime>) {
    let cut = text
        .find('T')
        .filter(|&i| i == 10 && text.as_bytes().get(4) == Some(&b'-'))
        .or_else(|| text.find(' ').filter(|&i| text[i..].contains(':')));
    match cut {
        Some(i) => {
            let time_text = text[i + 1..].trim();
            let time = NaiveTime::parse_from_str(time_text, "%H:%M:%S%.f")
                .or_else(|_| NaiveTime::parse_from_str(time_text, "%H:%M"))
                .ok();
            match time {
                Some(t) => (text[..i].trim(), Some(t)),
                None => (text, None),
            }
        }
        None => (text, None),
    }
}

fn parse_date_text(text: &str, order: DateOrder) -> Result<NaiveDate, Reason> {
    let text = text.trim();
    if text.is_empty() {
        return Err("not a date".into());
    }
    if text.chars().any(|c| c.is_ascii_alphabetic()) {
        return parse_named_month(text);
    }
    if text.chars().all(|c| c.is_ascii_digit()) {
        return match text.len() {
            8 => NaiveDate::parse_from_str(text, "%Y%m%d")
                .map_err(|_| "not a date (8 digits are read as yyyymmdd)".into()),
            1..=7 => text
                .parse::<f64>()
                .ok()
                .and_then(excel_serial_to_date)
                .ok_or_else(|| "not a date (digits alone are read as an Excel serial)".into()),
            _ => Err("not a date".into()),
        };
    }
    let parts: Vec<&str> = text.split(['/', '-', '.']).map(str::trim).collect();
    let [a, b, c] = parts[..] else {
        return Err("not a date (expected three parts: day, month, year)".into());
    };
    let numbers = [a, b, c].map(|p| {
        if !p.is_empty() && p.len() <= 4 && p.chars().all(|ch| ch.is_ascii_digit()) {
            p.parse::<u32>().ok()
        } else {
            None
        }
    });
    let [Some(x), Some(y), Some(z)] = numbers else {
        return Err("not a date".into());
    };
    let (year, month, day) = if a.len() == 4 {
        (x, y, z)
    } else if c.len() == 4 {
        match order {
            DateOrder::Dmy => (z, y, x),
            DateOrder::Mdy => (z, x, y),
        }
    } else if c.len() == 2 || a.len() == 2 {
        return Err("two-digit year is ambiguous; write the year in full".into());
    } else {
        return Err("not a date".into());
    };
    if !(1..=12).contains(&month) {
        let hint = match (a.len() == 4, order) {
            (true, _) => "",
            (false, DateOrder::Dmy) => " (dates are read day first for this organization)",
            (false, DateOrder::Mdy) => " (dates are read month first for this organization)",
        };
        return Err(format!("month {month} is out of range{hint}").into());
    }
    let year = i32::try_from(year).map_err(|_| -> Reason { "not a date".into() })?;
    NaiveDate::from_ymd_opt(year, month, day)
        .ok_or_else(|| format!("day {day} does not exist in {year}-{month:02}").into())
}

fn parse_named_month(text: &str) -> Result<NaiveDate, Reason> {
    let cleaned = text.replace(',', " ");
    let cleaned = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    for format in [
        "%d %b %Y",
        "%d %B %Y",
        "%b %d %Y",
        "%B %d %Y",
        "%d-%b-%Y",
        "%a %d %b %Y",
    ] {
        if let Ok(d) = NaiveDate::parse_from_str(&cleaned, format) {
            return Ok(d);
        }
    }
    Err("not a date".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str, order: DateOrder) -> Result<String, Reason> {
        parse_date(text, order).map(|d| d.to_string())
    }

    #[test]
    fn date_orders_and_formats() {
        use DateOrder::{Dmy, Mdy};
        for (text, order, expected) in [
            ("2026-01-31", Dmy, "2026-01-31"),
            ("31/01/2026", Dmy, "2026-01-31"),
            ("01/31/2026", Mdy, "2026-01-31"),
            ("05/12/2026", Dmy, "2026-12-05"),
            ("05/12/2026", Mdy, "2026-05-12"),
            ("5.12.2026", Dmy, "2026-12-05"),
            ("20260131", Mdy, "2026-01-31"),
            ("45688", Dmy, "2025-01-31"),
            ("31 Jan 2026", Dmy, "2026-01-31"),
            ("January 31, 2026", Mdy, "2026-01-31"),
            ("2026-01-31 00:00:00", Dmy, "2026-01-31"),
            ("2026-01-31T00:00", Dmy, "2026-01-31"),
        ] {
            assert_eq!(date(text, order).as_deref(), Ok(expected), "{text}");
        }
    }

    #[test]
    fn refusals_say_why() {
        assert!(
            date("13/31/2026", DateOrder::Dmy)
                .unwrap_err()
                .contains("day first")
        );
        assert!(
            date("31/01/26", DateOrder::Dmy)
                .unwrap_err()
                .contains("two-digit")
        );
        assert!(
            date("30/02/2026", DateOrder::Dmy)
                .unwrap_err()
                .contains("does not exist")
        );
        assert!(
            date("2026-01-31 14:30", DateOrder::Dmy)
                .unwrap_err()
                .contains("time of day")
        );
        assert!(
            date("01/01/1700", DateOrder::Dmy)
                .unwrap_err()
                .contains("out of range")
        );
        assert!(date("soon", DateOrder::Dmy).is_err());
    }

    #[test]
    fn excel_serials() {
        assert_eq!(
            excel_serial_to_date(1.0),
            NaiveDate::from_ymd_opt(1900, 1, 1)
        );
        assert_eq!(
            excel_serial_to_date(59.0),
            NaiveDate::from_ymd_opt(1900, 2, 28)
        );
        assert_eq!(excel_serial_to_date(60.0), None);
        assert_eq!(
            excel_serial_to_date(61.0),
            NaiveDate::from_ymd_opt(1900, 3, 1)
        );
        assert_eq!(
            excel_serial_to_date(45_292.0),
            NaiveDate::from_ymd_opt(2024, 1, 1)
        );
        assert_eq!(excel_serial_to_date(0.0), None);
        assert_eq!(excel_serial_to_date(f64::INFINITY), None);
    }

    #[test]
    fn datetimes() {
        let dt = |t: &str| parse_datetime(t, DateOrder::Dmy).map(|d| d.to_rfc3339());
        assert_eq!(
            dt("2026-01-31T14:30:00+01:00").as_deref(),
            Ok("2026-01-31T13:30:00+00:00")
        );
        assert_eq!(
            dt("31/01/2026 14:30").as_deref(),
            Ok("2026-01-31T14:30:00+00:00")
        );
    }
}
