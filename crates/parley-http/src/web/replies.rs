//! `/app/{org}/replies`: the organization's canned replies. Supervisors and above add,
//! change and remove them here (the use cases refuse anyone else); agents see the list
//! they insert from, read only. A refused save shows the problem's words above the form
//! it came from, with what was typed still in it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use parley_app::conversations::canned::NewCannedReply;
use parley_domain::{CannedReply, OrgId, Permission};
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, problem_words, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;
use crate::problem::ApiError;

/// A save as posted: `action` is `create`, `update` or `delete`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReplyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    key: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

/// One saved reply as the page lists it, with the values its edit form shows.
struct Item {
    reply: CannedReply,
    /// The edit form's values: the saved ones, or what a refused change typed.
    title: String,
    body: String,
    /// The refused change's words, shown in its open edit form.
    problem: Option<String>,
}

/// The page.
#[derive(Template)]
#[template(path = "app/replies.html")]
struct RepliesPage {
    asset: Assets,
    frame: Frame,
    /// Where the forms post.
    action_href: String,
    can_manage: bool,
    items: Vec<Item>,
    /// The add form's values (kept when an add was refused) and its problem.
    draft: ReplyForm,
    problem: Option<String>,
}

/// `GET /app/{org}/replies`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, None).await
}

/// `POST /app/{org}/replies`: saves, changes or removes one, then shows the list again.
pub(crate) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<ReplyForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let app = &state.app;
    let access = &viewer.access;
    let done: Result<(), parley_app::AppError> = match form.action.as_str() {
        "create" => app
            .create_canned_reply(
                access,
                NewCannedReply {
                    key: form.key.trim().to_owned(),
                    title: form.title.clone(),
                    body: form.body.clone(),
                },
            )
            .await
            .map(|_| ()),
        "update" => app
            .update_canned_reply(access, &form.key, &form.title, &form.body)
            .await
            .map(|_| ()),
        "delete" => app.delete_canned_reply(access, &form.key).await,
        _ => Err(parley_app::AppError::invalid(
            "action",
            "must be create, update or delete",
        )),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/replies")).into_response()),
        Err(e) => show(&state, &session, org, Some((form, e.into()))).await,
    }
}

/// The page, with a refused form's values and problem when there was one.
async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    refused: Option<(ReplyForm, ApiError)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    let replies = state.app.list_canned_replies(access).await?;
    let can_manage = access.require(Permission::ConversationsRead).is_ok();
    let (status, refused) = match refused {
        None => (StatusCode::OK, None),
        Some((form, problem)) => {
            let (status, words) = problem_words(&problem);
            (status, Some((form, words)))
        }
    };
    let mut draft = ReplyForm::default();
    let mut problem = None;
    let mut items: Vec<Item> = replies
        .into_iter()
        .map(|reply| Item {
            title: reply.title.clone(),
            body: reply.body.clone(),
            problem: None,
            reply,
        })
        .collect();
    if let Some((form, words)) = refused {
        match items.iter_mut().find(|i| i.reply.key == form.key) {
            Some(item) if form.action != "create" => {
                item.title = form.title;
                item.body = form.body;
                item.problem = Some(words);
            }
            _ => {
                draft = form;
                problem = Some(words);
            }
        }
    }
    let page = RepliesPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Replies,
            format!("/app/{org}/replies"),
        )
        .await?,
        action_href: format!("/app/{org}/replies"),
        can_manage,
        items,
        draft,
        problem,
    };
    Ok(render(status, &page))
}
