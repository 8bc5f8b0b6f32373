//! `/app/{org}/flows`: the organization's flows and their editor. The list shows each
//! flow's state (published with its latest version, or a draft never published) and makes
//! a new one from a document. A flow's page draws it as a graph (server-rendered SVG from
//! `parley_flow::layout`: a box per step, an arrow per way out labelled `next`, `rule 1`,
//! `otherwise`, `timeout` or `failure`) above its document as indented JSON (YAML is read
//! too); **Validate** shows every finding with its step, field, line and column — and our
//! module asks `/check` for the same region as the person types, half a second after they
//! stop — **Save** keeps the draft, **Publish** makes the next version or lists what
//! blocks it; its versions are listed and each can be read with its drawing.

pub(super) mod step;

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use parley_app::AppError;
use parley_app::flows::{Check, Layout, NODE_HEIGHT, NODE_WIDTH, Published, Severity};
use parley_domain::{FlowId, OrgId, Permission};
use parley_store::PageRequest;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;
use step::{StepOpen, StepRegion};

/// The document a new flow starts from.
const STARTER: &str = r#"{
  "schema": 1,
  "name": "Payment reminder",
  "start": "hello",
  "steps": {
    "hello": {"type": "ask", "text": "Hi <<first_name>>, can you pay your balance this week? Reply YES or NO.",
              "save_as": "answer", "expect": "yes_no", "next": "check"},
    "check": {"type": "branch", "rules": [{"when": "<<answer>> == \"yes\"", "next": "thanks"}],
              "otherwise": "agent"},
    "thanks": {"type": "close", "status": "promise_to_pay", "text": "Thank you, <<first_name>>."},
    "agent": {"type": "queue", "queue": "default", "text": "A colleague will be in touch."}
  }
}"#;

struct FlowRow {
    href: String,
    name: String,
    state: String,
    updated: String,
}

#[derive(Template)]
#[template(path = "app/flows.html")]
struct FlowsPage {
    asset: Assets,
    frame: Frame,
    here: String,
    can_edit: bool,
    rows: Vec<FlowRow>,
    document: String,
    refused: Option<Refusal>,
}

/// One finding as the editor lists it.
struct Finding {
    error: bool,
    place: String,
    message: String,
}

/// The drawing and the findings: the region `/check` answers with.
#[derive(Template)]
#[template(path = "app/flow_check.html")]
pub(crate) struct CheckRegion {
    /// The editor's address when its steps open their form (people who may edit).
    edit: Option<String>,
    /// The step whose form is open, drawn as chosen.
    selected: Option<String>,
    drawing: Option<Layout>,
    node_width: u32,
    node_height: u32,
    findings: Vec<Finding>,
    publishable: bool,
    problem: Option<String>,
}

impl CheckRegion {
    /// The address that opens `step`'s form without our module.
    fn node_href(&self, step: &str) -> String {
        format!(
            "{}?step={}#step-edit",
            self.edit.as_deref().unwrap_or_default(),
            super::pages::encode(step)
        )
    }
}

#[derive(Template)]
#[template(path = "app/flow.html")]
struct FlowPage {
    asset: Assets,
    frame: Frame,
    here: String,
    list_href: String,
    name: String,
    state: String,
    can_edit: bool,
    document: String,
    check: CheckRegion,
    step: Option<StepRegion>,
    /// Names `<<` completes to: (key, what it is, words it is found by).
    placeholders: Vec<(String, String, String)>,
    versions: Vec<(u32, String, String)>,
    read_only: bool,
    notice: Option<String>,
    refused: Option<Refusal>,
}

impl FlowPage {
    /// The drawing and findings, rendered by their own template (escaped there).
    fn check_html(&self) -> String {
        self.check.render().unwrap_or_default()
    }

    /// The open step's form, rendered by its own template (escaped there).
    fn step_html(&self) -> String {
        self.step
            .as_ref()
            .and_then(|s| s.render().ok())
            .unwrap_or_default()
    }

    /// The Try it region before anything was tried (escaped by its own template).
    fn trial_html(&self) -> String {
        super::flow_trial::TrialRegion::new(format!("{}/try", self.here), self.frame.csrf.clone())
            .render()
            .unwrap_or_default()
    }

    /// The dialogue scripts region before a script was played (escaped by its template).
    fn script_html(&self) -> String {
        super::flow_trial::ScriptRegion::new(
            format!("{}/script", self.here),
            self.frame.csrf.clone(),
        )
        .render()
        .unwrap_or_default()
    }
}

fn state_of(latest: Option<u32>) -> String {
    latest.map_or_else(
        || "Draft, never published".to_owned(),
        |v| format!("Published, version {v}"),
    )
}

/// `GET /app/{org}/flows`.
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show_list(&state, &session, org, STARTER.to_owned(), None).await
}

