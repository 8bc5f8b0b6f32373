//! `/app/{org}/integrations/sftp`: SFTP destinations and import inboxes, for
//! administrators. A destination is an SFTP server Parley writes event files to (and,
//! with an inbox, reads contact files from). Adding one starts with **Fetch host key**:
//! Parley connects, shows the key the server presents with its SHA-256 fingerprint to
//! compare with what the server's owner says, and pins it in the form; the password or
//! private key is typed after (a page never shows one back). Each destination lists its
//! events, pinned key's fingerprint and state; its inbox shows the folder polled, the
//! last poll, its error, the files imported and failed, and **Poll now**.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::imports::inbox::InboxInput;
use parley_app::webhooks::sftp::{SftpHookInput, fingerprint};
use parley_domain::{EventType, OrgId, Subscription, WebhookId};
use parley_store::PageRequest;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// `?polled=` names the destination whose inbox poll was just queued.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SftpQuery {
    polled: Option<String>,
}

/// The add form's values as typed (never the password or private key).
#[derive(Debug, Default)]
struct Typed {
    host: String,
    port: String,
    user: String,
    folder: String,
    host_key: String,
    events: Vec<String>,
    inbox_only: bool,
    description: String,
}

impl Typed {
    fn of(p: &Posted) -> Self {
        Self {
            host: p.text("host"),
            port: p.text("port"),
            user: p.text("user"),
            folder: p.text("folder"),
            host_key: p.text("host_key"),
            events: p.all("events"),
            inbox_only: p.get("inbox_only") == "1",
            description: p.text("description"),
        }
    }

    fn port(&self) -> Result<u16, AppError> {
        match self.port.trim() {
            "" => Ok(22),
            p => p
                .parse()
                .map_err(|_| AppError::invalid("port", "must be a port number from 1 to 65535")),
        }
    }
}

struct InboxRow {
    folder: String,
    enabled: bool,
    last_poll: String,
    error: Option<String>,
    processed: u64,
    failed: u64,
}

struct Row {
    id: String,
    url: String,
    auth: &'static str,
    events: String,
    fingerprint: String,
    enabled: bool,
    messages_href: String,
    inbox: Option<InboxRow>,
    polled: bool,
    refused: Option<Refusal>,
}

/// The page.
#[derive(Template)]
#[template(path = "app/sftp.html")]
struct SftpPage {
    asset: Assets,
    frame: Frame,
    here: String,
    back_href: String,
    rows: Vec<Row>,
    /// Each event type's box: (name, ticked).
    boxes: Vec<(&'static str, bool)>,
    new: Typed,
    /// The key just fetched: its fingerprint.
    fetched: Option<String>,
    new_refused: Option<Refusal>,
}

/// What a post did.
enum Done {
    /// Something changed: back to the page.
    Changed,
    /// An inbox poll was queued.
    Polled(WebhookId),
    /// The server's host key, to pin.
    Fetched(String),
}

/// `GET /app/{org}/integrations/sftp`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<SftpQuery>,
) -> Result<Response, PageError> {
    show(
        &state,
        &session,
        org,
        q.polled,
        Typed::default(),
        None,
        None,
    )
    .await
}

