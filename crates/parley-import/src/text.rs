//! Turning a CSV file's bytes into UTF-8 text: byte-order marks, UTF-16 transcoding, the
//! Windows-1252 fallback, and a byte counter for progress.
//!
//! Decision: the first 64 KiB decide the encoding. A UTF-16 BOM selects UTF-16; otherwise
//! the text is UTF-8 (BOM skipped) unless that sample is not valid UTF-8, in which case
//! the whole file is Windows-1252. A later record that is not valid UTF-8 in a file that
//! looked like UTF-8 is read as Windows-1252 too, so no byte is ever lost or replaced.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How much of the file is sampled to choose the encoding and the delimiter.
pub const SAMPLE_BYTES: usize = 64 * 1024;

/// The text encodings a CSV file may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, with or without BOM.
    Utf8,
    /// UTF-16 little endian, with BOM.
    Utf16Le,
    /// UTF-16 big endian, with BOM.
    Utf16Be,
    /// Windows-1252 (what Excel writes as "CSV" on Western Windows).
    Windows1252,
}

/// The characters Windows-1252 puts at 0x80–0x9F; the other bytes are Latin-1.
/// Undefined slots (0x81, 0x8D, 0x8F, 0x90, 0x9D) map to the C1 control of the same value.
const CP1252_HIGH: [char; 32] = [
    '\u{20AC}', '\u{81}', '\u{201A}', '\u{0192}', '\u{201E}', '\u{2026}', '\u{2020}', '\u{2021}',
    '\u{02C6}', '\u{2030}', '\u{0160}', '\u{2039}', '\u{0152}', '\u{8D}', '\u{017D}', '\u{8F}',
    '\u{90}', '\u{2018}', '\u{2019}', '\u{201C}', '\u{201D}', '\u{2022}', '\u{2013}', '\u{2014}',
    '\u{02DC}', '\u{2122}', '\u{0161}', '\u{203A}', '\u{0153}', '\u{9D}', '\u{017E}', '\u{0178}',
];

/// Decodes Windows-1252 bytes (every byte sequence is valid).
#[must_use]
pub fn decode_cp1252(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9F => CP1252_HIGH[usize::from(b - 0x80)],
            _ => char::from(b),
        })
        .collect()
}

/// Reads the encoding from the sample's BOM and content. Returns the encoding and the
/// BOM's length.
#[must_use]
pub fn detect(sample: &[u8]) -> (Encoding, usize) {
    match sample {
        [0xEF, 0xBB, 0xBF, ..] => (Encoding::Utf8, 3),
        [0xFF, 0xFE, ..] => (Encoding::Utf16Le, 2),
        [0xFE, 0xFF, ..] => (Encoding::Utf16Be, 2),
        _ => match std::str::from_utf8(sample) {
            Ok(_) => (Encoding::Utf8, 0),
            // A character cut by the end of the sample is not a reason to distrust UTF-8.
            Err(e) if e.error_len().is_none() => (Encoding::Utf8, 0),
            Err(_) => (Encoding::Windows1252, 0),
        },
    }
}

/// Counts the bytes read through it into a shared counter (the import's progress).
pub struct Counting<R> {
    inner: R,
    counter: Arc<AtomicU64>,
}

