//! The `.xls` check: the records of the workbook stream, walked the way the spreadsheet
//! library walks them when it opens the workbook, which is when it builds every sheet in
//! memory at once: a dense table over each sheet's used range (32 bytes a cell, its
//! formulas another 24), after a list of every cell record (40 bytes each, with room
//! first reserved for the rows × columns the sheet declares), each cell holding its own
//! copy of its text. This counts all of that against [`SheetLimits`] before the library
//! runs, and refuses the records that would make it panic or reserve without bound.
//!
//! An `.xls` sheet has at most 65,536 rows of 256 columns by its format, but the library
//! takes any row and column a record names (up to 65,536 columns) and the row count a
//! record declares (up to 2³²), so the format bounds nothing by itself.

use std::collections::VecDeque;

use crate::limits::{SheetLimits, shorten};
use crate::source::{Place, ReadError, cell_name};

/// One record, with the `CONTINUE` records that follow it.
struct Record<'a> {
    kind: u16,
    data: &'a [u8],
    more: VecDeque<&'a [u8]>,
}

impl<'a> Record<'a> {
    /// Moves on to the next `CONTINUE` record's data.
    fn next_part(&mut self) -> bool {
        match self.more.pop_front() {
            Some(data) => {
                self.data = data;
                true
            }
            None => false,
        }
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*data.get(at)?, *data.get(at + 1)?]))
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *data.get(at)?,
        *data.get(at + 1)?,
        *data.get(at + 2)?,
        *data.get(at + 3)?,
    ]))
}

/// The records from the start of `stream`, as the library reads them: `None` where it
/// stops with an error (a record longer than what is left).
fn records(mut stream: &[u8]) -> impl Iterator<Item = Option<Record<'_>>> {
    std::iter::from_fn(move || {
        if stream.is_empty() {
            return None;
        }
        let (Some(kind), Some(len)) = (u16_at(stream, 0), u16_at(stream, 2)) else {
            stream = &[];
            return Some(None);
        };
        let Some(data) = stream.get(4..4 + usize::from(len)) else {
            stream = &[];
            return Some(None);
        };
        stream = &stream[4 + usize::from(len)..];
        let mut more = VecDeque::new();
        while stream.len() > 4 && u16_at(stream, 0) == Some(0x003C) {
            let len = usize::from(u16_at(stream, 2).unwrap_or(0));
            let Some(part) = stream.get(4..4 + len) else {
                stream = &[];
                return Some(None);
            };
            more.push_back(part);
            stream = &stream[4 + len..];
        }
        Some(Some(Record { kind, data, more }))
    })
}

/// Why the walk ends.
enum End {
    /// The library stops here with an error of its own.
    Fails,
    /// Refused.
    Refuse(ReadError),
}

impl From<ReadError> for End {
    fn from(e: ReadError) -> Self {
        End::Refuse(e)
    }
}

fn damaged(why: &str) -> End {
    End::Refuse(ReadError::Workbook {
        format: "XLS",
        message: format!("the workbook is damaged: {why}"),
    })
}

/// Checks the workbook stream of an `.xls` against `limits`.
pub(crate) fn check_workbook(stream: &[u8], limits: &SheetLimits) -> Result<(), ReadError> {
    match walk(stream, limits) {
        Ok(()) | Err(End::Fails) => Ok(()),
        Err(End::Refuse(e)) => Err(e),
    }
}

