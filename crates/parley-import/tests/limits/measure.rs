//! How much memory and time the worst files within the limits cost, for the figures in
//! the module docs. Ignored by default; run one at a time in a release build, as
//! `cargo test --release -p parley-import --test limits -- --ignored --exact
//! measure::<name> --nocapture`. Each resets the peak resident size after building its
//! file, so the figure printed is what reading adds.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use parley_import::sheet::{SheetLimits, SheetProgress, read_xls, read_xlsx};
use parley_import::source::{Row, RowSink, Stop};

use crate::archive::{part, zip};
use crate::xls::{container, workbook_stream};

/// Counts rows without keeping them.
struct Count(u64);

impl RowSink for Count {
    fn header(&mut self, _: Vec<String>) -> Result<(), Stop> {
        Ok(())
    }
    fn row(&mut self, _: Row) -> Result<(), Stop> {
        self.0 += 1;
        Ok(())
    }
}

fn status(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or(0)
        * 1024
}

/// Runs `read`, printing the peak resident size it added and its time.
fn measure(what: &str, read: impl FnOnce() -> String) {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let before = status("VmRSS:");
    let start = Instant::now();
    let outcome = read();
    let elapsed = start.elapsed();
    let peak = status("VmHWM:");
    println!(
        "{what}: {outcome}; peak +{} MB over {} MB, {elapsed:.2?}",
        peak.saturating_sub(before) / 1_000_000,
        before / 1_000_000
    );
}

