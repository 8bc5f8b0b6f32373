//! Writing CSV cells that a spreadsheet opens safely (every CSV Parley writes: the rejects
//! report, the campaign recipients export). A cell that starts with `=`, `+`, `-`, `@`, a
//! tab or a carriage return is one a spreadsheet may run as a formula, so it gets a
//! leading `'` — unless it reads as a plain number (`-12.5` stays as written). Quoting is
//! RFC 4180's: a cell holding a comma, a quote or a line break is quoted, its quotes
//! doubled.

use std::borrow::Cow;

/// `cell` as written, or with a leading `'` when a spreadsheet could run it.
#[must_use]
pub fn defuse(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Appends `value` to `out` as one CSV field: defused, then quoted when it must be.
pub fn push_field(out: &mut String, value: &str) {
    let text = defuse(value);
    if text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&text);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_numbers_kept() {
        for (cell, written) in [
            ("=SUM(A1)", "'=SUM(A1)"),
            ("+44 7700", "'+44 7700"),
            ("-cmd", "'-cmd"),
            ("@here", "'@here"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("-12.5", "-12.5"),
            ("+3", "+3"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(defuse(cell), written, "{cell:?}");
        }
    }

    #[test]
    fn fields_are_quoted_when_they_must_be() {
        let mut out = String::new();
        for value in ["a,b", "say \"hi\"", "two\nlines", "=1+1", "ok"] {
            push_field(&mut out, value);
            out.push('|');
        }
        assert_eq!(out, "\"a,b\"|\"say \"\"hi\"\"\"|\"two\nlines\"|'=1+1|ok|");
    }

    proptest::proptest! {
        /// Whatever the value, the field never starts with a formula character unless it
        /// is a number, and reading the quoted field back gives the defused value.
        #[test]
        fn no_field_starts_a_formula(value in ".*") {
            let mut out = String::new();
            push_field(&mut out, &value);
            let inner = if out.starts_with('"') {
                out[1..out.len() - 1].replace("\"\"", "\"")
            } else {
                out.clone()
            };
            proptest::prop_assert_eq!(&inner, &*defuse(&value));
            let risky = inner.starts_with(['=', '+', '-', '@', '\t', '\r']);
            proptest::prop_assert!(!risky || inner.parse::<f64>().is_ok());
        }
    }
}
