//! One step of a flow document as a form (the editor's "click a node"): the fields its
//! type has, labelled in words, with the step's values; and the form's answers written
//! back into the document. Pure: the document goes in as text and comes out as text.
//!
//! Decisions:
//! * the form is driven by one table of each type's fields ([`fields_of`]), read from and
//!   written to the step's JSON by key, so the form and the document cannot disagree;
//! * the document written back is indented JSON, as the editor shows stored drafts (YAML
//!   comments and key order are not kept, as for any saved draft);
//! * the form refuses only what the document cannot hold (a retry count that is not a
//!   number, an unknown type or expectation, a value without a name, a new name that is
//!   taken or badly formed) — every one at once, by its key. Everything else (an empty
//!   question, a step that does not exist) is written and the editor's findings say it;
//! * renaming a step renames every way to it (each `next`, rule, timeout, failure and the
//!   start); changing a step's type keeps the values the two types share (its text, its
//!   next step);
//! * a name no step has yet (a "missing" box in the drawing) opens a form for a new
//!   `message` step of that name;
//! * the branch's rules and the set step's values get one blank row more than they have,
//!   to add one; a row left blank is dropped.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::document::{FlowDocument, Step};

/// Why a form could not be written: the key of a field (or `name`, `type`, `document`,
/// `step`) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormProblem {
    /// The form's key.
    pub field: String,
    /// What is wrong, in words.
    pub message: String,
}

impl FormProblem {
    fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// Every problem of a form, in the form's order.
pub type FormProblems = Vec<FormProblem>;

/// Every step type, as the form offers them.
pub const STEP_TYPES: [&str; 9] = [
    "message", "ask", "branch", "fetch", "set", "status", "queue", "close", "wait",
];

/// What an `ask` may expect, as the form offers them.
pub const EXPECTS: [&str; 8] = [
    "text", "number", "money", "date", "yes_no", "email", "postcode", "choice",
];

/// How a field is typed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// One line.
    Line,
    /// Several lines (a message template).
    Text,
    /// A whole number.
    Number,
    /// A step's name (the page suggests the flow's steps).
    Step,
    /// An outcome status (the page suggests the organization's).
    Status,
    /// A queue (the page suggests the organization's).
    Queue,
    /// One of [`EXPECTS`].
    Expect,
}

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FormField {
    /// The form's name for it, also the document's path within the step
    /// (`rules[0].when`).
    pub key: String,
    /// What people read.
    pub label: String,
    /// How it is typed in.
    pub input: Input,
    /// Its value now.
    pub value: String,
    /// Whether the step needs it.
    pub required: bool,
    /// Whether it stands alone or is half of a row (a rule's condition and its step, a
    /// value's name and expression).
    pub part: Part,
}

/// Where a field sits in the form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// On its own.
    Alone,
    /// The first half of a row.
    First,
    /// The second half of a row.
    Second,
}

/// The two halves of a rule row and of a value row: the key each has in the row, the
/// words its label ends with, and how it is typed in.
const RULE_PARTS: [(&str, &str, Input); 2] = [
    ("when", "when", Input::Line),
    ("next", "go to", Input::Step),
];
const VALUE_PARTS: [(&str, &str, Input); 2] = [
    ("name", "name", Input::Line),
    ("expr", "expression", Input::Line),
];

/// One step as a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepForm {
    /// The step's name.
    pub step: String,
    /// Its type.
    pub kind: String,
    /// False for a name no step has yet.
    pub exists: bool,
    /// Its fields, in the order people fill them.
    pub fields: Vec<FormField>,
    /// Every step's name in the document (to suggest where ways lead).
    pub steps: Vec<String>,
}

/// What writing a form back gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The document, as indented JSON.
    pub document: String,
    /// The step's name after (renamed or not).
    pub step: String,
}

#[derive(Clone, Copy)]
enum Shape {
    One(Input),
    /// Strings one a line.
    Lines,
    /// Strings separated by commas.
    Commas,
    /// The branch's rules.
    Rules,
    /// The set step's variable → expression map.
    Values,
}

struct Spec {
    key: &'static str,
    label: &'static str,
    shape: Shape,
    required: bool,
}

