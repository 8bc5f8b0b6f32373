//! Any text through the template parser and renderer: a rendering or a positioned error,
//! never a panic; with no values, a rendering is never longer than the template.
#![no_main]

use std::borrow::Cow;

use libfuzzer_sys::fuzz_target;
use parley_flow::{Lookup, Template};

struct Nothing;

impl Lookup for Nothing {
    fn lookup(&self, _name: &str) -> Option<Cow<'_, str>> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Template::parse(&text) {
        Ok(template) => assert!(template.render(&Nothing).len() <= text.len()),
        Err(e) => assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e}"),
    }
});
