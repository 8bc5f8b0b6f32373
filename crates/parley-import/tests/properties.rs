//! Property tests: what the `csv` writer and `rust_xlsxwriter` write, our readers read back
//! unchanged; no value parser panics on any input; every phone number we accept, the
//! `phonenumber` crate accepts with the same E.164; the `.xlsx` pre-flight check counts
//! a cell's characters as the library decodes them, and on a mangled workbook refuses
//! or reads, never panicking, its messages short; column types are inferred from the
//! values and inference never panics.
#![allow(clippy::unwrap_used)]

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{DateOrder, FieldType};
use parley_import::csv_file::read_csv;
use parley_import::sheet::{SheetLimits, SheetProgress, read_xlsx};
use parley_import::source::{CellRef, OwnedCell, Place, ReadError, Row, RowSink, Stop};
use parley_import::values::{PhoneNormaliser, ValueContext, parse_value};
use proptest::prelude::*;

#[derive(Default)]
struct Rows {
    header: Vec<String>,
    rows: Vec<Row>,
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

/// Text cells: anything printable, quotes, newlines and the chosen delimiter included,
/// but not the other candidate delimiters (they could outvote the real one when sniffing).
fn cell(delimiter: char) -> impl Strategy<Value = String> {
    let others: String = [',', ';', '\t', '|']
        .iter()
        .filter(|c| **c != delimiter)
        .collect();
    proptest::string::string_regex("[a-zA-Z0-9 éüß€😀\"'\r\n,;|\t.-]{0,12}")
        .unwrap()
        .prop_map(move |s| s.chars().filter(|c| !others.contains(*c)).collect())
}

fn table(delimiter: char) -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (2usize..6).prop_flat_map(move |cols| {
        let header = proptest::collection::vec("[a-z][a-z0-9 ]{0,8}[a-z]", cols);
        let row = proptest::collection::vec(cell(delimiter), cols)
            .prop_filter("blank rows are skipped by design", |r| {
                r.iter().any(|c| !c.trim().is_empty())
            });
        (header, proptest::collection::vec(row, 1..20))
    })
}

