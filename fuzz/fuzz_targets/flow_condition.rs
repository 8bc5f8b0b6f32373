//! Any text through the condition parser, and every condition that parses through the
//! evaluator with fields holding the same text: a result or a positioned error, never a
//! panic, and error columns inside the text.
#![no_main]

use std::borrow::Cow;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use parley_domain::DateOrder;
use parley_flow::{Condition, Env, Lookup};
use rust_decimal::Decimal;

struct Fields<'a>(&'a str);

impl Lookup for Fields<'_> {
    fn lookup(&self, _name: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(self.0))
    }
}

impl Env for Fields<'_> {
    fn intent(&self) -> Option<&str> {
        Some(self.0)
    }
    fn intent_confidence(&self) -> Option<Decimal> {
        Some(Decimal::ONE)
    }
    fn entity(&self, _kind: &str) -> Option<&str> {
        Some(self.0)
    }
    fn today(&self) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 11, 21).expect("a date")
    }
    fn date_order(&self) -> DateOrder {
        DateOrder::Dmy
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match Condition::parse(&text) {
        Ok(condition) => {
            let env = Fields(&text);
            let _ = condition.holds(&env);
            let _ = condition.value_text(&env);
        }
        Err(e) => assert!(e.column >= 1 && e.column <= text.chars().count() + 1, "{e}"),
    }
});
