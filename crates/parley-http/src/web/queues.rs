//! `/app/{org}/queues`: the organization's queues with their members (capacity and
//! availability), and its outcome statuses (key, label, category, whether setting one
//! closes the conversation), for administrators. Parley's own `default` queue and
//! `opted_out` status are listed and cannot be changed. A refused save shows the
//! problem's words above the form it came from, with what was typed kept.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use parley_app::conversations::outcomes::{NewOutcome, OutcomePatch};
use parley_app::conversations::queues::DEFAULT_QUEUE;
use parley_domain::{OrgId, StatusCategory, UserId};
use parley_store::PageRequest;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, problem_words, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;
use crate::problem::ApiError;

/// A form of the page as posted (`action` says which).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct QueueForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    capacity: String,
    #[serde(default)]
    available: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    closes: String,
}

struct MemberRow {
    user: String,
    name: String,
    capacity: u32,
    available: bool,
}

struct QueueRow {
    key: String,
    name: String,
    own: bool,
    members: Vec<MemberRow>,
    /// People of the organization who are not members yet: (id, name).
    others: Vec<(String, String)>,
}

struct StatusRow {
    key: String,
    label: String,
    category: &'static str,
    /// Each category, and whether it is this status's.
    choices: Vec<(&'static str, bool)>,
    closes: bool,
    own: bool,
}

/// The page.
#[derive(Template)]
#[template(path = "app/queues.html")]
struct QueuesPage {
    asset: Assets,
    frame: Frame,
    action_href: String,
    queues: Vec<QueueRow>,
    statuses: Vec<StatusRow>,
    categories: Vec<&'static str>,
    /// The refused form's values and its words, with where it came from.
    draft: QueueForm,
    problem: Option<(String, String)>,
}

/// `GET /app/{org}/queues`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, None).await
}

/// `POST /app/{org}/queues`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<QueueForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let app = &state.app;
    let access = &viewer.access;
    let user = || -> Result<UserId, parley_app::AppError> {
        form.user
            .parse()
            .map_err(|_| parley_app::AppError::invalid("user", "choose a person"))
    };
    let done: Result<(), parley_app::AppError> = async {
        match form.action.as_str() {
            "create-queue" => app
                .create_queue(access, form.key.trim(), &form.name)
                .await
                .map(drop),
            "rename-queue" => app
                .rename_queue(access, &form.key, &form.name)
                .await
                .map(drop),
            "delete-queue" => app.delete_queue(access, &form.key).await,
            "put-member" => {
                let capacity = form.capacity.trim().parse().map_err(|_| {
                    parley_app::AppError::invalid("capacity", "must be a whole number")
                })?;
                app.put_queue_member(access, &form.key, user()?, capacity, form.available == "1")
                    .await
                    .map(drop)
            }
            "remove-member" => app.delete_queue_member(access, &form.key, user()?).await,
            "create-status" => app
                .create_outcome_status(
                    access,
                    NewOutcome {
                        key: form.key.trim().to_owned(),
                        label: form.label.clone(),
                        category: form.category.clone(),
                        closes: form.closes == "1",
                    },
                )
                .await
                .map(drop),
            "update-status" => app
                .update_outcome_status(
                    access,
                    &form.key,
                    OutcomePatch {
                        label: Some(form.label.clone()),
                        category: Some(form.category.clone()),
                        closes: Some(form.closes == "1"),
                    },
                )
                .await
                .map(drop),
            "delete-status" => app.delete_outcome_status(access, &form.key).await,
            _ => Err(parley_app::AppError::invalid(
                "action",
                "is not one this page knows",
            )),
        }
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/queues")).into_response()),
        Err(e) => show(&state, &session, org, Some((form, e.into()))).await,
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    refused: Option<(QueueForm, ApiError)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    let app = &state.app;
    let people: Vec<(UserId, String)> = app
        .list_members(access, PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|m| (m.user.id, m.user.name))
        .collect();
    let name_of = |id: UserId| {
        people
            .iter()
            .find(|(u, _)| *u == id)
            .map_or_else(|| id.to_string(), |(_, n)| n.clone())
    };
    let mut queues = Vec::new();
    for q in app.list_queues(access).await? {
        let members = app.list_queue_members(access, &q.key).await?;
        let others = people
            .iter()
            .filter(|(u, _)| members.iter().all(|m| m.user_id != *u))
            .map(|(u, n)| (u.to_string(), n.clone()))
            .collect();
        queues.push(QueueRow {
            own: q.key == DEFAULT_QUEUE,
            members: members
                .iter()
                .map(|m| MemberRow {
                    user: m.user_id.to_string(),
                    name: name_of(m.user_id),
                    capacity: m.capacity,
                    available: m.available,
                })
                .collect(),
            others,
            key: q.key,
            name: q.name,
        });
    }
    let statuses = app
        .list_outcome_statuses(access)
        .await?
        .into_iter()
        .map(|s| StatusRow {
            own: s.key == parley_app::conversations::runtime::OPTED_OUT,
            category: s.category.as_str(),
            choices: StatusCategory::ALL
                .iter()
                .map(|c| (c.as_str(), *c == s.category))
                .collect(),
            closes: s.closes,
            key: s.key,
            label: s.label,
        })
        .collect();
    let (status, draft, problem) = match refused {
        None => (StatusCode::OK, QueueForm::default(), None),
        Some((form, p)) => {
            let (code, words) = problem_words(&p);
            let place = if form.action.contains("status") {
                "statuses"
            } else {
                "queues"
            };
            (code, form, Some((place.to_owned(), words)))
        }
    };
    let page = QueuesPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Queues,
            format!("/app/{org}/queues"),
        )
        .await?,
        action_href: format!("/app/{org}/queues"),
        queues,
        statuses,
        categories: StatusCategory::ALL.iter().map(|c| c.as_str()).collect(),
        draft,
        problem,
    };
    Ok(render(status, &page))
}
