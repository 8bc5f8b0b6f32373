//! The spreadsheet readers: `.xlsx` streamed cell by cell (flat memory on any size), and
//! `.xls` (in `xls`). The first sheet is read unless one is named. The first non-empty
//! row is the header. What both share: choosing the sheet, turning cells into
//! [`OwnedCell`]s, progress, and running the spreadsheet library so that a panic of its
//! own becomes a refusal.
//!
//! Every `.xlsx` passes a pre-flight check (`preflight`, `markup`, `meter`) before the
//! spreadsheet library opens it, because the library holds some parts whole in memory
//! (the shared strings, the styles, the sheet list) and buffers each XML token whole: the
//! check unpacks every part as a stream, counting, and refuses the file once a
//! [`SheetLimits`] bound is passed, so the library never meets a part, a token, a cell or
//! a table larger than those bounds. The reader checks each cell's length and column
//! again as it streams, so nothing rests on the pre-flight alone. A file in the OLE
//! container (a password-protected `.xlsx`) has its container checked (`cfb`) first.
//!
//! What an `.xlsx` may still make the library hold, with the default limits, measured
//! one by one (release build, `tests/limits/measure.rs`): 5,000,000 shared strings
//! 279 MB, 65,490 cell formats copying 1 KiB fonts 135 MB, a 16 MiB sheet list 130 MB,
//! 16 MiB of relationships 78 MB, the table of contents under 20 MB; so under 700 MB for
//! a file built to reach every limit at once, against gigabytes before. The price is
//! time: the pre-flight unpacks and tokenizes the sheet once more, about 0.4 s for
//! 100,000 ordinary rows of 8 columns and 4.4 s for a million (9-10 s in all, against
//! 3.3-3.8 s for the library alone).

mod biff;
mod cfb;
mod markup;
mod meter;
mod preflight;
mod xls;

use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Data, DataRef, Reader, Xlsx};

pub use crate::limits::SheetLimits;
use crate::limits::{Count, shorten};
use crate::source::{OwnedCell, Place, ReadError, ReadOutcome, Row, RowSink, cell_name};
pub use xls::read_xls;

/// Characters of the spreadsheet library's own error a refusal repeats (it may quote the
/// file).
pub(crate) const MESSAGE_CHARS: usize = 300;

/// Where progress is reported: the share of rows read, scaled to the file's size.
#[derive(Debug, Clone)]
pub struct SheetProgress {
    /// Updated as rows are read.
    pub bytes_read: Arc<AtomicU64>,
    /// The file's size.
    pub bytes_total: u64,
}

impl SheetProgress {
    pub(crate) fn update(&self, row: u64, last_row: u64) {
        if last_row > 0 {
            let share = row.min(last_row) as f64 / last_row as f64;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let bytes = (share * self.bytes_total as f64) as u64;
            self.bytes_read.store(bytes, Ordering::Relaxed);
        }
    }
}

/// The first sheet names, comma-separated, and how many more there are: a workbook may
/// list a million sheets, and an error repeats a few.
fn listing(names: &[String]) -> String {
    const SHOWN: usize = 10;
    let mut text = names
        .iter()
        .take(SHOWN)
        .map(|n| shorten(n, 60))
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(
            " … and {} more",
            Count((names.len() - SHOWN) as u64)
        ));
    }
    text
}

pub(crate) fn pick_sheet(names: &[String], wanted: Option<&str>) -> Result<String, ReadError> {
    match wanted {
        Some(w) => names
            .iter()
            .find(|n| n.as_str() == w || n.trim().eq_ignore_ascii_case(w.trim()))
            .cloned()
            .ok_or_else(|| ReadError::NoSuchSheet {
                wanted: shorten(w, 120),
                available: listing(names),
            }),
        None => names.first().cloned().ok_or(ReadError::Empty),
    }
}

fn cell_from_ref(value: DataRef<'_>) -> OwnedCell {
    match value {
        DataRef::Int(i) => {
            #[allow(clippy::cast_precision_loss)]
            let n = i as f64;
            OwnedCell::Number(n)
        }
        DataRef::Float(f) => OwnedCell::Number(f),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
            OwnedCell::Text(s)
        }
        DataRef::SharedString(s) => OwnedCell::Text(s.to_owned()),
        DataRef::Bool(b) => OwnedCell::Bool(b),
        DataRef::DateTime(d) => match d.as_datetime() {
            Some(dt) if d.is_datetime() => OwnedCell::DateTime(dt),
            _ => OwnedCell::Number(d.as_f64()),
        },
        DataRef::Error(e) => OwnedCell::Error(e.to_string()),
        DataRef::Empty => OwnedCell::Empty,
    }
}

