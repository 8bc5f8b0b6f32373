//! Checks one XML part of an `.xlsx` against the limits, streaming, with the tokenizer the
//! spreadsheet library uses (quick-xml, configured alike), so both see the same tags and
//! texts. It bounds what that library would buffer: any one token, the XML of one cell
//! or shared string, the characters of a cell or shared string, the shared strings' count
//! and text, the columns and the nesting depth; and, in the parts read whole on opening
//! (styles, workbook), the cell formats and the XML of a defined name, font or number
//! format. It keeps no text, only counts, so it needs a few kilobytes besides
//! the tokenizer's one-token buffer.

use std::io::BufRead;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::meter::{Meter, Trip};
use crate::limits::{Count, SheetLimits, shorten};
use crate::source::{Place, ReadError, cell_name};

/// Elements open at once, at most. Excel's parts nest about ten deep.
const MAX_DEPTH: usize = 256;
/// Bytes of the names of the elements open at once, at most (the tokenizer keeps them).
const MAX_OPEN_NAME_BYTES: usize = 64 * 1024;

/// One part to check.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Part<'a> {
    /// The part's path in the archive, shortened for messages.
    pub name: &'a str,
    /// The sheet it holds, when the workbook lists it.
    pub sheet: Option<&'a str>,
    /// Whether the spreadsheet library reads the part: malformed XML there is refused;
    /// elsewhere the check stops at it (the bytes are still counted).
    pub is_read: bool,
    /// The most bytes the part may unpack to.
    pub byte_limit: u64,
    /// Whether the library may read the part whole when it opens the workbook (as the
    /// styles, the workbook or relationships): only there are cell formats, fonts,
    /// number formats and defined names bounded, as elsewhere those names mean other
    /// things (a drawing's `<font>` holds text).
    pub is_metadata: bool,
    /// The limits.
    pub limits: &'a SheetLimits,
}

/// An element whose whole XML is bounded, while it is open.
#[derive(Debug, Clone, Copy)]
struct Bounded {
    depth: usize,
    start: u64,
    limit: u64,
    what: &'static str,
}

/// What an open element started, undone when it closes.
#[derive(Debug, Clone, Copy, Default)]
struct Frame {
    name_len: usize,
    is_cell: bool,
    is_string: bool,
    is_value: bool,
    is_phonetic: bool,
    is_formats: bool,
    is_row: bool,
}

/// The running state of a part's check.
#[derive(Debug, Default)]
struct Scan {
    frames: Vec<Frame>,
    open_name_bytes: usize,
    bounded: Vec<Bounded>,
    /// The sheet row (from 0) and the next column, as the library counts them.
    row: u64,
    column: u64,
    /// The open cell's column and row (from 0).
    cell: Option<(u64, u64)>,
    /// The open shared string's index.
    string: Option<u64>,
    values_open: usize,
    phonetic_open: usize,
    formats_open: usize,
    chars: u64,
    strings: u64,
    string_bytes: u64,
    formats: u64,
}

/// Checks the part read through `meter`, calling `on_start` with the local name and raw
/// attributes of every start tag. Returns the bytes the part unpacked to.
pub(crate) fn check_part<R: BufRead>(
    meter: Meter<R>,
    part: &Part<'_>,
    on_start: &mut dyn FnMut(&str, &str),
) -> Result<u64, ReadError> {
    let mut reader = Reader::from_reader(meter);
    let config = reader.config_mut();
    config.trim_text(false);
    config.check_comments = false;
    config.expand_empty_elements = true;
    config.check_end_names = true;
    let mut scan = Scan::default();
    let mut buf = Vec::with_capacity(1024);
    loop {
        buf.clear();
        reader.get_mut().start_token();
        let start = reader.get_ref().consumed();
        let event = match reader.read_event_into(&mut buf) {
            Ok(event) => event,
            Err(e) => {
                if let Some(trip) = reader.get_ref().tripped() {
                    return Err(scan.tripped(trip, part));
                }
                let message = match &e {
                    quick_xml::Error::Io(io) => format!("`{}` cannot be unpacked: {io}", part.name),
                    other => format!("`{}` is not well-formed XML: {other}", part.name),
                };
                return stop(reader.into_inner(), part, &message);
            }
        };
        let outcome = match event {
            Event::Start(tag) => {
                let local = tag.local_name();
                on_start(local.as_ref(), tag.attributes_raw());
                scan.start(
                    local.as_ref(),
                    tag.name().as_ref().len(),
                    tag.attributes_raw(),
                    start,
                    part,
                )
            }
            Event::End(_) => {
                scan.end();
                Ok(())
            }
            Event::Text(text) => scan.text(chars(&text), text.len() as u64, part),
            Event::CData(text) => scan.text(chars(&text), text.len() as u64, part),
            // `&amp;` is one character.
            Event::GeneralRef(name) => scan.text(1, name.len() as u64 + 2, part),
            Event::Eof => return Ok(reader.get_ref().consumed()),
            _ => Ok(()),
        };
        match outcome {
            Ok(()) => scan.check_bounded(reader.get_ref().consumed(), part)?,
            Err(Stop::Refuse(e)) => return Err(e),
            Err(Stop::Malformed(message)) => return stop(reader.into_inner(), part, &message),
        }
    }
}

