//! `/api/v1/flows`: drafts written as JSON or YAML, their validation, and publishing them as
//! immutable, numbered versions (SPEC §4). The request body of a create, update or
//! validate is the flow document itself, sent as `application/json` or `application/yaml`.
//! Versions are never deleted, so there is no route that would.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{FromRequest, Path, Request, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::flows::{Check, CheckedFlow, Diagnostic, Published, diagnostic_path};
use parley_domain::{FlowRecord, FlowVersion};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::dto::list_type;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiQuery, ListQuery, PageQuery, body_bytes, is_json, media_type, path_id};
use crate::problem::{ApiError, ProblemResponses, ProblemType};

/// Media types a flow document may be sent as.
const YAML_TYPES: [&str; 4] = [
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/x-yaml",
];

/// The flow document's shape, for the API description: its format version, a name, the
/// first step and the steps by name. The handlers read the text themselves, so a draft that
/// does not validate is still saved and answered with its diagnostics.
#[derive(ToSchema)]
#[schema(as = FlowDocument)]
#[allow(dead_code)]
pub struct FlowDocumentSchema {
    /// The document format: 1.
    #[schema(minimum = 1, maximum = 1)]
    schema: u32,
    /// A name for people.
    name: String,
    /// The name of the first step.
    start: String,
    /// The queue a conversation joins when the flow itself fails (default `default`).
    fallback_queue: Option<String>,
    /// The steps by name. Each is an object with a `type` (`message`, `ask`, `branch`,
    /// `fetch`, `set`, `status`, `queue`, `close` or `wait`) and that type's fields.
    #[schema(value_type = BTreeMap<String, Object>)]
    steps: BTreeMap<String, Value>,
}

/// A flow document in the body: JSON or YAML text, or nothing at all (`None`).
#[derive(Debug)]
pub struct DocumentBody(Option<String>);

impl<S: Send + Sync> FromRequest<S> for DocumentBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let media = media_type(req.headers());
        let bytes = body_bytes(req, state).await?;
        if bytes.is_empty() {
            return Ok(DocumentBody(None));
        }
        let accepted = media
            .as_deref()
            .is_some_and(|m| is_json(m) || YAML_TYPES.contains(&m));
        if !accepted {
            return Err(ApiError::new(
                ProblemType::UnsupportedMediaType,
                "send the flow document with Content-Type: application/json or application/yaml",
            ));
        }
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| {
            ApiError::field(
                "body",
                format!(
                    "is not UTF-8 (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        Ok(DocumentBody(Some(text)))
    }
}

impl DocumentBody {
    /// The document, or a 422 saying one is needed.
    fn required(self) -> Result<String, ApiError> {
        self.0
            .ok_or_else(|| ApiError::field("body", "a flow document is required"))
    }
}

/// One validation finding.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosticResponse {
    /// `error` (blocks publishing) or `warning`.
    pub severity: String,
    /// The rule: `unknown_step`, `unreachable_step`, `condition`, `template`, `duration`,
    /// `unknown_field`, `loop_without_wait` or `step_shape`.
    pub rule: String,
    /// The step it belongs to.
    pub step: Option<String>,
    /// The field within the step (`rules[0].when`) or the document (`start`).
    pub field: Option<String>,
    /// Where in the document, as a JSON path (`steps.check_dob.rules[0].when`).
    pub path: String,
    /// 1-based column inside the field's text (expressions, templates, durations).
    pub column: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
    /// The whole finding on one line, as `parley flow check` prints it.
    pub text: String,
}

impl From<Diagnostic> for DiagnosticResponse {
    fn from(d: Diagnostic) -> Self {
        Self {
            severity: d.severity.as_str().to_owned(),
            rule: d.rule.as_str().to_owned(),
            path: diagnostic_path(&d),
            text: d.to_string(),
            step: d.step,
            field: d.field,
            column: d.column,
            message: d.message,
        }
    }
}

/// Validation of a document.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckResponse {
    /// True when no error blocks publishing.
    pub publishable: bool,
    /// Findings, errors first.
    pub diagnostics: Vec<DiagnosticResponse>,
}

