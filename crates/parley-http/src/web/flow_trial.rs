//! `POST /app/{org}/flows/{id}/try`: **Try it** — the editor's draft, as typed, talked to
//! as a customer (`parley_app::flows::trial`). The region answered holds the conversation
//! so far (its lines carried in the form, at most [`LINES`]), the engine's state, the
//! contact's fields the tester gave (`key: value` lines) and what the flow waits for: a
//! reply, values for a fetch (or its failure), a timer to let pass, or nothing once it
//! ended. Our module sends the region's form with the editor's document and puts the
//! answer in place; nothing is stored.
//!
//! `POST /app/{org}/flows/{id}/script`: a dialogue script (the format `parley flow test`
//! reads, pasted or read from a chosen file by our module) played against the draft as
//! typed; the region answered lists each dialogue with its transcript, the first failure
//! with its line and what was expected. Scripts are not stored: they live beside the flow
//! in the team's own files, as the command line reads them.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use parley_app::AppError;
use parley_app::flows::trial::{ScriptRun, TrialInput, Waits};

use parley_domain::{FlowId, OrgId};

use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Lines of the conversation the region keeps.
const LINES: usize = 200;

/// The Try it region.
#[derive(Template)]
#[template(path = "app/flow_trial.html")]
pub(crate) struct TrialRegion {
    pub(crate) action: String,
    pub(crate) csrf: String,
    pub(crate) lines: Vec<String>,
    pub(crate) state: String,
    pub(crate) contact: String,
    pub(crate) started: bool,
    pub(crate) waits_reply: bool,
    pub(crate) fetch: Vec<String>,
    pub(crate) timer: bool,
    pub(crate) ended: bool,
    pub(crate) problem: Option<String>,
}

impl TrialRegion {
    /// The region before anything was tried.
    pub(crate) fn new(action: String, csrf: String) -> Self {
        Self {
            action,
            csrf,
            lines: Vec::new(),
            state: String::new(),
            contact: "first_name: Alex\nbalance: 120.50".to_owned(),
            started: false,
            waits_reply: false,
            fetch: Vec::new(),
            timer: false,
            ended: false,
            problem: None,
        }
    }
}

/// `key: value` lines as fields.
fn contact_of(text: &str) -> BTreeMap<String, String> {
    text.lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .filter(|(k, _)| !k.is_empty())
        .collect()
}

/// `POST /app/{org}/flows/{id}/try`: `do` = start, reply (with `reply`), fetch (with
/// `fetch.FIELD` values), fail or timer.
pub(crate) async fn trial(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let access = &viewer.access;
    // The flow must be one of the organization's (and readable by this person).
    state.app.get_flow(access, id).await?;
    let mut region = TrialRegion::new(format!("/app/{org}/flows/{id}/try"), posted.text("csrf"));
    region.contact = posted.text("contact");
    let starting = posted.get("do") == "start";
    if !starting {
        region.lines = posted.all("line");
    }
    let input = match posted.get("do") {
        "start" => TrialInput::Start,
        "reply" => TrialInput::Reply(posted.text("reply")),
        "fetch" => TrialInput::Fetched(Ok(posted
            .pairs()
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("fetch.")?.to_owned(), v.trim().to_owned())))
            .collect())),
        "fail" => TrialInput::Fetched(Err("failed by the tester".to_owned())),
        "timer" => TrialInput::Timer,
        _ => return Err(AppError::invalid("do", "is not one this page knows").into()),
    };
    let state_text = if starting {
        None
    } else {
        Some(posted.get("state"))
    };
    let turn = state.app.try_flow(
        access,
        posted.get("document"),
        state_text,
        contact_of(&region.contact),
        input,
    );
    let status = match turn {
        Ok(turn) => {
            region.lines.extend(turn.lines);
            region.state = turn.state;
            region.started = true;
            region.timer = turn.timer;
            match turn.waits {
                Waits::Reply => region.waits_reply = true,
                Waits::Fetch(fields) => region.fetch = fields,
                Waits::Timer => {}
                Waits::Ended => {
                    region.ended = true;
                    region.lines.push("(the conversation ended)".to_owned());
                }
            }
            StatusCode::OK
        }
        Err(e) => {
            let refusal = Refusal::shown(e)?;
            region.problem = Some(refusal.words);
            region.state = posted.text("state");
            region.started = !starting && !region.state.is_empty();
            region.waits_reply = region.started;
            refusal.status
        }
    };
    let excess = region.lines.len().saturating_sub(LINES);
    region.lines.drain(..excess);
    Ok(render(status, &region))
}

/// One dialogue of a played script.
pub(crate) struct PlayedDialogue {
    name: String,
    detail: String,
    transcript: Vec<String>,
    failure: Option<String>,
}

/// The dialogue scripts region.
#[derive(Template)]
#[template(path = "app/flow_script.html")]
pub(crate) struct ScriptRegion {
    pub(crate) action: String,
    pub(crate) csrf: String,
    pub(crate) script: String,
    summary: Option<String>,
    failed: bool,
    dialogues: Vec<PlayedDialogue>,
    problem: Option<String>,
}

impl ScriptRegion {
    /// The region before a script was played.
    pub(crate) fn new(action: String, csrf: String) -> Self {
        Self {
            action,
            csrf,
            script: String::new(),
            summary: None,
            failed: false,
            dialogues: Vec::new(),
            problem: None,
        }
    }

    fn played(&mut self, run: ScriptRun) {
        let passed = run.passed.len();
        self.dialogues = run
            .passed
            .into_iter()
            .map(|d| PlayedDialogue {
                detail: format!("passed: {} steps, {} bot messages", d.steps, d.bot_messages),
                name: d.name,
                transcript: d.transcript,
                failure: None,
            })
            .collect();
        let plural = |n: usize| if n == 1 { "dialogue" } else { "dialogues" };
        self.summary = Some(match run.failed {
            None => format!("All {passed} {} passed.", plural(passed)),
            Some((failure, transcript)) => {
                self.failed = true;
                let said = format!("Line {}: {}", failure.line, failure.message);
                match failure.dialogue {
                    Some(name) => {
                        let summary = format!(
                            "{passed} {} passed; \"{name}\" failed at line {}.",
                            plural(passed),
                            failure.line
                        );
                        self.dialogues.push(PlayedDialogue {
                            name,
                            detail: "failed".to_owned(),
                            transcript,
                            failure: Some(said),
                        });
                        summary
                    }
                    None => format!("The script cannot be played. {said}"),
                }
            }
        });
    }
}

/// `POST /app/{org}/flows/{id}/script`: `script` played against `document`.
pub(crate) async fn script(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, FlowId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let access = &viewer.access;
    state.app.get_flow(access, id).await?;
    let mut region =
        ScriptRegion::new(format!("/app/{org}/flows/{id}/script"), posted.text("csrf"));
    region.script = posted.text("script");
    let status = match state
        .app
        .play_flow_script(access, posted.get("document"), &region.script)
    {
        Ok(run) => {
            region.played(run);
            StatusCode::OK
        }
        Err(e) => {
            let refusal = Refusal::shown(e)?;
            region.problem = Some(refusal.words);
            refusal.status
        }
    };
    Ok(render(status, &region))
}
