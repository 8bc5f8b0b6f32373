//! Date and date-time cells: spreadsheet date cells and Excel serial numbers here; text
//! by the shared readers of `parley_domain::values` (see there for the accepted forms).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use parley_domain::DateOrder;
use parley_domain::values::{check_year, excel_serial_to_date};

use super::{Reason, cell_text};
use crate::source::CellRef;

/// A date field.
pub fn parse_date(cell: CellRef<'_>, order: DateOrder) -> Result<NaiveDate, Reason> {
    match cell {
        CellRef::DateTime(dt) => check_year(dt.date()),
        CellRef::Number(n) => excel_serial_to_date(n)
            .ok_or_else(|| -> Reason { "not an Excel date serial number".into() })
            .and_then(check_year),
        CellRef::Bool(_) => Err("not a date".into()),
        _ => parley_domain::values::parse_date(&cell_text(cell), order),
    }
}

/// A date-time field.
pub fn parse_datetime(cell: CellRef<'_>, order: DateOrder) -> Result<DateTime<Utc>, Reason> {
    match cell {
        CellRef::DateTime(dt) => Ok(dt.and_utc()),
        CellRef::Number(n) => {
            let date = excel_serial_to_date(n)
                .ok_or_else(|| -> Reason { "not an Excel date serial number".into() })?;
            #[allow(clippy::cast_possible_truncation)]
            let millis = ((n - n.floor()) * 86_400_000.0).round() as i64;
            let time = NaiveTime::MIN + chrono::TimeDelta::milliseconds(millis.min(86_399_999));
            Ok(NaiveDateTime::new(check_year(date)?, time).and_utc())
        }
        CellRef::Bool(_) => Err("not a date and time".into()),
        _ => parley_domain::values::parse_datetime(&cell_text(cell), order),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_of_every_kind() {
        let d = |c| parse_date(c, DateOrder::Dmy).map(|d| d.to_string());
        assert_eq!(
            d(CellRef::Text(" 31/01/2026 ")).as_deref(),
            Ok("2026-01-31")
        );
        assert_eq!(d(CellRef::Number(45_292.0)).as_deref(), Ok("2024-01-01"));
        assert!(d(CellRef::Bool(true)).is_err());
        assert_eq!(
            parse_datetime(CellRef::Number(45_292.5), DateOrder::Dmy)
                .map(|d| d.to_rfc3339())
                .as_deref(),
            Ok("2024-01-01T12:00:00+00:00")
        );
    }
}