fn walk(stream: &[u8], limits: &SheetLimits) -> Result<(), End> {
    let mut is_biff8 = true;
    let mut sheets: Vec<(usize, String)> = Vec::new();
    // The characters of each shared string.
    let mut strings: Vec<u64> = Vec::new();
    let mut totals = Totals::default();
    for record in records(stream) {
        let mut record = record.ok_or(End::Fails)?;
        let data = record.data;
        let short = |n: usize| data.len() < n;
        match record.kind {
            0x002F | 0x0042 | 0x0022 | 0x0809 if short(2) => {
                return Err(damaged("a record is cut short"));
            }
            0x002F if u16_at(data, 0) != Some(0) => return Err(End::Fails),
            0x0809 => {
                let version = u16_at(data, 0).unwrap_or(0);
                let kind = u16_at(data, 2).unwrap_or(0);
                is_biff8 = match version {
                    0x0200 | 0x0002 | 0x0007 | 0x0300 | 0x0400 | 0x0500 => false,
                    0 => kind != 0x1000,
                    _ => true,
                };
            }
            0x0085 => {
                if short(6) {
                    return Err(damaged("a sheet record is cut short"));
                }
                if !matches!(data[4] & 0x3F, 0..=2) || !matches!(data[5], 0 | 1 | 2 | 6) {
                    return Err(End::Fails);
                }
                let position = u32_at(data, 0).map_or(usize::MAX, |p| p as usize);
                if position > stream.len() {
                    return Err(damaged("a sheet starts past the end of the workbook"));
                }
                sheets.push((
                    position,
                    sheet_name(&data[6..], is_biff8).ok_or(End::Fails)?,
                ));
            }
            0x00FC => {
                strings = shared_strings(&mut record)?;
                totals.text = strings.iter().sum::<u64>().saturating_mul(3);
            }
            0x000A => break,
            _ => {}
        }
    }
    for (position, name) in &sheets {
        check_sheet(
            &stream[*position..],
            name,
            &strings,
            is_biff8,
            limits,
            &mut totals,
        )?;
    }
    Ok(())
}

/// A sheet's name from its record, for messages.
fn sheet_name(data: &[u8], is_biff8: bool) -> Option<String> {
    let (&count, rest) = data.split_first()?;
    let count = usize::from(count);
    let name: String = if is_biff8 {
        let (&flags, chars) = rest.split_first()?;
        if flags & 1 == 1 {
            let units: Vec<u16> = chars
                .chunks_exact(2)
                .take(count)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16_lossy(&units)
        } else {
            chars.iter().take(count).map(|b| char::from(*b)).collect()
        }
    } else {
        rest.iter().take(count).map(|b| char::from(*b)).collect()
    };
    Some(shorten(&name.replace('\0', ""), 120))
}

/// The characters of each string of the shared string table, read as the library reads
/// them (a string may continue in the next `CONTINUE` record).
fn shared_strings(record: &mut Record<'_>) -> Result<Vec<u64>, End> {
    if record.data.len() < 8 {
        return Err(End::Fails);
    }
    record.data = &record.data[8..];
    let mut strings = Vec::new();
    while !record.data.is_empty() || record.next_part() {
        if record.data.is_empty() {
            strings.push(0);
            continue;
        }
        let (Some(count), Some(&flags)) = (u16_at(record.data, 0), record.data.get(2)) else {
            return Err(End::Fails);
        };
        record.data = &record.data[3..];
        let mut runs = 0usize;
        let mut extra = 0usize;
        if flags & 0x8 != 0 {
            runs = usize::from(
                u16_at(record.data, 0).ok_or_else(|| damaged("a string is cut short"))?,
            );
            record.data = &record.data[2..];
        }
        if flags & 0x4 != 0 {
            let size = u32_at(record.data, 0).ok_or_else(|| damaged("a string is cut short"))?;
            extra = i32::from_le_bytes(size.to_le_bytes()) as usize;
            record.data = &record.data[4..];
        }
        let (mut left, mut wide) = (usize::from(count), flags & 1 == 1);
        while left > 0 {
            let available = if wide {
                record.data.len() / 2
            } else {
                record.data.len()
            };
            let taken = available.min(left);
            record.data = &record.data[if wide { taken * 2 } else { taken }..];
            left -= taken;
            if left > 0 {
                if !record.next_part() {
                    return Err(End::Fails);
                }
                let (&next_flags, rest) = record
                    .data
                    .split_first()
                    .ok_or_else(|| damaged("a string is cut short"))?;
                wide = next_flags & 1 == 1;
                record.data = rest;
            }
        }
        skip(record, runs.saturating_mul(4))?;
        skip(record, extra)?;
        strings.push(u64::from(count));
    }
    Ok(strings)
}

fn skip(record: &mut Record<'_>, mut len: usize) -> Result<(), End> {
    while len > 0 {
        if record.data.is_empty() && !record.next_part() {
            return Err(End::Fails);
        }
        let n = len.min(record.data.len());
        record.data = &record.data[n..];
        len -= n;
    }
    Ok(())
}

