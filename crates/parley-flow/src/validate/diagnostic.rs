//! Findings of validation: severity, the rule, and where (step, field, column), with the
//! one-line form `flow check` prints and tests assert.

use std::fmt;

use serde::Serialize;

/// How bad a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Blocks publishing.
    Error,
    /// Worth fixing; does not block.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which rule a diagnostic comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Rule {
    /// A reference names no step.
    UnknownStep,
    /// No path from `start` reaches the step.
    UnreachableStep,
    /// A condition does not parse.
    Condition,
    /// A template does not parse.
    Template,
    /// A duration does not parse.
    Duration,
    /// A placeholder names nothing the flow or organization has.
    UnknownField,
    /// A cycle with no `ask` or `wait`.
    LoopWithoutWait,
    /// A field's value is not allowed.
    StepShape,
    /// A queue the organization does not define.
    UnknownQueue,
    /// An outcome status the organization does not define.
    UnknownStatus,
}

impl Rule {
    /// The rule's name, as diagnostics print it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::UnknownStep => "unknown_step",
            Rule::UnreachableStep => "unreachable_step",
            Rule::Condition => "condition",
            Rule::Template => "template",
            Rule::Duration => "duration",
            Rule::UnknownField => "unknown_field",
            Rule::LoopWithoutWait => "loop_without_wait",
            Rule::StepShape => "step_shape",
            Rule::UnknownQueue => "unknown_queue",
            Rule::UnknownStatus => "unknown_status",
        }
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Error or warning.
    pub severity: Severity,
    /// The rule.
    pub rule: Rule,
    /// The step, when the finding belongs to one.
    pub step: Option<String>,
    /// The field within the step (`rules[0].when`) or document (`start`).
    pub field: Option<String>,
    /// 1-based column inside the field's text, for expressions, templates and durations.
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}[{}]", self.severity.as_str(), self.rule.as_str())?;
        let mut sep = " ";
        if let Some(step) = &self.step {
            write!(f, "{sep}step `{step}`")?;
            sep = ", ";
        }
        if let Some(field) = &self.field {
            write!(f, "{sep}{field}")?;
            sep = ", ";
        }
        if let Some(column) = self.column {
            write!(f, "{sep}column {column}")?;
        }
        write!(f, ": {}", self.message)
    }
}