fn encode(text: &str, encoding: u8) -> Vec<u8> {
    match encoding {
        0 => text.as_bytes().to_vec(),
        1 => [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat(),
        2 => [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect(),
        _ => [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect(),
    }
}

fn texts(row: &Row, cols: usize) -> Vec<String> {
    (0..cols)
        .map(|i| match row.cell(i) {
            CellRef::Text(t) => t.to_owned(),
            CellRef::Empty => String::new(),
            other => panic!("{other:?}"),
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn csv_writer_output_reads_back_equal(
        delimiter in prop::sample::select(vec![',', ';', '\t', '|']),
        encoding in 0u8..4,
        crlf in any::<bool>(),
        (header, rows) in (prop::sample::select(vec![',', ';', '\t', '|'])).prop_flat_map(table),
    ) {
        // Regenerate the table for the chosen delimiter's alphabet: strip other delimiters.
        let others: Vec<char> = [',', ';', '\t', '|'].into_iter().filter(|c| *c != delimiter).collect();
        let clean = |s: &String| s.chars().filter(|c| !others.contains(c)).collect::<String>();
        let rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(clean).collect::<Vec<_>>())
            .filter(|r| r.iter().any(|c| !c.trim().is_empty())).collect();
        let mut writer = csv::WriterBuilder::new()
            .delimiter(u8::try_from(delimiter).unwrap())
            .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
            .from_writer(Vec::new());
        writer.write_record(&header).unwrap();
        for r in &rows { writer.write_record(r).unwrap(); }
        let text = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        let mut sink = Rows::default();
        read_csv(Cursor::new(encode(&text, encoding)), Arc::new(AtomicU64::new(0)), &mut sink).unwrap();
        prop_assert_eq!(&sink.header, &header);
        let got: Vec<Vec<String>> = sink.rows.iter().map(|r| texts(r, header.len())).collect();
        prop_assert_eq!(got, rows);
    }

    #[test]
    fn xlsx_writer_output_reads_back_equal(
        rows in proptest::collection::vec(proptest::collection::vec(prop_oneof![
            "[a-zA-Z0-9 éü€'\"<>&]{1,12}".prop_map(OwnedCell::Text),
            (-1e9f64..1e9).prop_map(OwnedCell::Number),
            any::<i32>().prop_map(|i| OwnedCell::Number(f64::from(i))),
            any::<bool>().prop_map(OwnedCell::Bool),
        ], 3), 1..30),
    ) {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (c, h) in ["a", "b", "c"].iter().enumerate() {
            sheet.write_string(0, u16::try_from(c).unwrap(), *h).unwrap();
        }
        for (r, row) in rows.iter().enumerate() {
            let r = u32::try_from(r + 1).unwrap();
            for (c, value) in row.iter().enumerate() {
                let c = u16::try_from(c).unwrap();
                match value {
                    OwnedCell::Text(t) => { sheet.write_string(r, c, t).unwrap(); }
                    OwnedCell::Number(n) => { sheet.write_number(r, c, *n).unwrap(); }
                    OwnedCell::Bool(b) => { sheet.write_boolean(r, c, *b).unwrap(); }
                    _ => unreachable!(),
                }
            }
        }
        let bytes = workbook.save_to_buffer().unwrap();
        let mut sink = Rows::default();
        let progress = SheetProgress { bytes_read: Arc::new(AtomicU64::new(0)), bytes_total: bytes.len() as u64 };
        read_xlsx(Cursor::new(bytes), None, &SheetLimits::default(), &progress, &mut sink).unwrap();
        prop_assert_eq!(&sink.header, &["a", "b", "c"]);
        // Rows whose every text cell is blank are skipped by design; none are generated.
        let expected: Vec<&Vec<OwnedCell>> = rows.iter().filter(|r| r.iter().any(|c| !c.as_ref().is_empty())).collect();
        prop_assert_eq!(sink.rows.len(), expected.len());
        for (got, want) in sink.rows.iter().zip(expected) {
            for (i, w) in want.iter().enumerate() {
                prop_assert_eq!(got.cell(i), w.as_ref());
            }
        }
    }

    #[test]
    fn value_parsers_never_panic(text in ".{0,40}", number in any::<f64>(), country in prop::sample::select(vec!["GB", "IE", "US", "FR", "IN"])) {
        for order in [DateOrder::Dmy, DateOrder::Mdy] {
            let mut ctx = ValueContext::new(country.parse().unwrap(), order);
            for t in FieldType::ALL {
                let _ = parse_value(t, CellRef::Text(&text), &mut ctx);
                let _ = parse_value(t, CellRef::Number(number), &mut ctx);
                let _ = parse_value(t, CellRef::Bool(number > 0.0), &mut ctx);
            }
        }
    }

    #[test]
    fn money_written_with_grouping_reads_back(cents in -10_000_000_000i64..10_000_000_000, style in 0u8..4) {
        let value = rust_decimal::Decimal::new(cents, 2);
        let abs = value.abs();
        let int = abs.trunc().to_string();
        let grouped = |sep: &str| {
            let digits: Vec<char> = int.chars().collect();
            let mut out = String::new();
            for (i, c) in digits.iter().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) { out.push_str(sep); }
                out.push(*c);
            }
            out
        };
        let frac = format!("{:02}", (abs.fract() * rust_decimal::Decimal::from(100)).trunc());
        let sign = if value.is_sign_negative() && !value.is_zero() { "-" } else { "" };
        let text = match style {
            0 => format!("{sign}£{},{}", grouped("."), frac).replacen(',', "#", 1).replace('#', ","),
            1 => format!("{sign}{}.{frac} EUR", grouped(",")),
            2 => format!("{sign}€ {},{frac}", grouped(" ")),
            _ => format!("{sign}${}.{frac}", grouped(",")),
        };
        let parsed = parley_import::values::parse_money(CellRef::Text(&text));
        prop_assert_eq!(parsed, Ok(value.normalize()), "{}", text);
    }

    #[test]
    fn phone_validity_agrees_with_the_library(
        country in prop::sample::select(vec!["GB", "IE", "US", "DE", "FR"]),
        digits in "0?[1-9][0-9]{5,11}",
        plus in any::<bool>(),
    ) {
        let text = if plus { format!("+{digits}") } else { digits };
        let ours = PhoneNormaliser::new(country.parse().unwrap()).normalise(CellRef::Text(&text));
        let theirs = phonenumber::parse(Some(country.parse().unwrap()), &text)
            .ok()
            .filter(phonenumber::is_valid)
            .map(|p| p.format().mode(phonenumber::Mode::E164).to_string());
        // The crate matches patterns by prefix, so it also accepts some over-long numbers
        // (IE `22000000`); libphonenumber, and we, require the whole number to match.
        // Everything we accept, it accepts, with the same E.164.
        if let Ok(ours) = ours {
            prop_assert_eq!(Some(ours), theirs, "{}", text);
        }
    }
}

fn read_limited(bytes: Vec<u8>, limits: &SheetLimits) -> Result<Rows, ReadError> {
    let progress = SheetProgress {
        bytes_read: Arc::new(AtomicU64::new(0)),
        bytes_total: bytes.len() as u64,
    };
    let mut sink = Rows::default();
    read_xlsx(Cursor::new(bytes), None, limits, &progress, &mut sink).map(|_| sink)
}

/// The parts of an archive, unpacked.
fn unzip(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut file = archive.by_index(i).unwrap();
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut data).unwrap();
            (file.name().unwrap().into_owned(), data)
        })
        .collect()
}