impl From<Check> for CheckResponse {
    fn from(c: Check) -> Self {
        Self {
            publishable: c.publishable,
            diagnostics: c.diagnostics.into_iter().map(Into::into).collect(),
        }
    }
}

/// A flow as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowSummary {
    /// `flow_…`
    pub id: String,
    /// The draft's name.
    pub name: String,
    /// The newest published version.
    pub latest_version: Option<u32>,
    /// The user who created it.
    pub created_by: Option<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// When the draft last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was archived (left out of lists unless `archived=true`; see the archive
    /// operation).
    pub archived_at: Option<DateTime<Utc>>,
}

impl From<FlowRecord> for FlowSummary {
    fn from(f: FlowRecord) -> Self {
        Self {
            id: f.id.to_string(),
            name: f.name,
            latest_version: f.latest_version,
            created_by: f.created_by.map(|u| u.to_string()),
            created_at: f.created_at,
            updated_at: f.updated_at,
            archived_at: f.archived_at,
        }
    }
}

/// A flow with its draft and what validation finds in it now.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowResponse {
    /// The flow.
    #[serde(flatten)]
    pub flow: FlowSummary,
    /// The draft document, as canonical JSON.
    #[schema(value_type = Object)]
    pub draft: Value,
    /// Validation of the draft against the organization's fields.
    #[serde(flatten)]
    pub check: CheckResponse,
}

impl From<CheckedFlow> for FlowResponse {
    fn from(c: CheckedFlow) -> Self {
        let draft = document_value(&c.flow.draft);
        Self {
            flow: c.flow.into(),
            draft,
            check: c.check.into(),
        }
    }
}

/// A stored document as JSON (stored documents are always JSON written by Parley).
fn document_value(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or(Value::Null)
}

/// A published version as lists show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowVersionSummary {
    /// `flow_…`
    pub flow_id: String,
    /// 1, 2, …
    pub version: u32,
    /// The document's name at publication.
    pub name: String,
    /// The user who published it.
    pub published_by: Option<String>,
    /// When.
    pub published_at: DateTime<Utc>,
}

impl From<&FlowVersion> for FlowVersionSummary {
    fn from(v: &FlowVersion) -> Self {
        Self {
            flow_id: v.flow_id.to_string(),
            version: v.version,
            name: v.name.clone(),
            published_by: v.published_by.map(|u| u.to_string()),
            published_at: v.published_at,
        }
    }
}

impl From<FlowVersion> for FlowVersionSummary {
    fn from(v: FlowVersion) -> Self {
        (&v).into()
    }
}

/// A published version with its document.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlowVersionResponse {
    /// The version.
    #[serde(flatten)]
    pub version: FlowVersionSummary,
    /// The document, never changed after publication.
    #[schema(value_type = Object)]
    pub document: Value,
}

impl From<FlowVersion> for FlowVersionResponse {
    fn from(v: FlowVersion) -> Self {
        Self {
            version: (&v).into(),
            document: document_value(&v.document),
        }
    }
}

list_type!(FlowList, FlowSummary);
list_type!(FlowVersionList, FlowVersionSummary);

