//! Any document, step name and posted form: the step's form is read, written back and
//! removed without a panic; whatever is written back reads as a flow document again, and
//! writing a step's own form back leaves the document as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_flow::FlowDocument;
use parley_flow::step_form::{apply_step_form, remove_step, step_form};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The document, then the step's name, then `key=value` lines of the form.
    let mut parts = text.splitn(3, '\u{0}');
    let (Some(document), Some(step)) = (parts.next(), parts.next()) else { return };
    let posted: Vec<(String, String)> = parts
        .next()
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    if let Ok(applied) = apply_step_form(document, step, &posted) {
        assert!(FlowDocument::parse(&applied.document).is_ok());
    }
    if let Ok(removed) = remove_step(document, step) {
        assert!(FlowDocument::parse(&removed).is_ok());
    }
    if let Ok(form) = step_form(document, step, None) {
        if form.exists {
            let own: Vec<(String, String)> = [
                ("name".to_owned(), form.step.clone()),
                ("type".to_owned(), form.kind.clone()),
            ]
            .into_iter()
            .chain(form.fields.iter().map(|f| (f.key.clone(), f.value.clone())))
            .collect();
            let before = FlowDocument::parse(document).expect("read once");
            if let Ok(again) = apply_step_form(document, step, &own) {
                let after = FlowDocument::parse(&again.document).expect("written");
                // Trimmed ends aside, the step's own form changes nothing.
                if before.steps[step] == after.steps[step] {
                    assert_eq!(before, after);
                }
            }
        }
    }
});
