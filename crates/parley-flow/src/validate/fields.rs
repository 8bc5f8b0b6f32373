//! The `unknown_field` rule: every `<<name>>` is something the flow, the platform or the
//! organization defines.

use std::collections::BTreeSet;

use super::{BUILTIN_NAMES, Checker, Rule};
use crate::condition::Condition;
use crate::document::Step;
use crate::template::Template;

/// The `unknown_field` rule.
pub(super) fn check_fields(c: &mut Checker<'_>, org_fields: Option<&BTreeSet<String>>) {
    let Some(org_fields) = org_fields else { return };
    let mut known: BTreeSet<&str> = BUILTIN_NAMES.into_iter().collect();
    known.extend(parley_domain::BUILTIN_FIELDS.iter().map(|(k, _)| *k));
    known.extend(org_fields.iter().map(String::as_str));
    for step in c.doc.steps.values() {
        match step {
            Step::Ask(s) => {
                known.insert(&s.save_as);
            }
            Step::Fetch(s) => known.extend(s.fields.iter().map(String::as_str)),
            Step::Set(s) => known.extend(s.values.keys().map(String::as_str)),
            _ => {}
        }
    }
    let mut unknown = Vec::new();
    for (name, step) in &c.doc.steps {
        for (field, text, is_template) in texts(step) {
            let names: Vec<String> = if is_template {
                Template::parse(text)
                    .map(|t| t.fields().map(str::to_owned).collect())
                    .unwrap_or_default()
            } else {
                Condition::parse(text)
                    .map(|t| t.fields().map(str::to_owned).collect())
                    .unwrap_or_default()
            };
            for n in names {
                if !known.contains(n.as_str()) {
                    unknown.push((name.clone(), field.clone(), n));
                }
            }
        }
    }
    for (step, field, n) in unknown {
        c.report(Rule::UnknownField, Some(&step), Some(&field), None, format!("`<<{n}>>` is not a variable of this flow, a built-in or a contact field of the organization"));
    }
}

/// Every template and expression of a step: `(field, text, is_template)`.
fn texts(step: &Step) -> Vec<(String, &str, bool)> {
    let mut out = Vec::new();
    match step {
        Step::Message(s) => out.push(("text".to_owned(), s.text.as_str(), true)),
        Step::Ask(s) => {
            out.push(("text".to_owned(), s.text.as_str(), true));
            if let Some(t) = &s.retry_text {
                out.push(("retry_text".to_owned(), t.as_str(), true));
            }
        }
        Step::Branch(s) => {
            for (i, r) in s.rules.iter().enumerate() {
                out.push((format!("rules[{i}].when"), r.when.as_str(), false));
            }
        }
        Step::Set(s) => {
            for (k, v) in &s.values {
                out.push((format!("values.{k}"), v.as_str(), false));
            }
        }
        Step::Queue(s) => out.extend(s.text.as_deref().map(|t| ("text".to_owned(), t, true))),
        Step::Close(s) => out.extend(s.text.as_deref().map(|t| ("text".to_owned(), t, true))),
        Step::Fetch(_) | Step::Status(_) | Step::Wait(_) => {}
    }
    out
}