const fn spec(key: &'static str, label: &'static str, shape: Shape, required: bool) -> Spec {
    Spec {
        key,
        label,
        shape,
        required,
    }
}

/// The fields of a step type, in the order people fill them.
fn fields_of(kind: &str) -> &'static [Spec] {
    use Input::{Expect, Line, Number, Queue, Status, Step as To, Text};
    use Shape::{Commas, Lines, One, Rules, Values};
    const NEXT: Spec = spec("next", "Next step", One(To), true);
    const MESSAGE: &[Spec] = &[spec("text", "Message", One(Text), true), NEXT];
    const ASK: &[Spec] = &[
        spec("text", "Question", One(Text), true),
        spec("save_as", "Save the reply as", One(Line), true),
        spec("expect", "Expect", One(Expect), false),
        spec(
            "options",
            "Choices, one a line (for a choice)",
            Lines,
            false,
        ),
        spec("retries", "Ask again up to (times)", One(Number), false),
        spec("retry_text", "Said before asking again", One(Text), false),
        spec(
            "timeout",
            "Wait for a reply (30m, 24h, 2d)",
            One(Line),
            false,
        ),
        spec("on_timeout", "When no reply comes, go to", One(To), false),
        NEXT,
    ];
    const BRANCH: &[Spec] = &[
        spec("rules", "Rule", Rules, true),
        spec("otherwise", "Otherwise go to", One(To), true),
    ];
    const FETCH: &[Spec] = &[
        spec(
            "fields",
            "Fields to request, separated by commas",
            Commas,
            true,
        ),
        spec("next", "When answered, go to", One(To), true),
        spec("on_failure", "When the request fails, go to", One(To), true),
    ];
    const SET: &[Spec] = &[spec("values", "Value", Values, true), NEXT];
    const STATUS: &[Spec] = &[spec("status", "Outcome status", One(Status), true), NEXT];
    const QUEUE: &[Spec] = &[
        spec("queue", "Queue", One(Queue), true),
        spec("text", "Sent before handing over", One(Text), false),
    ];
    const CLOSE: &[Spec] = &[
        spec("status", "Outcome status", One(Status), true),
        spec("text", "Sent before closing", One(Text), false),
    ];
    const WAIT: &[Spec] = &[
        spec("duration", "Wait for (30m, 24h, 2d)", One(Line), true),
        NEXT,
    ];
    match kind {
        "message" => MESSAGE,
        "ask" => ASK,
        "branch" => BRANCH,
        "fetch" => FETCH,
        "set" => SET,
        "status" => STATUS,
        "queue" => QUEUE,
        "close" => CLOSE,
        "wait" => WAIT,
        _ => &[],
    }
}

fn read(text: &str) -> Result<FlowDocument, FormProblems> {
    FlowDocument::parse(text).map_err(|e| {
        vec![FormProblem::new(
            "document",
            format!("cannot be read as a flow ({e}); fix it before editing a step"),
        )]
    })
}

