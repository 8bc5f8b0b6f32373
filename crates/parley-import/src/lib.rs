#![doc = include_str!("../README.md")]

pub mod csv_file;
pub mod infer;
mod limits;
pub mod pipeline;
pub mod plan;
pub mod preview;
pub mod report;
pub mod rows;
pub mod sheet;
pub mod sniff;
pub mod source;
pub mod text;
pub mod validate;
pub mod values;

use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::ImportFormat;

pub use infer::NewField;
pub use limits::{
    Bytes, Count, EXCEL_MAX_CELL_CHARS, EXCEL_MAX_CELL_FORMATS, EXCEL_MAX_COLUMNS, SheetLimits,
};
pub use pipeline::{Batch, ImportConsumer, PipelineError, PipelineOptions};
pub use plan::type_new_fields;
pub use plan::{ImportPlan, PlanError, Target, normalise_header, plan};
pub use preview::{Preview, PreviewCell, PreviewRow, preview};
pub use source::{CellRef, OwnedCell, Place, ReadError, ReadOutcome, Row, RowSink};
pub use validate::{Checked, ContactRow, Problem, RejectedRow, RowValidator};
pub use values::ValueContext;

/// Reads the file at `path` in `format` into `sink` (`sheet` picks a worksheet), within
/// `limits`. JSON rows ([`ImportFormat::Rows`]) are read from a file holding the API's
/// document or the bare array of rows.
/// `bytes_read` grows as the file is consumed, for progress.
pub fn read_file(
    path: &Path,
    format: ImportFormat,
    sheet: Option<&str>,
    limits: &SheetLimits,
    bytes_read: &Arc<AtomicU64>,
    sink: &mut dyn RowSink,
) -> Result<ReadOutcome, ReadError> {
    let file = File::open(path).map_err(|e| ReadError::Io(e.to_string()))?;
    let bytes_total = file.metadata().map_or(0, |m| m.len());
    let progress = sheet::SheetProgress {
        bytes_read: Arc::clone(bytes_read),
        bytes_total,
    };
    match format {
        ImportFormat::Csv => {
            csv_file::read_csv(file, Arc::clone(bytes_read), sink).map(|(_, outcome)| outcome)
        }
        ImportFormat::Xlsx => {
            sheet::read_xlsx(BufReader::new(file), sheet, limits, &progress, sink)
        }
        ImportFormat::Xls => sheet::read_xls(BufReader::new(file), sheet, limits, &progress, sink),
        ImportFormat::Rows => rows::read_json_rows(file, limits, sink),
    }
}