async fn show_list(
    state: &AppState,
    session: &Session,
    org: OrgId,
    document: String,
    refused: Option<Refusal>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    let zone = &access.organization.timezone;
    let flows = state
        .app
        .list_flows(access, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?;
    let rows = flows
        .items
        .iter()
        .map(|f| FlowRow {
            href: format!("/app/{org}/flows/{}", f.id),
            name: f.name.clone(),
            state: state_of(f.latest_version),
            updated: zone
                .local(f.updated_at)
                .format("%-d %b %Y, %H:%M")
                .to_string(),
        })
        .collect();
    let page = FlowsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Flows,
            format!("/app/{org}/flows"),
        )
        .await?,
        here: format!("/app/{org}/flows"),
        can_edit: access.require(Permission::CampaignsWrite).is_ok(),
        rows,
        document,
        refused,
    };
    let status = page.refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    Ok(render(status, &page))
}

/// `POST /app/{org}/flows`: a new flow from its document.
pub(crate) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    match state
        .app
        .create_flow(&viewer.access, posted.get("document"))
        .await
    {
        Ok(made) => Ok(Redirect::to(&format!("/app/{org}/flows/{}", made.flow.id)).into_response()),
        Err(e) => {
            let refused = Some(Refusal::shown(e)?);
            show_list(&state, &session, org, posted.text("document"), refused).await
        }
    }
}

/// The region for `text` with its check (or why it is not a flow document); its steps
/// open their form at `edit` when given.
fn region(text: &str, check: Result<Check, AppError>, edit: Option<String>) -> CheckRegion {
    let (findings, publishable, problem) = match check {
        Ok(check) => (
            check
                .diagnostics
                .iter()
                .map(|d| {
                    let path = parley_app::flows::diagnostic_path(d);
                    let place = match parley_app::flows::line_of(
                        text,
                        d.step.as_deref(),
                        d.field.as_deref(),
                    ) {
                        Some((line, column)) => {
                            let column = d.column.map_or(column, |c| c);
                            format!("{path}, line {line}, column {column}")
                        }
                        None => path,
                    };
                    Finding {
                        error: d.severity == Severity::Error,
                        place,
                        message: format!("{}: {}", d.rule.as_str(), d.message),
                    }
                })
                .collect(),
            check.publishable,
            None,
        ),
        Err(e) => (Vec::new(), false, Some(Refusal::of(&e.into()).words)),
    };
    CheckRegion {
        edit,
        selected: None,
        drawing: parley_app::flows::drawing(text),
        node_width: NODE_WIDTH,
        node_height: NODE_HEIGHT,
        findings,
        publishable,
        problem,
    }
}

/// The editor's query: `step` opens that step's form.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct EditorQuery {
    step: Option<String>,
}

/// `GET /app/{org}/flows/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Query(q): Query<EditorQuery>,
) -> Result<Response, PageError> {
    let step = q.step.map(|step| StepOpen {
        step,
        ..StepOpen::default()
    });
    show(
        &state,
        &session,
        org,
        id,
        Shown {
            step,
            ..Shown::default()
        },
    )
    .await
}

/// What the editor's page shows besides the stored flow.
#[derive(Debug, Default)]
pub(crate) struct Shown {
    /// The document as typed (none: the stored draft).
    pub(crate) typed: Option<String>,
    pub(crate) notice: Option<String>,
    pub(crate) refused: Option<Refusal>,
    /// A step's form, for people who may edit.
    pub(crate) step: Option<StepOpen>,
}

