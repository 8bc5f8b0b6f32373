//! `/api/v1/organizations`: the caller's organization and its sub-organizations.

use axum::Json;
use axum::extract::{Path, State};
use http::StatusCode;
use parley_app::tenancy::{ContactHoursInput, OrganizationSettings};
use serde::Deserialize;
use utoipa::ToSchema;

use super::dto::{OrganizationList, OrganizationResponse};
use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A sub-organization to create under the acting organization; absent settings are
/// copied from it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateOrganizationRequest {
    /// Display name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    /// Data-location label.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub default_country: Option<String>,
    /// IANA time zone.
    #[schema(pattern = "^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")]
    pub timezone: Option<String>,
    /// `dmy` or `mdy`.
    #[schema(value_type = Option<super::vocab::LocaleName>)]
    pub locale: Option<String>,
    /// The answer to `HELP` and `INFO` on channels without a `help_text` of their own;
    /// an empty string removes it.
    #[schema(max_length = 480)]
    pub help_text: Option<String>,
    /// When contacts may be messaged: the send window of a campaign that names none.
    /// A part left out is every day, 08:00 or 21:00.
    pub contact_hours: Option<super::campaigns::WindowRequest>,
}

/// Settings to change; absent fields are kept. The parent cannot change.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrganizationRequest {
    /// Display name.
    #[schema(min_length = 1, max_length = 200)]
    pub name: Option<String>,
    /// Data-location label.
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 country.
    #[schema(pattern = "^[A-Za-z]{2}$")]
    pub default_country: Option<String>,
    /// IANA time zone.
    #[schema(pattern = "^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$")]
    pub timezone: Option<String>,
    /// `dmy` or `mdy`.
    #[schema(value_type = Option<super::vocab::LocaleName>)]
    pub locale: Option<String>,
    /// The answer to `HELP` and `INFO` on channels without a `help_text` of their own;
    /// an empty string removes it.
    #[schema(max_length = 480)]
    pub help_text: Option<String>,
    /// When contacts may be messaged: the send window of a campaign that names none.
    /// A part left out is every day, 08:00 or 21:00.
    pub contact_hours: Option<super::campaigns::WindowRequest>,
}

fn hours(w: super::campaigns::WindowRequest) -> ContactHoursInput {
    ContactHoursInput {
        days: w.days,
        opens: w.opens,
        closes: w.closes,
    }
}

/// The acting organization and every organization below it.
#[utoipa::path(get, operation_id = "list_organizations", path = "/organizations", tag = "organizations", params(PageQuery),
    responses((status = 200, body = OrganizationList), ProblemResponses))]
pub async fn list(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<PageQuery>,
) -> Result<Json<OrganizationList>, ApiError> {
    Ok(Json(
        state
            .app
            .list_organizations(&access, q.page()?)
            .await?
            .into(),
    ))
}

/// Create a sub-organization of the acting organization.
#[utoipa::path(post, operation_id = "create_organization", path = "/organizations", tag = "organizations", request_body = CreateOrganizationRequest,
    responses((status = 201, body = OrganizationResponse), ProblemResponses))]
pub async fn create(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateOrganizationRequest>,
) -> Result<(StatusCode, Json<OrganizationResponse>), ApiError> {
    let settings = OrganizationSettings {
        name: Some(body.name),
        region: body.region,
        default_country: body.default_country,
        timezone: body.timezone,
        locale: body.locale,
        help_text: body.help_text,
        contact_hours: body.contact_hours.map(hours),
    };
    let org = state.app.create_organization(&access, &settings).await?;
    Ok((StatusCode::CREATED, Json(org.into())))
}

/// One organization within the caller's reach.
#[utoipa::path(get, operation_id = "get_organization", path = "/organizations/{id}", tag = "organizations", params(("id" = String, Path, description = "org_…")),
    responses((status = 200, body = OrganizationResponse), ProblemResponses))]
pub async fn get(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let id = path_id(&id, "organization")?;
    Ok(Json(state.app.get_organization(&access, id).await?.into()))
}

/// Change an organization's settings.
#[utoipa::path(patch, operation_id = "update_organization", path = "/organizations/{id}", tag = "organizations", params(("id" = String, Path, description = "org_…")),
    request_body = UpdateOrganizationRequest,
    responses((status = 200, body = OrganizationResponse), ProblemResponses))]
pub async fn update(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateOrganizationRequest>,
) -> Result<Json<OrganizationResponse>, ApiError> {
    let id = path_id(&id, "organization")?;
    let changes = OrganizationSettings {
        name: body.name,
        region: body.region,
        default_country: body.default_country,
        timezone: body.timezone,
        locale: body.locale,
        help_text: body.help_text,
        contact_hours: body.contact_hours.map(hours),
    };
    Ok(Json(
        state
            .app
            .update_organization(&access, id, &changes)
            .await?
            .into(),
    ))
}
