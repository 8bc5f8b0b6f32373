//! A byte counter between a workbook part's decompressor and the XML tokenizer: it stops
//! the reading once the part, the whole workbook or one piece of markup passes its limit,
//! so the tokenizer's buffer never holds more than one limit's worth of bytes.

use std::io::{self, BufRead, Read};

/// Which bound a [`Meter`] stopped at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trip {
    /// The part unpacked to more than its limit.
    Part,
    /// All parts together unpacked to more than the workbook's limit.
    Workbook,
    /// One piece of markup (a token) was longer than the markup limit.
    Token,
}

/// Counts the bytes consumed from `inner`, failing the next read once a bound is passed.
/// Reads overshoot a bound by at most one buffer (64 KiB).
#[derive(Debug)]
pub(crate) struct Meter<R> {
    inner: R,
    consumed: u64,
    token_start: u64,
    part_limit: u64,
    /// Bytes of the workbook's parts unpacked before this one, and the most allowed.
    workbook: (u64, u64),
    token_limit: u64,
    tripped: Option<Trip>,
}

impl<R: BufRead> Meter<R> {
    /// Counts `inner`, a part that may unpack to `part_limit` bytes, in a workbook that
    /// has unpacked `workbook.0` bytes so far and may unpack `workbook.1`.
    pub(crate) fn new(inner: R, part_limit: u64, workbook: (u64, u64), token_limit: u64) -> Self {
        Self {
            inner,
            consumed: 0,
            token_start: 0,
            part_limit,
            workbook,
            token_limit,
            tripped: None,
        }
    }

    /// Bytes consumed so far.
    pub(crate) fn consumed(&self) -> u64 {
        self.consumed
    }

    /// Starts counting a new token.
    pub(crate) fn start_token(&mut self) {
        self.token_start = self.consumed;
    }

    /// No token bound from here on (for parts that are not XML).
    pub(crate) fn without_token_limit(&mut self) {
        self.token_limit = u64::MAX;
    }

    /// The bound passed, if any.
    pub(crate) fn tripped(&self) -> Option<Trip> {
        self.tripped
    }

    fn check(&mut self) -> io::Result<()> {
        let trip = if self.consumed > self.part_limit {
            Some(Trip::Part)
        } else if self.workbook.0.saturating_add(self.consumed) > self.workbook.1 {
            Some(Trip::Workbook)
        } else if self.consumed - self.token_start > self.token_limit {
            Some(Trip::Token)
        } else {
            None
        };
        match trip {
            Some(trip) => {
                self.tripped = Some(trip);
                Err(io::Error::other("a limit was reached"))
            }
            None => Ok(()),
        }
    }

    /// Reads to the end, counting (for parts that are not XML).
    pub(crate) fn drain(&mut self) -> io::Result<()> {
        loop {
            let n = self.fill_buf()?.len();
            if n == 0 {
                return Ok(());
            }
            self.consume(n);
        }
    }
}

impl<R: BufRead> Read for Meter<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Meter<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.check()?;
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.consumed = self.consumed.saturating_add(amount as u64);
        self.inner.consume(amount);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_bound_stops_the_reading() {
        let data = vec![b'x'; 300_000];
        let chunks = || std::io::BufReader::with_capacity(8192, &data[..]);
        let mut part = Meter::new(chunks(), 100_000, (0, u64::MAX), u64::MAX);
        assert!(part.drain().is_err());
        assert_eq!(part.tripped(), Some(Trip::Part));
        assert!(part.consumed() <= 100_000 + 8192);

        let mut workbook = Meter::new(chunks(), u64::MAX, (250_000, 300_000), u64::MAX);
        assert!(workbook.drain().is_err());
        assert_eq!(workbook.tripped(), Some(Trip::Workbook));

        let mut token = Meter::new(chunks(), u64::MAX, (0, u64::MAX), 1000);
        token.start_token();
        assert!(token.drain().is_err());
        assert_eq!(token.tripped(), Some(Trip::Token));

        let mut fine = Meter::new(chunks(), 300_000, (0, 300_000), 1000);
        fine.without_token_limit();
        fine.drain().unwrap();
        assert_eq!((fine.tripped(), fine.consumed()), (None, 300_000));
    }
}
