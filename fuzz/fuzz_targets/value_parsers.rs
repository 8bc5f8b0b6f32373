//! Any text, and any number, through every field type's parser for several countries and
//! both date orders: a value or a reason, never a panic. Accepted values must be stable:
//! parsing the canonical form again gives the same value. The same text, split at commas,
//! is a column whose type is inferred (the first piece is its header): a type, never a
//! panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_domain::{DateOrder, FieldType};
use parley_import::CellRef;
use parley_import::infer::infer_column;
use parley_import::values::{Value, ValueContext, parse_value};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else { return };
    let text = String::from_utf8_lossy(rest);
    let country = ["GB", "IE", "US", "DE", "IN"][usize::from(selector % 5)];
    let order = if selector & 8 == 0 { DateOrder::Dmy } else { DateOrder::Mdy };
    let mut ctx = ValueContext::new(country.parse().expect("known code"), order);
    let number = rest.get(..8).map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")));
    for t in FieldType::ALL {
        if let Ok(value) = parse_value(t, CellRef::Text(&text), &mut ctx) {
            let again = match &value {
                Value::Text(s) => parse_value(t, CellRef::Text(s), &mut ctx),
                Value::Number(n) => parse_value(t, CellRef::Text(&n.to_string()), &mut ctx),
                Value::Bool(b) => parse_value(t, CellRef::Bool(*b), &mut ctx),
            };
            assert_eq!(again.as_ref(), Ok(&value), "{t}: {text:?} is not stable");
        }
        if let Some(n) = number {
            let _ = parse_value(t, CellRef::Number(n), &mut ctx);
        }
    }
    let mut pieces = text.split(',');
    let header = parley_import::normalise_header(pieces.next().unwrap_or(""));
    let cells: Vec<CellRef<'_>> = pieces.map(CellRef::Text).collect();
    let _ = infer_column(&header, &cells, &mut ctx);
});
