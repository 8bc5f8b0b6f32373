//! Hostile spreadsheets, built here, refused with the limit and the place named; and
//! ordinary workbooks still read as before. One test binary:
#![allow(clippy::unwrap_used)]

/// Archives written by hand, for the shapes `rust_xlsxwriter` cannot make.
mod archive;
/// What the worst files within the limits cost (ignored: run in release).
mod measure;
/// `.xls` workbooks written by hand, refused or read.
mod xls;
/// `.xlsx` workbooks, hostile and ordinary.
mod xlsx;

use parley_import::source::{Row, RowSink, Stop};

/// Collects what a reader pushes.
#[derive(Default)]
pub struct Rows {
    /// The header pushed.
    pub header: Vec<String>,
    /// The rows pushed.
    pub rows: Vec<Row>,
}

impl RowSink for Rows {
    fn header(&mut self, header: Vec<String>) -> Result<(), Stop> {
        self.header = header;
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<(), Stop> {
        self.rows.push(row);
        Ok(())
    }
}
