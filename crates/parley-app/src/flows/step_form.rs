//! One step of a flow document as a form, for the editor: `parley_flow::step_form` with
//! its problems as this crate's input errors (each by its form key).

pub use parley_flow::step_form::{Applied, EXPECTS, FormField, Input, Part, STEP_TYPES, StepForm};

use crate::{AppError, FieldError};

fn invalid(problems: parley_flow::step_form::FormProblems) -> AppError {
    AppError::Invalid(
        problems
            .into_iter()
            .map(|p| FieldError::new(p.field, p.message))
            .collect(),
    )
}

/// `step` of the document `text` as a form (as type `as_kind` when given).
pub fn step_form(text: &str, step: &str, as_kind: Option<&str>) -> Result<StepForm, AppError> {
    parley_flow::step_form::step_form(text, step, as_kind).map_err(invalid)
}

/// The form `posted` written over `step` of `text`; every problem at once.
pub fn apply_step_form(
    text: &str,
    step: &str,
    posted: &[(String, String)],
) -> Result<Applied, AppError> {
    parley_flow::step_form::apply_step_form(text, step, posted).map_err(invalid)
}

/// `text` without `step`.
pub fn remove_step(text: &str, step: &str) -> Result<String, AppError> {
    parley_flow::step_form::remove_step(text, step).map_err(invalid)
}