/// `POST /app/{org}/integrations/sftp`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let typed = Typed::of(&posted);
    let action = posted.text("action");
    let id = || -> Result<WebhookId, AppError> {
        posted
            .get("id")
            .parse()
            .map_err(|_| AppError::NotFound("SFTP hook"))
    };
    let here = format!("/app/{org}/integrations/sftp");
    let done: Result<Done, AppError> = async {
        match action.as_str() {
            "fetch-key" => {
                let key = app
                    .sftp_host_key(access, typed.host.trim(), typed.port()?)
                    .await?;
                return Ok(Done::Fetched(key));
            }
            "create" => {
                let secret = |name: &str| Some(posted.text(name)).filter(|v| !v.trim().is_empty());
                let events = if typed.inbox_only {
                    Some(Vec::new())
                } else {
                    (!typed.events.is_empty()).then(|| typed.events.clone())
                };
                app.create_sftp_hook(
                    access,
                    SftpHookInput {
                        host: Some(typed.host.trim().to_owned()),
                        port: Some(typed.port()?),
                        user: Some(typed.user.trim().to_owned()),
                        password: secret("password"),
                        private_key: secret("private_key"),
                        host_key: Some(typed.host_key.trim().to_owned()).filter(|k| !k.is_empty()),
                        folder: Some(typed.folder.trim().to_owned()),
                        events,
                        description: Some(typed.description.clone()),
                        enabled: Some(true),
                    },
                )
                .await?;
            }
            "delete" => app.delete_sftp_hook(access, id()?).await?,
            "inbox-set" => {
                let input = InboxInput {
                    folder: Some(posted.text("inbox_folder")),
                    options: None,
                    enabled: Some(true),
                };
                app.put_sftp_inbox(access, id()?, input).await.map(drop)?;
            }
            "inbox-enable" | "inbox-disable" => {
                let input = InboxInput {
                    enabled: Some(action == "inbox-enable"),
                    ..InboxInput::default()
                };
                app.put_sftp_inbox(access, id()?, input).await.map(drop)?;
            }
            "inbox-delete" => app.delete_sftp_inbox(access, id()?).await?,
            "poll" => {
                let id = id()?;
                app.poll_sftp_inbox_now(access, id).await?;
                return Ok(Done::Polled(id));
            }
            _ => return Err(AppError::invalid("action", "is not one this page knows")),
        }
        Ok(Done::Changed)
    }
    .await;
    match done {
        Ok(Done::Changed) => Ok(Redirect::to(&here).into_response()),
        Ok(Done::Polled(id)) => Ok(Redirect::to(&format!("{here}?polled={id}")).into_response()),
        Ok(Done::Fetched(key)) => {
            let new = Typed {
                host_key: key,
                ..typed
            };
            let print = fingerprint(&new.host_key);
            show(&state, &session, org, None, new, Some(print), None).await
        }
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            let on = if matches!(action.as_str(), "fetch-key" | "create") {
                None
            } else {
                Some(posted.text("id"))
            };
            show(
                &state,
                &session,
                org,
                None,
                typed,
                None,
                Some((on, refusal)),
            )
            .await
        }
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    polled: Option<String>,
    new: Typed,
    fetched: Option<String>,
    refused: Option<(Option<String>, Refusal)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let hooks = app
        .list_sftp_hooks(access, PageRequest::first(200))
        .await?
        .items;
    let zone = &access.organization.timezone;
    let (mut row_refused, mut new_refused) = (None, None);
    match refused {
        Some((Some(id), r)) => row_refused = Some((id, r)),
        Some((None, r)) => new_refused = Some(r),
        None => {}
    }
    let mut rows = Vec::new();
    for h in hooks {
        let id = h.endpoint.id.to_string();
        let inbox = match app.get_sftp_inbox(access, h.endpoint.id).await {
            Ok(i) => Some(InboxRow {
                folder: i.folder,
                enabled: i.enabled,
                last_poll: i.last_polled_at.map_or_else(
                    || "Not polled yet".to_owned(),
                    |at| format!("Last polled {}", zone.local(at).format("%-d %b, %H:%M")),
                ),
                error: i.last_error,
                processed: i.files_processed,
                failed: i.files_failed,
            }),
            Err(AppError::NotFound(_)) => None,
            Err(e) => return Err(e.into()),
        };
        let events = match &h.endpoint.events {
            Subscription::All => "Every event".to_owned(),
            Subscription::Nothing => "No events: an import inbox only".to_owned(),
            Subscription::Only(types) => types
                .iter()
                .map(|t| t.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        };
        let mine = row_refused.as_ref().is_some_and(|(i, _)| *i == id);
        rows.push(Row {
            url: h.target.url(),
            auth: if h.auth == "password" {
                "password"
            } else {
                "private key"
            },
            events,
            fingerprint: h.fingerprint(),
            enabled: h.endpoint.enabled,
            messages_href: format!("/app/{org}/integrations/{id}"),
            inbox,
            polled: polled.as_deref() == Some(id.as_str()),
            refused: if mine {
                row_refused.take().map(|(_, r)| r)
            } else {
                None
            },
            id,
        });
    }
    let status = new_refused
        .as_ref()
        .or(rows.iter().find_map(|r| r.refused.as_ref()))
        .map_or(http::StatusCode::OK, |r| r.status);
    let boxes = EventType::ALL
        .iter()
        .map(|t| (t.as_str(), new.events.iter().any(|e| e == t.as_str())))
        .collect();
    let page = SftpPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Integrations,
            format!("/app/{org}/integrations/sftp"),
        )
        .await?,
        here: format!("/app/{org}/integrations/sftp"),
        back_href: format!("/app/{org}/integrations"),
        rows,
        boxes,
        new,
        fetched,
        new_refused,
    };
    Ok(render(status, &page))
}
