//! What every reader produces: a header, then rows of cells, pushed into a [`RowSink`];
//! and why one cannot ([`ReadError`], each naming the problem and where, down to the
//! [`Place`] in a workbook for a limit passed). Readers push rather than iterate because
//! the XLSX cell reader borrows its workbook; a push interface keeps every format behind
//! one shape without self-referential types.

use std::fmt;

use chrono::NaiveDateTime;

use crate::limits::{
    Bytes, Count, EXCEL_MAX_CELL_CHARS, EXCEL_MAX_CELL_FORMATS, EXCEL_MAX_COLUMNS, whose,
};

/// One cell as the file held it. CSV cells are always text; spreadsheet cells keep their
/// type, so a number that lost its leading zero can still be read as a phone number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CellRef<'a> {
    /// Nothing, or only whitespace.
    Empty,
    /// Text, untrimmed.
    Text(&'a str),
    /// A numeric spreadsheet cell (or JSON number).
    Number(f64),
    /// A boolean spreadsheet cell (or JSON boolean).
    Bool(bool),
    /// A spreadsheet cell formatted as a date or date-time.
    DateTime(NaiveDateTime),
    /// A spreadsheet error value such as `#N/A`.
    Error(&'a str),
}

impl CellRef<'_> {
    /// True when the cell holds nothing (empty or blank text).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        match self {
            CellRef::Empty => true,
            CellRef::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

impl fmt::Display for CellRef<'_> {
    /// The cell as it would appear in a CSV export (for the rejects report).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CellRef::Empty => Ok(()),
            CellRef::Text(t) | CellRef::Error(t) => f.write_str(t),
            CellRef::Number(n) => write_number(f, *n),
            CellRef::Bool(b) => f.write_str(if *b { "TRUE" } else { "FALSE" }),
            CellRef::DateTime(d) => {
                if d.time() == chrono::NaiveTime::MIN {
                    write!(f, "{}", d.date())
                } else {
                    write!(f, "{}", d.format("%Y-%m-%d %H:%M:%S"))
                }
            }
        }
    }
}

/// Writes a spreadsheet number the way a person typed it: integers without `.0`.
fn write_number(f: &mut fmt::Formatter<'_>, n: f64) -> fmt::Result {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        #[allow(clippy::cast_possible_truncation)]
        let int = n as i64;
        write!(f, "{int}")
    } else {
        write!(f, "{n}")
    }
}

/// An owned spreadsheet or JSON cell.
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedCell {
    /// Nothing.
    Empty,
    /// Text.
    Text(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
    /// A date or date-time.
    DateTime(NaiveDateTime),
    /// A spreadsheet error value.
    Error(String),
}

impl OwnedCell {
    /// The borrowed view.
    #[must_use]
    pub fn as_ref(&self) -> CellRef<'_> {
        match self {
            OwnedCell::Empty => CellRef::Empty,
            OwnedCell::Text(t) => CellRef::Text(t),
            OwnedCell::Number(n) => CellRef::Number(*n),
            OwnedCell::Bool(b) => CellRef::Bool(*b),
            OwnedCell::DateTime(d) => CellRef::DateTime(*d),
            OwnedCell::Error(e) => CellRef::Error(e),
        }
    }
}

#[derive(Debug, Clone)]
enum Cells {
    Csv(csv::StringRecord),
    Owned(Vec<OwnedCell>),
}

/// One data row.
#[derive(Debug, Clone)]
pub struct Row {
    /// Where the row starts: the sheet row (the header is row 1), the CSV line (a row
    /// holding a quoted newline is numbered by its first line), or the JSON row's index
    /// plus one.
    pub number: u64,
    cells: Cells,
}

impl Row {
    /// A CSV row.
    #[must_use]
    pub fn from_csv(number: u64, record: csv::StringRecord) -> Self {
        Self {
            number,
            cells: Cells::Csv(record),
        }
    }

    /// A spreadsheet or JSON row.
    #[must_use]
    pub fn from_cells(number: u64, cells: Vec<OwnedCell>) -> Self {
        Self {
            number,
            cells: Cells::Owned(cells),
        }
    }

