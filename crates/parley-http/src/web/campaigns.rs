//! `/app/{org}/campaigns`: the organization's campaigns and the form that makes one —
//! name; audience (a completed import, or contacts whose fields equal up to two values,
//! counted live as it is chosen by `/app/{org}/campaigns/audience`); a published flow and
//! its version (the latest unless one is named); the channel; the send window (weekdays
//! and hours in each contact's own time zone, blank parts taken from the organization's
//! contact hours); the rate; and when — now, at a time in the organization's zone, or
//! kept as a draft — with an optional end. The use case's problems land beside the boxes
//! they name, every one at once. Each campaign's page (`campaign_page`) follows it live.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, NaiveDateTime, Utc};
use http::{HeaderMap, StatusCode};
use parley_app::auth::Access;
use parley_app::campaigns::{AudienceInput, Move, NewCampaign, WindowInput};
use parley_app::{AppError, FieldError};
use parley_domain::{ChannelId, FlowId, ImportStatus, OrgId, Permission};
use parley_store::PageRequest;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::organizations::day_boxes;
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Filter pairs the form offers.
const FILTERS: usize = 2;
/// Imports the audience choice offers, newest first.
const IMPORTS: usize = 50;

struct CampaignRow {
    href: String,
    name: String,
    status: &'static str,
    created: String,
}

/// A choice of a select: (value, label, selected).
type Choice = (String, String, bool);

/// The campaigns page.
#[derive(Template)]
#[template(path = "app/campaigns.html")]
struct CampaignsPage {
    asset: Assets,
    frame: Frame,
    here: String,
    can_create: bool,
    zone: String,
    rows: Vec<CampaignRow>,
    imports: Vec<Choice>,
    filters: Vec<(usize, Vec<Choice>, String)>,
    flows: Vec<Choice>,
    channels: Vec<Choice>,
    days: Vec<(&'static str, &'static str, bool)>,
    hours: String,
    draft: Posted,
    audience_count: String,
    refused: Option<Refusal>,
}

impl CampaignsPage {
    fn audience_is_filter(&self) -> bool {
        self.draft.get("audience") == "filter"
    }

    fn when(&self) -> &str {
        match self.draft.get("when") {
            "" => "now",
            w => w,
        }
    }
}

/// `GET /app/{org}/campaigns`.
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, Posted::default(), None).await
}

fn choose(value: &str, label: String, current: &str) -> Choice {
    (value.to_owned(), label, value == current)
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    draft: Posted,
    refused: Option<Refusal>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    access.require(Permission::CampaignsRead)?;
    let zone = access.organization.timezone.clone();
    let campaigns = app
        .list_campaigns(access, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?;
    let rows = campaigns
        .items
        .iter()
        .rev()
        .map(|c| CampaignRow {
            href: format!("/app/{org}/campaigns/{}", c.id),
            name: c.name.clone(),
            status: c.status.as_str(),
            created: zone
                .local(c.created_at)
                .format("%-d %b %Y, %H:%M")
                .to_string(),
        })
        .collect();
    let can_create = access.require(Permission::CampaignsWrite).is_ok();
    let mut page = CampaignsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Campaigns,
            format!("/app/{org}/campaigns"),
        )
        .await?,
        here: format!("/app/{org}/campaigns"),
        can_create,
        zone: zone.to_string(),
        rows,
        imports: Vec::new(),
        filters: Vec::new(),
        flows: Vec::new(),
        channels: Vec::new(),
        days: day_boxes(&draft.all("days")),
        hours: super::organizations::hours_words(&access.organization.contact_hours),
        audience_count: String::new(),
        draft,
        refused,
    };
    if can_create {
        choices(app, access, &mut page).await?;
    }
    let status = page.refused.as_ref().map_or(StatusCode::OK, |r| r.status);
    Ok(render(status, &page))
}

