//! The flow document as operators write it (SPEC §4): JSON or YAML, read into plain serde
//! types with every text kept as written. Templates, conditions and durations are parsed by
//! validation, which can then say exactly where each one is wrong.
//!
//! Versioning: `schema` names the document's format. [`FlowDocument::parse`] migrates any
//! older schema to [`CURRENT_SCHEMA`] before reading it (there is one schema so far; the
//! hook is [`migrate`]), and refuses newer ones by name.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The schema this build reads and writes.
pub const CURRENT_SCHEMA: u32 = 1;

/// Largest flow document accepted, in bytes.
pub const MAX_DOCUMENT_BYTES: usize = 512 * 1024;

/// A flow document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowDocument {
    /// The document format version.
    pub schema: u32,
    /// A name for people.
    pub name: String,
    /// The first step.
    pub start: String,
    /// The queue a conversation joins when the flow itself fails (step budget spent, a
    /// state that no longer fits the version). Default `default`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback_queue: Option<String>,
    /// The steps by name.
    pub steps: BTreeMap<String, Step>,
}

/// One step, tagged by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// Sends text.
    Message(MessageStep),
    /// Sends text and waits for the reply.
    Ask(AskStep),
    /// The Logical Branch: the first rule that holds, else `otherwise`.
    Branch(BranchStep),
    /// Custom value request (SPEC §7.3) for the listed fields.
    Fetch(FetchStep),
    /// Assigns variables from expressions.
    Set(SetStep),
    /// Tags an outcome status.
    Status(StatusStep),
    /// Hands over to people.
    Queue(QueueStep),
    /// Ends the conversation.
    Close(CloseStep),
    /// Pauses.
    Wait(WaitStep),
}

impl Step {
    /// The `type` name.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Step::Message(_) => "message",
            Step::Ask(_) => "ask",
            Step::Branch(_) => "branch",
            Step::Fetch(_) => "fetch",
            Step::Set(_) => "set",
            Step::Status(_) => "status",
            Step::Queue(_) => "queue",
            Step::Close(_) => "close",
            Step::Wait(_) => "wait",
        }
    }

    /// The names of every step this one can lead to.
    #[must_use]
    pub fn targets(&self) -> Vec<&str> {
        match self {
            Step::Message(MessageStep { next, .. })
            | Step::Set(SetStep { next, .. })
            | Step::Status(StatusStep { next, .. })
            | Step::Wait(WaitStep { next, .. }) => vec![next],
            Step::Ask(s) => std::iter::once(&s.next)
                .chain(&s.on_timeout)
                .map(String::as_str)
                .collect(),
            Step::Branch(s) => s
                .rules
                .iter()
                .map(|r| r.next.as_str())
                .chain([s.otherwise.as_str()])
                .collect(),
            Step::Fetch(s) => vec![&s.next, &s.on_failure],
            Step::Queue(_) | Step::Close(_) => Vec::new(),
        }
    }
}

/// `message`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageStep {
    /// The text, a template.
    pub text: String,
    /// The step after.
    pub next: String,
}

/// What kind of reply an `ask` expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Expect {
    /// Any non-empty text.
    #[default]
    Text,
    /// A number.
    Number,
    /// An amount of money.
    Money,
    /// A date, read by the organization's date order.
    Date,
    /// Yes or no.
    YesNo,
    /// An e-mail address.
    Email,
    /// A postcode of the organization's country.
    Postcode,
    /// One of `options`, by text or by number.
    Choice,
}

/// `ask`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AskStep {
    /// The question, a template.
    pub text: String,
    /// The variable the reply is saved in.
    pub save_as: String,
    /// The expected kind of reply.
    #[serde(default)]
    pub expect: Expect,
    /// The choices, for `expect: choice`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// How many times to ask again after a reply that is not of the expected kind.
    #[serde(default)]
    pub retries: u8,
    /// Sent before asking again; the question itself when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_text: Option<String>,
    /// How long to wait for a reply (`30m`, `24h`, `2d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// The step when no reply came in time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_timeout: Option<String>,
    /// The step after the reply.
    pub next: String,
}

/// One rule of a branch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// The condition.
    pub when: String,
    /// Where to go when it holds.
    pub next: String,
}

/// `branch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BranchStep {
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
    /// Where to go when no rule holds.
    pub otherwise: String,
}

/// `fetch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FetchStep {
    /// The fields to request.
    pub fields: Vec<String>,
    /// The step after a successful answer.
    pub next: String,
    /// The step when the request fails or lacks a field.
    pub on_failure: String,
}

/// `set`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetStep {
    /// Variable → expression. All are evaluated against the values before the step.
    pub values: BTreeMap<String, String>,
    /// The step after.
    pub next: String,
}

/// `status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusStep {
    /// The outcome status to tag.
    pub status: String,
    /// The step after.
    pub next: String,
}

/// `queue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueStep {
    /// The queue to join.
    pub queue: String,
    /// Sent before handing over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `close`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CloseStep {
    /// The outcome status.
    pub status: String,
    /// Sent before closing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// `wait`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitStep {
    /// How long (`30m`, `24h`, `2d`).
    pub duration: String,
    /// The step after.
    pub next: String,
}