    /// Number of cells present (may differ from the header's width).
    #[must_use]
    pub fn len(&self) -> usize {
        match &self.cells {
            Cells::Csv(r) => r.len(),
            Cells::Owned(c) => c.len(),
        }
    }

    /// True when the row has no cells.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The cell at `index` (`Empty` past the end).
    #[must_use]
    pub fn cell(&self, index: usize) -> CellRef<'_> {
        match &self.cells {
            Cells::Csv(r) => match r.get(index) {
                None | Some("") => CellRef::Empty,
                Some(t) => CellRef::Text(t),
            },
            Cells::Owned(c) => c.get(index).map_or(CellRef::Empty, OwnedCell::as_ref),
        }
    }

    /// True when every cell is empty (blank rows are skipped, not counted).
    #[must_use]
    pub fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| self.cell(i).is_empty())
    }

    /// Every cell as text, for the rejects report.
    #[must_use]
    pub fn to_strings(&self) -> Vec<String> {
        (0..self.len()).map(|i| self.cell(i).to_string()).collect()
    }

    /// About how many bytes the row takes in memory: its text, and a few words a cell.
    /// What the pipeline counts to bound the rows in flight.
    #[must_use]
    pub fn weight(&self) -> usize {
        let text: usize = (0..self.len())
            .map(|i| match self.cell(i) {
                CellRef::Text(t) | CellRef::Error(t) => t.len(),
                _ => 0,
            })
            .sum();
        64 + 32 * self.len() + text
    }
}

