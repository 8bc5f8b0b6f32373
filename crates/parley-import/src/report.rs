//! The rejects report as CSV (SPEC §3): `row, column, value, reason`, then the original
//! row's cells under the file's own headers. Values that a spreadsheet would run as a
//! formula (`=`, `+`, `-`, `@` first) are prefixed with `'`, so opening the report in
//! Excel cannot execute anything a customer's file carried.
//!
//! The header line keeps one name per column of the file, so the original cells stay
//! under their headers (the readers bound the columns: 16,384 by default); each name is
//! cut to 256 characters there, and the `column` of a line is already cut by `validate`.

use crate::limits::shorten;

/// Characters of a file's header name the report's header line repeats.
const HEADER_NAME_CHARS: usize = 256;

/// The report's header line.
#[must_use]
pub fn header_line(file_header: &[String]) -> Vec<u8> {
    let names: Vec<String> = file_header
        .iter()
        .map(|h| shorten(h, HEADER_NAME_CHARS))
        .collect();
    let mut fields: Vec<&str> = vec!["row", "column", "value", "reason"];
    fields.extend(names.iter().map(String::as_str));
    line(&fields)
}

/// One report line.
#[must_use]
pub fn reject_line(
    row: u64,
    column: &str,
    value: &str,
    reason: &str,
    original: &[String],
) -> Vec<u8> {
    let row = row.to_string();
    let mut fields: Vec<&str> = vec![&row, column, value, reason];
    fields.extend(original.iter().map(String::as_str));
    line(&fields)
}

fn line(fields: &[&str]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    // Writing to a Vec cannot fail.
    let _ = writer.write_record(
        fields
            .iter()
            .map(|f| parley_domain::csv::defuse(f).into_owned()),
    );
    writer.into_inner().unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_quoted_and_formulas_defused() {
        let line = reject_line(
            7,
            "Balance",
            "=1+1",
            "not money",
            &["a,b".into(), "-5".into(), "@x".into()],
        );
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "7,Balance,'=1+1,not money,\"a,b\",-5,'@x\r\n"
        );
        assert_eq!(
            String::from_utf8(header_line(&["Mobile".into()])).unwrap(),
            "row,column,value,reason,Mobile\r\n"
        );
        let long = String::from_utf8(header_line(&["n".repeat(10_000)])).unwrap();
        assert_eq!(
            long,
            format!("row,column,value,reason,{}…\r\n", "n".repeat(256))
        );
    }
}