pub(crate) async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: FlowId,
    shown: Shown,
) -> Result<Response, PageError> {
    let Shown {
        typed,
        notice,
        refused,
        step,
    } = shown;
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let flow = app.get_flow(access, id).await?;
    let zone = &access.organization.timezone;
    let here = format!("/app/{org}/flows/{id}");
    let can_edit = access.require(Permission::CampaignsWrite).is_ok();
    let edit = can_edit.then(|| here.clone());
    let document = typed
        .clone()
        .unwrap_or_else(|| parley_app::flows::editable(&flow.flow.draft));
    let mut check = match &typed {
        Some(text) => region(text, app.validate_flow(access, id, Some(text)).await, edit),
        None => region(&document, Ok(flow.check.clone()), edit),
    };
    let frame = Frame::new(state, session, &viewer, Section::Flows, here.clone()).await?;
    let placeholders = if can_edit {
        placeholders_of(state, access, &document).await
    } else {
        Vec::new()
    };
    // A refused step form answers with its refusal's status.
    let status = refused
        .as_ref()
        .or(step.as_ref().and_then(|s| s.refused.as_ref()))
        .map_or(StatusCode::OK, |r| r.status);
    check.selected = step
        .as_ref()
        .filter(|s| can_edit && !s.removed)
        .map(|s| s.step.clone());
    let step = match step.filter(|_| can_edit) {
        Some(open) => {
            Some(StepRegion::new(state, access, &here, &frame.csrf, &document, open).await)
        }
        None => None,
    };
    let versions = app
        .list_flow_versions(access, id, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?
        .items
        .iter()
        .map(|v| {
            (
                v.version,
                format!("/app/{org}/flows/{id}/versions/{}", v.version),
                zone.local(v.published_at)
                    .format("%-d %b %Y, %H:%M")
                    .to_string(),
            )
        })
        .collect();
    let page = FlowPage {
        asset: assets::urls(),
        frame,
        here,
        list_href: format!("/app/{org}/flows"),
        name: flow.flow.name.clone(),
        state: state_of(flow.flow.latest_version),
        can_edit,
        document,
        check,
        step,
        placeholders,
        versions,
        read_only: false,
        notice,
        refused,
    };
    Ok(render(status, &page))
}

/// `POST /app/{org}/flows/{id}`: `action` = validate, save or publish, with `document`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let text = posted.text("document");
    let here = format!("/app/{org}/flows/{id}");
    match posted.get("action") {
        "validate" => show(&state, &session, org, id, typed(text)).await,
        "save" => match app.update_flow(access, id, &text).await {
            Ok(_) => Ok(Redirect::to(&here).into_response()),
            Err(e) => {
                let refused = Some(Refusal::shown(e)?);
                show(&state, &session, org, id, refused_as_typed(text, refused)).await
            }
        },
        "publish" => {
            // What is published is the draft as saved: the typed text is saved first.
            let done = async {
                app.update_flow(access, id, &text).await?;
                app.publish_flow(access, id).await
            }
            .await;
            match done {
                Ok(Published::Created(v)) => {
                    let notice = format!("Published as version {}.", v.version);
                    show(&state, &session, org, id, noticed(notice)).await
                }
                Ok(Published::Unchanged(v)) => {
                    let notice = format!(
                        "Nothing changed since version {}; no new version.",
                        v.version
                    );
                    show(&state, &session, org, id, noticed(notice)).await
                }
                Err(e) => {
                    let refused = Some(Refusal::shown(e)?);
                    show(&state, &session, org, id, refused_as_typed(text, refused)).await
                }
            }
        }
        _ => Err(AppError::invalid("action", "is not one this page knows").into()),
    }
}

/// What `<<` completes to in the editor: (key, what it is, the words it is found by).
async fn placeholders_of(
    state: &AppState,
    access: &parley_app::auth::Access,
    document: &str,
) -> Vec<(String, String, String)> {
    let names = state.app.placeholder_names(access, document).await;
    names
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let words = format!("{} {}", p.key, p.about).to_lowercase();
            (p.key, p.about, words)
        })
        .collect()
}

fn typed(text: String) -> Shown {
    Shown {
        typed: Some(text),
        ..Shown::default()
    }
}

fn refused_as_typed(text: String, refused: Option<Refusal>) -> Shown {
    Shown {
        refused,
        ..typed(text)
    }
}

fn noticed(notice: String) -> Shown {
    Shown {
        notice: Some(notice),
        ..Shown::default()
    }
}

/// `POST /app/{org}/flows/{id}/check`: the drawing and findings of `document` as typed.
pub(crate) async fn check(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let text = posted.text("document");
    let checked = state
        .app
        .validate_flow(&viewer.access, id, Some(&text))
        .await;
    if let Err(e @ (AppError::Forbidden(_) | AppError::NotFound(_))) = checked {
        return Err(e.into());
    }
    let edit = viewer
        .access
        .require(Permission::CampaignsWrite)
        .is_ok()
        .then(|| format!("/app/{org}/flows/{id}"));
    Ok(render(StatusCode::OK, &region(&text, checked, edit)))
}

/// `GET /app/{org}/flows/{id}/versions/{version}`: one published version, read only.
pub(crate) async fn version(
    State(state): State<AppState>,
    session: Session,
    Path((org, id, number)): Path<(OrgId, FlowId, u32)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let flow = app.get_flow(access, id).await?;
    let v = app.get_flow_version(access, id, number).await?;
    let document = parley_app::flows::editable(&v.document);
    let page = FlowPage {
        asset: assets::urls(),
        frame: Frame::new(
            &state,
            &session,
            &viewer,
            Section::Flows,
            format!("/app/{org}/flows/{id}/versions/{number}"),
        )
        .await?,
        here: format!("/app/{org}/flows/{id}"),
        list_href: format!("/app/{org}/flows"),
        name: format!("{}, version {number}", flow.flow.name),
        state: state_of(flow.flow.latest_version),
        can_edit: false,
        check: region(
            &document,
            Ok(Check {
                diagnostics: Vec::new(),
                publishable: true,
            }),
            None,
        ),
        step: None,
        placeholders: Vec::new(),
        document,
        versions: Vec::new(),
        read_only: true,
        notice: None,
        refused: None,
    };
    Ok(render(StatusCode::OK, &page))
}