/// Why a check ends early.
#[derive(Debug)]
enum Stop {
    /// A limit was passed.
    Refuse(ReadError),
    /// The XML is not what the library can read.
    Malformed(String),
}

impl From<ReadError> for Stop {
    fn from(e: ReadError) -> Self {
        Stop::Refuse(e)
    }
}

/// Ends the check of a malformed part: refused if the library reads it, otherwise only
/// counted to its end.
fn stop<R: BufRead>(mut meter: Meter<R>, part: &Part<'_>, message: &str) -> Result<u64, ReadError> {
    if part.is_read {
        return Err(ReadError::Workbook {
            format: "XLSX",
            message: shorten(message, 300),
        });
    }
    meter.without_token_limit();
    match meter.drain() {
        Ok(()) => Ok(meter.consumed()),
        Err(_) => match meter.tripped() {
            Some(trip) => Err(trip_error(trip, part)),
            // The library cannot unpack it either, so it cannot read it.
            None => Ok(meter.consumed()),
        },
    }
}

/// The refusal for a part whose reading stopped at `trip`, outside any cell.
pub(crate) fn trip_error(trip: Trip, part: &Part<'_>) -> ReadError {
    Scan::default().tripped(trip, part)
}

/// The characters of `text`.
fn chars(text: &str) -> u64 {
    text.chars().count() as u64
}

impl Scan {
    fn place(&self, part: &Part<'_>) -> Place {
        let sheet = || part.sheet.unwrap_or(part.name).to_owned();
        if let Some(index) = self.string {
            Place::SharedString {
                part: part.name.to_owned(),
                index,
            }
        } else if let Some((column, row)) = self.cell {
            Place::Cell {
                sheet: sheet(),
                cell: cell_name(column, row.saturating_add(1)),
            }
        } else {
            Place::Part {
                part: part.name.to_owned(),
            }
        }
    }

    fn tripped(&self, trip: Trip, part: &Part<'_>) -> ReadError {
        let limits = part.limits;
        match trip {
            Trip::Part => ReadError::PartTooLarge {
                part: part.name.to_owned(),
                limit: part.byte_limit,
            },
            Trip::Workbook => ReadError::WorkbookTooLarge {
                part: part.name.to_owned(),
                limit: limits.max_workbook_bytes,
            },
            // A text too long to tokenize inside a cell's value is a cell too long.
            Trip::Token if self.values_open > 0 && self.phonetic_open == 0 => {
                ReadError::CellTooLong {
                    place: self.place(part),
                    limit: limits.max_cell_chars as u64,
                }
            }
            Trip::Token => ReadError::MarkupTooLarge {
                place: self.place(part),
                what: "one piece of its XML (a tag or a text)",
                limit: limits.max_markup_bytes,
            },
        }
    }

