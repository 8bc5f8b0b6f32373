//! `/api/v1/imports`: upload a file (multipart) or send rows (JSON), follow the import,
//! download its rejects report.

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use http::{StatusCode, header};
use parley_domain::{ImportOptions, ImportRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiQuery, PageQuery, is_json, media_type, path_id};
use crate::problem::{ApiError, ProblemResponses, ProblemType};

/// An import and where it stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportResponse {
    /// `imp_…`
    pub id: String,
    /// `queued`, `running`, `completed` or `failed`.
    pub status: String,
    /// `csv`, `xls`, `xlsx` or `rows`.
    pub format: String,
    /// The uploaded file's name.
    pub file_name: Option<String>,
    /// The options it runs with.
    #[schema(value_type = Object)]
    pub options: ImportOptions,
    /// Data rows read so far; always `rows_imported + rows_rejected`.
    pub rows_total: u64,
    /// Rows applied (created, updated or unchanged).
    pub rows_imported: u64,
    /// Rows refused; see `rejects.csv`.
    pub rows_rejected: u64,
    /// Contacts created.
    pub contacts_created: u64,
    /// Contacts changed.
    pub contacts_updated: u64,
    /// Rows that matched a contact already holding the same values.
    pub contacts_unchanged: u64,
    /// From 0 to 1.
    pub progress: f64,
    /// Size of the source.
    pub bytes_total: u64,
    /// Why it failed, naming the line or row.
    pub error: Option<String>,
    /// Things worth knowing that did not stop it.
    pub warnings: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When reading started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
    /// Seconds from start to finish (or to now while running).
    pub duration_seconds: Option<f64>,
}

impl From<ImportRecord> for ImportResponse {
    fn from(r: ImportRecord) -> Self {
        let progress = r.progress();
        let duration_seconds = r.started_at.map(|start| {
            let end = r.finished_at.unwrap_or_else(Utc::now);
            #[allow(clippy::cast_precision_loss)]
            let seconds = (end - start).num_milliseconds() as f64 / 1000.0;
            seconds.max(0.0)
        });
        Self {
            id: r.id.to_string(),
            status: r.status.as_str().to_owned(),
            format: r.format.to_string(),
            file_name: r.file_name,
            options: r.options,
            rows_total: r.counters.rows_total,
            rows_imported: r.counters.rows_imported,
            rows_rejected: r.counters.rows_rejected,
            contacts_created: r.counters.contacts_created,
            contacts_updated: r.counters.contacts_updated,
            contacts_unchanged: r.counters.contacts_unchanged,
            progress,
            bytes_total: r.bytes_total,
            error: r.error,
            warnings: r.warnings,
            created_at: r.created_at,
            started_at: r.started_at,
            finished_at: r.finished_at,
            duration_seconds,
        }
    }
}

/// One page of imports.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImportList {
    /// Imports, oldest first.
    pub data: Vec<ImportResponse>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Rows sent as JSON. (The OpenAPI description of the document; the handler reads it as
/// a stream, never whole, with `parley-import`'s JSON rows reader.)
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RowsImportRequest {
    /// One object per contact: keys are column names, values strings, numbers or booleans.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<Map<String, Value>>,
    /// `mapping`, `address_column`, `channel`, `sheet`, `ignore_unknown`,
    /// `default_country`, `date_order`.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub options: ImportOptions,
}

/// The largest JSON rows body.
pub const MAX_ROWS_BODY: usize = 64 * 1024 * 1024;
/// No upload is read past this, whatever the configuration says.
pub const MAX_UPLOAD_CEILING: usize = 4 * 1024 * 1024 * 1024;

/// Writes `body` to a temporary file, refusing it past `limit` bytes with a 413 that
/// quotes the limit.
async fn spool_body(body: Body, limit: u64) -> Result<tempfile::NamedTempFile, ApiError> {
    use http_body_util::BodyExt;
    use tokio::io::AsyncWriteExt;
    let failed = |e: std::io::Error| {
        tracing::warn!(error = %e, "a rows document could not be written to a temporary file");
        ApiError::new(
            ProblemType::Unavailable,
            "the document could not be stored; retry",
        )
    };
    let file = tempfile::Builder::new()
        .prefix("parley-rows-")
        .tempfile()
        .map_err(failed)?;
    let mut writer = tokio::fs::File::from_std(file.as_file().try_clone().map_err(failed)?);
    let mut body = body;
    let mut total = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame
            .map_err(|_| ApiError::new(ProblemType::MalformedBody, "the body could not be read"))?;
        let Ok(chunk) = frame.into_data() else {
            continue;
        };
        total += chunk.len() as u64;
        if total > limit {
            return Err(ApiError::new(
                ProblemType::PayloadTooLarge,
                format!(
                    "JSON rows take at most {}; send a larger list as a file (multipart)",
                    crate::problem::size(limit)
                ),
            ));
        }
        writer.write_all(&chunk).await.map_err(failed)?;
    }
    writer.flush().await.map_err(failed)?;
    Ok(file)
}

fn options_from(text: &str) -> Result<ImportOptions, ApiError> {
    let mut de = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "options".to_owned()
        } else {
            format!("options.{path}")
        };
        ApiError::field(field, e.into_inner().to_string())
    })
}

