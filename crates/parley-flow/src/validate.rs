//! Validation of a flow document (SPEC §4): every rule reports its step, the field within
//! the step and, inside an expression or template, the column. Rules, by [`Rule`]:
//!
//! * `unknown_step`: `start`, `next`, `otherwise`, `on_failure`, `on_timeout` and
//!   `rules[n].next` name existing steps;
//! * `unreachable_step` (warning): every step can be reached from `start`;
//! * `condition`, `template`, `duration`: expressions, texts and durations parse;
//! * `unknown_field`: each `<<name>>` is a variable of the flow (`save_as`, `set` keys,
//!   `fetch` fields), a built-in (`portal_url`, `organization_name`, `today`,
//!   `last_reply`, `fetch_error`), a built-in contact field, or a field of the
//!   organization — checked only when the organization's fields are given;
//! * `loop_without_wait`: every cycle of steps passes an `ask` or a `wait`, so the bot
//!   cannot talk to itself forever;
//! * `unknown_queue`, `unknown_status`: queues and outcome statuses the flow names are
//!   the organization's (or Parley's own) — checked by [`check_names`] when the
//!   organization's are known, as publishing does;
//! * `step_shape`: what serde cannot check (a `choice` has options and only a `choice`
//!   has them; a timeout has an `on_timeout` and the other way round; names and statuses
//!   are well formed; a fetch lists fields; limits).
//!
//! A [`Validation`] holds the diagnostics and, when the structure resolves (every
//! reference and expression is sound), the runnable [`Flow`]; only a validation without
//! errors may be published.

mod diagnostic;
mod fields;
mod graph;
mod names;

use std::collections::{BTreeSet, HashMap};

pub use diagnostic::{Diagnostic, Rule, Severity};
pub use names::{Names, OPTED_OUT_STATUS, check_names, names_used};

use crate::condition::Condition;
use crate::document::{Expect, FlowDocument, Step};
use crate::duration::parse_duration;
use crate::program::{Ask, DEFAULT_FALLBACK_QUEUE, Flow, MAX_STEPS, Program, StepIndex};
use crate::template::{Template, check_name};

/// Placeholder names every flow can read.
pub const BUILTIN_NAMES: [&str; 5] = [
    "portal_url",
    "organization_name",
    "today",
    "last_reply",
    "fetch_error",
];

/// Most times an `ask` may re-ask.
pub const MAX_RETRIES: u8 = 10;

/// The outcome of validating a document.
#[derive(Debug, Clone)]
pub struct Validation {
    /// Findings, errors first, then by step and field.
    pub diagnostics: Vec<Diagnostic>,
    /// The contact fields the flow's `<<placeholders>>` and conditions read: every name
    /// that is not one of the flow's own variables or a platform name. Empty in a
    /// conversation whose contact lacks them.
    pub contact_fields: BTreeSet<String>,
    flow: Option<Flow>,
}

impl Validation {
    /// True when nothing blocks publishing.
    #[must_use]
    pub fn is_publishable(&self) -> bool {
        self.flow.is_some()
            && !self
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
    }

    /// The runnable flow when the structure resolved, even if other errors remain (a loop
    /// without a wait still runs, bounded by the step budget). Publish only when
    /// [`Validation::is_publishable`].
    #[must_use]
    pub fn flow(&self) -> Option<&Flow> {
        self.flow.as_ref()
    }

    /// The runnable flow, only when publishable.
    #[must_use]
    pub fn into_publishable(self) -> Option<Flow> {
        if self.is_publishable() {
            self.flow
        } else {
            None
        }
    }

    /// The errors.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

struct Checker<'d> {
    doc: &'d FlowDocument,
    index: HashMap<&'d str, StepIndex>,
    out: Vec<Diagnostic>,
    /// Set when a finding means the flow cannot be built.
    broken: bool,
    /// `(step, field, placeholder names)` of every template and expression that parsed,
    /// for the `unknown_field` rule.
    placeholders: Vec<(String, String, Vec<String>)>,
}

