//! `/app/{org}/audit`: the organization's audit log for administrators, newest first,
//! narrowed by who acted (a member, an API key or the command line), by what they did and
//! by a period of days in the organization's time zone (**From** and **To**, both
//! included), 50 entries a page with "Older entries" after them. The filter is a plain
//! GET form, so a filtered view is a link to share; the API's `GET /api/v1/audit-log`
//! takes the same filter.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use parley_app::AppError;
use parley_domain::{AuditAction, AuditEntry, OrgId};
use parley_store::{AuditFilter, PageRequest};
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Refusal, encode, render};
use super::session::{Session, Viewer};
use crate::AppState;

/// Entries a page.
const PAGE: u32 = 50;

/// The filter as the form sends it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AuditQuery {
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    cursor: Option<String>,
}

struct Row {
    when: String,
    who: String,
    what: String,
    subject: String,
    detail: String,
}

/// The page.
#[derive(Template)]
#[template(path = "app/audit.html")]
struct AuditPage {
    asset: Assets,
    frame: Frame,
    people_href: String,
    here: String,
    q: AuditQuery,
    /// Each actor to filter by: (value, name, selected).
    actors: Vec<(String, String, bool)>,
    /// Each action: (value, words, selected).
    actions: Vec<(&'static str, String, bool)>,
    rows: Vec<Row>,
    older: Option<String>,
    refused: Option<Refusal>,
}

/// An action's name as words: `role_changed` → "Role changed", `api_key_created` →
/// "API key created".
fn action_words(action: AuditAction) -> String {
    let words = action.as_str().replace('_', " ");
    let mut chars = words.chars();
    let said: String = chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    });
    said.replace("Api key", "API key").replace("Sftp", "SFTP")
}

impl AuditQuery {
    /// The store's filter, dates read as days of `zone`, or every problem at once.
    fn filter(&self, zone: &parley_domain::TimeZoneName) -> Result<AuditFilter, AppError> {
        let mut errors = Vec::new();
        let mut day = |field: &str, raw: &str| -> Option<NaiveDate> {
            let raw = raw.trim();
            if raw.is_empty() {
                return None;
            }
            raw.parse::<NaiveDate>()
                .map_err(|_| {
                    errors.push(parley_app::FieldError::new(
                        field,
                        "must be a date such as 2026-12-31",
                    ));
                })
                .ok()
        };
        let from = day("from", &self.from);
        let to = day("to", &self.to);
        let action = match self.action.as_str() {
            "" => None,
            name => {
                let found = AuditAction::from_name(name);
                if found.is_none() {
                    errors.push(parley_app::FieldError::new(
                        "action",
                        "is not an action the audit log records",
                    ));
                }
                found
            }
        };
        if let (Some(from), Some(to)) = (from, to)
            && to < from
        {
            errors.push(parley_app::FieldError::new("to", "must not be before From"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        Ok(AuditFilter {
            actor: Some(self.actor.trim().to_owned()).filter(|a| !a.is_empty()),
            action,
            since: from.map(|d| zone.start_of(d)),
            until: to.and_then(|d| d.succ_opt()).map(|d| zone.start_of(d)),
        })
    }

    /// This filter's address with `cursor` as the page.
    fn href(&self, base: &str, cursor: &str) -> String {
        format!(
            "{base}?actor={}&action={}&from={}&to={}&cursor={}",
            encode(&self.actor),
            encode(&self.action),
            encode(&self.from),
            encode(&self.to),
            encode(cursor)
        )
    }
}

/// `GET /app/{org}/audit`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<AuditQuery>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let zone = &access.organization.timezone;
    let members = app
        .list_members(access, PageRequest::first(500))
        .await?
        .items;
    let keys = app
        .list_api_keys(access, PageRequest::first(500))
        .await?
        .items;
    let mut actors: Vec<(String, String)> = members
        .iter()
        .map(|m| (m.user.id.to_string(), m.user.name.clone()))
        .collect();
    actors.extend(
        keys.iter()
            .map(|k| (k.id.to_string(), format!("API key “{}”", k.name))),
    );
    actors.push(("cli".to_owned(), "Parley's command line".to_owned()));
    let name_of = |actor: &str| {
        actors
            .iter()
            .find(|(id, _)| id == actor)
            .map_or_else(|| actor.to_owned(), |(_, name)| name.clone())
    };
    let base = format!("/app/{org}/audit");
    let (status, rows, older, refused) = match q.filter(zone) {
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            (refusal.status, Vec::new(), None, Some(refusal))
        }
        Ok(filter) => {
            let request = match &q.cursor {
                Some(c) => PageRequest::after(c.clone(), PAGE),
                None => PageRequest::first(PAGE),
            };
            let found = app.list_audit(access, &filter, request).await?;
            let rows = found.items.iter().map(|e| row(e, zone, &name_of)).collect();
            let older = found.next_cursor.map(|c| q.href(&base, &c));
            (http::StatusCode::OK, rows, older, None)
        }
    };
    let page = AuditPage {
        asset: assets::urls(),
        frame: Frame::new(&state, &session, &viewer, Section::People, base.clone()).await?,
        people_href: format!("/app/{org}/people"),
        actors: actors
            .iter()
            .map(|(id, name)| (id.clone(), name.clone(), *id == q.actor))
            .collect(),
        actions: AuditAction::ALL
            .iter()
            .map(|a| (a.as_str(), action_words(*a), a.as_str() == q.action))
            .collect(),
        here: base,
        q,
        rows,
        older,
        refused,
    };
    Ok(render(status, &page))
}

fn row(
    e: &AuditEntry,
    zone: &parley_domain::TimeZoneName,
    name_of: &impl Fn(&str) -> String,
) -> Row {
    let detail = match &e.detail {
        serde_json::Value::Object(map) if map.is_empty() => String::new(),
        other => {
            let text = other.to_string();
            if text.chars().count() > 200 {
                format!("{}…", text.chars().take(200).collect::<String>())
            } else {
                text
            }
        }
    };
    Row {
        when: zone.local(e.at).format("%-d %b %Y, %H:%M:%S").to_string(),
        who: name_of(&e.actor),
        what: action_words(e.action),
        subject: e.subject.clone(),
        detail,
    }
}
