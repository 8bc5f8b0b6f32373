//! The spreadsheet readers: `.xlsx` streamed cell by cell (flat memory on any size), and
//! `.xls` (at most 65,536 rows per sheet, so reading the sheet whole is fine). The first
//! sheet is read unless one is named. The first non-empty row is the header.

use std::io::{Read, Seek};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use calamine::{Data, DataRef, Reader, Xls, Xlsx};

use crate::source::{OwnedCell, ReadError, ReadOutcome, Row, RowSink};

/// Where progress is reported: the share of rows read, scaled to the file's size.
#[derive(Debug, Clone)]
pub struct SheetProgress {
    /// Updated as rows are read.
    pub bytes_read: Arc<AtomicU64>,
    /// The file's size.
    pub bytes_total: u64,
}

impl SheetProgress {
    fn update(&self, row: u64, last_row: u64) {
        if last_row > 0 {
            let share = row.min(last_row) as f64 / last_row as f64;
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let bytes = (share * self.bytes_total as f64) as u64;
            self.bytes_read.store(bytes, Ordering::Relaxed);
        }
    }
}

fn pick_sheet(names: &[String], wanted: Option<&str>) -> Result<String, ReadError> {
    match wanted {
        Some(w) => names
            .iter()
            .find(|n| n.as_str() == w || n.trim().eq_ignore_ascii_case(w.trim()))
            .cloned()
            .ok_or_else(|| ReadError::NoSuchSheet {
                wanted: w.to_owned(),
                available: names.join(", "),
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

fn cell_from_data(value: &Data) -> OwnedCell {
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
struct RowBuilder<'s> {
    sink: &'s mut dyn RowSink,
    header_seen: bool,
}

impl RowBuilder<'_> {
    fn emit(&mut self, sheet_row: u32, cells: Vec<OwnedCell>) -> Result<(), ()> {
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

/// Reads one sheet of an `.xlsx` workbook, streaming.
pub fn read_xlsx<RS: Read + Seek>(
    input: RS,
    sheet: Option<&str>,
    progress: &SheetProgress,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let workbook_error = |e: calamine::XlsxError| ReadError::Workbook {
        format: "XLSX",
        message: e.to_string(),
    };
    let mut workbook: Xlsx<RS> = Xlsx::new(input).map_err(workbook_error)?;
    let name = pick_sheet(&workbook.sheet_names(), sheet)?;
    let mut cells = workbook
        .worksheet_cells_reader(&name)
        .map_err(workbook_error)?;
    let last_row = u64::from(cells.dimensions().end.0) + 1;
    let mut builder = RowBuilder {
        sink,
        header_seen: false,
    };
    let mut current: Option<(u32, Vec<OwnedCell>)> = None;
    let mut completed_row = 0u64;
    loop {
        let next = cells.next_cell().map_err(|e| ReadError::Sheet {
            sheet: name.clone(),
            row: completed_row,
            message: e.to_string(),
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
        let (_, values) = current.get_or_insert_with(|| (row, Vec::new()));
        let col = col as usize;
        if values.len() <= col {
            values.resize(col + 1, OwnedCell::Empty);
        }
        values[col] = cell_from_ref(cell.get_value().clone());
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

/// Reads one sheet of an `.xls` workbook.
pub fn read_xls<RS: Read + Seek>(
    input: RS,
    sheet: Option<&str>,
    progress: &SheetProgress,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let workbook_error = |e: calamine::XlsError| ReadError::Workbook {
        format: "XLS",
        message: e.to_string(),
    };
    let mut workbook: Xls<RS> = Xls::new(input).map_err(workbook_error)?;
    let name = pick_sheet(&workbook.sheet_names(), sheet)?;
    let range = workbook.worksheet_range(&name).map_err(workbook_error)?;
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let last_row = u64::from(range.end().map_or(0, |e| e.0)) + 1;
    let mut builder = RowBuilder {
        sink,
        header_seen: false,
    };
    for (offset, row) in range.rows().enumerate() {
        let mut values = vec![OwnedCell::Empty; first_col as usize];
        values.extend(row.iter().map(cell_from_data));
        #[allow(clippy::cast_possible_truncation)]
        let sheet_row = first_row + offset as u32;
        progress.update(u64::from(sheet_row) + 1, last_row);
        if builder.emit(sheet_row, values).is_err() {
            return Ok(ReadOutcome::Stopped);
        }
    }
    if !builder.header_seen {
        return Err(ReadError::Empty);
    }
    Ok(ReadOutcome::Finished)
}