impl<R> Counting<R> {
    /// Wraps `inner`, adding to `counter`.
    pub fn new(inner: R, counter: Arc<AtomicU64>) -> Self {
        Self { inner, counter }
    }
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.counter.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Transcodes UTF-16 (after its BOM) into UTF-8 as it is read. Unpaired surrogates become
/// U+FFFD, as does a dangling last byte.
pub struct Utf16ToUtf8<R> {
    inner: R,
    big_endian: bool,
    raw: Vec<u8>,
    carry: Option<u8>,
    pending_high: Option<u16>,
    out: Vec<u8>,
    out_pos: usize,
    eof: bool,
}

impl<R: Read> Utf16ToUtf8<R> {
    /// Wraps `inner`, positioned just after the BOM.
    pub fn new(inner: R, big_endian: bool) -> Self {
        Self {
            inner,
            big_endian,
            raw: vec![0; 16 * 1024],
            carry: None,
            pending_high: None,
            out: Vec::with_capacity(24 * 1024),
            out_pos: 0,
            eof: false,
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn push_unit(&mut self, unit: u16) {
        match (self.pending_high.take(), unit) {
            (Some(high), 0xDC00..=0xDFFF) => {
                let code =
                    0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                self.push_char(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            (previous, _) => {
                if previous.is_some() {
                    self.push_char('\u{FFFD}');
                }
                match unit {
                    0xD800..=0xDBFF => self.pending_high = Some(unit),
                    0xDC00..=0xDFFF => self.push_char('\u{FFFD}'),
                    _ => self.push_char(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}')),
                }
            }
        }
    }

    fn fill(&mut self) -> io::Result<()> {
        self.out.clear();
        self.out_pos = 0;
        while self.out.is_empty() && !self.eof {
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                self.eof = true;
                if self.carry.take().is_some() || self.pending_high.take().is_some() {
                    self.push_char('\u{FFFD}');
                }
                break;
            }
            let mut bytes: Vec<u8> = Vec::with_capacity(n + 1);
            bytes.extend(self.carry.take());
            bytes.extend_from_slice(&self.raw[..n]);
            let mut pairs = bytes.chunks_exact(2);
            for pair in pairs.by_ref() {
                let unit = if self.big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                };
                self.push_unit(unit);
            }
            self.carry = pairs.remainder().first().copied();
        }
        Ok(())
    }
}

impl<R: Read> Read for Utf16ToUtf8<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.out_pos == self.out.len() {
            self.fill()?;
        }
        let available = &self.out[self.out_pos..];
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.out_pos += n;
        Ok(n)
    }
}

/// Follows RFC 4180 quoting over the text as the CSV parser reads it, so that a file
/// ending inside a quoted field can be reported with the line where the quote opened (the
/// `csv` crate reads such a field to the end of the file without complaint).
pub struct QuoteTracker<R> {
    inner: R,
    delimiter: u8,
    state: QuoteState,
    line: u64,
    open_line: u64,
    nul_line: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuoteState {
    FieldStart,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R> QuoteTracker<R> {
    /// Wraps `inner` (UTF-8 text) for a file using `delimiter`.
    pub fn new(inner: R, delimiter: u8) -> Self {
        Self {
            inner,
            delimiter,
            state: QuoteState::FieldStart,
            line: 1,
            open_line: 0,
            nul_line: None,
        }
    }

    /// The line of an unclosed quote, once the whole input has been read.
    #[must_use]
    pub fn unterminated_at(&self) -> Option<u64> {
        (self.state == QuoteState::Quoted).then_some(self.open_line)
    }

    /// The line of the first NUL byte seen, if any.
    #[must_use]
    pub fn nul_at(&self) -> Option<u64> {
        self.nul_line
    }

    fn scan(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if b == b'\n' {
                self.line += 1;
            } else if b == 0 && self.nul_line.is_none() {
                self.nul_line = Some(self.line);
            }
            self.state = match (self.state, b) {
                (QuoteState::FieldStart, b'"') => {
                    self.open_line = self.line;
                    QuoteState::Quoted
                }
                (QuoteState::Quoted, b'"') => QuoteState::QuoteInQuoted,
                (QuoteState::Quoted, _) => QuoteState::Quoted,
                (QuoteState::QuoteInQuoted, b'"') => QuoteState::Quoted,
                (_, b'\n' | b'\r') => QuoteState::FieldStart,
                (_, d) if d == self.delimiter => QuoteState::FieldStart,
                _ => QuoteState::Unquoted,
            };
        }
    }
}

impl<R: Read> Read for QuoteTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.scan(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_are_detected_from_bom_and_content() {
        assert_eq!(detect(b"\xEF\xBB\xBFa,b"), (Encoding::Utf8, 3));
        assert_eq!(detect(b"\xFF\xFEa\0"), (Encoding::Utf16Le, 2));
        assert_eq!(detect(b"\xFE\xFF\0a"), (Encoding::Utf16Be, 2));
        assert_eq!(detect("café".as_bytes()), (Encoding::Utf8, 0));
        assert_eq!(detect(b"caf\xE9,x"), (Encoding::Windows1252, 0));
        // A multi-byte character cut at the end of the sample.
        assert_eq!(detect(b"abc\xC3"), (Encoding::Utf8, 0));
    }

    #[test]
    fn cp1252_maps_the_high_block() {
        assert_eq!(decode_cp1252(b"\x80 \x93x\x94 caf\xE9"), "€ “x” café");
    }

    #[test]
    fn utf16_transcodes_across_chunk_edges() {
        let text = "name,phone\r\nZoë 😀,087\n";
        for big in [false, true] {
            let bytes: Vec<u8> = text
                .encode_utf16()
                .flat_map(|u| {
                    if big {
                        u.to_be_bytes()
                    } else {
                        u.to_le_bytes()
                    }
                })
                .collect();
            // Feed one byte at a time so that every unit and surrogate pair is split.
            let reader = Utf16ToUtf8::new(OneByte(&bytes), big);
            let mut out = String::new();
            let mut reader = reader;
            reader.read_to_string(&mut out).unwrap();
            assert_eq!(out, text);
        }
    }

    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match (self.0.split_first(), buf.first_mut()) {
                (Some((b, rest)), Some(slot)) => {
                    *slot = *b;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Ok(0),
            }
        }
    }

    #[test]
    fn quote_tracker_finds_the_open_line() {
        let mut t = QuoteTracker::new(&b"a,b\n\"x\ny\"\n1,\"never\nclosed\n"[..], b',');
        std::io::copy(&mut t, &mut std::io::sink()).unwrap();
        assert_eq!(t.unterminated_at(), Some(4));
        let mut t = QuoteTracker::new(&b"a,b\n\"x \"\"q\"\" \n y\",2\n"[..], b',');
        std::io::copy(&mut t, &mut std::io::sink()).unwrap();
        assert_eq!(t.unterminated_at(), None);
    }
}
