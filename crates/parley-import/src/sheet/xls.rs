//! The `.xls` reader. The spreadsheet library builds every sheet of an `.xls` in memory
//! when it opens the workbook and lets no one see a sheet's size first, so the file is
//! checked before it opens it: its container (`cfb`: no sector chain that cycles or
//! leaves the table) and its records (`biff`: the sheets' used ranges, cell records,
//! declared sizes and text against [`SheetLimits`]).
//!
//! What that bounds, with the defaults (4,194,304 cells, 256 MiB of text): the dense
//! tables of all sheets together hold at most 4,194,304 cells (32 bytes each, formulas
//! 24), the sheet being read is copied once more (the others are freed before its rows
//! are pushed), the list of cell records of one sheet (40 bytes each) and the room
//! reserved for it hold at most 4,194,304 entries, and the text of the cells and shared
//! strings at most 256 MiB (counted as 3 bytes a character); the container and the
//! workbook stream are held whole, so up to the file's size again. Measured (release
//! build, peak resident size added by reading, `tests/limits/measure.rs`): a sheet of
//! 65,536 rows × 64 columns of numbers, at the cell limit (a 26 MB file), 364 MB; with
//! text at its limit as well, the worst is under about 650 MB plus the file. Before
//! these checks, a 6 KB file whose two cells were A1 and IV65536 (the format's largest
//! sheet) made the library hold 1 GB (the sheet built, then copied), and one whose
//! sheet declared its last row before its first aborted the process (an allocation of
//! 172 GB); both are now refused.

use std::io::{Read, Seek};

use calamine::{Reader, Xls};

use super::{
    MESSAGE_CHARS, RowBuilder, SheetLimits, SheetProgress, biff, cell_from_data, check_row_bytes,
    checked_container, guarded, pick_sheet,
};
use crate::limits::shorten;
use crate::source::{OwnedCell, ReadError, ReadOutcome, RowSink};

/// Reads one sheet of an `.xls` workbook, after checking the whole workbook against
/// `limits`.
pub fn read_xls<RS: Read + Seek>(
    mut input: RS,
    sheet: Option<&str>,
    limits: &SheetLimits,
    progress: &SheetProgress,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    if let Some(stream) = checked_container(&mut input, "XLS", &["Workbook", "Book"])? {
        biff::check_workbook(&stream, limits)?;
    }
    let workbook_error = |e: calamine::XlsError| ReadError::Workbook {
        format: "XLS",
        message: shorten(&e.to_string(), MESSAGE_CHARS),
    };
    let mut workbook: Xls<RS> = guarded("XLS", || Xls::new(input))?.map_err(workbook_error)?;
    let names = workbook.sheet_names();
    let name = pick_sheet(&names, sheet)?;
    sink.sheet(&name, &names);
    let range = guarded("XLS", || workbook.worksheet_range(&name))?.map_err(workbook_error)?;
    drop(workbook);
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
        let text: usize = values
            .iter()
            .map(|v| match v {
                OwnedCell::Text(t) => t.len(),
                _ => 0,
            })
            .sum();
        check_row_bytes(text as u64, &name, sheet_row, limits)?;
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
