//! `/app/{org}/imports` and `/app/{org}/imports/{id}`: contact files imported through the
//! browser. **Choose file** (`.csv`, `.xls`, `.xlsx`, or dropped on the form) with the
//! **Default country** and **Date order** to read it by, then **Import**: our module sends
//! the form itself so a progress bar follows the upload, and the answer is the import's
//! page; without the module the form posts as it is. The file streams into the store as
//! it arrives, as the API's upload does. An import's page follows it as it runs (rows
//! read, imported and rejected, rows a second, the share of the file read) and shows its
//! rejects report with the download; the history lists every import, newest first.

use askama::Template;
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_domain::{DateOrder, ImportId, ImportRecord, OrgId, Permission};
use parley_store::PageRequest;

use super::assets::{self, Assets};
use super::contacts;
use super::frame::{Frame, Section};
use super::import_form::{self, FormError};
use super::pages::{PageError, Refusal, render};
use super::session::{Session, Viewer};
use crate::AppState;
use crate::problem::ApiError;

/// Imports the history lists; rejects an import's page shows.
const HISTORY: u32 = 50;
const REJECTS: u32 = 50;

struct ImportRow {
    href: String,
    file: String,
    status: &'static str,
    counts: String,
    when: String,
}

/// The upload form and the history.
#[derive(Template)]
#[template(path = "app/imports.html")]
struct ImportsPage {
    asset: Assets,
    frame: Frame,
    here: String,
    can_import: bool,
    country: String,
    orders: Vec<(&'static str, &'static str, bool)>,
    rows: Vec<ImportRow>,
    /// Whether a listed import is still queued or running (the history follows it only
    /// then, rather than reading every import again every two seconds for nothing).
    running: bool,
    refused: Option<Refusal>,
}

fn counts(r: &ImportRecord) -> String {
    let c = &r.counters;
    format!(
        "{} read · {} imported · {} rejected",
        c.rows_total, c.rows_imported, c.rows_rejected
    )
}

/// `GET /app/{org}/imports`.
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show_list(&state, &session, org, None).await
}

async fn show_list(
    state: &AppState,
    session: &Session,
    org: OrgId,
    refused: Option<Refusal>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    contacts::require(access)?;
    let zone = &access.organization.timezone;
    // The store lists imports oldest first: read to the end, keeping the newest.
    let mut newest: std::collections::VecDeque<ImportRecord> = std::collections::VecDeque::new();
    let mut request = PageRequest::first(500);
    loop {
        let page = app.list_imports(access, request).await?;
        for r in page.items {
            if newest.len() == HISTORY as usize {
                newest.pop_front();
            }
            newest.push_back(r);
        }
        match page.next_cursor {
            Some(c) => request = PageRequest::after(c, 500),
            None => break,
        }
    }
    let running = newest.iter().any(|r| !r.status.is_final());
    let rows = newest
        .iter()
        .rev()
        .map(|r| ImportRow {
            href: format!("/app/{org}/imports/{}", r.id),
            file: r
                .file_name
                .clone()
                .unwrap_or_else(|| "Rows sent through the API".to_owned()),
            status: r.status.as_str(),
            counts: counts(r),
            when: zone
                .local(r.created_at)
                .format("%-d %b %Y, %H:%M")
                .to_string(),
        })
        .collect();
    let locale = access.organization.locale;
    let status = refused.as_ref().map_or(http::StatusCode::OK, |r| r.status);
    let page = ImportsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Imports,
            format!("/app/{org}/imports"),
        )
        .await?,
        here: format!("/app/{org}/imports"),
        can_import: access.require(Permission::ContactsWrite).is_ok(),
        country: access.organization.default_country.to_string(),
        orders: vec![
            ("dmy", "Day first (31/12/2026)", locale == DateOrder::Dmy),
            ("mdy", "Month first (12/31/2026)", locale == DateOrder::Mdy),
        ],
        rows,
        running,
        refused,
    };
    Ok(render(status, &page))
}

/// `POST /app/{org}/imports`: the import form (see [`import_form`]); the answer is the
/// import's page, or the form again with its problems.
pub(crate) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    request: Request,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let access = &viewer.access;
    let read = import_form::read(&state, &headers, &session, request, async |posted, file| {
        let options = import_form::options(&posted)?;
        match file {
            Some(file) if !file.file_name().unwrap_or_default().is_empty() => {
                crate::v1::receive_file(&state.app, access, file, options).await
            }
            _ => Err(AppError::invalid("file", "choose a file to import").into()),
        }
    })
    .await;
    let done: Result<ImportRecord, ApiError> = match read {
        Err(FormError::Unchecked(e)) => return Err(e.into()),
        Err(FormError::Checked(e)) => Err(e.into()),
        Ok(done) => done,
    };
    match done {
        Ok(record) => {
            Ok(Redirect::to(&format!("/app/{org}/imports/{}", record.id)).into_response())
        }
        Err(e) => show_list(&state, &session, org, Some(Refusal::of(&e))).await,
    }
}

struct RejectRow {
    row: u64,
    column: String,
    value: String,
    reason: String,
}

/// One import's page.
#[derive(Template)]
#[template(path = "app/import.html")]
struct ImportPage {
    asset: Assets,
    frame: Frame,
    list_href: String,
    download_href: String,
    file: String,
    status: &'static str,
    running: bool,
    percent: u32,
    rows_read: u64,
    imported: u64,
    rejected: u64,
    created: u64,
    updated: u64,
    unchanged: u64,
    rate: Option<u64>,
    error: Option<String>,
    warnings: Vec<String>,
    rejects: Vec<RejectRow>,
}

/// `GET /app/{org}/imports/{id}`.
pub(crate) async fn one(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, ImportId)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    contacts::require(access)?;
    let r = app.get_import(access, id).await?;
    let rejects = if r.counters.rows_rejected > 0 {
        app.rejects_page(access, id, 0, REJECTS)
            .await?
            .lines
            .into_iter()
            .map(|(_, l)| RejectRow {
                row: l.row_number,
                column: l.column,
                value: l.value,
                reason: l.reason,
            })
            .collect()
    } else {
        Vec::new()
    };
    let rate = r.started_at.map(|started| {
        let until = r.finished_at.unwrap_or_else(|| app.clock.now());
        let ms = (until - started).num_milliseconds().max(1);
        r.counters.rows_total.saturating_mul(1000) / u64::try_from(ms).unwrap_or(1)
    });
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let percent = (r.progress() * 100.0).round() as u32;
    let page = ImportPage {
        asset: assets::urls(),
        frame: Frame::new(
            &state,
            &session,
            &viewer,
            Section::Imports,
            format!("/app/{org}/imports/{id}"),
        )
        .await?,
        list_href: format!("/app/{org}/imports"),
        download_href: format!("/api/v1/imports/{id}/rejects.csv"),
        file: r
            .file_name
            .clone()
            .unwrap_or_else(|| "Rows sent through the API".to_owned()),
        status: r.status.as_str(),
        running: !r.status.is_final(),
        percent,
        rows_read: r.counters.rows_total,
        imported: r.counters.rows_imported,
        rejected: r.counters.rows_rejected,
        created: r.counters.contacts_created,
        updated: r.counters.contacts_updated,
        unchanged: r.counters.contacts_unchanged,
        rate,
        error: r.error.clone(),
        warnings: r.warnings.clone(),
        rejects,
    };
    Ok(render(http::StatusCode::OK, &page))
}