/// `step` of the document `text` as a form, as type `as_kind` when given (a type change
/// being filled in), else its own; a name no step has is a new `message` step.
pub fn step_form(text: &str, step: &str, as_kind: Option<&str>) -> Result<StepForm, FormProblems> {
    let doc = read(text)?;
    let found = doc.steps.get(step);
    let own = found.map_or("message", Step::type_name);
    let kind = as_kind.filter(|k| STEP_TYPES.contains(k)).unwrap_or(own);
    let values = found
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_object().cloned())
        .unwrap_or_default();
    let mut fields = Vec::new();
    for s in fields_of(kind) {
        let got = values.get(s.key);
        let string = |v: Option<&Value>| match v {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => String::new(),
        };
        let one = |key: String, label: String, input, value, part| FormField {
            key,
            label,
            input,
            value,
            required: s.required,
            part,
        };
        match s.shape {
            Shape::One(input) => {
                let label = s.label.to_owned();
                fields.push(one(
                    s.key.to_owned(),
                    label,
                    input,
                    string(got),
                    Part::Alone,
                ));
            }
            Shape::Lines | Shape::Commas => {
                let (separator, input) = match s.shape {
                    Shape::Lines => ("\n", Input::Text),
                    _ => (", ", Input::Line),
                };
                let items: Vec<String> = got
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|v| string(Some(v))).collect())
                    .unwrap_or_default();
                let label = s.label.to_owned();
                let joined = items.join(separator);
                fields.push(one(s.key.to_owned(), label, input, joined, Part::Alone));
            }
            Shape::Rules | Shape::Values => {
                // Each row as it stands, and one blank row to add one.
                let (parts, rows): (_, Vec<(String, String)>) = match s.shape {
                    Shape::Rules => (
                        RULE_PARTS,
                        got.and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .map(|r| (string(r.get("when")), string(r.get("next"))))
                            .collect(),
                    ),
                    _ => (
                        VALUE_PARTS,
                        got.and_then(Value::as_object)
                            .into_iter()
                            .flatten()
                            .map(|(k, v)| (k.clone(), string(Some(v))))
                            .collect(),
                    ),
                };
                let blank = (String::new(), String::new());
                for (i, (first, second)) in rows.into_iter().chain([blank]).enumerate() {
                    let halves = [
                        (parts[0], first, Part::First),
                        (parts[1], second, Part::Second),
                    ];
                    for ((part, words, input), value, half) in halves {
                        let key = format!("{}[{i}].{part}", s.key);
                        let label = format!("{} {}: {words}", s.label, i + 1);
                        fields.push(one(key, label, input, value, half));
                    }
                }
            }
        }
    }
    Ok(StepForm {
        step: step.to_owned(),
        kind: kind.to_owned(),
        exists: found.is_some(),
        fields,
        steps: doc.steps.keys().cloned().collect(),
    })
}

/// A step name the form may give: 1 to 64 letters, digits, `_` or `-`.
fn good_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The rows `prefix[i].part` posted, by `i` in order: each row's parts.
fn rows(posted: &[(String, String)], prefix: &str) -> BTreeMap<usize, BTreeMap<String, String>> {
    let mut out: BTreeMap<usize, BTreeMap<String, String>> = BTreeMap::new();
    for (key, value) in posted {
        let Some(rest) = key.strip_prefix(prefix).and_then(|r| r.strip_prefix('[')) else {
            continue;
        };
        let Some((index, part)) = rest.split_once("].") else {
            continue;
        };
        if let Ok(i) = index.parse::<usize>() {
            out.entry(i)
                .or_default()
                .insert(part.to_owned(), value.trim().to_owned());
        }
    }
    out
}

