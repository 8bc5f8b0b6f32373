//! The `unknown_field` rule: every `<<name>>` is something the flow, the platform or the
//! organization defines.

use std::collections::BTreeSet;

use super::{BUILTIN_NAMES, Checker, Rule};
use crate::document::Step;

/// The `unknown_field` rule; gives the contact fields the flow reads (the names that are
/// neither its own variables nor platform names).
pub(super) fn check_fields(
    c: &mut Checker<'_>,
    org_fields: Option<&BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut known: BTreeSet<&str> = BUILTIN_NAMES.into_iter().collect();
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
    let contact_fields: BTreeSet<String> = c
        .placeholders
        .iter()
        .flat_map(|(_, _, names)| names.iter())
        .filter(|n| !known.contains(n.as_str()))
        .cloned()
        .collect();
    let Some(org_fields) = org_fields else {
        return contact_fields;
    };
    known.extend(parley_domain::BUILTIN_FIELDS.iter().map(|(k, _)| *k));
    known.extend(org_fields.iter().map(String::as_str));
    let unknown: Vec<(String, String, String)> = c
        .placeholders
        .iter()
        .flat_map(|(step, field, names)| {
            names
                .iter()
                .filter(|n| !known.contains(n.as_str()))
                .map(move |n| (step.clone(), field.clone(), n.clone()))
        })
        .collect();
    for (step, field, n) in unknown {
        c.report(Rule::UnknownField, Some(&step), Some(&field), None, format!("`<<{n}>>` is not a variable of this flow, a built-in or a contact field of the organization"));
    }
    contact_fields
}
