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

/// Errors for the queues and statuses `doc` names that `names` does not define.
#[must_use]
pub fn check_names(doc: &FlowDocument, names: &Names) -> Vec<Diagnostic> {
    let queue_known = |q: &str| q == DEFAULT_FALLBACK_QUEUE || names.queues.contains(q);
    let status_known = |s: &str| s == OPTED_OUT_STATUS || names.statuses.contains(s);
    let queue_message = |q: &str| {
        format!("queue `{q}` is not a queue of the organization; define it or use `default`")
    };
    let status_message =
        |s: &str| format!("status `{s}` is not an outcome status of the organization; define it");
    let mut out = Vec::new();
    if let Some(q) = doc.fallback_queue.as_deref()
        && !queue_known(q)
    {
        out.push(unknown(
            Rule::UnknownQueue,
            None,
            "fallback_queue",
            queue_message(q),
        ));
    }
    for (name, step) in &doc.steps {
        match step {
            Step::Queue(s) if !queue_known(&s.queue) => out.push(unknown(
                Rule::UnknownQueue,
                Some(name),
                "queue",
                queue_message(&s.queue),
            )),
            Step::Status(s) if !status_known(&s.status) => out.push(unknown(
                Rule::UnknownStatus,
                Some(name),
                "status",
                status_message(&s.status),
            )),
            Step::Close(s) if !status_known(&s.status) => out.push(unknown(
                Rule::UnknownStatus,
                Some(name),
                "status",
                status_message(&s.status),
            )),
            _ => {}
        }
    }
    out
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
    }
}
