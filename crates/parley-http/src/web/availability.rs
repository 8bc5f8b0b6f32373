//! `POST /app/{org}/availability`: the person's **Available** / **Away** switch in their
//! menu. It sets their availability in every queue of the organization they are a member
//! of (auto-assignment gives work only to those available) and returns to the page it was
//! pressed on.

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_domain::OrgId;
use serde::Deserialize;

use super::pages::PageError;
use super::session::{Session, Viewer, check_form, desk_of, local_target};
use crate::AppState;

/// The switch as posted.
#[derive(Debug, Deserialize)]
pub(crate) struct AvailabilityForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    available: String,
    /// The page to return to.
    #[serde(default)]
    back: String,
}

/// `POST /app/{org}/availability`.
pub(crate) async fn set(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<AvailabilityForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    state
        .app
        .set_my_availability(&viewer.access, form.available == "1")
        .await?;
    let back = local_target(Some(&form.back)).map_or_else(|| desk_of(org), str::to_owned);
    Ok(Redirect::to(&back).into_response())
}