fn rezip(parts: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in parts {
        writer.start_file(name.as_str(), options).unwrap();
        std::io::Write::write_all(&mut writer, data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// A cell of `text` reads when it has at most `limit` characters and is refused,
    /// naming it, past that: the pre-flight counts characters as the library decodes
    /// them (escaped `&`, `<`, `"`, characters of several bytes), for a shared string
    /// and for an inline one. (A blank cell's row is skipped, so the text ends in a
    /// letter.)
    #[test]
    fn cell_text_is_refused_exactly_past_the_limit(
        text in "[a-zé€😀&<>\"' ]{0,39}[a-z]",
        limit in 1usize..40,
        inline in any::<bool>(),
    ) {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = if inline {
            workbook.add_worksheet_with_constant_memory().unwrap()
        } else {
            workbook.add_worksheet()
        };
        sheet.write_string(0, 0, "h").unwrap();
        sheet.write_string(1, 0, &text).unwrap();
        let limits = SheetLimits { max_cell_chars: limit, ..SheetLimits::default() };
        let result = read_limited(workbook.save_to_buffer().unwrap(), &limits);
        if text.chars().count() <= limit {
            let rows = result.unwrap();
            prop_assert_eq!(rows.rows[0].cell(0), CellRef::Text(&text));
        } else {
            let e = result.err().unwrap();
            let place_ok = match &e {
                ReadError::CellTooLong { place: Place::Cell { cell, .. }, .. } => cell == "A2",
                ReadError::CellTooLong { place: Place::SharedString { index, .. }, .. } => *index == 1,
                _ => false,
            };
            prop_assert!(place_ok, "{:?}", e);
        }
    }

    /// Bytes spliced into a workbook's sheet or shared strings: the workbook is read or
    /// refused, never with a panic, and a refusal's message stays short whatever the
    /// file repeats.
    #[test]
    fn a_mangled_workbook_is_read_or_refused(
        part in 0usize..2,
        at in any::<prop::sample::Index>(),
        splice in prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..64),
            "[<>/=\"a-z0-9 ]{0,64}".prop_map(String::into_bytes),
            Just(b"<c r=\"ZZZZZZZZZZZZZZ1\"><v>1</v></c>".to_vec()),
            Just(b"<si><t>".to_vec()),
            Just(format!("<t>{}</t>", "x".repeat(3000)).into_bytes()),
        ],
    ) {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for r in 0..5u32 {
            sheet.write_string(r, 0, format!("text {r}")).unwrap();
            sheet.write_number(r, 1, f64::from(r)).unwrap();
        }
        let mut parts = unzip(&workbook.save_to_buffer().unwrap());
        let target = ["xl/worksheets/sheet1.xml", "xl/sharedStrings.xml"][part];
        let (_, data) = parts.iter_mut().find(|(n, _)| n == target).unwrap();
        let at = at.index(data.len() + 1);
        data.splice(at..at, splice);
        let limits = SheetLimits {
            max_cell_chars: 1000,
            max_markup_bytes: 2000,
            ..SheetLimits::default()
        };
        if let Err(e) = read_limited(rezip(&parts), &limits) {
            prop_assert!(e.to_string().len() < 600, "{}", e);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// A column of real dates written in the organization's order is a date column, and
    /// stays one when some impossible dates (same shape) are among them, as long as most
    /// read; one value of another shape makes it text.
    #[test]
    fn date_columns_are_typed_by_their_values(
        dates in proptest::collection::vec((1900i32..2030, 1u32..=12, 1u32..=28), 1..40),
        impossible in 0usize..3,
        mdy in any::<bool>(),
        other in "[a-z]{2,8}",
    ) {
        use parley_import::infer::infer_column;
        let order = if mdy { DateOrder::Mdy } else { DateOrder::Dmy };
        let mut ctx = ValueContext::new("IE".parse().unwrap(), order);
        let mut column: Vec<String> = dates
            .iter()
            .map(|(y, m, d)| match order {
                DateOrder::Dmy => format!("{d:02}/{m:02}/{y}"),
                DateOrder::Mdy => format!("{m:02}/{d:02}/{y}"),
            })
            .collect();
        let impossible = impossible.min(column.len() / 2);
        for v in column.iter_mut().take(impossible) {
            *v = match order {
                DateOrder::Dmy => "31/02/1980".to_owned(),
                DateOrder::Mdy => "02/31/1980".to_owned(),
            };
        }
        let cells: Vec<CellRef<'_>> = column.iter().map(|v| CellRef::Text(v)).collect();
        let typed = infer_column("joined", &cells, &mut ctx);
        prop_assert_eq!(typed.field_type, FieldType::Date);
        column.push(other);
        let cells: Vec<CellRef<'_>> = column.iter().map(|v| CellRef::Text(v)).collect();
        let typed = infer_column("joined", &cells, &mut ctx);
        prop_assert_eq!(typed.field_type, FieldType::Text);
    }

    /// Whatever the header and the cells, inference answers with a type, never a panic.
    #[test]
    fn inference_never_panics(
        header in "[a-z_]{0,20}",
        cells in proptest::collection::vec("[0-9a-zA-Z@/:.,+£€ -]{0,16}", 0..30),
    ) {
        use parley_import::infer::infer_column;
        let mut ctx = ValueContext::new("GB".parse().unwrap(), DateOrder::Dmy);
        let cells: Vec<CellRef<'_>> = cells.iter().map(|v| CellRef::Text(v)).collect();
        let typed = infer_column(&header, &cells, &mut ctx);
        prop_assert!(FieldType::ALL.contains(&typed.field_type));
    }
}
