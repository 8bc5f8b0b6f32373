//! `/api/v1/audit-log`: the acting organization's audit log, newest first.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use parley_domain::AuditAction;
use parley_store::AuditFilter;
use serde::Deserialize;

use super::dto::AuditLogPage;
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiQuery, PageQuery};
use crate::problem::{ApiError, ProblemResponses};

/// `?limit=&cursor=&actor=&action=&since=&until=` for the audit log.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only entries by this actor (`usr_…`, `key_…`, `cli`).
    #[param(max_length = 200)]
    pub actor: Option<String>,
    /// Only entries of this action (for example `role_changed`).
    #[param(max_length = 64)]
    pub action: Option<String>,
    /// Only entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Only entries before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// Audit entries: sign-ins, key creation, role changes and organization changes, newest
/// first, narrowed by actor, action and period.
#[utoipa::path(get, operation_id = "list_audit_log", path = "/audit-log", tag = "audit", params(AuditQuery),
    responses((status = 200, body = AuditLogPage), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<AuditLogPage>, ApiError> {
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let action = match q.action.as_deref() {
        None => None,
        Some(name) => Some(AuditAction::from_name(name).ok_or_else(|| {
            parley_app::AppError::invalid("action", "is not an action the audit log records")
        })?),
    };
    let filter = AuditFilter {
        actor: q.actor,
        action,
        since: q.since,
        until: q.until,
    };
    Ok(Json(
        state.app.list_audit(&access, &filter, page).await?.into(),
    ))
}