/// Start an import: `multipart/form-data` with an optional `options` part (JSON) followed by
/// a `file` part (.csv, .xls, .xlsx), or `application/json` with `rows`. Returns at once;
/// the import runs in the background.
#[utoipa::path(post, operation_id = "create_import", path = "/imports", tag = "imports",
    request_body(content(
        (RowsImportRequest = "application/json"),
        (String = "multipart/form-data"),
    )),
    responses((status = 202, body = ImportResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    request: Request,
) -> Result<(StatusCode, Json<ImportResponse>), ApiError> {
    let media = media_type(request.headers()).unwrap_or_default();
    if is_json(&media) {
        // The document goes to a temporary file as it arrives and is read from there as
        // a stream: no copy of the rows is ever held in memory.
        let spool = spool_body(request.into_body(), MAX_ROWS_BODY as u64).await?;
        let record = state.app.import_rows_file(&access, spool.path()).await?;
        return Ok((StatusCode::ACCEPTED, Json(record.into())));
    }
    if media != "multipart/form-data" {
        return Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "send multipart/form-data (a file) or application/json (rows)",
        ));
    }
    let bad_multipart = |e: axum::extract::multipart::MultipartError| {
        ApiError::new(
            ProblemType::MalformedBody,
            format!("the multipart body is malformed: {}", e.body_text()),
        )
    };
    let mut multipart = Multipart::from_request(request, &state)
        .await
        .map_err(|e| {
            ApiError::new(
                ProblemType::MalformedBody,
                format!("the multipart body is malformed: {}", e.body_text()),
            )
        })?;
    let mut options = ImportOptions::default();
    while let Some(part) = multipart.next_field().await.map_err(bad_multipart)? {
        match part.name().unwrap_or_default() {
            "options" => {
                let text = part.text().await.map_err(bad_multipart)?;
                options = options_from(&text)?;
            }
            "file" => {
                let record = receive_file(&state.app, &access, part, options).await?;
                return Ok((StatusCode::ACCEPTED, Json(record.into())));
            }
            other => {
                return Err(ApiError::field(
                    other,
                    "unknown part (send `options`, then `file`)",
                ));
            }
        }
    }
    Err(ApiError::field("file", "is missing"))
}

/// Stores the multipart `part` holding a file as an import of it with `options`, chunk
/// by chunk as it arrives (never whole in memory), and queues the import; an upload cut
/// short or too large is recorded as failed and refused.
pub(crate) async fn receive_file(
    app: &parley_app::App,
    access: &parley_app::auth::Access,
    mut part: axum::extract::multipart::Field<'_>,
    options: ImportOptions,
) -> Result<parley_domain::ImportRecord, ApiError> {
    let name = part.file_name().unwrap_or_default().to_owned();
    let mut upload = app.start_upload(access, &name, options).await?;
    loop {
        match part.chunk().await {
            Ok(Some(bytes)) => {
                if let Err(e) = upload.push(&bytes).await {
                    upload.abort(&e.to_string()).await?;
                    return Err(e.into());
                }
            }
            Ok(None) => break,
            Err(e) => {
                upload.abort("the upload was interrupted").await?;
                return Err(ApiError::new(
                    ProblemType::MalformedBody,
                    format!("the multipart body is malformed: {}", e.body_text()),
                ));
            }
        }
    }
    Ok(upload.finish().await?)
}

/// The organization's imports.
#[utoipa::path(get, operation_id = "list_imports", path = "/imports", tag = "imports", params(PageQuery),
    responses((status = 200, body = ImportList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<ImportList>, ApiError> {
    let page = state.app.list_imports(&access, q.page()?).await?;
    Ok(Json(ImportList {
        data: page.items.into_iter().map(Into::into).collect(),
        next_cursor: crate::extract::encode_cursor(page.next_cursor),
    }))
}

/// An import: status, counters, progress and timings.
#[utoipa::path(get, operation_id = "get_import", path = "/imports/{id}", tag = "imports", params(("id" = String, Path, description = "imp_…")),
    responses((status = 200, body = ImportResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<ImportResponse>, ApiError> {
    let id = path_id(&id, "import")?;
    Ok(Json(state.app.get_import(&access, id).await?.into()))
}

const REPORT_PAGE: u32 = 1000;

/// The rejects report: `row, column, value, reason`, then the original row's cells.
#[utoipa::path(get, operation_id = "get_import_rejects", path = "/imports/{id}/rejects.csv", tag = "imports", params(("id" = String, Path, description = "imp_…")),
    responses((status = 200, content_type = "text/csv", body = String), ProblemResponses))]
pub async fn rejects(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: parley_domain::ImportId = path_id(&id, "import")?;
    // The first page is read before answering, so access errors are a proper problem.
    let first = state.app.rejects_page(&access, id, 0, REPORT_PAGE).await?;
    let mut head = first.header_csv();
    head.extend(first.lines_csv());
    let last = first.lines.last().map(|(n, _)| *n);
    let more = first.lines.len() == REPORT_PAGE as usize;
    let app = state.app.clone();
    let rest = futures_util::stream::unfold((last, more), move |(after, more)| {
        let app = app.clone();
        let access = access.clone();
        async move {
            let after = after.filter(|_| more)?;
            match app.rejects_page(&access, id, after, REPORT_PAGE).await {
                Ok(page) if page.lines.is_empty() => None,
                Ok(page) => {
                    let bytes = page.lines_csv();
                    let next = (
                        page.lines.last().map(|(n, _)| *n),
                        page.lines.len() == REPORT_PAGE as usize,
                    );
                    Some((Ok::<_, std::io::Error>(bytes), next))
                }
                Err(e) => Some((Err(std::io::Error::other(e.to_string())), (None, false))),
            }
        }
    });
    let body = futures_util::stream::once(async move { Ok::<_, std::io::Error>(head) }).chain(rest);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{id}-rejects.csv\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response())
}
