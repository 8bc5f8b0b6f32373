//! What a file will become before it is imported: its first rows read by the same readers
//! an import uses, the plan the import would make of its header under the chosen options
//! (each column's target and type, the channel-address column, new fields typed from the
//! sample), and each shown cell as the import would read it — its canonical value or why
//! it would be refused.
//!
//! A preview may be given only the head of a CSV file (`partial`): the last row it holds
//! may be cut short, so it is left out, and a quote left open at the cut is not an error.
//! New columns are typed from the rows read, as the import types them from its first
//! rows (up to [`SAMPLE_ROWS`]); a head holding fewer rows than that may type a column
//! otherwise, and the page says how many rows it read.
//! Workbooks are read whole (their directory is at the end), but only their first rows.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{FieldDefinition, ImportFormat, ImportOptions};

use crate::csv_file::{CsvDialect, read_csv};
use crate::infer::SAMPLE_ROWS;
use crate::plan::{ImportPlan, PlanError};
use crate::sheet::{SheetProgress, read_xlsx};
use crate::source::{ReadError, Row, RowSink, Stop};
use crate::validate::{Reading, RowValidator};
use crate::values::{Value, ValueContext};
use crate::{SheetLimits, rows};

/// Rows a preview shows.
pub const SHOWN_ROWS: usize = 10;

/// Bytes of sampled rows a preview keeps at most (as the pipeline's sample).
const SAMPLE_BYTES: usize = 4 * 1024 * 1024;

/// A file as the import would read it.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// How a CSV file's text was found to be written (`None` for other formats).
    pub dialect: Option<CsvDialect>,
    /// The worksheet read, for workbooks.
    pub sheet: Option<String>,
    /// Every worksheet of a workbook, in order.
    pub sheets: Vec<String>,
    /// The header row as written.
    pub header: Vec<String>,
    /// What the import would make of the header, or why it could not start.
    pub plan: Result<ImportPlan, PlanError>,
    /// The first rows, each cell read by the plan (empty when there is no plan).
    pub rows: Vec<PreviewRow>,
    /// Data rows read to type new columns (at most [`SAMPLE_ROWS`]).
    pub sampled: usize,
    /// Why the file could not be read past some point, when it could not.
    pub error: Option<ReadError>,
}

/// One shown row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewRow {
    /// The row number in the file (header = 1).
    pub number: u64,
    /// One entry per header column.
    pub cells: Vec<PreviewCell>,
    /// A problem of the whole row (values beyond the header's columns).
    pub problem: Option<String>,
}

/// One shown cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewCell {
    /// The cell as the file holds it.
    pub text: String,
    /// What the import stores (`None`: nothing — ignored or empty), or why it would
    /// refuse the row.
    pub read: Result<Option<String>, String>,
}

/// Collects the header, the workbook's sheets and the sample rows, then stops the reader.
#[derive(Default)]
struct Collector {
    header: Option<Vec<String>>,
    sheet: Option<String>,
    sheets: Vec<String>,
    rows: Vec<Row>,
    bytes: usize,
}

impl RowSink for Collector {
    fn header(&mut self, header: Vec<String>) -> Result<(), Stop> {
        self.header = Some(header);
        Ok(())
    }

    fn row(&mut self, row: Row) -> Result<(), Stop> {
        if self.rows.len() >= SAMPLE_ROWS || self.bytes >= SAMPLE_BYTES {
            return Err(Stop);
        }
        self.bytes += row.weight();
        self.rows.push(row);
        Ok(())
    }

    fn sheet(&mut self, name: &str, all: &[String]) {
        self.sheet = Some(name.to_owned());
        self.sheets = all.to_vec();
    }
}