pub(crate) fn cell_from_data(value: &Data) -> OwnedCell {
    match value {
        Data::Int(i) => cell_from_ref(DataRef::Int(*i)),
        Data::Float(f) => OwnedCell::Number(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => OwnedCell::Text(s.clone()),
        Data::Bool(b) => OwnedCell::Bool(*b),
        Data::DateTime(d) => cell_from_ref(DataRef::DateTime(*d)),
        Data::Error(e) => OwnedCell::Error(e.to_string()),
        Data::Empty => OwnedCell::Empty,
    }
}

/// Collects cells into rows and hands them on: the first non-empty row is the header.
pub(crate) struct RowBuilder<'s> {
    pub(crate) sink: &'s mut dyn RowSink,
    pub(crate) header_seen: bool,
}

impl RowBuilder<'_> {
    pub(crate) fn emit(&mut self, sheet_row: u32, cells: Vec<OwnedCell>) -> Result<(), ()> {
        let number = u64::from(sheet_row) + 1;
        let row = Row::from_cells(number, cells);
        if row.is_blank() {
            return Ok(());
        }
        if self.header_seen {
            self.sink.row(row).map_err(|_| ())
        } else {
            self.header_seen = true;
            let header = row
                .to_strings()
                .into_iter()
                .map(|h| h.trim().to_owned())
                .collect();
            self.sink.header(header).map_err(|_| ())
        }
    }
}

/// Runs `read`, a call into the spreadsheet library, turning a panic of the library's
/// into a refusal of the file (the library indexes some records without checking them).
fn guarded<T>(format: &'static str, read: impl FnOnce() -> T) -> Result<T, ReadError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)).map_err(|_| ReadError::Workbook {
        format,
        message: "the file is damaged: the spreadsheet reader failed on it".to_owned(),
    })
}

/// Refuses an OLE container (a password-protected `.xlsx`, or an `.xls`) that would make
/// the spreadsheet library loop or exhaust memory, and returns the stream named one of
/// `stream` when the container is safe and has it.
fn checked_container<RS: Read + Seek>(
    input: &mut RS,
    format: &'static str,
    stream: &[&str],
) -> Result<Option<Vec<u8>>, ReadError> {
    match cfb::read_container(input, stream) {
        Ok(cfb::Container::Safe(found)) => Ok(found),
        Ok(cfb::Container::Absent | cfb::Container::Refused) => Ok(None),
        Err(cfb::Damaged(why)) => Err(ReadError::Workbook {
            format,
            message: format!("the file is damaged: {why}"),
        }),
    }
}

/// The cell at column `col` of sheet row `row` (both from 0), checked against `limits`:
/// within the columns, and text no longer than a cell may hold.
fn checked_cell(
    value: DataRef<'_>,
    (row, col): (u32, u32),
    sheet: &str,
    limits: &SheetLimits,
) -> Result<OwnedCell, ReadError> {
    let place = || Place::Cell {
        sheet: shorten(sheet, 120),
        cell: cell_name(u64::from(col), u64::from(row) + 1),
    };
    if col as usize >= limits.max_columns {
        return Err(ReadError::TooManyColumns {
            place: place(),
            limit: limits.max_columns as u64,
        });
    }
    let cell = cell_from_ref(value);
    if let OwnedCell::Text(text) = &cell {
        // Bytes bound characters from above, so most cells need no count.
        if text.len() > limits.max_cell_chars && text.chars().count() > limits.max_cell_chars {
            return Err(ReadError::CellTooLong {
                place: place(),
                limit: limits.max_cell_chars as u64,
            });
        }
    }
    Ok(cell)
}

/// Refuses a row of sheet row `row` (from 0) once its text passes the limit.
pub(crate) fn check_row_bytes(
    bytes: u64,
    sheet: &str,
    row: u32,
    limits: &SheetLimits,
) -> Result<(), ReadError> {
    if bytes > limits.max_row_bytes {
        return Err(ReadError::RowTooLarge {
            sheet: shorten(sheet, 120),
            row: u64::from(row) + 1,
            limit: limits.max_row_bytes,
        });
    }
    Ok(())
}

