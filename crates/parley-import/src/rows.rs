//! Rows sent as JSON (`{ "rows": [ {…} ] }`): the header is every key in order of first
//! appearance, and values keep their JSON type (a number stays a number, so a phone
//! number sent as `871234567` is read like a spreadsheet cell that lost its zero).

use serde_json::{Map, Value};

use crate::source::{OwnedCell, ReadError, ReadOutcome, Row, RowSink};

/// Pushes JSON rows into `sink`. Row numbers count the header as row 1, as in a file:
/// the first object is row 2.
pub fn read_json_rows(
    rows: &[Map<String, Value>],
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let mut header: Vec<String> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        for (key, value) in row {
            if matches!(value, Value::Array(_) | Value::Object(_)) {
                return Err(ReadError::JsonRow {
                    row: i as u64 + 1,
                    message: format!("`{key}` must be a string, number, boolean or null"),
                });
            }
            if !header.iter().any(|h| h == key) {
                header.push(key.clone());
            }
        }
    }
    if header.is_empty() {
        return Err(ReadError::Empty);
    }
    if sink.header(header.clone()).is_err() {
        return Ok(ReadOutcome::Stopped);
    }
    for (i, row) in rows.iter().enumerate() {
        let cells = header
            .iter()
            .map(|key| match row.get(key) {
                None | Some(Value::Null) => OwnedCell::Empty,
                Some(Value::String(s)) => OwnedCell::Text(s.clone()),
                Some(Value::Number(n)) => n.as_f64().map_or(OwnedCell::Empty, OwnedCell::Number),
                Some(Value::Bool(b)) => OwnedCell::Bool(*b),
                Some(other) => OwnedCell::Text(other.to_string()),
            })
            .collect();
        let number = i as u64 + 2;
        let row = Row::from_cells(number, cells);
        if row.is_blank() {
            continue;
        }
        if sink.row(row).is_err() {
            return Ok(ReadOutcome::Stopped);
        }
    }
    Ok(ReadOutcome::Finished)
}
