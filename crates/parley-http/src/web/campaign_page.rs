//! `/app/{org}/campaigns/{id}`: one campaign as it runs. Its settings in words (audience,
//! flow and version, channel, window in each contact's time zone, rate, start and end in
//! the organization's zone); its counters — pending (and why some wait), sent, delivered,
//! replied, failed, skipped by reason, opted out, finished by outcome — with a progress
//! bar, re-read alone (`/live`) every fifth of a second while it is scheduled or running
//! (the use case keeps the counts a moment, so many people watching cost a few counts a
//! second); **Start**, **Pause**, **Resume** and **Cancel campaign** as its status allows;
//! its recipients with state and reason, filtered by state, 50 a page, and the CSV
//! download.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use parley_app::AppError;
use parley_app::campaigns::Move;
use parley_domain::{CampaignId, CampaignStatus, ContactHours, OrgId, Permission, RecipientState};
use parley_store::PageRequest;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Recipients a page lists.
const RECIPIENTS: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct RecipientsQuery {
    #[serde(default)]
    state: String,
    #[serde(default)]
    after: String,
}

struct RecipientRow {
    seq: u64,
    address: String,
    state: &'static str,
    why: String,
    conversation: Option<String>,
    when: String,
}

/// One campaign's page.
#[derive(Template)]
#[template(path = "app/campaign.html")]
struct CampaignPage {
    asset: Assets,
    frame: Frame,
    here: String,
    list_href: String,
    csv_href: String,
    name: String,
    progress: Live,
    facts: Vec<(&'static str, String)>,
    states: Vec<(&'static str, bool)>,
    recipients: Vec<RecipientRow>,
    more: Option<String>,
    refused: Option<Refusal>,
}

/// How often a watched campaign's progress is read again, in milliseconds.
const REFRESH_MS: u32 = 200;

/// A campaign's progress: the page's region, also answered alone by `/live` for the page
/// to re-read it without the rest of the page.
#[derive(Template)]
#[template(path = "app/campaign_live.html")]
struct Live {
    here: String,
    csrf: String,
    status: &'static str,
    live: bool,
    total: u64,
    done: u64,
    percent: u32,
    counters: Vec<(&'static str, u64)>,
    breakdown: Vec<(String, u64)>,
    moves: Vec<(&'static str, &'static str)>,
}

impl CampaignPage {
    /// The progress region, rendered by its own template (escaped there).
    fn live_html(&self) -> String {
        self.progress.render().unwrap_or_default()
    }
}

/// The progress of `view` as `access` may act on it.
fn progress(
    view: &parley_app::campaigns::CampaignView,
    access: &parley_app::auth::Access,
    here: String,
    csrf: String,
) -> Live {
    let (c, counts) = (&view.campaign, &view.counts);
    let skipped: u64 = counts.skipped.values().sum();
    let completed: u64 = counts.completed.values().sum();
    let total = c
        .recipients_total
        .max(counts.pending + counts.sent + counts.failed + skipped);
    let done = counts.sent + counts.failed + skipped;
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_precision_loss,
        clippy::cast_sign_loss
    )]
    let percent = if total == 0 {
        0
    } else {
        (done as f64 * 100.0 / total as f64).floor() as u32
    };
    let mut breakdown: Vec<(String, u64)> = counts
        .skipped
        .iter()
        .map(|(k, n)| (format!("Skipped: {}", k.replace('_', " ")), *n))
        .collect();
    breakdown.extend(
        counts
            .waiting
            .iter()
            .map(|(k, n)| (format!("Waiting: {}", k.replace('_', " ")), *n)),
    );
    breakdown.extend(
        counts
            .completed
            .iter()
            .map(|(k, n)| (format!("Finished: {}", k.replace('_', " ")), *n)),
    );
    Live {
        here,
        csrf,
        status: c.status.as_str(),
        live: matches!(
            c.status,
            CampaignStatus::Scheduled | CampaignStatus::Running
        ),
        total,
        done,
        percent,
        counters: vec![
            ("Pending", counts.pending),
            ("Sent", counts.sent),
            ("Delivered", counts.delivered),
            ("Replied", counts.replied),
            ("Failed", counts.failed + counts.undelivered),
            ("Skipped", skipped),
            ("Opted out", counts.opted_out),
            ("Finished", completed),
        ],
        breakdown,
        moves: if access.require(Permission::CampaignsWrite).is_ok() {
            moves(c.status)
        } else {
            Vec::new()
        },
    }
}

/// `GET /app/{org}/campaigns/{id}/live`: the progress region alone.
pub(crate) async fn live(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, CampaignId)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let view = state.app.get_campaign(&viewer.access, id).await?;
    let csrf = session.csrf(&state);
    let region = progress(
        &view,
        &viewer.access,
        format!("/app/{org}/campaigns/{id}"),
        csrf,
    );
    Ok(render(StatusCode::OK, &region))
}

/// `GET /app/{org}/campaigns/{id}`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, CampaignId)>,
    Query(q): Query<RecipientsQuery>,
) -> Result<Response, PageError> {
    show(&state, &session, org, id, q, None).await
}

