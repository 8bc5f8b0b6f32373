//! `POST /app/{org}/flows/{id}/try`: **Try it** — the editor's draft, as typed, talked to
//! as a customer (`parley_app::flows::trial`). The region answered holds the conversation
//! so far (its lines carried in the form, at most [`LINES`]), the engine's state, the
//! contact's fields the tester gave (`key: value` lines) and what the flow waits for: a
//! reply, values for a fetch (or its failure), a timer to let pass, or nothing once it
//! ended. Our module sends the region's form with the editor's document and puts the
//! answer in place; nothing is stored.

use std::collections::BTreeMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use parley_app::AppError;
use parley_app::flows::trial::{TrialInput, Waits};
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
        "reply" => {
            let text = posted.text("reply");
            region.lines.push(format!("You: {text}"));
            TrialInput::Reply(text)
        }
        "fetch" => TrialInput::Fetched(Ok(posted
            .pairs()
            .iter()
            .filter_map(|(k, v)| Some((k.strip_prefix("fetch.")?.to_owned(), v.trim().to_owned())))
            .collect())),
        "fail" => TrialInput::Fetched(Err("failed by the tester".to_owned())),
        "timer" => {
            region.lines.push("(the timer passes)".to_owned());
            TrialInput::Timer
        }
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
        Err(e @ AppError::Forbidden(_)) => return Err(e.into()),
        Err(e) => {
            let refusal = Refusal::of(&e.into());
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
