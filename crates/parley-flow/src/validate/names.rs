//! The `unknown_queue` and `unknown_status` rules: every queue a flow hands over to and
//! every outcome status it tags is one the organization defined, or Parley's own
//! (`default`, `opted_out`). A typo would otherwise park customers in a queue no one
//! watches, or tag an outcome no report counts.

use std::collections::BTreeSet;

use super::{Diagnostic, Rule, Severity};
use crate::document::{FlowDocument, Step};
use crate::program::DEFAULT_FALLBACK_QUEUE;

/// Parley's own outcome status (an opt-out closes with it).
pub const OPTED_OUT_STATUS: &str = "opted_out";

/// What an organization defines, for [`check_names`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Names {
    /// Queue keys.
    pub queues: BTreeSet<String>,
    /// Outcome status keys.
    pub statuses: BTreeSet<String>,
}

fn unknown(rule: Rule, step: Option<&str>, field: &str, message: String) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        rule,
        step: step.map(str::to_owned),
        field: Some(field.to_owned()),
        column: None,
        message,
    }
}

/// Every queue and outcome status `doc` names, with where: `(step, field, is a queue,
/// name)`.
fn references(doc: &FlowDocument) -> Vec<(Option<&str>, &'static str, bool, &str)> {
    let mut out: Vec<_> = doc
        .fallback_queue
        .as_deref()
        .map(|q| (None, "fallback_queue", true, q))
        .into_iter()
        .collect();
    for (name, step) in &doc.steps {
        let found = match step {
            Step::Queue(s) => Some(("queue", true, s.queue.as_str())),
            Step::Status(s) => Some(("status", false, s.status.as_str())),
            Step::Close(s) => Some(("status", false, s.status.as_str())),
            _ => None,
        };
        if let Some((field, queue, value)) = found {
            out.push((Some(name.as_str()), field, queue, value));
        }
    }
    out
}

/// The queues and outcome statuses `doc` names, Parley's own (`default`, `opted_out`)
/// left out: what an organization must define before publishing it.
#[must_use]
pub fn names_used(doc: &FlowDocument) -> Names {
    let mut used = Names::default();
    for (_, _, queue, name) in references(doc) {
        if queue && name != DEFAULT_FALLBACK_QUEUE {
            used.queues.insert(name.to_owned());
        } else if !queue && name != OPTED_OUT_STATUS {
            used.statuses.insert(name.to_owned());
        }
    }
    used
}

/// Errors for the queues and statuses `doc` names that `names` does not define.
#[must_use]
pub fn check_names(doc: &FlowDocument, names: &Names) -> Vec<Diagnostic> {
    let used = names_used(doc);
    references(doc)
        .into_iter()
        .filter(|(_, _, queue, name)| {
            if *queue {
                used.queues.contains(*name) && !names.queues.contains(*name)
            } else {
                used.statuses.contains(*name) && !names.statuses.contains(*name)
            }
        })
        .map(|(step, field, queue, name)| {
            if queue {
                unknown(
                    Rule::UnknownQueue,
                    step,
                    field,
                    format!("queue `{name}` is not a queue of the organization; define it or use `default`"),
                )
            } else {
                unknown(
                    Rule::UnknownStatus,
                    step,
                    field,
                    format!("status `{name}` is not an outcome status of the organization; define it"),
                )
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_a_flow_uses_must_be_defined() {
        let doc = FlowDocument::parse(
            "schema: 1\nname: n\nstart: a\nfallback_queue: triage\nsteps:\n  a:\n    type: status\n    status: promised\n    next: b\n  b:\n    type: queue\n    queue: collections\n  c:\n    type: close\n    status: opted_out\n  d:\n    type: close\n    status: paid\n  e:\n    type: queue\n    queue: default\n",
        )
        .unwrap();
        let none = check_names(&doc, &Names::default());
        let found: Vec<(Option<&str>, &str, Rule)> = none
            .iter()
            .map(|d| (d.step.as_deref(), d.field.as_deref().unwrap_or(""), d.rule))
            .collect();
        assert_eq!(
            found,
            [
                (None, "fallback_queue", Rule::UnknownQueue),
                (Some("a"), "status", Rule::UnknownStatus),
                (Some("b"), "queue", Rule::UnknownQueue),
                (Some("d"), "status", Rule::UnknownStatus),
            ]
        );
        let defined = Names {
            queues: ["triage", "collections"].map(str::to_owned).into(),
            statuses: ["promised", "paid"].map(str::to_owned).into(),
        };
        assert!(check_names(&doc, &defined).is_empty());
        assert_eq!(
            names_used(&doc),
            defined,
            "the names to define, built-ins left out"
        );
    }
}
