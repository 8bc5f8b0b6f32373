//! `POST /app/{org}/conversations/{id}/act`: what a person does to the open conversation
//! from the desk's forms — reply, add a note, assign it to themselves, move it to a queue,
//! set an outcome status, close it — through the same use cases as the API. The button
//! pressed names the action (`action`); the forms carry the session's CSRF token. Done,
//! the browser goes back to the conversation (post/redirect/get); refused, the desk shows
//! the problem's own words above the conversation, with the problem's status.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::conversations::turn::AgentAction;
use parley_domain::{ConversationId, OrgId};
use serde::Deserialize;

use super::desk;
use super::pages::PageError;
use super::session::{Session, Viewer, check_form, desk_of};
use crate::AppState;
use crate::problem::ApiError;

/// A desk form as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct ActForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    queue: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    step: String,
    /// The list view to go back to.
    #[serde(default)]
    view: String,
}

/// `POST /app/{org}/conversations/{id}/act`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, ConversationId)>,
    Form(form): Form<ActForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let done = perform(&state, &viewer, id, &form).await;
    let view = desk::View::from_key(&form.view).unwrap_or(desk::View::Mine);
    match done {
        Ok(()) => {
            let back = format!(
                "{}/{id}?view={}",
                desk_of(org),
                super::pages::encode(&view.key())
            );
            Ok(Redirect::to(&back).into_response())
        }
        Err(problem) => {
            let query = desk::ListQuery::of(&view);
            let typed = match form.action.as_str() {
                "reply" | "note" => form.text.clone(),
                _ => String::new(),
            };
            desk::desk(
                &state,
                &session,
                org,
                query,
                Some(id),
                Some((problem, typed)),
            )
            .await
        }
    }
}

async fn perform(
    state: &AppState,
    viewer: &Viewer,
    id: ConversationId,
    form: &ActForm,
) -> Result<(), ApiError> {
    let app = &state.app;
    let access = &viewer.access;
    let action = match form.action.as_str() {
        "note" => {
            app.add_note(access, id, &form.text).await?;
            return Ok(());
        }
        "reply" => AgentAction::Reply {
            text: form.text.clone(),
        },
        "assign" => AgentAction::Assign {
            user: access.principal.user(),
        },
        "assign-to" => AgentAction::Assign {
            user: Some(
                form.user
                    .parse()
                    .map_err(|_| ApiError::from(AppError::invalid("user", "choose a person")))?,
            ),
        },
        "hand-back" => AgentAction::HandBack {
            step: form.step.clone(),
        },
        "move" => AgentAction::Move {
            queue: form.queue.clone(),
            note: None,
        },
        "status" => AgentAction::SetStatus {
            status: form.status.clone(),
        },
        "close" => AgentAction::Close {
            status: Some(form.status.clone()).filter(|s| !s.is_empty()),
        },
        _ => {
            return Err(AppError::invalid(
                "action",
                "must be one of reply, note, assign, assign-to, hand-back, move, status, close",
            )
            .into());
        }
    };
    app.act_on_conversation(access, id, action).await?;
    Ok(())
}

/// The reply counter's form: the text being written, and whether it goes as SMS.
#[derive(Debug, Deserialize)]
pub(crate) struct CounterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    sms: String,
}

/// `POST /app/{org}/counter`: what the reply being written costs, in words, counted by
/// the same code that sends it ("58 characters · 1 SMS part · GSM-7"). The page says
/// whether its conversation's replies go as SMS.
pub(crate) async fn counter(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<CounterForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    Viewer::on(&state, &session, org).await?;
    let mut response = super::counter::counter_words(&form.text, form.sms == "1").into_response();
    super::assets::strict(response.headers_mut(), "text/plain; charset=utf-8");
    Ok(response)
}