/// Previews `bytes` (the whole file, or its head when `partial`) in `format` under
/// `options`, with the organization's `known` fields and value context.
///
/// # Errors
/// The file gives no header at all (empty, not a workbook, binary…).
pub fn preview(
    bytes: &[u8],
    partial: bool,
    format: ImportFormat,
    options: &ImportOptions,
    known: &[FieldDefinition],
    mut ctx: ValueContext,
) -> Result<Preview, ReadError> {
    let mut sink = Collector::default();
    let counter = Arc::new(AtomicU64::new(0));
    let progress = SheetProgress {
        bytes_read: Arc::clone(&counter),
        bytes_total: bytes.len() as u64,
    };
    let limits = SheetLimits::default();
    let sheet = options.sheet.as_deref();
    let mut dialect = None;
    let read = match format {
        ImportFormat::Csv => read_csv(bytes, counter, &mut sink).map(|(d, outcome)| {
            dialect = Some(d);
            outcome
        }),
        ImportFormat::Xlsx => read_xlsx(Cursor::new(bytes), sheet, &limits, &progress, &mut sink),
        ImportFormat::Xls => {
            crate::sheet::read_xls(Cursor::new(bytes), sheet, &limits, &progress, &mut sink)
        }
        ImportFormat::Rows => rows::read_json_rows(Cursor::new(bytes), &limits, &mut sink),
    };
    let finished = matches!(read, Ok(crate::ReadOutcome::Finished));
    let mut error = read.err();
    if partial {
        // The head ends somewhere in a row: the last row read may be cut short, and a
        // quote open at the cut is closed further on in the file.
        if finished {
            sink.rows.pop();
        }
        if matches!(error, Some(ReadError::UnterminatedQuote { .. })) {
            error = None;
        }
    }
    let Some(header) = sink.header.take() else {
        return Err(error.unwrap_or(ReadError::Empty));
    };
    let plan = crate::plan(&header, options, known).map(|mut plan| {
        let sample: Vec<&Row> = sink.rows.iter().collect();
        crate::type_new_fields(&mut plan, &sample, &mut ctx);
        plan
    });
    let rows = match &plan {
        Ok(plan) => shown_rows(plan, &sink.rows, ctx),
        Err(_) => sink
            .rows
            .iter()
            .take(SHOWN_ROWS)
            .map(|row| PreviewRow {
                number: row.number,
                cells: (0..header.len())
                    .map(|i| PreviewCell {
                        text: row.cell(i).to_string(),
                        read: Ok(None),
                    })
                    .collect(),
                problem: None,
            })
            .collect(),
    };
    Ok(Preview {
        dialect,
        sheet: sink.sheet,
        sheets: sink.sheets,
        header,
        plan,
        rows,
        sampled: sink.rows.len(),
        error,
    })
}

/// The first rows, each cell read as the import reads it.
fn shown_rows(plan: &ImportPlan, rows: &[Row], ctx: ValueContext) -> Vec<PreviewRow> {
    let mut validator = RowValidator::new(plan, ctx);
    rows.iter()
        .take(SHOWN_ROWS)
        .map(|row| PreviewRow {
            number: row.number,
            cells: (0..plan.columns.len())
                .map(|i| {
                    let cell = row.cell(i);
                    PreviewCell {
                        text: cell.to_string(),
                        read: validator.read(i, cell).map(|reading| match reading {
                            Reading::Skipped => None,
                            Reading::Address(a) | Reading::CustomerId(a) => Some(a),
                            Reading::Value(_, value) => Some(shown(&value)),
                        }),
                    }
                })
                .collect(),
            problem: validator.overflow(row).map(|p| p.reason),
        })
        .collect()
}

