//! Any bytes through the XLSX and XLS readers: rows or an error, never a panic.
#![no_main]

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use libfuzzer_sys::fuzz_target;
use parley_import::sheet::{SheetLimits, SheetProgress, read_xls, read_xlsx};
use parley_import::source::{Row, RowSink, Stop};

struct Discard;

impl RowSink for Discard {
    fn header(&mut self, _: Vec<String>) -> Result<(), Stop> {
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<(), Stop> {
        let _ = row.to_strings();
        Ok(())
    }
}

fuzz_target!(|data: &[u8]| {
    let progress = SheetProgress { bytes_read: Arc::new(AtomicU64::new(0)), bytes_total: data.len() as u64 };
    let _ = read_xlsx(Cursor::new(data), None, &SheetLimits::default(), &progress, &mut Discard);
    let _ = read_xls(Cursor::new(data), None, &SheetLimits::default(), &progress, &mut Discard);
});