/// The organization's flows.
#[utoipa::path(get, operation_id = "list_flows", path = "/flows", tag = "flows", params(ListQuery),
    responses((status = 200, body = FlowList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<FlowList>, ApiError> {
    Ok(Json(
        state
            .app
            .list_flows(&access, q.archived(), q.page()?)
            .await?
            .into(),
    ))
}

/// Create a flow from a document. Any readable document is saved as the draft; the
/// response lists what validation finds in it.
#[utoipa::path(post, operation_id = "create_flow", path = "/flows", tag = "flows",
    request_body(description = "The flow document (see docs/flows.md); also accepted as YAML text with `Content-Type: application/yaml`", content((FlowDocumentSchema = "application/json"))),
    responses((status = 201, body = FlowResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    body: DocumentBody,
) -> Result<(StatusCode, Json<FlowResponse>), ApiError> {
    let text = body.required()?;
    let flow = state.app.create_flow(&access, &text).await?;
    Ok((StatusCode::CREATED, Json(flow.into())))
}

/// A flow, its draft and what validation finds in the draft now.
#[utoipa::path(get, operation_id = "get_flow", path = "/flows/{id}", tag = "flows", params(("id" = String, Path, description = "flow_…")),
    responses((status = 200, body = FlowResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<FlowResponse>, ApiError> {
    let id = path_id(&id, "flow")?;
    Ok(Json(state.app.get_flow(&access, id).await?.into()))
}

/// Replace a flow's draft. Published versions are not affected.
#[utoipa::path(put, operation_id = "update_flow", path = "/flows/{id}", tag = "flows", params(("id" = String, Path, description = "flow_…")),
    request_body(description = "The flow document (see docs/flows.md); also accepted as YAML text with `Content-Type: application/yaml`", content((FlowDocumentSchema = "application/json"))),
    responses((status = 200, body = FlowResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    body: DocumentBody,
) -> Result<Json<FlowResponse>, ApiError> {
    let id = path_id(&id, "flow")?;
    let text = body.required()?;
    Ok(Json(
        state.app.update_flow(&access, id, &text).await?.into(),
    ))
}

/// Validate a document against the organization's fields without saving it; with an empty
/// body, the stored draft.
#[utoipa::path(post, operation_id = "validate_flow", path = "/flows/{id}/validate", tag = "flows", params(("id" = String, Path, description = "flow_…")),
    request_body(description = "A flow document to check instead of the draft (optional); also accepted as YAML text with `Content-Type: application/yaml`", content((FlowDocumentSchema = "application/json"))),
    responses((status = 200, body = CheckResponse), ProblemResponses))]
pub async fn validate(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    DocumentBody(text): DocumentBody,
) -> Result<Json<CheckResponse>, ApiError> {
    let id = path_id(&id, "flow")?;
    Ok(Json(
        state
            .app
            .validate_flow(&access, id, text.as_deref())
            .await?
            .into(),
    ))
}

/// Publish the draft as the next version (201). Refused with every error (422) unless the
/// draft validates; a draft identical to the latest version returns that version (200).
#[utoipa::path(post, operation_id = "publish_flow", path = "/flows/{id}/versions", tag = "flows", params(("id" = String, Path, description = "flow_…")),
    responses((status = 201, body = FlowVersionResponse), (status = 200, body = FlowVersionResponse, description = "The draft equals the latest version"),
        ProblemResponses))]
pub async fn publish(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<FlowVersionResponse>), ApiError> {
    let id = path_id(&id, "flow")?;
    Ok(match state.app.publish_flow(&access, id).await? {
        Published::Created(v) => (StatusCode::CREATED, Json(v.into())),
        Published::Unchanged(v) => (StatusCode::OK, Json(v.into())),
    })
}

/// A flow's published versions, newest first.
#[utoipa::path(get, operation_id = "list_flow_versions", path = "/flows/{id}/versions", tag = "flows", params(("id" = String, Path, description = "flow_…"), PageQuery),
    responses((status = 200, body = FlowVersionList), ProblemResponses))]
pub async fn list_versions(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<FlowVersionList>, ApiError> {
    let id = path_id(&id, "flow")?;
    Ok(Json(
        state
            .app
            .list_flow_versions(&access, id, q.page()?)
            .await?
            .into(),
    ))
}

/// One published version with its document.
#[utoipa::path(get, operation_id = "get_flow_version", path = "/flows/{id}/versions/{version}", tag = "flows",
    params(("id" = String, Path, description = "flow_…"), ("version" = u32, Path, description = "1, 2, …")),
    responses((status = 200, body = FlowVersionResponse), ProblemResponses))]
pub async fn get_version(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path((id, version)): Path<(String, String)>,
) -> Result<Json<FlowVersionResponse>, ApiError> {
    let id = path_id(&id, "flow")?;
    let version: u32 = path_id(&version, "flow version")?;
    Ok(Json(
        state
            .app
            .get_flow_version(&access, id, version)
            .await?
            .into(),
    ))
}