/// Why a file cannot be read. Each message names the problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file has no header row.
    #[error("the file is empty: expected a header row")]
    Empty,
    /// Binary content where text was expected.
    #[error("line {line}: the file holds binary data (a NUL byte), not CSV text")]
    Binary {
        /// The line of the first NUL byte.
        line: u64,
    },
    /// A quoted CSV field is never closed.
    #[error("line {line}: a quoted field opened here is never closed (unterminated `\"`)")]
    UnterminatedQuote {
        /// The line where the quote opened.
        line: u64,
    },
    /// A CSV syntax or I/O problem.
    #[error("line {line}: {message}")]
    Csv {
        /// The line.
        line: u64,
        /// What went wrong.
        message: String,
    },
    /// The workbook cannot be opened (not a workbook, truncated, encrypted…).
    #[error("the file is not a readable {format} workbook: {message}")]
    Workbook {
        /// `XLSX` or `XLS`.
        format: &'static str,
        /// What the reader reported.
        message: String,
    },
    /// The sheet data stops or breaks partway.
    #[error("sheet `{sheet}`, after row {row}: {message}")]
    Sheet {
        /// The sheet.
        sheet: String,
        /// The last row read completely.
        row: u64,
        /// What the reader reported.
        message: String,
    },
    /// The named sheet does not exist.
    #[error("no sheet named `{wanted}`; the workbook has: {available}")]
    NoSuchSheet {
        /// The sheet asked for.
        wanted: String,
        /// The sheets there are, comma-separated.
        available: String,
    },
    /// The JSON rows are not objects of scalars.
    #[error("row {row}: {message}")]
    JsonRow {
        /// The 1-based index of the row in `rows`.
        row: u64,
        /// What is wrong.
        message: String,
    },
    /// Reading the underlying file failed.
    #[error("reading the file failed: {0}")]
    Io(String),
    /// The JSON document is not JSON, or not of the shape `{"rows": [ {…}, … ]}`.
    #[error("the rows are not valid JSON: {message}")]
    Json {
        /// What the parser reported, with its line and column.
        message: String,
    },
    /// JSON rows use more distinct keys than a sheet may have columns.
    #[error("row {row}: the rows use more than {} distinct keys (columns; {})", Count(*.limit), whose(*.limit, EXCEL_MAX_COLUMNS))]
    TooManyKeys {
        /// The 1-based index of the row whose key passed the limit.
        row: u64,
        /// [`SheetLimits::max_columns`](crate::SheetLimits::max_columns).
        limit: u64,
    },
    /// A part of an `.xlsx` unpacks to more than the limit for it (declared or counted).
    #[error("the workbook is too large once unpacked: its part `{part}` holds more than {} (the limit for that part)", Bytes(*.limit))]
    PartTooLarge {
        /// The part (zip entry).
        part: String,
        /// [`SheetLimits::max_part_bytes`](crate::SheetLimits::max_part_bytes), or
        /// `max_metadata_bytes` for the parts read whole.
        limit: u64,
    },
    /// All the parts of an `.xlsx` together unpack to more than the limit.
    #[error("the workbook is too large once unpacked: its parts hold more than {} in all (the limit), reached in part `{part}`", Bytes(*.limit))]
    WorkbookTooLarge {
        /// The part being unpacked when the total passed the limit.
        part: String,
        /// [`SheetLimits::max_workbook_bytes`](crate::SheetLimits::max_workbook_bytes).
        limit: u64,
    },
    /// An `.xlsx` has more parts than the limit.
    #[error("the workbook has more than {} parts (the limit; a spreadsheet has a few dozen)", Count(*.limit))]
    TooManyParts {
        /// [`SheetLimits::max_parts`](crate::SheetLimits::max_parts).
        limit: u64,
    },
    /// The table of contents of an `.xlsx` is larger than the limit.
    #[error("the workbook's table of contents is larger than {} (the limit)", Bytes(*.limit))]
    DirectoryTooLarge {
        /// [`SheetLimits::max_directory_bytes`](crate::SheetLimits::max_directory_bytes).
        limit: u64,
    },
    /// More shared strings (distinct texts) than the limit, counted or declared.
    #[error("`{part}`: the workbook holds more than {} shared strings (distinct texts; the limit)", Count(*.limit))]
    TooManySharedStrings {
        /// The part holding them.
        part: String,
        /// [`SheetLimits::max_shared_strings`](crate::SheetLimits::max_shared_strings).
        limit: u64,
    },
    /// The shared strings hold more text than the limit.
    #[error("`{part}`: the workbook's shared strings hold more than {} of text (the limit)", Bytes(*.limit))]
    SharedStringsTooLarge {
        /// The part holding them.
        part: String,
        /// [`SheetLimits::max_shared_strings_bytes`](crate::SheetLimits::max_shared_strings_bytes).
        limit: u64,
    },
    /// One cell or shared string holds more characters than the limit.
    #[error("{place}: a cell holds more than {} characters ({})", Count(*.limit), whose(*.limit, EXCEL_MAX_CELL_CHARS))]
    CellTooLong {
        /// The cell, or the shared string.
        place: Place,
        /// [`SheetLimits::max_cell_chars`](crate::SheetLimits::max_cell_chars).
        limit: u64,
    },
    /// A cell lies beyond the last column allowed.
    #[error("{place}: the sheet has more than {} columns ({}; the last column is {})", Count(*.limit), whose(*.limit, EXCEL_MAX_COLUMNS), column_name((*.limit).saturating_sub(1)))]
    TooManyColumns {
        /// The first cell past the limit.
        place: Place,
        /// [`SheetLimits::max_columns`](crate::SheetLimits::max_columns).
        limit: u64,
    },
    /// One row of a sheet holds more text than the limit (its cells may all copy one long
    /// shared string, so a small file can make very large rows).
    #[error("sheet `{sheet}`, row {row}: the row holds more than {} of text (the limit)", Bytes(*.limit))]
    RowTooLarge {
        /// The sheet.
        sheet: String,
        /// The row (the header is row 1).
        row: u64,
        /// [`SheetLimits::max_row_bytes`](crate::SheetLimits::max_row_bytes).
        limit: u64,
    },
    /// A piece of XML markup, or the XML of one cell, shared string or definition, is
    /// larger than the limit.
    #[error("{place}: {what} is larger than {} (the limit)", Bytes(*.limit))]
    MarkupTooLarge {
        /// Where.
        place: Place,
        /// What was too large, in words ("the cell's XML").
        what: &'static str,
        /// [`SheetLimits::max_markup_bytes`](crate::SheetLimits::max_markup_bytes) or
        /// `max_style_bytes`.
        limit: u64,
    },
    /// The styles define more cell formats than the limit.
    #[error("`{part}`: the workbook has more than {} cell formats ({})", Count(*.limit), whose(*.limit, EXCEL_MAX_CELL_FORMATS))]
    TooManyCellFormats {
        /// The styles part.
        part: String,
        /// [`SheetLimits::max_cell_formats`](crate::SheetLimits::max_cell_formats).
        limit: u64,
    },
    /// An `.xls` sheet's used range is larger than the limit, alone or with the sheets
    /// before it (every sheet of an `.xls` is held in memory at once).
    #[error("sheet `{sheet}` spans {} rows × {} columns, which takes the workbook past {} cells (the limit)", Count(*.rows), Count(*.columns), Count(*.limit))]
    XlsTooLarge {
        /// The sheet.
        sheet: String,
        /// Rows of its used range.
        rows: u64,
        /// Columns of its used range.
        columns: u64,
        /// [`SheetLimits::max_xls_cells`](crate::SheetLimits::max_xls_cells).
        limit: u64,
    },
    /// The cells of an `.xls` hold more text than the limit.
    #[error("sheet `{sheet}`: the workbook's cells hold more than {} of text (the limit)", Bytes(*.limit))]
    XlsTextTooLarge {
        /// The sheet being read when the total passed the limit.
        sheet: String,
        /// [`SheetLimits::max_xls_text_bytes`](crate::SheetLimits::max_xls_text_bytes).
        limit: u64,
    },
}

