//! Every fixture file through the real pipeline, each with its expected contacts and
//! rejects. `rows_total == imported + rejected` is asserted for each.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use chrono::{DateTime, Utc};
use parley_domain::{
    DateOrder, FieldDefinition, FieldKey, FieldType, ImportFormat, ImportOptions, OrgId,
};
use parley_import::pipeline::{self, Batch, ImportConsumer, PipelineOptions};
use parley_import::{ContactRow, ImportPlan, PlanError, RejectedRow, SheetLimits, ValueContext};
use serde_json::{Value, json};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn known() -> Vec<FieldDefinition> {
    let org = OrgId::generate();
    [
        ("date_of_birth", FieldType::Date),
        ("balance", FieldType::Money),
        ("postcode", FieldType::Postcode),
        ("zip", FieldType::Postcode),
        ("email", FieldType::Email),
        ("vip", FieldType::Boolean),
        ("next_payment", FieldType::Date),
    ]
    .into_iter()
    .map(|(k, t)| FieldDefinition {
        organization_id: org,
        key: k.parse::<FieldKey>().unwrap(),
        label: k.to_owned(),
        field_type: t,
        pii: false,
        builtin: false,
        created_at: DateTime::<Utc>::UNIX_EPOCH,
        updated_at: DateTime::<Utc>::UNIX_EPOCH,
    })
    .collect()
}

#[derive(Default)]
struct Collect {
    options: ImportOptions,
    rows: Vec<ContactRow>,
    rejects: Vec<RejectedRow>,
    total: u64,
}

impl ImportConsumer for Collect {
    type Error = PlanError;
    fn plan(
        &mut self,
        header: &[String],
        _: &[&parley_import::Row],
    ) -> Result<ImportPlan, PlanError> {
        parley_import::plan(header, &self.options, &known())
    }
    fn batch(&mut self, batch: Batch) -> Result<(), PlanError> {
        assert_eq!(
            batch.rows_total,
            (batch.rows.len() + batch.rejects.len()) as u64
        );
        self.total += batch.rows_total;
        self.rows.extend(batch.rows);
        self.rejects.extend(batch.rejects);
        Ok(())
    }
}

type Outcome = (Collect, Result<(), String>);

fn import(
    name: &str,
    format: ImportFormat,
    options: ImportOptions,
    country: &str,
    order: DateOrder,
) -> Outcome {
    let sheet = options.sheet.clone();
    let mut consumer = Collect {
        options,
        ..Collect::default()
    };
    let bytes = Arc::new(AtomicU64::new(0));
    let path = fixture(name);
    let country = country.parse().unwrap();
    let result = pipeline::run(
        |sink| {
            parley_import::read_file(
                &path,
                format,
                sheet.as_deref(),
                &SheetLimits::default(),
                &bytes,
                sink,
            )
        },
        || ValueContext::new(country, order),
        &bytes,
        &mut consumer,
        // Tiny chunks so that reordering across validator threads is exercised.
        PipelineOptions {
            workers: 3,
            chunk_rows: 1,
            batch_rows: 2,
            ..PipelineOptions::default()
        },
    );
    assert_eq!(
        consumer.total,
        (consumer.rows.len() + consumer.rejects.len()) as u64,
        "rows_total == imported + rejected"
    );
    (consumer, result.map_err(|e| e.to_string()))
}

fn ref_mapping() -> ImportOptions {
    let mut options = ImportOptions::default();
    options
        .mapping
        .insert("Customer Ref".into(), Some("customer_id".into()));
    options
}

fn contacts(c: &Collect) -> Vec<(u64, Option<String>, String, Value)> {
    c.rows
        .iter()
        .map(|r| {
            (
                r.number,
                r.customer_id.clone(),
                r.address.clone(),
                serde_json::from_str(&r.fields_json).unwrap(),
            )
        })
        .collect()
}

fn rejects(c: &Collect) -> Vec<(u64, Vec<String>)> {
    c.rejects
        .iter()
        .map(|r| {
            (
                r.number,
                r.problems.iter().map(|p| p.column.clone()).collect(),
            )
        })
        .collect()
}