/// What all the sheets so far hold in memory.
#[derive(Debug, Default)]
struct Totals {
    /// Cells of the dense tables (values and formulas).
    cells: u64,
    /// Bytes of text, counted as up to 3 bytes a character.
    text: u64,
}

/// The smallest rectangle holding some cells.
#[derive(Debug, Default, Clone, Copy)]
struct Range {
    rows: Option<(u32, u32)>,
    columns: (u32, u32),
}

impl Range {
    fn add(&mut self, row: u32, column: u32) {
        match &mut self.rows {
            None => {
                self.rows = Some((row, row));
                self.columns = (column, column);
            }
            Some((first, last)) => {
                *first = (*first).min(row);
                *last = (*last).max(row);
                self.columns = (self.columns.0.min(column), self.columns.1.max(column));
            }
        }
    }

    /// (rows, columns).
    fn size(&self) -> (u64, u64) {
        match self.rows {
            None => (0, 0),
            Some((first, last)) => (
                u64::from(last - first) + 1,
                u64::from(self.columns.1 - self.columns.0) + 1,
            ),
        }
    }
}

/// A sheet as the library builds it, so far.
struct Sheet<'a> {
    name: &'a str,
    limits: &'a SheetLimits,
    values: Range,
    formulas: Range,
    /// Cell records listed, and the most cells room was reserved for.
    listed: u64,
    reserved: u64,
    text: u64,
}

impl Sheet<'_> {
    fn too_large(&self, (rows, columns): (u64, u64)) -> End {
        End::Refuse(ReadError::XlsTooLarge {
            sheet: self.name.to_owned(),
            rows,
            columns,
            limit: self.limits.max_xls_cells,
        })
    }

    /// A cell record at `row`, `column` with `chars` characters of text.
    fn cell(&mut self, row: u32, column: u32, chars: u64) -> Result<(), End> {
        if column as usize >= self.limits.max_columns {
            return Err(ReadError::TooManyColumns {
                place: Place::Cell {
                    sheet: self.name.to_owned(),
                    cell: cell_name(u64::from(column), u64::from(row) + 1),
                },
                limit: self.limits.max_columns as u64,
            }
            .into());
        }
        self.values.add(row, column);
        self.listed += 1;
        self.text = self.text.saturating_add(chars.saturating_mul(3));
        Ok(())
    }

    /// The cells of the sheet's dense tables.
    fn dense(&self) -> u64 {
        let (v, f) = (self.values.size(), self.formulas.size());
        v.0 * v.1 + f.0 * f.1
    }

    /// Refuses the sheet once it takes the workbook past a limit.
    fn check(&self, totals: &Totals) -> Result<(), End> {
        let (v, f) = (self.values.size(), self.formulas.size());
        if totals.cells.saturating_add(self.dense()) > self.limits.max_xls_cells {
            return Err(self.too_large(if v.0 * v.1 >= f.0 * f.1 { v } else { f }));
        }
        if self.listed.max(self.reserved) > self.limits.max_xls_cells {
            return Err(self.too_large(v));
        }
        if totals.text.saturating_add(self.text) > self.limits.max_xls_text_bytes {
            return Err(ReadError::XlsTextTooLarge {
                sheet: self.name.to_owned(),
                limit: self.limits.max_xls_text_bytes,
            }
            .into());
        }
        Ok(())
    }
}

