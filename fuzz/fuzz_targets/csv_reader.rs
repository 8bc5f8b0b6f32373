//! Any bytes through the CSV reader: it returns rows or an error, never panics, and every
//! row it returns has a line number inside the input.
#![no_main]

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use libfuzzer_sys::fuzz_target;
use parley_import::source::{Row, RowSink, Stop};

struct Count(u64, u64);

impl RowSink for Count {
    fn header(&mut self, _: Vec<String>) -> Result<(), Stop> {
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<(), Stop> {
        assert!(row.number >= 2 && row.number <= self.1 + 1, "line {} outside the input", row.number);
        self.0 += 1;
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let lines = data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() as u64 + 1;
    let mut sink = Count(0, lines.max(data.len() as u64));
    let _ = parley_import::csv_file::read_csv(Cursor::new(data), Arc::new(AtomicU64::new(0)), &mut sink);
});
