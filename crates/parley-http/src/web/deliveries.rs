//! `/app/{org}/integrations/{id}`: one webhook endpoint's messages and attempts, for
//! administrators. Messages (newest first, filterable by status, 50 a page) show their
//! event type, status, attempts in the current round and the next retry; each can be
//! sent again with **Replay**, and every failed message since a time (the organization's
//! wall clock) with one form. The attempts log shows each try's answer: status code,
//! latency, what started it and the start of the body or the error.
//!
//! Both lists follow deliveries as they happen: the page marks them `data-refresh`, and
//! our module reads the page again every two seconds while it is visible and swaps the
//! lists in when they changed (the desk's server-sent events carry conversation work,
//! not webhook attempts; two seconds is within a retry schedule's finest step).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDateTime;
use http::HeaderMap;
use parley_app::AppError;
use parley_app::webhooks::ReplayRequest;
use parley_domain::{DeliveryStatus, EventId, OrgId, TimeZoneName, WebhookId};
use parley_store::PageRequest;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Refusal, encode, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Messages and attempts a page.
const PAGE: u32 = 50;

/// The page's query: a status filter, the messages' cursor, and what a replay did.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct MessagesQuery {
    #[serde(default)]
    status: String,
    cursor: Option<String>,
    replayed: Option<u64>,
}

/// A replay as posted: `action` is `replay` (one `event`) or `replay-failed` (`since`).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ReplayForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    since: String,
}

struct MessageRow {
    event: String,
    event_type: &'static str,
    status: &'static str,
    attempts: u32,
    queued: String,
    next: String,
}

struct AttemptRow {
    at: String,
    event: String,
    answer: String,
    ok: bool,
    latency: u32,
    trigger: &'static str,
    excerpt: String,
}

/// The page.
#[derive(Template)]
#[template(path = "app/deliveries.html")]
struct DeliveriesPage {
    asset: Assets,
    frame: Frame,
    back_href: String,
    here: String,
    url: String,
    state: &'static str,
    statuses: Vec<(&'static str, bool)>,
    messages: Vec<MessageRow>,
    older: Option<String>,
    attempts: Vec<AttemptRow>,
    replayed: Option<u64>,
    since: String,
    refused: Option<Refusal>,
}

/// `GET /app/{org}/integrations/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, WebhookId)>,
    Query(q): Query<MessagesQuery>,
) -> Result<Response, PageError> {
    show(&state, &session, org, id, q, None).await
}

/// `POST /app/{org}/integrations/{id}`.
pub(crate) async fn replay(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, WebhookId)>,
    Form(form): Form<ReplayForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let zone = &viewer.access.organization.timezone;
    let request = match form.action.as_str() {
        "replay" => form
            .event
            .parse::<EventId>()
            .map(ReplayRequest::One)
            .map_err(|_| AppError::NotFound("message")),
        "replay-failed" => since(zone, &form.since).map(ReplayRequest::FailedSince),
        _ => Err(AppError::invalid("action", "is not one this page knows")),
    };
    let done = match request {
        Ok(r) => state.app.replay_webhook(&viewer.access, id, r).await,
        Err(e) => Err(e),
    };
    match done {
        Ok(count) => Ok(
            Redirect::to(&format!("/app/{org}/integrations/{id}?replayed={count}")).into_response(),
        ),
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            let q = MessagesQuery::default();
            show(&state, &session, org, id, q, Some((form.since, refusal))).await
        }
    }
}

/// A `datetime-local` value read on the organization's wall clock.
fn since(zone: &TimeZoneName, raw: &str) -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    let raw = raw.trim();
    NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"))
        .map(|local| zone.instant(local))
        .map_err(|_| AppError::invalid("since", "must be a date and time such as 2026-12-31T09:00"))
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: WebhookId,
    q: MessagesQuery,
    refused: Option<(String, Refusal)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let endpoint = app.get_webhook(access, id).await?;
    let zone = &access.organization.timezone;
    let when =
        |at: chrono::DateTime<chrono::Utc>| zone.local(at).format("%-d %b, %H:%M:%S").to_string();
    let status = DeliveryStatus::from_name(&q.status);
    let request = match &q.cursor {
        Some(c) => PageRequest::after(c.clone(), PAGE),
        None => PageRequest::first(PAGE),
    };
    let found = app
        .list_webhook_messages(access, id, status, request)
        .await?;
    let base = format!("/app/{org}/integrations/{id}");
    let older = found
        .next_cursor
        .map(|c| format!("{base}?status={}&cursor={}", encode(&q.status), encode(&c)));
    let messages = found
        .items
        .into_iter()
        .map(|d| MessageRow {
            event: d.event_id.to_string(),
            event_type: d.event_type.as_str(),
            status: d.status.as_str(),
            attempts: d.attempts,
            queued: when(d.created_at),
            next: d.next_attempt_at.map(when).unwrap_or_default(),
        })
        .collect();
    let attempts = app
        .list_webhook_attempts(access, id, None, PageRequest::first(PAGE))
        .await?
        .items
        .into_iter()
        .map(|a| AttemptRow {
            at: when(a.at),
            event: a.event_id.to_string(),
            ok: a.error.is_none() && a.status_code.is_some_and(|c| (200..300).contains(&c)),
            answer: match (a.status_code, &a.error) {
                (Some(code), _) => code.to_string(),
                (None, Some(_)) => "No answer".to_owned(),
                (None, None) => "—".to_owned(),
            },
            latency: a.latency_ms,
            trigger: a.trigger.as_str(),
            excerpt: match (a.error, a.response_excerpt) {
                (Some(error), body) if !body.is_empty() => format!("{error}: {body}"),
                (Some(error), _) => error,
                (None, body) => body,
            }
            .chars()
            .take(160)
            .collect(),
        })
        .collect();
    let (code, since, refused) = match refused {
        Some((since, r)) => (r.status, since, Some(r)),
        None => (http::StatusCode::OK, String::new(), None),
    };
    let page = DeliveriesPage {
        asset: assets::urls(),
        frame: Frame::new(state, session, &viewer, Section::Integrations, base.clone()).await?,
        back_href: format!("/app/{org}/integrations"),
        url: endpoint.url,
        state: if endpoint.enabled {
            "Enabled"
        } else {
            "Disabled"
        },
        statuses: ["pending", "delivered", "failed"]
            .into_iter()
            .map(|s| (s, s == q.status))
            .collect(),
        messages,
        older,
        attempts,
        replayed: q.replayed,
        since,
        refused,
        here: base,
    };
    Ok(render(code, &page))
}