/// Reads one sheet of an `.xlsx` workbook, streaming, after the pre-flight check of the
/// whole archive against `limits`.
pub fn read_xlsx<RS: Read + Seek>(
    mut input: RS,
    sheet: Option<&str>,
    limits: &SheetLimits,
    progress: &SheetProgress,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    checked_container(&mut input, "XLSX", &[])?;
    preflight::check_xlsx(&mut input, limits)?;
    let workbook_error = |e: calamine::XlsxError| ReadError::Workbook {
        format: "XLSX",
        message: shorten(&e.to_string(), MESSAGE_CHARS),
    };
    let mut workbook: Xlsx<RS> = guarded("XLSX", || Xlsx::new(input))?.map_err(workbook_error)?;
    let names = workbook.sheet_names();
    let name = pick_sheet(&names, sheet)?;
    sink.sheet(&name, &names);
    let mut cells =
        guarded("XLSX", || workbook.worksheet_cells_reader(&name))?.map_err(workbook_error)?;
    let last_row = u64::from(cells.dimensions().end.0) + 1;
    let mut builder = RowBuilder {
        sink,
        header_seen: false,
    };
    let mut current: Option<(u32, Vec<OwnedCell>)> = None;
    let mut row_bytes = 0u64;
    let mut completed_row = 0u64;
    loop {
        let next = guarded("XLSX", || cells.next_cell())?.map_err(|e| ReadError::Sheet {
            sheet: name.clone(),
            row: completed_row,
            message: shorten(&e.to_string(), MESSAGE_CHARS),
        })?;
        let Some(cell) = next else { break };
        let (row, col) = cell.get_position();
        if current.as_ref().is_some_and(|(r, _)| *r != row)
            && let Some((r, values)) = current.take()
        {
            completed_row = u64::from(r) + 1;
            progress.update(completed_row, last_row);
            if builder.emit(r, values).is_err() {
                return Ok(ReadOutcome::Stopped);
            }
        }
        let value = checked_cell(cell.get_value().clone(), (row, col), &name, limits)?;
        if current.is_none() {
            row_bytes = 0;
        }
        if let OwnedCell::Text(text) = &value {
            row_bytes += text.len() as u64;
            check_row_bytes(row_bytes, &name, row, limits)?;
        }
        let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
        let col = col as usize;
        if values.len() <= col {
            values.resize(col + 1, OwnedCell::Empty);
        }
        values[col] = value;
    }
    if let Some((r, values)) = current.take()
        && builder.emit(r, values).is_err()
    {
        return Ok(ReadOutcome::Stopped);
    }
    if !builder.header_seen {
        return Err(ReadError::Empty);
    }
    progress.update(last_row, last_row);
    Ok(ReadOutcome::Finished)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cell_is_checked_as_it_streams() {
        let limits = SheetLimits {
            max_cell_chars: 3,
            max_columns: 2,
            ..SheetLimits::default()
        };
        let ok = checked_cell(
            DataRef::String("éééé".into()),
            (0, 1),
            "S",
            &SheetLimits::default(),
        );
        assert_eq!(ok, Ok(OwnedCell::Text("éééé".into())));
        assert_eq!(
            checked_cell(DataRef::SharedString("abc"), (4, 1), "S", &limits),
            Ok(OwnedCell::Text("abc".into()))
        );
        assert_eq!(
            checked_cell(DataRef::String("abcd".into()), (4, 1), "S", &limits),
            Err(ReadError::CellTooLong {
                place: Place::Cell {
                    sheet: "S".into(),
                    cell: "B5".into()
                },
                limit: 3
            })
        );
        assert_eq!(
            checked_cell(DataRef::Int(1), (0, 2), "S", &limits),
            Err(ReadError::TooManyColumns {
                place: Place::Cell {
                    sheet: "S".into(),
                    cell: "C1".into()
                },
                limit: 2
            })
        );
    }

    #[test]
    fn a_missing_sheet_lists_a_few_of_the_others() {
        let names: Vec<String> = (1..=25).map(|i| format!("Sheet{i}")).collect();
        let e = pick_sheet(&names, Some("Nope")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no sheet named `Nope`; the workbook has: Sheet1, Sheet2, Sheet3, Sheet4, Sheet5, \
             Sheet6, Sheet7, Sheet8, Sheet9, Sheet10 … and 15 more"
        );
    }
}