/// One sheet's records, from its start to its end, as the library builds the sheet.
fn check_sheet(
    stream: &[u8],
    name: &str,
    strings: &[u64],
    is_biff8: bool,
    limits: &SheetLimits,
    totals: &mut Totals,
) -> Result<(), End> {
    let mut sheet = Sheet {
        name,
        limits,
        values: Range::default(),
        formulas: Range::default(),
        listed: 0,
        reserved: 0,
        text: 0,
    };
    let mut formula_at = (0u32, 0u32);
    let (mut seen_start, mut nested) = (false, 0usize);
    for record in records(stream) {
        let record = record.ok_or(End::Fails)?;
        let data = record.data;
        if nested > 0 {
            match record.kind {
                0x0809 => nested += 1,
                0x000A => nested -= 1,
                _ => {}
            }
            continue;
        }
        let at = |i| u16_at(data, i).map_or(0, u32::from);
        let (row, column) = (at(0), at(2));
        match record.kind {
            0x0809 if seen_start => nested += 1,
            0x0809 => seen_start = true,
            0x000A => break,
            0x0200 => {
                let (rows, columns) = declared_size(data)?;
                if rows.saturating_mul(columns) > limits.max_xls_cells {
                    return Err(sheet.too_large((rows, columns)));
                }
                sheet.reserved = sheet.reserved.max(rows * columns);
            }
            0x0203 | 0x0205 | 0x027E if data.len() < 8 => return Err(End::Fails),
            0x0203 if data.len() < 14 => return Err(End::Fails),
            0x027E if data.len() < 10 => return Err(End::Fails),
            0x0203 | 0x0205 | 0x027E => sheet.cell(row, column, 0)?,
            0x0204 | 0x00D6 => {
                let chars = string_chars(data.get(6..).ok_or(End::Fails)?, is_biff8)?;
                sheet.cell(row, column, chars)?;
            }
            0x0207 => {
                let chars = string_chars(data, is_biff8)?;
                sheet.cell(formula_at.0, formula_at.1, chars)?;
            }
            0x00FD => {
                let index = u32_at(data, 6).ok_or(End::Fails)? as usize;
                if let Some(chars) = strings.get(index) {
                    sheet.cell(row, column, *chars)?;
                }
            }
            0x00BD => {
                if data.len() < 6 {
                    return Err(End::Fails);
                }
                let last = at(data.len() - 2);
                if last < column || last - column + 1 > u32::from(u16::MAX) {
                    return Err(damaged("a row of numbers ends before it starts"));
                }
                if data.len() != 6 + 6 * (last - column + 1) as usize {
                    return Err(End::Fails);
                }
                for c in column..=last {
                    sheet.cell(row, c, 0)?;
                }
            }
            0x0006 => {
                if data.len() < 20 {
                    return Err(End::Fails);
                }
                formula_at = (row, column);
                sheet.cell(row, column, 0)?;
                sheet.formulas.add(row, column);
            }
            _ => {}
        }
        sheet.check(totals)?;
    }
    totals.cells += sheet.dense();
    totals.text = totals.text.saturating_add(sheet.text);
    Ok(())
}

/// The rows and columns a `DIMENSIONS` record declares, as the library computes them to
/// reserve room for that many cells (with its wrapping arithmetic: a record whose end
/// comes before its start declares some four billion rows).
fn declared_size(data: &[u8]) -> Result<(u64, u64), End> {
    let (first_row, last_row, mut first_column, last_column) = match data.len() {
        10 => (
            u32_at_u16(data, 0),
            u32_at_u16(data, 2),
            u32_at_u16(data, 4),
            u32_at_u16(data, 6),
        ),
        14 | 16 => (
            u32_at(data, 0).unwrap_or(0),
            u32_at(data, 4).unwrap_or(0),
            u32_at_u16(data, 8),
            u32_at_u16(data, 10),
        ),
        _ => return Err(End::Fails),
    };
    if first_column > 0xFF || last_column < first_column {
        first_column = 0;
    }
    if last_row == 0 || last_column == 0 {
        return Ok((1, 1));
    }
    let size = |first: u32, last: u32| u64::from((last - 1).wrapping_sub(first).wrapping_add(1));
    Ok((size(first_row, last_row), size(first_column, last_column)))
}

fn u32_at_u16(data: &[u8], at: usize) -> u32 {
    u16_at(data, at).map_or(0, u32::from)
}

/// The characters of an `XLUnicodeString` (BIFF8) or byte string (earlier), as many as
/// the record holds.
fn string_chars(data: &[u8], is_biff8: bool) -> Result<u64, End> {
    let header = if is_biff8 { 3 } else { 2 };
    if data.len() < header {
        return if data.len() == 2 && u16_at(data, 0) == Some(0) {
            Ok(0)
        } else {
            Err(End::Fails)
        };
    }
    let count = u16_at(data, 0).map_or(0, usize::from);
    let bytes = data.len() - header;
    let wide = is_biff8 && data[2] & 1 == 1;
    Ok(count.min(if wide { bytes / 2 } else { bytes }) as u64)
}