/// What a status allows a person to do: (the action posted, the button's name).
fn moves(status: CampaignStatus) -> Vec<(&'static str, &'static str)> {
    use CampaignStatus as S;
    let mut out = Vec::new();
    if matches!(status, S::Draft | S::Scheduled) {
        out.push(("start", "Start"));
    }
    if matches!(status, S::Scheduled | S::Running) {
        out.push(("pause", "Pause"));
    }
    if status == S::Paused {
        out.push(("resume", "Resume"));
    }
    if !status.is_final() {
        out.push(("cancel", "Cancel campaign"));
    }
    out
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: CampaignId,
    q: RecipientsQuery,
    refused: Option<Refusal>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let view = app.get_campaign(access, id).await?;
    let c = &view.campaign;
    let zone = &access.organization.timezone;
    let when =
        |at: chrono::DateTime<chrono::Utc>| zone.local(at).format("%-d %b %Y, %H:%M").to_string();
    let filter = RecipientState::ALL
        .into_iter()
        .find(|s| s.as_str() == q.state);
    let request = if q.after.is_empty() {
        PageRequest::first(RECIPIENTS)
    } else {
        PageRequest::after(q.after.clone(), RECIPIENTS)
    };
    let listed = app.list_recipients(access, id, filter, request).await?;
    let here = format!("/app/{org}/campaigns/{id}");
    let more = listed.next_cursor.map(|after| {
        let state = filter.map_or(String::new(), |s| format!("state={}&", s.as_str()));
        format!("{here}?{state}after={after}")
    });
    let recipients = listed
        .items
        .iter()
        .map(|r| RecipientRow {
            seq: r.seq,
            address: r
                .address
                .clone()
                .unwrap_or_else(|| "(no address)".to_owned()),
            state: r.state.as_str(),
            why: r
                .reason
                .map(|x| x.as_str().replace('_', " "))
                .or_else(|| {
                    r.waiting
                        .map(|w| format!("waiting: {}", w.as_str().replace('_', " ")))
                })
                .or_else(|| r.error.clone())
                .unwrap_or_default(),
            conversation: r
                .conversation_id
                .map(|cv| format!("/app/{org}/conversations/{cv}")),
            when: when(r.updated_at),
        })
        .collect();
    let window = ContactHours {
        days: c.window["days"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        opens: c.window["opens"].as_str().unwrap_or_default().to_owned(),
        closes: c.window["closes"].as_str().unwrap_or_default().to_owned(),
    };
    let flow = app
        .get_flow_version(access, c.flow_id, c.flow_version)
        .await
        .map_or_else(|_| c.flow_id.to_string(), |v| v.name);
    let audience = if let Some(import) = c.audience["import_id"].as_str() {
        // Its file's name when the reader may read imports; its id otherwise.
        let named = match import.parse() {
            Ok(id) => app
                .get_import(access, id)
                .await
                .ok()
                .and_then(|i| i.file_name),
            Err(_) => None,
        };
        format!(
            "The contacts of the import {}",
            named.unwrap_or_else(|| import.to_owned())
        )
    } else {
        let fields = c.audience["filter"]["fields"].as_object();
        match fields {
            Some(f) if !f.is_empty() => format!(
                "Contacts whose {}",
                f.iter()
                    .map(|(k, v)| format!(
                        "{k} is {}",
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned)
                    ))
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            _ => "Every contact".to_owned(),
        }
    };
    let channel = app
        .campaign_channels(access)
        .await
        .ok()
        .and_then(|all| all.into_iter().find(|ch| ch.id == c.channel_id))
        .map_or_else(
            || c.channel_id.to_string(),
            |ch| format!("{} ({})", ch.name, ch.provider.as_str()),
        );
    let facts = vec![
        ("Audience", audience),
        ("Flow", format!("{flow}, version {}", c.flow_version)),
        ("Channel", channel),
        (
            "Window",
            format!(
                "{}, in each contact's own time zone",
                super::organizations::hours_words(&window)
            ),
        ),
        (
            "Rate",
            format!("{} first messages a second at most", c.rate_per_second),
        ),
        (
            "Starts",
            c.start_at.map_or_else(|| "When started".to_owned(), when),
        ),
        (
            "Ends",
            c.end_at
                .map_or_else(|| "When every recipient is done".to_owned(), when),
        ),
        ("Created", when(c.created_at)),
    ];
    let frame = Frame::new(state, session, &viewer, Section::Campaigns, here.clone()).await?;
    let progress = progress(&view, access, here.clone(), frame.csrf.clone());
    let page = CampaignPage {
        asset: assets::urls(),
        frame,
        list_href: format!("/app/{org}/campaigns"),
        csv_href: format!("/api/v1/campaigns/{id}/recipients.csv"),
        name: c.name.clone(),
        progress,
        facts,
        states: RecipientState::ALL
            .iter()
            .map(|s| (s.as_str(), Some(*s) == filter))
            .collect(),
        recipients,
        more,
        here,
        refused,
    };
    let status = page.refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    Ok(render(status, &page))
}

/// `POST /app/{org}/campaigns/{id}`: `action` = start, pause, resume or cancel.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, CampaignId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let how = match posted.get("action") {
        "start" => Move::Start,
        "pause" => Move::Pause,
        "resume" => Move::Resume,
        "cancel" => Move::Cancel,
        _ => return Err(AppError::invalid("action", "is not one this page knows").into()),
    };
    match state.app.move_campaign(&viewer.access, id, how).await {
        Ok(_) => Ok(Redirect::to(&format!("/app/{org}/campaigns/{id}")).into_response()),
        Err(e) => {
            let refused = Some(Refusal::shown(e)?);
            show(
                &state,
                &session,
                org,
                id,
                RecipientsQuery::default(),
                refused,
            )
            .await
        }
    }
}