fn assert_standard_rows(c: &Collect, lines: [u64; 6]) {
    let got = contacts(c);
    assert_eq!(got.len(), 3, "{got:#?}\nrejects: {:#?}", c.rejects);
    assert_eq!(
        got[0],
        (
            lines[0],
            Some("C001".into()),
            "+353871234567".into(),
            json!({
        "first_name": "Zoë", "last_name": "O'Brien", "date_of_birth": "1980-01-31",
        "balance": "1234.56", "postcode": "A65 F4E2", "email": "zoe@example.ie"})
        )
    );
    assert_eq!(
        got[1],
        (
            lines[1],
            Some("C002".into()),
            "+353867654321".into(),
            json!({
        "first_name": "Seán", "last_name": "Ó Súilleabháin", "date_of_birth": "1975-12-05",
        "balance": "99.50", "postcode": "D6W 1234", "email": "sean@example.ie"})
        )
    );
    assert_eq!(
        got[2],
        (
            lines[2],
            Some("C003".into()),
            "+353851112222".into(),
            json!({
        "first_name": "Anne, Marie", "last_name": "Smith", "date_of_birth": "1990-12-05",
        "balance": "0.10", "postcode": "A65 F4E2"})
        )
    );
    assert_eq!(
        rejects(c),
        vec![
            (lines[3], vec!["Mobile".to_owned()]),
            (lines[4], vec!["(channel address)".to_owned()]),
            (
                lines[5],
                vec![
                    "Date of Birth".into(),
                    "Balance".into(),
                    "Postcode".into(),
                    "Email".into()
                ]
            ),
        ]
    );
    let dup = &c.rejects[1].problems[0];
    assert!(dup.reason.contains(&format!("row {}", lines[0])), "{dup:?}");
    assert_eq!(c.rejects[0].original[1], "12345");
    let bad = &c.rejects[2].problems;
    assert!(bad[0].reason.contains("does not exist"), "{bad:?}");
    assert_eq!(bad[1].value, "abc");
}

#[test]
fn every_encoding_and_delimiter_reads_the_same_contacts() {
    for name in [
        "utf8.csv",
        "utf8_bom_semicolon.csv",
        "utf16le_tab.csv",
        "utf16be_pipe.csv",
        "cp1252.csv",
    ] {
        let (c, result) = import(name, ImportFormat::Csv, ref_mapping(), "IE", DateOrder::Dmy);
        result.unwrap();
        assert_standard_rows(&c, [2, 3, 4, 5, 6, 7]);
    }
}

#[test]
fn quoted_fields_may_hold_newlines_and_quotes() {
    let (c, result) = import(
        "quoted_newlines.csv",
        ImportFormat::Csv,
        ref_mapping(),
        "IE",
        DateOrder::Dmy,
    );
    result.unwrap();
    let got = contacts(&c);
    assert_eq!(
        got.iter().map(|g| g.0).collect::<Vec<_>>(),
        [2, 4, 6],
        "rows are numbered by their first line"
    );
    assert_eq!(got[0].3["last_name"], "O\"Brien\nJunior");
    assert_eq!(got[1].3["first_name"], "Seán \"the\nsecond\"");
    assert!(c.rejects.is_empty());
}

#[test]
fn us_quirks_month_first_zip_padding_and_refusals() {
    let (c, result) = import(
        "us_quirks.csv",
        ImportFormat::Csv,
        ImportOptions::default(),
        "US",
        DateOrder::Mdy,
    );
    result.unwrap();
    let got = contacts(&c);
    assert_eq!(
        got,
        vec![
            (
                2,
                Some("U1".into()),
                "+14155550123".into(),
                json!({"zip": "02134", "next_payment": "2026-01-31", "balance": "1234.50", "vip": true})
            ),
            (
                3,
                Some("U2".into()),
                "+16045550199".into(),
                json!({"zip": "02134-1234", "next_payment": "2026-02-28", "balance": "-12.00", "vip": false})
            ),
        ]
    );
    let r = rejects(&c);
    assert_eq!(
        r[0],
        (
            4,
            vec![
                "Cell Phone".into(),
                "next_payment".into(),
                "balance".into(),
                "vip".into()
            ]
        )
    );
    assert!(c.rejects[0].problems[0].reason.contains("scientific"));
    assert!(c.rejects[0].problems[1].reason.contains("month first"));
    assert!(c.rejects[0].problems[2].reason.contains("4 decimal places"));
    assert_eq!(
        r[1],
        (
            5,
            vec!["zip".into(), "next_payment".into(), "balance".into()]
        )
    );
    assert!(c.rejects[1].problems[1].reason.contains("two-digit year"));
}

fn assert_spreadsheet(c: &Collect) {
    let got = contacts(c);
    assert_eq!(
        got,
        vec![
            (
                2,
                Some("1001".into()),
                "+353871234567".into(),
                json!({"first_name": "Zoë", "date_of_birth": "1980-01-31", "balance": "1234.56", "vip": true, "next_payment": "2025-01-31"})
            ),
            (
                3,
                Some("1002".into()),
                "+353867654321".into(),
                json!({"first_name": "Seán", "date_of_birth": "1975-12-05", "balance": "99.50", "vip": false, "next_payment": "2025-02-28"})
            ),
        ]
    );
    assert_eq!(
        rejects(c),
        vec![(4, vec!["Mobile".into(), "Balance".into(), "VIP".into()])]
    );
}