/// Where in a workbook a limit was passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A cell of a sheet (the part's path stands in for the name of a sheet the workbook
    /// does not list).
    Cell {
        /// The sheet.
        sheet: String,
        /// The reference, such as `B7`.
        cell: String,
    },
    /// A shared string, by the index cells use for it (from 0).
    SharedString {
        /// The part holding it.
        part: String,
        /// Its index.
        index: u64,
    },
    /// A part of the workbook, as a whole.
    Part {
        /// The part (zip entry).
        part: String,
    },
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Cell { sheet, cell } => write!(f, "sheet `{sheet}`, cell {cell}"),
            Place::SharedString { part, index } => {
                write!(f, "`{part}`, shared string {}", Count(*index))
            }
            Place::Part { part } => write!(f, "`{part}`"),
        }
    }
}

/// The spreadsheet name of the column at `index` (from 0): `A`, `Z`, `AA`, `XFD`.
#[must_use]
pub fn column_name(index: u64) -> String {
    let mut name = Vec::new();
    let mut n = index.saturating_add(1);
    while n > 0 {
        let rem = (n - 1) % 26;
        #[allow(clippy::cast_possible_truncation)]
        name.push(b'A' + rem as u8);
        n = (n - 1) / 26;
    }
    name.reverse();
    String::from_utf8(name).unwrap_or_default()
}

/// A cell reference such as `B7` from a column index (from 0) and a row number (from 1).
#[must_use]
pub fn cell_name(column: u64, row: u64) -> String {
    format!("{}{row}", column_name(column))
}

/// The consumer stopped the reading (its own error travels separately).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stop;

/// Where a reader pushes what it reads.
pub trait RowSink {
    /// The header row, once, before any data row.
    fn header(&mut self, header: Vec<String>) -> Result<(), Stop>;
    /// A non-blank data row.
    fn row(&mut self, row: Row) -> Result<(), Stop>;
    /// The worksheet being read and every sheet of the workbook, once, before the header
    /// (workbooks only).
    fn sheet(&mut self, _name: &str, _all: &[String]) {}
}

/// How a read ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadOutcome {
    /// Every row was pushed.
    Finished,
    /// The sink asked to stop.
    Stopped,
}