/// Writes the form `posted` (`name`, `type` and the type's fields by key) over `step` of
/// the document `text`; every problem at once.
pub fn apply_step_form(
    text: &str,
    step: &str,
    posted: &[(String, String)],
) -> Result<Applied, FormProblems> {
    let mut doc = read(text)?;
    let get = |key: &str| {
        posted
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    };
    let mut problems = Vec::new();
    let kind = get("type").trim();
    if !STEP_TYPES.contains(&kind) {
        problems.push(FormProblem::new(
            "type",
            format!("must be one of {}", STEP_TYPES.join(", ")),
        ));
    }
    let name = get("name").trim();
    if name != step {
        if !good_name(name) {
            problems.push(FormProblem::new(
                "name",
                "must be 1 to 64 letters, digits, `_` or `-`",
            ));
        } else if doc.steps.contains_key(name) {
            problems.push(FormProblem::new(
                "name",
                format!("another step is already called `{name}`"),
            ));
        }
    }
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::from(kind));
    for s in fields_of(kind) {
        let raw = get(s.key);
        let value = match s.shape {
            Shape::One(Input::Number) => match raw.trim() {
                "" => None,
                t => match t.parse::<u8>() {
                    Ok(n) => Some(Value::from(n)),
                    Err(_) => {
                        problems.push(FormProblem::new(
                            s.key,
                            "must be a whole number from 0 to 255",
                        ));
                        None
                    }
                },
            },
            Shape::One(Input::Expect) => match raw.trim() {
                "" => None,
                t if EXPECTS.contains(&t) => Some(Value::from(t)),
                _ => {
                    problems.push(FormProblem::new(
                        s.key,
                        format!("must be one of {}", EXPECTS.join(", ")),
                    ));
                    None
                }
            },
            Shape::One(_) => {
                // A message keeps its inner line breaks; its ends are trimmed.
                let t = raw.trim();
                (s.required || !t.is_empty()).then(|| Value::from(t))
            }
            Shape::Lines | Shape::Commas => {
                let pieces: Vec<&str> = match s.shape {
                    Shape::Lines => raw.lines().collect(),
                    _ => raw.split(',').collect(),
                };
                let split: Vec<Value> = pieces
                    .into_iter()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(Value::from)
                    .collect();
                (s.required || !split.is_empty()).then_some(Value::Array(split))
            }
            Shape::Rules => {
                let rules: Vec<Value> = rows(posted, s.key)
                    .into_values()
                    .map(|mut row| {
                        let when = row.remove(RULE_PARTS[0].0).unwrap_or_default();
                        let next = row.remove(RULE_PARTS[1].0).unwrap_or_default();
                        (when, next)
                    })
                    .filter(|(when, next)| !(when.is_empty() && next.is_empty()))
                    .map(|(when, next)| serde_json::json!({"when": when, "next": next}))
                    .collect();
                Some(Value::Array(rules))
            }
            Shape::Values => {
                let mut map = Map::new();
                for (i, mut row) in rows(posted, s.key) {
                    let name = row.remove(VALUE_PARTS[0].0).unwrap_or_default();
                    let expr = row.remove(VALUE_PARTS[1].0).unwrap_or_default();
                    match (name.is_empty(), expr.is_empty()) {
                        (true, true) => {}
                        (true, false) => problems.push(FormProblem::new(
                            format!("values[{i}].name"),
                            "give the value a name",
                        )),
                        (false, _) if map.contains_key(&name) => problems.push(FormProblem::new(
                            format!("values[{i}].name"),
                            format!("`{name}` is set twice"),
                        )),
                        (false, _) => {
                            map.insert(name, Value::from(expr));
                        }
                    }
                }
                Some(Value::Object(map))
            }
        };
        if let Some(v) = value {
            object.insert(s.key.to_owned(), v);
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    let new_step: Step = serde_json::from_value(Value::Object(object)).map_err(|e| {
        vec![FormProblem::new(
            "type",
            format!("the step cannot be written: {e}"),
        )]
    })?;
    if name != step {
        doc.steps.remove(step);
        for other in doc.steps.values_mut() {
            retarget(other, step, name);
        }
        if doc.start == step {
            name.clone_into(&mut doc.start);
        }
    }
    let mut new_step = new_step;
    if name != step {
        retarget(&mut new_step, step, name);
    }
    doc.steps.insert(name.to_owned(), new_step);
    Ok(Applied {
        document: written(&doc)?,
        step: name.to_owned(),
    })
}

/// The document `text` without `step` (ways to it are left, and the findings show them).
pub fn remove_step(text: &str, step: &str) -> Result<String, FormProblems> {
    let mut doc = read(text)?;
    if doc.steps.remove(step).is_none() {
        return Err(vec![FormProblem::new(
            "step",
            format!("the document has no step `{step}`"),
        )]);
    }
    written(&doc)
}

fn written(doc: &FlowDocument) -> Result<String, FormProblems> {
    serde_json::to_string_pretty(doc).map_err(|e| {
        vec![FormProblem::new(
            "document",
            format!("cannot be written: {e}"),
        )]
    })
}

/// Points every way of `step` that led to `from` at `to`.
fn retarget(step: &mut Step, from: &str, to: &str) {
    let fix = |target: &mut String| {
        if target == from {
            to.clone_into(target);
        }
    };
    match step {
        Step::Message(s) => fix(&mut s.next),
        Step::Set(s) => fix(&mut s.next),
        Step::Status(s) => fix(&mut s.next),
        Step::Wait(s) => fix(&mut s.next),
        Step::Ask(s) => {
            fix(&mut s.next);
            if let Some(t) = s.on_timeout.as_mut() {
                fix(t);
            }
        }
        Step::Branch(s) => {
            s.rules.iter_mut().for_each(|r| fix(&mut r.next));
            fix(&mut s.otherwise);
        }
        Step::Fetch(s) => {
            fix(&mut s.next);
            fix(&mut s.on_failure);
        }
        Step::Queue(_) | Step::Close(_) => {}
    }
}

#[cfg(test)]
mod tests;