    fn start(
        &mut self,
        local: &str,
        name_len: usize,
        attrs: &str,
        start: u64,
        part: &Part<'_>,
    ) -> Result<(), Stop> {
        let limits = part.limits;
        if self.frames.len() >= MAX_DEPTH || self.open_name_bytes + name_len > MAX_OPEN_NAME_BYTES {
            return Err(Stop::Malformed(format!(
                "`{}` nests elements more than {MAX_DEPTH} deep",
                part.name
            )));
        }
        let mut frame = Frame {
            name_len,
            ..Frame::default()
        };
        let in_value_holder = self.cell.is_some() || self.string.is_some();
        match local {
            "row" => {
                if let Some((row, _)) = attribute(attrs, "r").and_then(parse_reference) {
                    self.row = checked_row(row, part)?;
                }
                frame.is_row = true;
            }
            "c" => {
                let (column, row) = match attribute(attrs, "r").and_then(parse_reference) {
                    Some((row, Some(column))) => (column, checked_row(row, part)?),
                    _ => (self.column, self.row),
                };
                self.column = column;
                self.cell = Some((column, row));
                frame.is_cell = true;
                if column >= limits.max_columns as u64 {
                    return Err(ReadError::TooManyColumns {
                        place: self.place(part),
                        limit: limits.max_columns as u64,
                    }
                    .into());
                }
                self.chars = 0;
                self.bound(start, limits.max_markup_bytes, "the cell's XML");
            }
            "si" => {
                self.strings += 1;
                if self.strings > limits.max_shared_strings {
                    return Err(ReadError::TooManySharedStrings {
                        part: part.name.to_owned(),
                        limit: limits.max_shared_strings,
                    }
                    .into());
                }
                self.string = Some(self.strings - 1);
                frame.is_string = true;
                self.chars = 0;
                self.bound(start, limits.max_markup_bytes, "the shared string's XML");
            }
            "sst" => {
                let declared = attribute(attrs, "uniqueCount").and_then(parse_count);
                if declared.is_some_and(|n| n > limits.max_shared_strings) {
                    return Err(ReadError::TooManySharedStrings {
                        part: part.name.to_owned(),
                        limit: limits.max_shared_strings,
                    }
                    .into());
                }
            }
            "t" | "v" if in_value_holder && self.phonetic_open == 0 => {
                self.values_open += 1;
                frame.is_value = true;
            }
            "rPh" => {
                self.phonetic_open += 1;
                frame.is_phonetic = true;
            }
            "cellXfs" if part.is_metadata => {
                self.formats_open += 1;
                frame.is_formats = true;
            }
            "xf" if part.is_metadata && self.formats_open > 0 => {
                self.formats += 1;
                if self.formats > limits.max_cell_formats as u64 {
                    return Err(ReadError::TooManyCellFormats {
                        part: part.name.to_owned(),
                        limit: limits.max_cell_formats as u64,
                    }
                    .into());
                }
            }
            "font" | "numFmt" if part.is_metadata => {
                self.bound(start, limits.max_style_bytes, "a font or number format")
            }
            "definedName" if part.is_metadata => {
                self.bound(start, limits.max_markup_bytes, "a defined name")
            }
            _ => {}
        }
        self.open_name_bytes += name_len;
        self.frames.push(frame);
        Ok(())
    }

    fn bound(&mut self, start: u64, limit: u64, what: &'static str) {
        self.bounded.push(Bounded {
            depth: self.frames.len(),
            start,
            limit,
            what,
        });
    }

    fn end(&mut self) {
        let Some(frame) = self.frames.pop() else {
            return;
        };
        self.open_name_bytes = self.open_name_bytes.saturating_sub(frame.name_len);
        let depth = self.frames.len();
        while self.bounded.last().is_some_and(|b| b.depth >= depth) {
            self.bounded.pop();
        }
        if frame.is_cell {
            self.cell = None;
            self.column = self.column.saturating_add(1);
        }
        if frame.is_string {
            self.string = None;
        }
        if frame.is_value {
            self.values_open -= 1;
        }
        if frame.is_phonetic {
            self.phonetic_open -= 1;
        }
        if frame.is_formats {
            self.formats_open -= 1;
        }
        if frame.is_row {
            self.row = self.row.saturating_add(1);
            self.column = 0;
        }
    }

    /// Text of `chars` characters in `bytes` bytes: counted when it is part of a cell's
    /// or shared string's value.
    fn text(&mut self, chars: u64, bytes: u64, part: &Part<'_>) -> Result<(), Stop> {
        if self.values_open == 0 || self.phonetic_open > 0 {
            return Ok(());
        }
        self.chars = self.chars.saturating_add(chars);
        if self.chars > part.limits.max_cell_chars as u64 {
            return Err(ReadError::CellTooLong {
                place: self.place(part),
                limit: part.limits.max_cell_chars as u64,
            }
            .into());
        }
        if self.string.is_none() {
            return Ok(());
        }
        self.string_bytes = self.string_bytes.saturating_add(bytes);
        if self.string_bytes > part.limits.max_shared_strings_bytes {
            return Err(ReadError::SharedStringsTooLarge {
                part: part.name.to_owned(),
                limit: part.limits.max_shared_strings_bytes,
            }
            .into());
        }
        Ok(())
    }