impl Checker<'_> {
    fn report(
        &mut self,
        rule: Rule,
        step: Option<&str>,
        field: Option<&str>,
        column: Option<usize>,
        message: String,
    ) {
        let severity = if rule == Rule::UnreachableStep {
            Severity::Warning
        } else {
            Severity::Error
        };
        if !matches!(
            rule,
            Rule::UnreachableStep | Rule::LoopWithoutWait | Rule::UnknownField
        ) {
            self.broken = true;
        }
        self.out.push(Diagnostic {
            severity,
            rule,
            step: step.map(str::to_owned),
            field: field.map(str::to_owned),
            column,
            message,
        });
    }

    fn target(&mut self, step: &str, field: &str, name: &str) -> StepIndex {
        if let Some(i) = self.index.get(name) {
            return *i;
        }
        self.report(
            Rule::UnknownStep,
            Some(step),
            Some(field),
            None,
            format!("no step is named `{name}`"),
        );
        0
    }

    fn placeholders<'n>(&mut self, step: &str, field: &str, names: impl Iterator<Item = &'n str>) {
        let names: Vec<String> = names.map(str::to_owned).collect();
        if !names.is_empty() {
            self.placeholders
                .push((step.to_owned(), field.to_owned(), names));
        }
    }

    fn template(&mut self, step: &str, field: &str, text: &str) -> Template {
        let parsed = Template::parse(text);
        if let Ok(t) = &parsed {
            self.placeholders(step, field, t.fields());
        }
        parsed.unwrap_or_else(|e| {
            self.report(
                Rule::Template,
                Some(step),
                Some(field),
                Some(e.column),
                e.message,
            );
            Template::empty()
        })
    }

    fn condition(&mut self, step: &str, field: &str, text: &str) -> Option<Condition> {
        match Condition::parse(text) {
            Ok(c) => {
                self.placeholders(step, field, c.fields());
                Some(c)
            }
            Err(e) => {
                self.report(
                    Rule::Condition,
                    Some(step),
                    Some(field),
                    Some(e.column),
                    e.message,
                );
                None
            }
        }
    }

    fn duration(&mut self, step: &str, field: &str, text: &str) -> std::time::Duration {
        parse_duration(text).unwrap_or_else(|e| {
            self.report(
                Rule::Duration,
                Some(step),
                Some(field),
                Some(e.column),
                e.message.to_owned(),
            );
            std::time::Duration::from_secs(1)
        })
    }

    fn shape(&mut self, step: &str, field: &str, message: String) {
        self.report(Rule::StepShape, Some(step), Some(field), None, message);
    }

    /// A variable, status or queue name: letters, digits, `_` and `-`, 1 to 64.
    fn label(&mut self, step: &str, field: &str, what: &str, value: &str) {
        let ok = (1..=64).contains(&value.len())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !ok {
            self.shape(
                step,
                field,
                format!("{what} `{value}` must be 1 to 64 letters, digits, `_` or `-`"),
            );
        }
    }

    fn variable(&mut self, step: &str, field: &str, name: &str) {
        if let Err(e) = check_name(name, 1) {
            self.shape(
                step,
                field,
                format!("`{name}` is not a variable name: {}", e.message),
            );
        } else if BUILTIN_NAMES.contains(&name) {
            self.shape(
                step,
                field,
                format!("`{name}` is a built-in name and cannot be assigned"),
            );
        }
    }
}

/// Validates `doc`. `org_fields` are the organization's contact field keys; when `None`,
/// placeholders are not checked against them (the CLI without `--fields`).
#[must_use]
pub fn validate(doc: &FlowDocument, org_fields: Option<&BTreeSet<String>>) -> Validation {
    let index: HashMap<&str, StepIndex> = doc
        .steps
        .keys()
        .enumerate()
        .filter_map(|(i, name)| Some((name.as_str(), StepIndex::try_from(i).ok()?)))
        .collect();
    let mut c = Checker {
        doc,
        index,
        out: Vec::new(),
        broken: false,
        placeholders: Vec::new(),
    };
    if doc.steps.is_empty() {
        c.report(
            Rule::StepShape,
            None,
            Some("steps"),
            None,
            "a flow needs at least one step".to_owned(),
        );
    }
    if doc.steps.len() > MAX_STEPS {
        c.report(
            Rule::StepShape,
            None,
            Some("steps"),
            None,
            format!("{} steps; at most {MAX_STEPS} are allowed", doc.steps.len()),
        );
    }
    let start = match c.index.get(doc.start.as_str()) {
        Some(i) => *i,
        None => {
            c.report(
                Rule::UnknownStep,
                None,
                Some("start"),
                None,
                format!("no step is named `{}`", doc.start),
            );
            0
        }
    };
    let fallback_queue = doc
        .fallback_queue
        .clone()
        .unwrap_or_else(|| DEFAULT_FALLBACK_QUEUE.to_owned());
    if doc.fallback_queue.is_some() {
        let ok = (1..=64).contains(&fallback_queue.len())
            && fallback_queue
                .chars()
                .all(|ch| ch.is_ascii_alphanumeric() || ch == '_' || ch == '-');
        if !ok {
            c.report(
                Rule::StepShape,
                None,
                Some("fallback_queue"),
                None,
                format!("queue `{fallback_queue}` must be 1 to 64 letters, digits, `_` or `-`"),
            );
        }
    }
    let steps: Vec<Program> = doc
        .steps
        .iter()
        .map(|(name, step)| compile(&mut c, name, step))
        .collect();
    graph::check(&mut c, start);
    let contact_fields = fields::check_fields(&mut c, org_fields);
    let Checker {
        mut out,
        broken,
        index,
        ..
    } = c;
    out.sort_by(|a, b| (a.severity, &a.step, &a.field).cmp(&(b.severity, &b.step, &b.field)));
    let flow = (!broken).then(|| Flow {
        name: doc.name.clone(),
        steps,
        names: doc.steps.keys().map(|k| k.as_str().into()).collect(),
        index: index.into_iter().map(|(k, i)| (k.into(), i)).collect(),
        start,
        fallback_queue,
    });
    Validation {
        diagnostics: out,
        contact_fields,
        flow,
    }
}

