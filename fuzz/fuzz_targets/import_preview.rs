//! Any bytes through the import preview, as a whole file and as a file's head: it returns
//! a preview or an error and never panics; every shown row has one cell per header column
//! and a row number inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_domain::{DateOrder, FieldDefinition, ImportFormat, ImportOptions, OrgId};
use parley_import::ValueContext;

fuzz_target!(|data: &[u8]| {
    let known = FieldDefinition::builtins(OrgId::generate());
    let lines = data.iter().filter(|b| **b == b'\n' || **b == b'\r').count() as u64 + 1;
    for partial in [false, true] {
        let context = ValueContext::new("GB".parse().unwrap(), DateOrder::Dmy);
        let options = ImportOptions::default();
        if let Ok(p) = parley_import::preview(data, partial, ImportFormat::Csv, &options, &known, context) {
            for row in &p.rows {
                assert_eq!(row.cells.len(), p.header.len());
                assert!(row.number >= 2 && row.number <= lines.max(data.len() as u64) + 1);
            }
        }
    }
});