fn progress() -> SheetProgress {
    SheetProgress {
        bytes_read: Arc::new(AtomicU64::new(0)),
        bytes_total: 0,
    }
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xls_at_the_cell_limit() {
    // 65,536 rows of 64 numbers (MULRK records): 4,194,304 cells, the default limit.
    let mut records = Vec::new();
    for row in 0..=u16::MAX {
        let mut data = [row.to_le_bytes(), 0u16.to_le_bytes()].concat();
        for _ in 0..64 {
            data.extend_from_slice(&[0, 0]);
            // RK: the integer 0.
            data.extend_from_slice(&2u32.to_le_bytes());
        }
        data.extend_from_slice(&63u16.to_le_bytes());
        let mut record = 0x00BDu16.to_le_bytes().to_vec();
        record.extend_from_slice(&u16::try_from(data.len()).unwrap().to_le_bytes());
        record.extend_from_slice(&data);
        records.push(record);
    }
    let bytes = container(workbook_stream(&[], &[("Numbers", records)]), |_, _, _| {});
    println!("file: {} MB", bytes.len() / 1_000_000);
    measure("xls 65,536 × 64", || {
        let mut sink = Count(0);
        let result = read_xls(
            Cursor::new(bytes),
            None,
            &SheetLimits::default(),
            &progress(),
            &mut sink,
        );
        format!("{result:?}, {} rows", sink.0)
    });
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_at_the_shared_strings_limit() {
    // 5,000,000 one-character shared strings, the default limit.
    let strings: String = (0..5_000_000u32)
        .map(|i| format!("<si><t>{}</t></si>", char::from(b'a' + (i % 26) as u8)))
        .collect();
    let sheet = r#"<worksheet><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row><row r="2"><c r="A2" t="s"><v>1</v></c></row></sheetData></worksheet>"#;
    let mut parts = crate::xlsx::skeleton();
    parts.push(part(crate::xlsx::SHEET, sheet));
    parts.push(part(crate::xlsx::STRINGS, &format!("<sst>{strings}</sst>")));
    let bytes = zip(&parts);
    println!("file: {} MB", bytes.len() / 1_000_000);
    measure("xlsx 5,000,000 shared strings", || {
        let mut sink = Count(0);
        let result = read_xlsx(
            Cursor::new(bytes),
            None,
            &SheetLimits::default(),
            &progress(),
            &mut sink,
        );
        format!("{result:?}, {} rows", sink.0)
    });
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_of_a_hundred_thousand_rows() {
    xlsx_of_rows(100_000);
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_of_a_million_rows() {
    xlsx_of_rows(1_000_000);
}

/// An ordinary workbook of `rows` rows of 8 columns, two of distinct texts (as shared
/// strings), read with the pre-flight and by the library alone.
fn xlsx_of_rows(rows: u32) {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for c in 0..8u16 {
        sheet.write_string(0, c, format!("column {c}")).unwrap();
    }
    for r in 1..=rows {
        sheet.write_string(r, 0, format!("0871{r:06}")).unwrap();
        sheet.write_string(r, 1, format!("Name {r}")).unwrap();
        for c in 2..8u16 {
            sheet
                .write_number(r, c, f64::from(r) * f64::from(c))
                .unwrap();
        }
    }
    let bytes = book.save_to_buffer().unwrap();
    println!("file: {} MB", bytes.len() / 1_000_000);
    let copy = bytes.clone();
    measure(&format!("xlsx {rows} rows, with the pre-flight"), || {
        let mut sink = Count(0);
        let result = read_xlsx(
            Cursor::new(copy),
            None,
            &SheetLimits::default(),
            &progress(),
            &mut sink,
        );
        format!("{result:?}, {} rows", sink.0)
    });
    measure(&format!("xlsx {rows} rows, calamine alone"), || {
        use calamine::Reader;
        let mut workbook = calamine::Xlsx::new(Cursor::new(bytes)).unwrap();
        let name = workbook.sheet_names()[0].clone();
        let mut cells = workbook.worksheet_cells_reader(&name).unwrap();
        let mut n = 0u64;
        while let Some(cell) = cells.next_cell().unwrap() {
            n += u64::from(cell.get_position().1 == 0);
        }
        format!("{n} rows")
    });
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_table_of_contents_at_its_limit() {
    // 60,000 one-byte parts: a 3 MB table of contents, near the 4 MiB limit, refused for
    // its number of parts once read.
    let mut parts = crate::xlsx::skeleton();
    parts.extend((0..60_000).map(|i| part(&format!("x/{i:05}"), "x")));
    let bytes = zip(&parts);
    println!("file: {} MB", bytes.len() / 1_000_000);
    measure("xlsx 60,000 parts", || {
        let mut sink = Count(0);
        let result = read_xlsx(
            Cursor::new(bytes),
            None,
            &SheetLimits::default(),
            &progress(),
            &mut sink,
        );
        format!("{result:?}")
    });
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn pipeline_of_rows_copying_one_long_shared_string() {
    use parley_domain::{DateOrder, FieldDefinition, ImportOptions, OrgId};
    use parley_import::pipeline::{self, Batch, ImportConsumer, PipelineOptions};
    use parley_import::{ImportPlan, PlanError, ValueContext};

    /// Plans and drops every batch.
    struct Drop;
    impl ImportConsumer for Drop {
        type Error = PlanError;
        fn plan(
            &mut self,
            header: &[String],
            _: &[&parley_import::Row],
        ) -> Result<ImportPlan, PlanError> {
            let known = FieldDefinition::builtins(OrgId::generate());
            parley_import::plan(header, &ImportOptions::default(), &known)
        }
        fn batch(&mut self, _: Batch) -> Result<(), PlanError> {
            Ok(())
        }
    }
    // 600 rows whose 31 cells all copy one 32,767-character string (1 MB a row, under
    // max_row_bytes), from a file of a few hundred KB: 600 MB of text in all.
    let long = "w".repeat(32_767);
    let header: String = (0..32)
        .map(|c| {
            format!(
                r#"<c r="{}1" t="inlineStr"><is><t>{}</t></is></c>"#,
                parley_import::source::column_name(c),
                if c == 0 {
                    "phone".to_owned()
                } else {
                    format!("note{c}")
                }
            )
        })
        .collect();
    let mut rows = format!(r#"<worksheet><sheetData><row r="1">{header}</row>"#);
    for r in 2..602u32 {
        rows.push_str(&format!(
            r#"<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>+3538{:07}</t></is></c>"#,
            7_000_000 + r
        ));
        for c in 1..32u64 {
            rows.push_str(&format!(
                r#"<c r="{}{r}" t="s"><v>0</v></c>"#,
                parley_import::source::column_name(c)
            ));
        }
        rows.push_str("</row>");
    }
    rows.push_str("</sheetData></worksheet>");
    let mut parts = crate::xlsx::skeleton();
    parts.push(part(crate::xlsx::SHEET, &rows));
    parts.push(part(
        crate::xlsx::STRINGS,
        &format!("<sst><si><t>{long}</t></si></sst>"),
    ));
    let bytes = zip(&parts);
    println!("file: {} KB", bytes.len() / 1000);
    let run = |bytes: Vec<u8>, options: PipelineOptions| {
        let counter = Arc::new(AtomicU64::new(0));
        let country = "IE".parse().unwrap();
        let limits = SheetLimits::default();
        let read = |sink: &mut dyn RowSink| {
            read_xlsx(Cursor::new(bytes), None, &limits, &progress(), sink)
        };
        let context = || ValueContext::new(country, DateOrder::Dmy);
        let result = pipeline::run(read, context, &counter, &mut Drop, options);
        format!("{result:?}")
    };
    let copy = bytes.clone();
    measure("pipeline of 600 rows of 31 copies, cut by bytes", || {
        run(copy, PipelineOptions::default())
    });
    let rows_only = PipelineOptions {
        chunk_bytes: usize::MAX,
        batch_bytes: usize::MAX,
        ..PipelineOptions::default()
    };
    measure("the same, cut by rows only (as before)", || {
        run(bytes, rows_only)
    });
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_styles_at_their_limits() {
    // 65,490 cell formats, each copying a font and a number format of almost 1 KiB.
    let name = "F".repeat(950);
    let code = "0".repeat(950);
    let xfs = r#"<xf numFmtId="164" fontId="0"/>"#.repeat(65_490);
    let styles = format!(
        r#"<styleSheet><numFmts><numFmt numFmtId="164" formatCode="{code}"/></numFmts><fonts><font><name val="{name}"/></font></fonts><cellXfs>{xfs}</cellXfs></styleSheet>"#
    );
    let sheet = r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Mobile</t></is></c></row></sheetData></worksheet>"#;
    let mut parts = crate::xlsx::skeleton();
    parts.push(part(crate::xlsx::SHEET, sheet));
    parts.push(part("xl/styles.xml", &styles));
    let bytes = zip(&parts);
    println!("file: {} KB", bytes.len() / 1000);
    measure(
        "xlsx 65,490 formats copying 1 KiB fonts and formats",
        || {
            let mut sink = Count(0);
            let result = read_xlsx(
                Cursor::new(bytes),
                None,
                &SheetLimits::default(),
                &progress(),
                &mut sink,
            );
            format!("{result:?}")
        },
    );
}

#[test]
#[ignore = "a measurement: run in release, alone"]
fn xlsx_workbook_parts_at_their_limit() {
    // The workbook's relationships, then its sheet list, each just under 16 MiB.
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let sheet = r#"<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Mobile</t></is></c></row></sheetData></worksheet>"#;
    let relationships: String = (0..350_000)
        .map(|i| format!(r#"<Relationship Id="r{i}" Type="t" Target="x"/>"#))
        .collect();
    let sheets = r#"<sheet name="S" r:id="rId1"/>"#.repeat(550_000);
    for (what, name, text) in [
        (
            "350,000 relationships",
            "xl/_rels/workbook.xml.rels",
            format!(
                r#"<Relationships><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>{relationships}</Relationships>"#
            ),
        ),
        (
            "550,000 sheets",
            "xl/workbook.xml",
            format!(r#"<workbook xmlns:r="{rel}"><sheets>{sheets}</sheets></workbook>"#),
        ),
    ] {
        assert!(text.len() < 16 * 1024 * 1024, "{}", text.len());
        let mut parts: Vec<_> = crate::xlsx::skeleton()
            .into_iter()
            .filter(|p| p.name != name)
            .collect();
        parts.push(part(name, &text));
        parts.push(part(crate::xlsx::SHEET, sheet));
        let bytes = zip(&parts);
        println!("file: {} KB", bytes.len() / 1000);
        measure(what, || {
            let mut sink = Count(0);
            let result = read_xlsx(
                Cursor::new(bytes),
                None,
                &SheetLimits::default(),
                &progress(),
                &mut sink,
            );
            format!("{result:?}")
        });
    }
}
