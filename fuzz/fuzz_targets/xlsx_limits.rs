//! Any sheet XML and shared strings, in an otherwise valid workbook, through the `.xlsx`
//! pre-flight check and reader with small limits: rows or a refusal, never a panic; a
//! refusal's message stays short, and every row read keeps within the limits.
//! The input is the sheet's XML, a 0xFF byte, then the shared strings' XML.
#![no_main]

use std::io::{Cursor, Write};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use libfuzzer_sys::fuzz_target;
use parley_import::sheet::{SheetLimits, SheetProgress, read_xlsx};
use parley_import::source::{CellRef, Row, RowSink, Stop};

const LIMITS: SheetLimits = SheetLimits {
    max_part_bytes: 1 << 20,
    max_workbook_bytes: 4 << 20,
    max_parts: 16,
    max_directory_bytes: 64 << 10,
    max_metadata_bytes: 64 << 10,
    max_markup_bytes: 4096,
    max_shared_strings: 1000,
    max_shared_strings_bytes: 64 << 10,
    max_cell_chars: 100,
    max_columns: 64,
    max_row_bytes: 64 << 10,
    max_cell_formats: 100,
    max_style_bytes: 256,
    max_xls_cells: 10_000,
    max_xls_text_bytes: 1 << 20,
};

struct Check;

impl RowSink for Check {
    fn header(&mut self, header: Vec<String>) -> Result<(), Stop> {
        assert!(header.len() <= LIMITS.max_columns);
        Ok(())
    }
    fn row(&mut self, row: Row) -> Result<(), Stop> {
        assert!(row.len() <= LIMITS.max_columns);
        for i in 0..row.len() {
            if let CellRef::Text(t) = row.cell(i) {
                assert!(t.chars().count() <= LIMITS.max_cell_chars);
            }
        }
        Ok(())
    }
}

const REL: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";

fuzz_target!(|data: &[u8]| {
    let (sheet, strings) = match data.iter().position(|b| *b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let parts: [(&str, Vec<u8>); 5] = [
        ("_rels/.rels", format!(r#"<Relationships><Relationship Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes()),
        ("xl/workbook.xml", format!(r#"<workbook xmlns:r="{REL}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes()),
        ("xl/_rels/workbook.xml.rels", format!(r#"<Relationships><Relationship Id="rId1" Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.to_vec()),
        ("xl/sharedStrings.xml", strings.to_vec()),
    ];
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in &parts {
        if writer.start_file(*name, options).is_err() || writer.write_all(bytes).is_err() {
            return;
        }
    }
    let Ok(file) = writer.finish() else { return };
    let bytes = file.into_inner();
    let progress = SheetProgress { bytes_read: Arc::new(AtomicU64::new(0)), bytes_total: bytes.len() as u64 };
    if let Err(e) = read_xlsx(Cursor::new(bytes), None, &LIMITS, &progress, &mut Check) {
        assert!(e.to_string().len() < 600, "{e}");
    }
});