    fn check_bounded(&self, consumed: u64, part: &Part<'_>) -> Result<(), ReadError> {
        match self.bounded.iter().find(|b| consumed - b.start > b.limit) {
            Some(b) => Err(ReadError::MarkupTooLarge {
                place: self.place(part),
                what: b.what,
                limit: b.limit,
            }),
            None => Ok(()),
        }
    }
}

/// The value of the attribute named exactly `key` in a tag's raw attributes, read as the
/// spreadsheet library reads them: the first `key="value"` or `key='value'`, no
/// unescaping; `None` past a malformed attribute.
pub(crate) fn attribute<'a>(raw: &'a str, key: &str) -> Option<&'a str> {
    attributes(raw).find(|(k, _)| *k == key).map(|(_, v)| v)
}

/// Every `key="value"` of a tag's raw attributes, stopping at a malformed one.
pub(crate) fn attributes(raw: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = raw;
    std::iter::from_fn(move || {
        let trimmed = rest.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let (key, after) = trimmed.split_once('=')?;
        let after = after.trim_start_matches(|c: char| c.is_ascii_whitespace());
        let quote = after.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let value = &after[1..];
        let (value, next) = value.split_once(quote).unwrap_or((value, ""));
        rest = next;
        Some((
            key.trim_end_matches(|c: char| c.is_ascii_whitespace()),
            value,
        ))
    })
}

/// A reference such as `B7` or `7` as (row, column), both from 0, the way the library
/// reads it; `None` when malformed. Values past `u64` saturate.
pub(crate) fn parse_reference(reference: &str) -> Option<(u64, Option<u64>)> {
    let bytes = reference.as_bytes();
    let letters = bytes.iter().take_while(|b| b.is_ascii_alphabetic()).count();
    let digits = &bytes[letters..];
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let column = bytes[..letters].iter().fold(0u64, |n, b| {
        n.saturating_mul(26)
            .saturating_add(u64::from(b.to_ascii_uppercase() - b'A') + 1)
    });
    let row = parse_count(std::str::from_utf8(digits).ok()?)?;
    Some((row.checked_sub(1)?, column.checked_sub(1)))
}

/// `row` (from 0), unless past the last row the library can number (`u32::MAX`).
fn checked_row(row: u64, part: &Part<'_>) -> Result<u64, Stop> {
    if row < u64::from(u32::MAX) {
        Ok(row)
    } else {
        Err(Stop::Malformed(format!(
            "`{}` refers to row {}, past the last row a sheet can have",
            part.name,
            Count(row.saturating_add(1))
        )))
    }
}

/// A decimal count, saturating at `u64::MAX`; `None` unless all digits.
fn parse_count(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.bytes().fold(0u64, |n, b| {
        n.saturating_mul(10).saturating_add(u64::from(b - b'0'))
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_read_as_the_library_reads_them() {
        assert_eq!(parse_reference("B7"), Some((6, Some(1))));
        assert_eq!(
            parse_reference("xfd1048576"),
            Some((1_048_575, Some(16_383)))
        );
        assert_eq!(parse_reference("7"), Some((6, None)));
        assert_eq!(parse_reference("A0"), None);
        assert_eq!(parse_reference("A"), None);
        assert_eq!(parse_reference("A1B"), None);
        assert_eq!(parse_reference("$A$1"), None);
        let (_, column) = parse_reference(&format!("{}1", "Z".repeat(40))).unwrap();
        assert_eq!(column, Some(u64::MAX - 1), "saturates");
    }

    #[test]
    fn attributes_read_as_the_library_reads_them() {
        let raw = r#" r="A1" t = 's'  x:id="rId1" s="a&amp;b""#;
        let all: Vec<_> = attributes(raw).collect();
        assert_eq!(
            all,
            [("r", "A1"), ("t", "s"), ("x:id", "rId1"), ("s", "a&amp;b")]
        );
        assert_eq!(attribute(raw, "t"), Some("s"));
        assert_eq!(attribute(raw, "id"), None);
        assert_eq!(
            attributes(r#" a="1" b=2 c="3""#).count(),
            1,
            "stops when malformed"
        );
        assert_eq!(
            attributes(r#" a="unclosed"#).collect::<Vec<_>>(),
            [("a", "unclosed")]
        );
    }
}