/// A stored value as a person reads it.
fn shown(value: &Value) -> String {
    match value {
        Value::Text(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "yes".to_owned(),
        Value::Bool(false) => "no".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use parley_domain::{CountryCode, DateOrder, FieldType, OrgId};

    use super::*;
    use crate::Target;
    use crate::text::Encoding;

    fn context() -> ValueContext {
        ValueContext::new("GB".parse::<CountryCode>().unwrap(), DateOrder::Dmy)
    }

    fn known() -> Vec<FieldDefinition> {
        FieldDefinition::builtins(OrgId::generate())
    }

    #[test]
    fn a_semicolon_file_is_read_with_its_dialect_plan_and_values() {
        let file = "\u{feff}Customer Ref;Mobile;Balance;Due\r\nA1;07911 123457;1.234,50;31/12/2026\r\nA2;not a number;12;1/1/2027\r\n";
        let mut options = ImportOptions::default();
        options
            .mapping
            .insert("Customer Ref".to_owned(), Some("customer_id".to_owned()));
        let p = preview(
            file.as_bytes(),
            false,
            ImportFormat::Csv,
            &options,
            &known(),
            context(),
        )
        .unwrap();
        let dialect = p.dialect.unwrap();
        assert_eq!(
            (dialect.encoding, dialect.delimiter, dialect.crlf),
            (Encoding::Utf8, b';', true)
        );
        let plan = p.plan.unwrap();
        assert_eq!(plan.address_column, 1);
        assert_eq!(plan.columns[0].target, Target::CustomerId);
        assert!(matches!(
            plan.columns[2].target,
            Target::Field {
                field_type: FieldType::Money,
                ..
            }
        ));
        assert!(matches!(
            plan.columns[3].target,
            Target::Field {
                field_type: FieldType::Date,
                ..
            }
        ));
        assert_eq!(p.rows.len(), 2);
        assert_eq!(p.rows[0].number, 2);
        let read: Vec<_> = p.rows[0].cells.iter().map(|c| c.read.clone()).collect();
        assert_eq!(
            read,
            [
                Ok(Some("A1".to_owned())),
                Ok(Some("+447911123457".to_owned())),
                Ok(Some("1234.50".to_owned())),
                Ok(Some("2026-12-31".to_owned())),
            ]
        );
        assert_eq!(p.rows[1].cells[1].text, "not a number");
        assert!(p.rows[1].cells[1].read.is_err());
        assert_eq!(p.sampled, 2);
        assert!(p.error.is_none());
    }

    #[test]
    fn the_head_of_a_file_leaves_out_the_row_it_cuts() {
        let file = "name,phone,note\nAda,07911 123457,\"one\ntwo\"\nBob,07911 123458,\"cut he";
        let p = preview(
            file.as_bytes(),
            true,
            ImportFormat::Csv,
            &ImportOptions::default(),
            &known(),
            context(),
        )
        .unwrap();
        assert_eq!(p.rows.len(), 1, "{:?}", p.rows);
        assert_eq!(p.rows[0].cells[2].text, "one\ntwo");
        assert!(p.error.is_none());
        // The whole file with the same bytes: the open quote is the file's own fault.
        let whole = preview(
            file.as_bytes(),
            false,
            ImportFormat::Csv,
            &ImportOptions::default(),
            &known(),
            context(),
        )
        .unwrap();
        assert!(matches!(
            whole.error,
            Some(ReadError::UnterminatedQuote { line: 4 })
        ));
    }

    #[test]
    fn a_header_without_an_address_column_is_shown_with_why() {
        let p = preview(
            b"name,city\nAda,Cork\n",
            false,
            ImportFormat::Csv,
            &ImportOptions::default(),
            &known(),
            context(),
        )
        .unwrap();
        assert!(matches!(p.plan, Err(PlanError::NoAddressColumn { .. })));
        assert_eq!(p.rows[0].cells[1].text, "Cork");
        let options = ImportOptions {
            address_column: Some("city".to_owned()),
            ..ImportOptions::default()
        };
        let p = preview(
            b"name,city\nAda,Cork\n",
            false,
            ImportFormat::Csv,
            &options,
            &known(),
            context(),
        )
        .unwrap();
        assert_eq!(p.plan.unwrap().address_column, 1);
        assert!(p.rows[0].cells[1].read.is_err(), "Cork is no phone number");
    }

    #[test]
    fn a_workbook_names_its_sheets_and_the_one_read() {
        let mut book = rust_xlsxwriter::Workbook::new();
        book.add_worksheet()
            .set_name("Notes")
            .unwrap()
            .write(0, 0, "nothing")
            .unwrap();
        let sheet = book.add_worksheet().set_name("Debtors").unwrap();
        sheet.write(0, 0, "mobile").unwrap();
        sheet.write(1, 0, "07911 123457").unwrap();
        let bytes = book.save_to_buffer().unwrap();
        let options = ImportOptions {
            sheet: Some("debtors".to_owned()),
            ..ImportOptions::default()
        };
        let p = preview(
            &bytes,
            false,
            ImportFormat::Xlsx,
            &options,
            &known(),
            context(),
        )
        .unwrap();
        assert_eq!(p.sheets, ["Notes", "Debtors"]);
        assert_eq!(p.sheet.as_deref(), Some("Debtors"));
        assert_eq!(
            p.rows[0].cells[0].read,
            Ok(Some("+447911123457".to_owned()))
        );
    }

    #[test]
    fn nothing_readable_is_an_error() {
        assert_eq!(
            preview(
                b"",
                false,
                ImportFormat::Csv,
                &ImportOptions::default(),
                &known(),
                context()
            ),
            Err(ReadError::Empty)
        );
        assert!(
            preview(
                b"PK\x03\x04junk",
                false,
                ImportFormat::Xlsx,
                &ImportOptions::default(),
                &known(),
                context()
            )
            .is_err()
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        /// Any head of a CSV file (quotes, delimiters and line breaks in its cells) shows
        /// the first rows of the whole file, never a row cut short: each row it shows
        /// holds the whole file's cells of the same number, and is read the same
        /// wherever the two make the same plan (a new column's type comes from the rows
        /// read, so a short head may type it otherwise).
        #[test]
        fn a_files_head_shows_whole_rows_of_the_file(
            cells in proptest::collection::vec(
                proptest::collection::vec("[a-z0-9 ,;\"\n]{0,12}", 3), 1..30),
            cut in 0.0f64..1.0,
        ) {
            let mut writer = csv::Writer::from_writer(Vec::new());
            writer.write_record(["name", "phone", "note"]).unwrap();
            for row in &cells {
                writer.write_record(row).unwrap();
            }
            let file = writer.into_inner().unwrap();
            let options = ImportOptions::default();
            let whole = preview(&file, false, ImportFormat::Csv, &options, &known(), context()).unwrap();
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss, clippy::cast_precision_loss)]
            let at = ((file.len() as f64) * cut) as usize;
            if let Ok(head) = preview(&file[..at.max(20)], true, ImportFormat::Csv, &options, &known(), context()) {
                proptest::prop_assert!(head.rows.len() <= whole.rows.len());
                for (h, w) in head.rows.iter().zip(&whole.rows) {
                    let texts = |r: &PreviewRow| r.cells.iter().map(|c| c.text.clone()).collect::<Vec<_>>();
                    proptest::prop_assert_eq!((h.number, texts(h)), (w.number, texts(w)));
                    if head.plan == whole.plan {
                        proptest::prop_assert_eq!(h, w);
                    }
                }
            }
        }
    }
}
