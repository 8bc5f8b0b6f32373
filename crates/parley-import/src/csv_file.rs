//! The CSV reader: encoding, delimiter, RFC 4180 quoting (embedded newlines included), and
//! the errors a broken file gets — binary content and an unterminated quote, each with its
//! line.

use std::io::{Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::source::{ReadError, ReadOutcome, Row, RowSink};
use crate::text::{
    Counting, Encoding, QuoteTracker, SAMPLE_BYTES, Utf16ToUtf8, decode_cp1252, detect,
};

/// What was learnt about a CSV file before reading its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvDialect {
    /// The text encoding.
    pub encoding: Encoding,
    /// The field delimiter.
    pub delimiter: u8,
    /// Lines end with CR LF (judged from the first line ending in the sample).
    pub crlf: bool,
}

/// Reads a whole CSV file into `sink`. `bytes_read` grows as the file is consumed.
pub fn read_csv(
    input: impl Read,
    bytes_read: Arc<AtomicU64>,
    sink: &mut dyn RowSink,
) -> Result<(CsvDialect, ReadOutcome), ReadError> {
    let mut input = Counting::new(input, bytes_read);
    let mut sample = Vec::with_capacity(SAMPLE_BYTES);
    (&mut input)
        .take(SAMPLE_BYTES as u64)
        .read_to_end(&mut sample)
        .map_err(|e| ReadError::Io(e.to_string()))?;
    let (encoding, bom) = detect(&sample);
    let sample_text = match encoding {
        Encoding::Utf8 => String::from_utf8_lossy(&sample[bom..]).into_owned(),
        Encoding::Windows1252 => decode_cp1252(&sample),
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut text = String::new();
            let even = bom + (sample.len() - bom) / 2 * 2;
            Utf16ToUtf8::new(&sample[bom..even], encoding == Encoding::Utf16Be)
                .read_to_string(&mut text)
                .map_err(|e| ReadError::Io(e.to_string()))?;
            text
        }
    };
    if let Some(offset) = sample_text.find('\0') {
        let line = 1 + sample_text[..offset].matches('\n').count() as u64;
        return Err(ReadError::Binary { line });
    }
    let delimiter = crate::sniff::sniff_delimiter(&sample_text);
    let dialect = CsvDialect {
        encoding,
        delimiter,
        crlf: sample_text
            .find('\n')
            .is_some_and(|at| sample_text[..at].ends_with('\r')),
    };
    let rest = Cursor::new(sample).chain(input);
    let outcome = match encoding {
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let mut rest = rest;
            let mut skip = [0u8; 2];
            rest.read_exact(&mut skip)
                .map_err(|e| ReadError::Io(e.to_string()))?;
            let text = Utf16ToUtf8::new(rest, encoding == Encoding::Utf16Be);
            read_records(text, dialect, sink)?
        }
        Encoding::Utf8 | Encoding::Windows1252 => {
            let mut rest = rest;
            let mut skip = vec![0u8; bom];
            rest.read_exact(&mut skip)
                .map_err(|e| ReadError::Io(e.to_string()))?;
            read_records(rest, dialect, sink)?
        }
    };
    Ok((dialect, outcome))
}

fn read_records(
    text: impl Read,
    dialect: CsvDialect,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let mut tracker = QuoteTracker::new(text, dialect.delimiter);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(dialect.delimiter)
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(64 * 1024)
        .from_reader(&mut tracker);
    let mut record = csv::ByteRecord::new();
    let mut header_seen = false;
    // One record is held back: when the file ends inside a quoted field, the last record
    // is the remainder of the file and must not be imported.
    let mut pending: Option<Row> = None;
    loop {
        let more = reader.read_byte_record(&mut record).map_err(|e| {
            let line = e.position().map_or(1, csv::Position::line) + u64::from(dialect.crlf);
            ReadError::Csv {
                line,
                message: e.to_string(),
            }
        })?;
        if !more {
            break;
        }
        // The csv crate counts the `\n`s consumed before the record, from 1. A CR LF
        // line's `\r` ends its record and its `\n` is consumed with the next one, so
        // there every record starts one `\n` short.
        let line = record.position().map_or(1, csv::Position::line) + u64::from(dialect.crlf);
        let strings = to_strings(&record, dialect.encoding);
        if !header_seen {
            header_seen = true;
            let header = strings.iter().map(|h| h.trim().to_owned()).collect();
            if sink.header(header).is_err() {
                return Ok(ReadOutcome::Stopped);
            }
            continue;
        }
        let row = Row::from_csv(line, strings);
        if row.is_blank() {
            continue;
        }
        if let Some(previous) = pending.replace(row)
            && sink.row(previous).is_err()
        {
            return Ok(ReadOutcome::Stopped);
        }
    }
    drop(reader);
    if let Some(line) = tracker.nul_at() {
        return Err(ReadError::Binary { line });
    }
    if let Some(line) = tracker.unterminated_at() {
        return Err(ReadError::UnterminatedQuote { line });
    }
    if !header_seen {
        return Err(ReadError::Empty);
    }
    if let Some(last) = pending
        && sink.row(last).is_err()
    {
        return Ok(ReadOutcome::Stopped);
    }
    Ok(ReadOutcome::Finished)
}

/// The record as text: UTF-8 when it is, Windows-1252 otherwise (field by field).
fn to_strings(record: &csv::ByteRecord, encoding: Encoding) -> csv::StringRecord {
    if encoding != Encoding::Windows1252
        && let Ok(strings) = csv::StringRecord::from_byte_record(record.clone())
    {
        return strings;
    }
    record
        .iter()
        .map(|field| match std::str::from_utf8(field) {
            Ok(s) if encoding != Encoding::Windows1252 => s.to_owned(),
            _ => decode_cp1252(field),
        })
        .collect()
}