/// Why a document could not be read at all (before validation).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// Over [`MAX_DOCUMENT_BYTES`].
    #[error("the document is {0} bytes; at most {MAX_DOCUMENT_BYTES} are accepted")]
    TooLarge(usize),
    /// Not JSON or YAML at all.
    #[error("not valid {format} at line {line}, column {column}: {message}")]
    Syntax {
        /// `JSON` or `YAML`.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// Well-formed, but a field is missing, unknown or of the wrong kind.
    #[error("{path}: {message}")]
    Shape {
        /// Where, as `steps.ask_dob.expect`.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// A schema this build does not know.
    #[error(
        "schema {found} is not supported (this version of Parley reads schema 1 to {CURRENT_SCHEMA})"
    )]
    UnsupportedSchema {
        /// The document's schema.
        found: u64,
    },
}

impl FlowDocument {
    /// Reads a document from JSON or YAML text (JSON when it starts with `{`).
    pub fn parse(text: &str) -> Result<Self, DocumentError> {
        if text.len() > MAX_DOCUMENT_BYTES {
            return Err(DocumentError::TooLarge(text.len()));
        }
        let value = if text.trim_start().starts_with('{') {
            serde_json::from_str::<serde_json::Value>(text).map_err(|e| DocumentError::Syntax {
                format: "JSON",
                line: e.line(),
                column: e.column(),
                message: strip_position(&e.to_string()),
            })?
        } else {
            {
                // Only `true` and `false` are booleans: YAML 1.1 would read a name `n` or a
                // reply option `no` as false.
                let options = serde_saphyr::options! { strict_booleans: true };
                serde_saphyr::from_str_with_options::<serde_json::Value>(text, options)
                    .map_err(|e| yaml_error(&e))?
            }
        };
        Self::from_value(value)
    }

    /// Reads a document from a JSON value (migrating older schemas).
    pub fn from_value(value: serde_json::Value) -> Result<Self, DocumentError> {
        let value = migrate(value)?;
        serde_path_to_error::deserialize(value).map_err(|e| DocumentError::Shape {
            path: match e.path().to_string() {
                p if p == "." => "document".to_owned(),
                p => p,
            },
            message: e.into_inner().to_string(),
        })
    }

    /// The document as pretty JSON.
    #[must_use]
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Brings a document of any supported schema to [`CURRENT_SCHEMA`]. Each future schema adds
/// one `n → n + 1` rewrite here, so stored drafts of every age stay readable.
pub fn migrate(value: serde_json::Value) -> Result<serde_json::Value, DocumentError> {
    let schema = value
        .get("schema")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| DocumentError::Shape {
            path: "schema".to_owned(),
            message: format!("must be a whole number; the current schema is {CURRENT_SCHEMA}"),
        })?;
    if schema == 0 || schema > u64::from(CURRENT_SCHEMA) {
        return Err(DocumentError::UnsupportedSchema { found: schema });
    }
    Ok(value)
}

fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_owned(),
        None => message.to_owned(),
    }
}

fn yaml_error(error: &serde_saphyr::Error) -> DocumentError {
    let (line, column) = error
        .location()
        .map_or((0, 0), |l| (l.line() as usize, l.column() as usize));
    let message = error.to_string();
    let message = message.lines().next().unwrap_or_default().to_owned();
    DocumentError::Syntax {
        format: "YAML",
        line,
        column,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_yaml_read_alike() {
        let json =
            r#"{"schema":1,"name":"n","start":"a","steps":{"a":{"type":"close","status":"done"}}}"#;
        let yaml =
            "schema: 1\nname: n\nstart: a\nsteps:\n  a:\n    type: close\n    status: done\n";
        assert_eq!(FlowDocument::parse(json), FlowDocument::parse(yaml));
        assert!(FlowDocument::parse(json).is_ok());
    }

    #[test]
    fn shape_errors_name_the_path() {
        let doc = r#"{"schema":1,"name":"n","start":"a","steps":{"a":{"type":"ask","text":"?","save_as":"x","expect":"colour","next":"a"}}}"#;
        let err = FlowDocument::parse(doc).unwrap_err().to_string();
        assert!(err.starts_with("steps.a"), "{err}");
        assert!(err.contains("colour"), "{err}");
        let doc = r#"{"schema":1,"name":"n","start":"a","steps":{"a":{"type":"close","status":"x","colour":1}}}"#;
        let err = FlowDocument::parse(doc).unwrap_err().to_string();
        assert!(err.contains("colour"), "{err}");
    }

    #[test]
    fn syntax_errors_give_line_and_column() {
        let err = FlowDocument::parse("{\n  \"schema\": 1,\n  oops\n}").unwrap_err();
        assert!(
            matches!(
                err,
                DocumentError::Syntax {
                    format: "JSON",
                    line: 3,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = FlowDocument::parse("schema: 1\nsteps: [a\n").unwrap_err();
        assert!(
            matches!(err, DocumentError::Syntax { format: "YAML", .. }),
            "{err:?}"
        );
    }

    #[test]
    fn schemas_are_checked() {
        let err = FlowDocument::parse(r#"{"schema":2,"name":"n","start":"a","steps":{}}"#);
        assert_eq!(
            err.unwrap_err().to_string(),
            "schema 2 is not supported (this version of Parley reads schema 1 to 1)"
        );
        let err = FlowDocument::parse(r#"{"name":"n","start":"a","steps":{}}"#);
        assert_eq!(
            err.unwrap_err().to_string(),
            "schema: must be a whole number; the current schema is 1"
        );
    }
}
