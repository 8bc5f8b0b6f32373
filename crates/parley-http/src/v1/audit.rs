//! `/api/v1/audit-log`: the acting organization's audit log, newest first.

use axum::Json;
use axum::extract::State;

use super::dto::AuditLogPage;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiQuery, PageQuery};
use crate::problem::{ApiError, Problem};

/// Audit entries: sign-ins, key creation, role changes and organization changes.
#[utoipa::path(get, operation_id = "list_audit_log", path = "/audit-log", tag = "audit", params(PageQuery),
    responses((status = 200, body = AuditLogPage), (status = "4XX", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<AuditLogPage>, ApiError> {
    Ok(Json(state.app.list_audit(&access, q.page()?).await?.into()))
}