fn compile(c: &mut Checker<'_>, name: &str, step: &Step) -> Program {
    match step {
        Step::Message(s) => Program::Message {
            text: c.template(name, "text", &s.text),
            next: c.target(name, "next", &s.next),
        },
        Step::Ask(s) => {
            let text = c.template(name, "text", &s.text);
            let retry_text = s
                .retry_text
                .as_deref()
                .map(|t| c.template(name, "retry_text", t));
            c.variable(name, "save_as", &s.save_as);
            match (s.expect, s.options.is_empty()) {
                (Expect::Choice, true) => c.shape(
                    name,
                    "options",
                    "`expect: choice` needs a list of options".to_owned(),
                ),
                (Expect::Choice, false) => {
                    if s.options.iter().any(|o| o.trim().is_empty()) {
                        c.shape(name, "options", "an option is empty".to_owned());
                    }
                }
                (_, false) => c.shape(
                    name,
                    "options",
                    "options are only used with `expect: choice`".to_owned(),
                ),
                (_, true) => {}
            }
            if s.retries > MAX_RETRIES {
                c.shape(name, "retries", format!("at most {MAX_RETRIES} retries"));
            }
            let timeout = match (&s.timeout, &s.on_timeout) {
                (Some(t), Some(step)) => Some((
                    c.duration(name, "timeout", t),
                    c.target(name, "on_timeout", step),
                )),
                (Some(_), None) => {
                    c.shape(
                        name,
                        "timeout",
                        "a timeout needs `on_timeout`, the step to go to when no reply comes"
                            .to_owned(),
                    );
                    None
                }
                (None, Some(_)) => {
                    c.shape(
                        name,
                        "on_timeout",
                        "`on_timeout` needs a `timeout`".to_owned(),
                    );
                    None
                }
                (None, None) => None,
            };
            Program::Ask(Box::new(Ask {
                text,
                save_as: s.save_as.as_str().into(),
                expect: s.expect,
                options: s.options.clone(),
                retries: s.retries,
                retry_text,
                timeout,
                next: c.target(name, "next", &s.next),
            }))
        }
        Step::Branch(s) => {
            let mut rules = Vec::new();
            for (i, rule) in s.rules.iter().enumerate() {
                let cond = c.condition(name, &format!("rules[{i}].when"), &rule.when);
                let next = c.target(name, &format!("rules[{i}].next"), &rule.next);
                if let Some(cond) = cond {
                    rules.push((cond, next));
                }
            }
            Program::Branch {
                rules,
                otherwise: c.target(name, "otherwise", &s.otherwise),
            }
        }
        Step::Fetch(s) => {
            if s.fields.is_empty() {
                c.shape(
                    name,
                    "fields",
                    "a fetch needs at least one field".to_owned(),
                );
            }
            for (i, f) in s.fields.iter().enumerate() {
                c.variable(name, &format!("fields[{i}]"), f);
            }
            Program::Fetch {
                fields: s.fields.clone(),
                next: c.target(name, "next", &s.next),
                on_failure: c.target(name, "on_failure", &s.on_failure),
            }
        }
        Step::Set(s) => {
            if s.values.is_empty() {
                c.shape(
                    name,
                    "values",
                    "a set step needs at least one value".to_owned(),
                );
            }
            let mut values = Vec::new();
            for (key, expr) in &s.values {
                c.variable(name, &format!("values.{key}"), key);
                if let Some(cond) = c.condition(name, &format!("values.{key}"), expr) {
                    values.push((key.as_str().into(), cond));
                }
            }
            Program::Set {
                values,
                next: c.target(name, "next", &s.next),
            }
        }
        Step::Status(s) => {
            c.label(name, "status", "status", &s.status);
            Program::Status {
                status: s.status.clone(),
                next: c.target(name, "next", &s.next),
            }
        }
        Step::Queue(s) => {
            c.label(name, "queue", "queue", &s.queue);
            Program::Queue {
                queue: s.queue.clone(),
                text: s.text.as_deref().map(|t| c.template(name, "text", t)),
            }
        }
        Step::Close(s) => {
            c.label(name, "status", "status", &s.status);
            Program::Close {
                status: s.status.clone(),
                text: s.text.as_deref().map(|t| c.template(name, "text", t)),
            }
        }
        Step::Wait(s) => Program::Wait {
            duration: c.duration(name, "duration", &s.duration),
            next: c.target(name, "next", &s.next),
        },
    }
}

#[cfg(test)]
mod tests;