/// The form's choices: completed imports, fields, published flows, channels.
async fn choices(
    app: &parley_app::App,
    access: &Access,
    page: &mut CampaignsPage,
) -> Result<(), PageError> {
    let draft = &page.draft;
    let mut imports = Vec::new();
    let mut request = PageRequest::first(500);
    loop {
        let found = app.list_imports(access, request).await?;
        imports.extend(
            found
                .items
                .into_iter()
                .filter(|i| i.status == ImportStatus::Completed),
        );
        match found.next_cursor {
            Some(c) => request = PageRequest::after(c, 500),
            None => break,
        }
    }
    let zone = &access.organization.timezone;
    page.imports = imports
        .iter()
        .rev()
        .take(IMPORTS)
        .map(|i| {
            let label = format!(
                "{} — {} contacts, {}",
                i.file_name
                    .as_deref()
                    .unwrap_or("Rows sent through the API"),
                i.counters.rows_imported,
                zone.local(i.created_at).format("%-d %b %Y, %H:%M")
            );
            choose(&i.id.to_string(), label, draft.get("import_id"))
        })
        .collect();
    let fields = app.list_fields(access).await?;
    page.filters = (1..=FILTERS)
        .map(|n| {
            let current = draft.get(&format!("field.{n}"));
            let mut options = vec![choose("", "No field".to_owned(), current)];
            options.extend(fields.iter().map(|f| {
                choose(
                    f.key.as_str(),
                    format!("{} ({})", f.label, f.field_type),
                    current,
                )
            }));
            (n, options, draft.text(&format!("value.{n}")))
        })
        .collect();
    let flows = app
        .list_flows(access, false, PageRequest::first(PageRequest::MAX_LIMIT))
        .await?;
    page.flows = flows
        .items
        .iter()
        .filter_map(|f| {
            let version = f.latest_version?;
            Some(choose(
                &f.id.to_string(),
                format!("{} (version {version})", f.name),
                draft.get("flow_id"),
            ))
        })
        .collect();
    page.channels = app
        .campaign_channels(access)
        .await?
        .iter()
        .map(|c| {
            choose(
                &c.id.to_string(),
                format!("{} ({})", c.name, c.provider.as_str()),
                draft.get("channel_id"),
            )
        })
        .collect();
    Ok(())
}

/// A local date and time from a `datetime-local` box, in the organization's zone.
fn instant(
    access: &Access,
    posted: &Posted,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<DateTime<Utc>> {
    let raw = posted.get(field).trim();
    if raw.is_empty() {
        return None;
    }
    let parsed = NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(raw, "%Y-%m-%dT%H:%M:%S"));
    match parsed {
        Ok(local) => Some(access.organization.timezone.instant(local)),
        Err(_) => {
            errors.push(FieldError::new(field, "must be a date and time"));
            None
        }
    }
}

/// The audience the form asks for.
fn audience(posted: &Posted) -> Result<AudienceInput, FieldError> {
    if posted.get("audience") == "filter" {
        let pairs = (1..=FILTERS)
            .filter_map(|n| {
                let key = posted.get(&format!("field.{n}"));
                (!key.is_empty()).then(|| (key.to_owned(), posted.text(&format!("value.{n}"))))
            })
            .collect();
        return Ok(AudienceInput::Filter(pairs));
    }
    posted
        .get("import_id")
        .parse()
        .map(AudienceInput::Import)
        .map_err(|_| FieldError::new("audience.import_id", "choose an import"))
}

/// The campaign the form describes, and the problems the page itself finds (a box it
/// cannot read). Where a box cannot be read, the campaign holds a stand-in (every
/// contact; an id no flow or channel has; no number), so the use case still checks
/// everything else and every problem is shown at once.
fn new_campaign(access: &Access, posted: &Posted) -> (NewCampaign, Vec<FieldError>) {
    let mut errors = Vec::new();
    let audience = audience(posted).unwrap_or_else(|e| {
        errors.push(e);
        AudienceInput::Filter(Vec::new())
    });
    let flow_id = posted.get("flow_id").parse().unwrap_or_else(|_| {
        errors.push(FieldError::new("flow_id", "choose a published flow"));
        FlowId::generate()
    });
    let channel_id = posted.get("channel_id").parse().unwrap_or_else(|_| {
        errors.push(FieldError::new("channel_id", "choose a channel"));
        ChannelId::generate()
    });
    let mut number = |field: &str| match posted.get(field).trim() {
        "" => None,
        n => n
            .parse::<u32>()
            .map_err(|_| errors.push(FieldError::new(field, "must be a whole number")))
            .ok(),
    };
    let flow_version = number("flow_version");
    let rate_per_second = number("rate_per_second");
    let at = posted.get("when") == "at";
    let start_at = instant(access, posted, "start_at", &mut errors);
    if at && start_at.is_none() && errors.iter().all(|e| e.field != "start_at") {
        errors.push(FieldError::new("start_at", "say when it starts"));
    }
    let end_at = instant(access, posted, "end_at", &mut errors);
    let days = posted.all("days");
    let text = |field: &str| Some(posted.get(field).trim().to_owned()).filter(|t| !t.is_empty());
    let window = WindowInput {
        days: (!days.is_empty()).then_some(days),
        opens: text("opens"),
        closes: text("closes"),
    };
    let campaign = NewCampaign {
        name: posted.text("name"),
        audience,
        flow_id,
        flow_version,
        channel_id,
        start_at: if at { start_at } else { None },
        end_at,
        window,
        rate_per_second,
    };
    (campaign, errors)
}