#[test]
fn xlsx_typed_cells_and_a_lost_leading_zero() {
    let (c, result) = import(
        "contacts.xlsx",
        ImportFormat::Xlsx,
        ref_mapping(),
        "IE",
        DateOrder::Dmy,
    );
    result.unwrap();
    assert_spreadsheet(&c);
}

#[test]
fn xls_reads_like_xlsx() {
    let (c, result) = import(
        "contacts.xls",
        ImportFormat::Xls,
        ref_mapping(),
        "IE",
        DateOrder::Dmy,
    );
    result.unwrap();
    assert_spreadsheet(&c);
}

#[test]
fn a_named_sheet_is_read_instead_of_the_first() {
    for (name, format) in [
        ("contacts.xlsx", ImportFormat::Xlsx),
        ("contacts.xls", ImportFormat::Xls),
    ] {
        let options = ImportOptions {
            sheet: Some("Other".into()),
            ..ImportOptions::default()
        };
        let (c, result) = import(name, format, options, "IE", DateOrder::Dmy);
        result.unwrap();
        assert_eq!(
            contacts(&c),
            vec![(
                2,
                None,
                "+353831234567".into(),
                json!({"name": "Second sheet"})
            )]
        );
        let options = ImportOptions {
            sheet: Some("Missing".into()),
            ..ImportOptions::default()
        };
        let (_, result) = import(name, format, options, "IE", DateOrder::Dmy);
        let e = result.unwrap_err();
        assert!(
            e.contains("no sheet named `Missing`") && e.contains("Contacts, Other"),
            "{e}"
        );
    }
}

#[test]
fn broken_files_fail_naming_the_problem_and_line() {
    let (c, result) = import(
        "unterminated.csv",
        ImportFormat::Csv,
        ImportOptions::default(),
        "IE",
        DateOrder::Dmy,
    );
    let e = result.unwrap_err();
    assert!(e.contains("line 3") && e.contains("never closed"), "{e}");
    // The row before the broken one was applied and counted; the swallowed rest was not.
    assert_eq!(contacts(&c).len(), 1);
    assert_eq!(c.total, 1);

    let (c, result) = import(
        "garbage.csv",
        ImportFormat::Csv,
        ImportOptions::default(),
        "IE",
        DateOrder::Dmy,
    );
    let e = result.unwrap_err();
    assert!(e.contains("binary") && e.contains("line "), "{e}");
    assert_eq!(c.total, 0);

    for name in ["garbage.xlsx", "truncated.xlsx"] {
        let (c, result) = import(
            name,
            ImportFormat::Xlsx,
            ImportOptions::default(),
            "IE",
            DateOrder::Dmy,
        );
        let e = result.unwrap_err();
        assert!(e.contains("not a readable XLSX workbook"), "{name}: {e}");
        assert_eq!(c.total, 0);
    }
    let (_, result) = import(
        "contacts.xlsx",
        ImportFormat::Xls,
        ImportOptions::default(),
        "IE",
        DateOrder::Dmy,
    );
    assert!(result.unwrap_err().contains("not a readable XLS workbook"));

    let (_, result) = import(
        "empty.csv",
        ImportFormat::Csv,
        ImportOptions::default(),
        "IE",
        DateOrder::Dmy,
    );
    assert!(result.unwrap_err().contains("empty"));
    let (c, result) = import(
        "header_only.csv",
        ImportFormat::Csv,
        ImportOptions::default(),
        "IE",
        DateOrder::Dmy,
    );
    result.unwrap();
    assert_eq!(c.total, 0);
}

#[test]
fn a_plan_error_stops_before_any_row() {
    let (c, result) = import(
        "utf8.csv",
        ImportFormat::Csv,
        ImportOptions {
            address_column: Some("Nope".into()),
            ..ImportOptions::default()
        },
        "IE",
        DateOrder::Dmy,
    );
    let e = result.unwrap_err();
    assert!(e.contains("could not be applied"), "{e}");
    assert_eq!(c.total, 0);
}

#[test]
fn json_rows_are_read_from_a_file_through_the_pipeline() {
    let (c, result) = import(
        "rows.json",
        ImportFormat::Rows,
        ref_mapping(),
        "IE",
        DateOrder::Dmy,
    );
    result.unwrap();
    assert_eq!(
        contacts(&c),
        vec![
            (
                2,
                Some("C001".into()),
                "+353871234567".into(),
                json!({"name": "Zoë"})
            ),
            (
                3,
                Some("C002".into()),
                "+353861234567".into(),
                json!({"balance": "99.50"})
            ),
        ]
    );
    assert_eq!(rejects(&c), vec![(4, vec!["Mobile".to_owned()])]);
}
