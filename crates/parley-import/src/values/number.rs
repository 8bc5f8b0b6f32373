//! Number and money cells: spreadsheet numbers here (through their shortest decimal
//! text, so 0.1 stays 0.1); text by the shared reader of `parley_domain::values` (see there
//! for the reading rules).

use std::str::FromStr;

use parley_domain::values::{check_money, parse_decimal_text};
use rust_decimal::Decimal;

use super::{Reason, cell_text};
use crate::source::CellRef;

/// A number field.
pub fn parse_number(cell: CellRef<'_>) -> Result<Decimal, Reason> {
    match cell {
        CellRef::Number(n) => from_f64(n),
        CellRef::Bool(_) | CellRef::DateTime(_) => Err("not a number".into()),
        _ => parse_decimal_text(&cell_text(cell), false),
    }
}

/// A money field: at most four decimal places.
pub fn parse_money(cell: CellRef<'_>) -> Result<Decimal, Reason> {
    let amount = match cell {
        CellRef::Number(n) => from_f64(n)?,
        CellRef::Bool(_) | CellRef::DateTime(_) => return Err("not an amount of money".into()),
        _ => parse_decimal_text(&cell_text(cell), true)?,
    };
    check_money(amount)
}

fn from_f64(n: f64) -> Result<Decimal, Reason> {
    if !n.is_finite() {
        return Err("not a finite number".into());
    }
    // `Display` of an f64 is the shortest text that reads back as the same f64, so 0.1
    // stays 0.1 rather than its binary expansion.
    Decimal::from_str(&n.to_string())
        .or_else(|_| Decimal::from_scientific(&format!("{n:e}")))
        .map_err(|_| "number out of range".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_use_the_shared_reader() {
        assert_eq!(
            parse_money(CellRef::Text(" £1,234.50 "))
                .map(|d| d.to_string())
                .as_deref(),
            Ok("1234.5")
        );
        assert!(parse_money(CellRef::Text("12.34567")).is_err());
        assert!(parse_number(CellRef::Bool(true)).is_err());
    }

    #[test]
    fn spreadsheet_numbers_are_exact() {
        assert_eq!(
            parse_money(CellRef::Number(0.1))
                .map(|d| d.to_string())
                .as_deref(),
            Ok("0.1")
        );
        assert_eq!(
            parse_number(CellRef::Number(871_234_567.0))
                .map(|d| d.to_string())
                .as_deref(),
            Ok("871234567")
        );
        assert!(parse_number(CellRef::Number(f64::NAN)).is_err());
    }
}