/// Creates the campaign the form describes, or says every problem with it. When the page
/// found problems of its own, the use case checks the rest with a name it refuses (so
/// nothing is created) and its problems join the page's, except where the page already
/// named the box or the name was only the page's stand-in.
async fn create_from(
    app: &parley_app::App,
    access: &Access,
    posted: &Posted,
) -> Result<parley_domain::CampaignId, AppError> {
    let (mut new, mut errors) = new_campaign(access, posted);
    if errors.is_empty() {
        return Ok(app.create_campaign(access, new).await?.campaign.id);
    }
    let name = std::mem::take(&mut new.name);
    match app.create_campaign(access, new).await {
        Err(AppError::Invalid(theirs)) => {
            let named_by_page = |f: &str| {
                errors.iter().any(|e| {
                    e.field == f || (e.field.starts_with("audience") && f.starts_with("audience"))
                })
            };
            let fine_name = !name.trim().is_empty() && name.trim().chars().count() <= 200;
            let extra: Vec<FieldError> = theirs
                .into_iter()
                .filter(|e| !(named_by_page(&e.field) || (e.field == "name" && fine_name)))
                .collect();
            errors.extend(extra);
            Err(AppError::Invalid(errors))
        }
        Err(other) => Err(other),
        Ok(_) => Err(AppError::Internal(
            "a campaign without a name was created".into(),
        )),
    }
}

/// `POST /app/{org}/campaigns`: creates the campaign, then starts or schedules it as
/// asked; its page is the answer.
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
    let (app, access) = (&state.app, &viewer.access);
    let done = async {
        let id = create_from(app, access, &posted).await?;
        match posted.get("when") {
            "draft" => {}
            "at" => {
                app.move_campaign(access, id, Move::Schedule).await?;
            }
            _ => {
                app.move_campaign(access, id, Move::Start).await?;
            }
        }
        Ok::<_, AppError>(id)
    }
    .await;
    match done {
        Ok(id) => Ok(Redirect::to(&format!("/app/{org}/campaigns/{id}")).into_response()),
        Err(e) => {
            let refused = Some(Refusal::shown(e)?);
            show(&state, &session, org, posted, refused).await
        }
    }
}

/// The audience boxes, as `/app/{org}/campaigns/audience` reads them.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AudienceQuery {
    #[serde(flatten)]
    pairs: std::collections::HashMap<String, String>,
}

/// The live count's region.
#[derive(Template)]
#[template(
    source = r#"<output id="audience-count" for="audience-import audience-filter" aria-live="polite"{% if problem.is_some() %} class="field-problem"{% endif %}>{% if let Some(p) = problem %}{{ p }}{% else %}{{ words }}{% endif %}</output>"#,
    ext = "html"
)]
struct AudienceCount {
    words: String,
    problem: Option<String>,
}

/// `GET /app/{org}/campaigns/audience`: how many contacts the chosen audience holds.
pub(crate) async fn count(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<AudienceQuery>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let posted = Posted::new(q.pairs.into_iter().collect());
    let counted = match audience(&posted) {
        Ok(a) => state.app.count_audience(&viewer.access, &a).await,
        Err(e) => Err(AppError::Invalid(vec![e])),
    };
    let region = match counted {
        Ok(1) => AudienceCount {
            words: "1 contact".to_owned(),
            problem: None,
        },
        Ok(n) => AudienceCount {
            words: format!("{n} contacts"),
            problem: None,
        },
        Err(e) => AudienceCount {
            words: String::new(),
            problem: Some(Refusal::shown(e)?.words),
        },
    };
    Ok(render(StatusCode::OK, &region))
}
