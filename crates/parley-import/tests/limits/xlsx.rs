//! `.xlsx` workbooks refused with the limit and the place named, and an ordinary one read
//! as before.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_import::sheet::{SheetLimits, SheetProgress, read_xlsx};
use parley_import::source::{CellRef, Place, ReadError};

use crate::Rows;
use crate::archive::{Part, huge_part, part, unchecked_part, zip};

/// Where the skeleton's sheet is.
pub const SHEET: &str = "xl/worksheets/sheet1.xml";
/// Where the shared strings are.
pub const STRINGS: &str = "xl/sharedStrings.xml";
const STYLES: &str = "xl/styles.xml";
const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// The parts every workbook needs, with one sheet named `Contacts` at [`SHEET`].
pub fn skeleton() -> Vec<Part> {
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    vec![
        part(
            "_rels/.rels",
            &format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        part(
            "xl/workbook.xml",
            &format!(
                r#"<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        part(
            "xl/_rels/workbook.xml.rels",
            &format!(
                r#"<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/><Relationship Id="rId3" Type="{rel}/styles" Target="styles.xml"/></Relationships>"#
            ),
        ),
    ]
}

/// A workbook of the skeleton, `sheet_rows` as the sheet's rows, and `others`.
fn workbook(sheet_rows: &str, others: Vec<Part>) -> Vec<u8> {
    let mut parts = skeleton();
    parts.push(part(
        SHEET,
        &format!("{SHEET_HEAD}{sheet_rows}{SHEET_TAIL}"),
    ));
    parts.extend(others);
    zip(&parts)
}

/// Reads `bytes` as an `.xlsx`.
pub fn read(bytes: Vec<u8>, limits: &SheetLimits) -> Result<Rows, ReadError> {
    let progress = SheetProgress {
        bytes_read: Arc::new(AtomicU64::new(0)),
        bytes_total: bytes.len() as u64,
    };
    let mut rows = Rows::default();
    read_xlsx(Cursor::new(bytes), None, limits, &progress, &mut rows).map(|_| rows)
}

fn cell(sheet: &str, cell: &str) -> Place {
    Place::Cell {
        sheet: sheet.to_owned(),
        cell: cell.to_owned(),
    }
}

const HEADER_ROW: &str = r#"<row r="1"><c r="A1" t="inlineStr"><is><t>Mobile</t></is></c></row>"#;

#[test]
fn a_hand_made_workbook_within_the_limits_reads() {
    let rows = format!(
        r#"{HEADER_ROW}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2"><v>7</v></c></row>"#
    );
    let strings = part(
        STRINGS,
        r#"<sst uniqueCount="1"><si><t>0871234567</t></si></sst>"#,
    );
    let got = read(workbook(&rows, vec![strings]), &SheetLimits::default()).unwrap();
    assert_eq!(got.header, ["Mobile"]);
    assert_eq!(got.rows.len(), 1);
    assert_eq!(got.rows[0].cell(0), CellRef::Text("0871234567"));
    assert_eq!(got.rows[0].cell(1), CellRef::Number(7.0));
}

#[test]
fn a_gigabyte_inline_cell_is_refused_at_its_cell_at_the_real_limits() {
    // 1,900 MiB of text in cell B2, in a file of about 2 MB.
    let head = format!(r#"{SHEET_HEAD}{HEADER_ROW}<row r="2"><c r="B2" t="inlineStr"><is><t>"#);
    let sheet = huge_part(
        SHEET,
        &head,
        b'a',
        1900,
        &format!("</t></is></c></row>{SHEET_TAIL}"),
    );
    let mut parts = skeleton();
    parts.push(sheet);
    let bytes = zip(&parts);
    assert!(bytes.len() < 3_000_000, "{} bytes", bytes.len());
    let e = read(bytes, &SheetLimits::default()).err().unwrap();
    assert_eq!(
        e,
        ReadError::CellTooLong {
            place: cell("Contacts", "B2"),
            limit: 32_767
        }
    );
    assert_eq!(
        e.to_string(),
        "sheet `Contacts`, cell B2: a cell holds more than 32,767 characters (Excel's limit)"
    );
}

#[test]
fn a_gigabyte_shared_string_is_refused_with_its_index() {
    let strings = huge_part(
        STRINGS,
        r#"<sst><si><t>first</t></si><si><t>"#,
        b'x',
        1900,
        "</t></si></sst>",
    );
    let e = read(workbook(HEADER_ROW, vec![strings]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::CellTooLong {
            place: Place::SharedString {
                part: STRINGS.to_owned(),
                index: 1
            },
            limit: 32_767
        }
    );
    assert!(e.to_string().contains("shared string 1"), "{e}");
}

#[test]
fn a_cell_just_over_excels_limit_is_refused_and_one_at_it_reads() {
    let at = "é".repeat(32_767);
    let rows =
        format!(r#"{HEADER_ROW}<row r="2"><c r="A2" t="inlineStr"><is><t>{at}</t></is></c></row>"#);
    let got = read(workbook(&rows, vec![]), &SheetLimits::default()).unwrap();
    assert_eq!(got.rows[0].cell(0), CellRef::Text(&at));
    let over = format!(
        r#"{HEADER_ROW}<row r="2"><c r="A2" t="inlineStr"><is><r><t>{at}</t></r><r><t>!</t></r></is></c></row>"#
    );
    let e = read(workbook(&over, vec![]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::CellTooLong {
            place: cell("Contacts", "A2"),
            limit: 32_767
        }
    );
}

#[test]
fn a_column_past_xfd_is_refused_naming_the_cell() {
    let rows = format!(r#"{HEADER_ROW}<row r="7"><c r="XFE7"><v>1</v></c></row>"#);
    let e = read(workbook(&rows, vec![]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::TooManyColumns {
            place: cell("Contacts", "XFE7"),
            limit: 16_384
        }
    );
    assert_eq!(
        e.to_string(),
        "sheet `Contacts`, cell XFE7: the sheet has more than 16,384 columns (Excel's limit; the last column is XFD)"
    );
    // Cells without a reference count from the row's first: the 6th of a 5-column limit.
    let cells: String = (0..6).map(|i| format!("<c><v>{i}</v></c>")).collect();
    let rows = format!(r#"<row r="3">{cells}</row>"#);
    let limits = SheetLimits {
        max_columns: 5,
        ..SheetLimits::default()
    };
    let e = read(workbook(&rows, vec![]), &limits).err().unwrap();
    assert_eq!(
        e,
        ReadError::TooManyColumns {
            place: cell("Contacts", "F3"),
            limit: 5
        }
    );
    assert!(
        e.to_string()
            .contains("(the import's limit; the last column is E)"),
        "{e}"
    );
}

#[test]
fn shared_strings_are_counted_not_taken_from_unique_count() {
    // uniqueCount claims 2; there are 5,000.
    let body: String = (0..5_000).map(|i| format!("<si><t>{i}</t></si>")).collect();
    let strings = part(STRINGS, &format!(r#"<sst uniqueCount="2">{body}</sst>"#));
    let limits = SheetLimits {
        max_shared_strings: 1_000,
        ..SheetLimits::default()
    };
    let e = read(workbook(HEADER_ROW, vec![strings]), &limits)
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::TooManySharedStrings {
            part: STRINGS.to_owned(),
            limit: 1_000
        }
    );
    assert_eq!(
        e.to_string(),
        "`xl/sharedStrings.xml`: the workbook holds more than 1,000 shared strings (distinct texts; the limit)"
    );
}

#[test]
fn sixty_million_declared_shared_strings_are_refused_at_the_real_limits() {
    // What the library would reserve room for on opening the workbook.
    let strings = part(
        STRINGS,
        r#"<sst uniqueCount="60000000"><si><t>a</t></si></sst>"#,
    );
    let e = read(workbook(HEADER_ROW, vec![strings]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::TooManySharedStrings {
            part: STRINGS.to_owned(),
            limit: 5_000_000
        }
    );
}

#[test]
fn millions_of_tiny_shared_strings_are_refused_while_streaming() {
    // 3 million `<si/>` and no uniqueCount: 15 MB of XML, a few KB compressed.
    let strings = unchecked_part(
        STRINGS,
        &format!("<sst>{}</sst>", "<si/>".repeat(3_000_000)),
    );
    let limits = SheetLimits {
        max_shared_strings: 100_000,
        ..SheetLimits::default()
    };
    let e = read(workbook(HEADER_ROW, vec![strings]), &limits)
        .err()
        .unwrap();
    assert!(
        matches!(e, ReadError::TooManySharedStrings { limit: 100_000, .. }),
        "{e}"
    );
}

#[test]
fn shared_strings_text_is_bounded_in_total() {
    let body: String = (0..100)
        .map(|_| format!("<si><t>{}</t></si>", "z".repeat(1000)))
        .collect();
    let strings = part(STRINGS, &format!("<sst>{body}</sst>"));
    let limits = SheetLimits {
        max_shared_strings_bytes: 50_000,
        ..SheetLimits::default()
    };
    let e = read(workbook(HEADER_ROW, vec![strings]), &limits)
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::SharedStringsTooLarge {
            part: STRINGS.to_owned(),
            limit: 50_000
        }
    );
    assert!(e.to_string().contains("more than 48.8 KiB of text"), "{e}");
}

#[test]
fn a_part_that_lies_about_its_size_is_refused() {
    // Declares 1,000 bytes, holds 10 MiB.
    let mut sheet = huge_part(SHEET, SHEET_HEAD, b' ', 10, SHEET_TAIL);
    sheet.size = 1_000;
    let mut parts = skeleton();
    parts.push(sheet);
    let e = read(zip(&parts), &SheetLimits::default()).err().unwrap();
    match &e {
        ReadError::Workbook { format, message } => {
            assert_eq!(*format, "XLSX");
            assert!(message.contains(SHEET), "{message}");
            assert!(message.contains("larger than its declared"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_declared_size_over_the_limit_is_refused_unread() {
    let mut sheet = part(SHEET, &format!("{SHEET_HEAD}{HEADER_ROW}{SHEET_TAIL}"));
    sheet.size = 3 * 1024 * 1024 * 1024;
    let mut parts = skeleton();
    parts.push(sheet);
    let e = read(zip(&parts), &SheetLimits::default()).err().unwrap();
    assert_eq!(
        e,
        ReadError::PartTooLarge {
            part: SHEET.to_owned(),
            limit: 2 * 1024 * 1024 * 1024
        }
    );
    assert!(e.to_string().contains("holds more than 2 GiB"), "{e}");
    // The parts read whole on opening have the smaller limit.
    let mut styles = part(STYLES, "<styleSheet/>");
    styles.size = 40 * 1024 * 1024;
    let e = read(workbook(HEADER_ROW, vec![styles]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::PartTooLarge {
            part: STYLES.to_owned(),
            limit: 16 * 1024 * 1024
        }
    );
}

#[test]
fn a_part_unpacking_past_the_limit_is_refused_counted() {
    let mut limits = SheetLimits {
        max_part_bytes: 4 * 1024 * 1024,
        ..SheetLimits::default()
    };
    let media = huge_part("xl/media/image1.png", "\u{89}PNG", 0, 8, "");
    let e = read(workbook(HEADER_ROW, vec![media]), &limits)
        .err()
        .unwrap();
    assert!(
        matches!(&e, ReadError::PartTooLarge { part, .. } if part == "xl/media/image1.png"),
        "{e}"
    );
    // Within the part's limit, the workbook's total is counted as parts unpack.
    limits.max_part_bytes = 16 * 1024 * 1024;
    limits.max_workbook_bytes = 4 * 1024 * 1024;
    let media = huge_part("xl/media/image1.png", "\u{89}PNG", 0, 8, "");
    let e = read(workbook(HEADER_ROW, vec![media]), &limits)
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::WorkbookTooLarge {
            part: "xl/media/image1.png".to_owned(),
            limit: 4 * 1024 * 1024
        }
    );
}

#[test]
fn a_bomb_of_many_parts_is_refused_by_the_total() {
    let limits = SheetLimits {
        max_workbook_bytes: 20 * 1024 * 1024,
        ..SheetLimits::default()
    };
    let parts = (0..30)
        .map(|i| huge_part(&format!("xl/media/image{i}.png"), "\u{89}PNG", 0, 1, ""))
        .collect();
    let e = read(workbook(HEADER_ROW, parts), &limits).err().unwrap();
    assert!(
        matches!(e, ReadError::WorkbookTooLarge { limit, .. } if limit == 20 * 1024 * 1024),
        "{e}"
    );
}

#[test]
fn too_many_parts_or_too_large_a_table_of_contents_is_refused() {
    let media = |n: usize| -> Vec<Part> {
        (0..n)
            .map(|i| part(&format!("xl/media/image{i:04}.png"), "x"))
            .collect()
    };
    let limits = SheetLimits {
        max_parts: 20,
        ..SheetLimits::default()
    };
    assert_eq!(
        read(workbook(HEADER_ROW, media(30)), &limits).err(),
        Some(ReadError::TooManyParts { limit: 20 })
    );
    let limits = SheetLimits {
        max_directory_bytes: 1024,
        ..SheetLimits::default()
    };
    assert_eq!(
        read(workbook(HEADER_ROW, media(30)), &limits).err(),
        Some(ReadError::DirectoryTooLarge { limit: 1024 })
    );
}

#[test]
fn markup_larger_than_the_limit_is_refused() {
    // A 2 MiB comment between rows.
    let head = format!("{SHEET_HEAD}{HEADER_ROW}<!--");
    let sheet = huge_part(SHEET, &head, b'-', 2, &format!(" -->{SHEET_TAIL}"));
    let mut parts = skeleton();
    parts.push(sheet);
    let e = read(zip(&parts), &SheetLimits::default()).err().unwrap();
    assert_eq!(
        e,
        ReadError::MarkupTooLarge {
            place: Place::Part {
                part: SHEET.to_owned()
            },
            what: "one piece of its XML (a tag or a text)",
            limit: 1024 * 1024
        }
    );
    // A cell whose XML is large though its value is short (a formula of 2 MiB).
    let formula = "1+".repeat(1024 * 1024);
    let rows = format!(r#"{HEADER_ROW}<row r="2"><c r="C2"><f>{formula}1</f><v>1</v></c></row>"#);
    let limits = SheetLimits {
        max_markup_bytes: 1024 * 1024,
        ..SheetLimits::default()
    };
    let e = read(workbook(&rows, vec![]), &limits).err().unwrap();
    assert!(
        matches!(&e, ReadError::MarkupTooLarge { place, .. } if *place == cell("Contacts", "C2")),
        "{e}"
    );
}

#[test]
fn too_many_cell_formats_or_a_huge_font_are_refused() {
    let xfs = "<xf/>".repeat(70_000);
    let styles = part(
        STYLES,
        &format!(r#"<styleSheet><cellXfs count="70000">{xfs}</cellXfs></styleSheet>"#),
    );
    let e = read(workbook(HEADER_ROW, vec![styles]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::TooManyCellFormats {
            part: STYLES.to_owned(),
            limit: 65_490
        }
    );
    let name = "F".repeat(3000);
    let styles = part(
        STYLES,
        &format!(r#"<styleSheet><fonts><font><name val="{name}"/></font></fonts></styleSheet>"#),
    );
    let e = read(workbook(HEADER_ROW, vec![styles]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::MarkupTooLarge {
            place: Place::Part {
                part: STYLES.to_owned()
            },
            what: "a font or number format",
            limit: 1024
        }
    );
}

#[test]
fn a_long_font_outside_the_styles_is_not_a_style() {
    // Legacy drawings wrap a control's caption in `<font>`.
    let drawing = part(
        "xl/drawings/vmlDrawing1.vml",
        &format!(
            "<xml><v:shape><font face=\"Tahoma\">{}</font></v:shape></xml>",
            "c".repeat(5000)
        ),
    );
    let got = read(workbook(HEADER_ROW, vec![drawing]), &SheetLimits::default()).unwrap();
    assert_eq!(got.header, ["Mobile"]);
}

#[test]
fn a_malformed_sheet_is_refused_rather_than_half_checked() {
    // `</c>` inside `<t>`: the library would read on to `</t>`, past the cell.
    let rows = format!(
        r#"{HEADER_ROW}<row r="2"><c r="A2" t="inlineStr"><is><t>x</c><c/></t></is></c></row>"#
    );
    let e = read(workbook(&rows, vec![]), &SheetLimits::default())
        .err()
        .unwrap();
    match e {
        ReadError::Workbook { message, .. } => {
            assert!(message.contains("not well-formed XML"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_written_workbook_of_ten_thousand_rows_reads_exactly_as_before() {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let header = ["Mobile", "Name", "Balance", "VIP", "Note"];
    for (c, h) in header.iter().enumerate() {
        sheet
            .write_string(0, u16::try_from(c).unwrap(), *h)
            .unwrap();
    }
    let expected: Vec<(String, String, f64, bool)> = (0..10_000u32)
        .map(|i| {
            (
                format!("08712{i:05}"),
                format!("Name {}", i % 97),
                f64::from(i) * 1.25,
                i % 3 == 0,
            )
        })
        .collect();
    for (i, (mobile, name, balance, vip)) in expected.iter().enumerate() {
        let r = u32::try_from(i + 1).unwrap();
        sheet.write_string(r, 0, mobile).unwrap();
        sheet.write_string(r, 1, name).unwrap();
        sheet.write_number(r, 2, *balance).unwrap();
        sheet.write_boolean(r, 3, *vip).unwrap();
    }
    // Excel's longest cell, in the last row.
    let longest = "L".repeat(32_767);
    sheet.write_string(10_000, 4, &longest).unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let got = read(bytes, &SheetLimits::default()).unwrap();
    assert_eq!(got.header, header);
    assert_eq!(got.rows.len(), 10_000);
    for (row, (mobile, name, balance, vip)) in got.rows.iter().zip(&expected) {
        assert_eq!(row.cell(0), CellRef::Text(mobile));
        assert_eq!(row.cell(1), CellRef::Text(name));
        assert_eq!(row.cell(2), CellRef::Number(*balance));
        assert_eq!(row.cell(3), CellRef::Bool(*vip));
    }
    assert_eq!(got.rows[9_999].cell(4), CellRef::Text(&longest));
    assert_eq!(got.rows[9_999].number, 10_001);
}

#[test]
fn a_row_copying_a_long_shared_string_into_every_cell_is_refused() {
    // One 30,000-character string; row 2 refers to it from 40 cells: 1.2 MB of text.
    let strings = part(
        STRINGS,
        &format!(
            "<sst><si><t>Mobile</t></si><si><t>{}</t></si></sst>",
            "w".repeat(30_000)
        ),
    );
    let header = r#"<row r="1"><c r="A1" t="s"><v>0</v></c></row>"#;
    let cells: String = (0..40).map(|_| r#"<c t="s"><v>1</v></c>"#).collect();
    let rows = format!(r#"{header}<row r="2">{cells}</row>"#);
    let e = read(workbook(&rows, vec![strings]), &SheetLimits::default())
        .err()
        .unwrap();
    assert_eq!(
        e,
        ReadError::RowTooLarge {
            sheet: "Contacts".to_owned(),
            row: 2,
            limit: 1024 * 1024
        }
    );
    assert_eq!(
        e.to_string(),
        "sheet `Contacts`, row 2: the row holds more than 1 MiB of text (the limit)"
    );
}
