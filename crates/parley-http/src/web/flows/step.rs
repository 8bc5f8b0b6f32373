//! The flow editor's step form: a step in the drawing opens its form
//! (`parley_app::flows::step_form`), as the document stands typed — the fields its type
//! has, with the flow's steps, the organization's outcome statuses and queues suggested —
//! and **Apply to document** writes it back into the document (renaming a step renames
//! every way to it), **Remove step** takes it out. Nothing is stored until Save or
//! Publish. `GET /app/{org}/flows/{id}?step=NAME` opens a form without our module;
//! `POST /app/{org}/flows/{id}/step` (`do` = open, apply or remove) answers the editor's
//! page with the new document, drawing and form, from which our module takes those three.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use http::HeaderMap;
use parley_app::AppError;
use parley_app::auth::Access;
use parley_app::flows::step_form::{
    self, EXPECTS, FormField, Input, Part, STEP_TYPES, StepForm, apply_step_form, remove_step,
};
use parley_domain::{FlowId, OrgId, Permission};

use super::{Shown, show};
use crate::AppState;
use crate::web::pages::{PageError, Posted, Refusal};
use crate::web::session::{Session, Viewer, check_form};

/// Which step's form to show, and with what.
#[derive(Debug, Default)]
pub(crate) struct StepOpen {
    /// The step's name in the document.
    pub(crate) step: String,
    /// The form as posted (a type change, or a refused apply), shown over the document's
    /// values.
    pub(crate) posted: Vec<(String, String)>,
    pub(crate) notice: Option<String>,
    pub(crate) refused: Option<Refusal>,
    /// The step was removed: only the notice is shown.
    pub(crate) removed: bool,
}

pub(crate) struct StepRow {
    field: FormField,
    id: String,
}

impl StepRow {
    /// The class of the two halves of a rule or value row (drawn side by side).
    fn pair(&self) -> &'static str {
        match self.field.part {
            Part::Alone => "",
            Part::First => " pair-a",
            Part::Second => " pair-b",
        }
    }
}

#[derive(Template)]
#[template(path = "app/flow_step.html")]
pub(crate) struct StepRegion {
    action: String,
    csrf: String,
    document: String,
    close_href: String,
    step: Option<StepForm>,
    name: String,
    rows: Vec<StepRow>,
    types: &'static [&'static str],
    expects: &'static [&'static str],
    steps: Vec<String>,
    statuses: Vec<String>,
    queues: Vec<String>,
    notice: Option<String>,
    refused: Option<Refusal>,
}

impl StepRegion {
    /// The region for `open` over the document `text` of the flow at `here`.
    pub(crate) async fn new(
        state: &AppState,
        access: &Access,
        here: &str,
        csrf: &str,
        text: &str,
        open: StepOpen,
    ) -> Self {
        let posted = |key: &str| {
            open.posted
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
        };
        let mut refused = open.refused;
        let form = if open.removed {
            None
        } else {
            match step_form::step_form(text, &open.step, posted("type").as_deref()) {
                Ok(form) => Some(form),
                Err(e) => {
                    refused = Some(Refusal::of(&e.into()));
                    None
                }
            }
        };
        let rows = form
            .iter()
            .flat_map(|f| &f.fields)
            .map(|f| {
                let mut field = f.clone();
                if let Some(v) = posted(&field.key) {
                    field.value = v;
                }
                let id = format!(
                    "step-{}",
                    field
                        .key
                        .chars()
                        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                        .collect::<String>()
                        .trim_end_matches('-')
                );
                StepRow { field, id }
            })
            .collect();
        let app = &state.app;
        let statuses = app
            .list_outcome_statuses(access)
            .await
            .map(|s| s.into_iter().map(|s| s.key).collect())
            .unwrap_or_default();
        let queues = app
            .list_queues(access)
            .await
            .map(|q| q.into_iter().map(|q| q.key).collect())
            .unwrap_or_default();
        Self {
            action: format!("{here}/step"),
            csrf: csrf.to_owned(),
            document: text.to_owned(),
            close_href: format!("{here}#graph-title"),
            name: posted("name").unwrap_or_else(|| open.step.clone()),
            steps: form.as_ref().map(|f| f.steps.clone()).unwrap_or_default(),
            step: form,
            rows,
            types: &STEP_TYPES,
            expects: &EXPECTS,
            statuses,
            queues,
            notice: open.notice,
            refused,
        }
    }
}

/// `POST /app/{org}/flows/{id}/step`: `do` = open (with `step`, and the form as typed
/// when its type changes), apply (the form) or remove, over `document` as typed.
pub(crate) async fn step(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    viewer.access.require(Permission::CampaignsWrite)?;
    let text = posted.text("document");
    let name = posted.text("step");
    let (typed, open) = match posted.get("do") {
        "open" => (
            text,
            StepOpen {
                step: name,
                posted: posted.pairs().to_vec(),
                ..StepOpen::default()
            },
        ),
        "apply" => match apply_step_form(&text, &name, posted.pairs()) {
            Ok(applied) => (
                applied.document,
                StepOpen {
                    notice: Some(format!(
                        "Step {} written into the document; Save or Publish keeps it.",
                        applied.step
                    )),
                    step: applied.step,
                    ..StepOpen::default()
                },
            ),
            Err(e) => (
                text,
                StepOpen {
                    step: name,
                    posted: posted.pairs().to_vec(),
                    refused: Some(Refusal::shown(e)?),
                    ..StepOpen::default()
                },
            ),
        },
        "remove" => match remove_step(&text, &name) {
            Ok(document) => (
                document,
                StepOpen {
                    notice: Some(format!(
                        "Step {name} removed from the document; any way to it is listed below. Save or Publish keeps it."
                    )),
                    step: name,
                    removed: true,
                    ..StepOpen::default()
                },
            ),
            Err(e) => (
                text,
                StepOpen {
                    step: name,
                    refused: Some(Refusal::shown(e)?),
                    ..StepOpen::default()
                },
            ),
        },
        _ => return Err(AppError::invalid("do", "is not one this page knows").into()),
    };
    show(
        &state,
        &session,
        org,
        id,
        Shown {
            typed: Some(typed),
            step: Some(open),
            ..Shown::default()
        },
    )
    .await
}
