//! `/app/{org}/integrations/values`: the organization's custom value endpoint, for
//! administrators — where a flow's `fetch` step asks for live values (a balance, the next
//! payment date). Set its URL and timeout (the signing secret is made on the first save
//! and shown once, with a copy button), remove it, and **Test** it: the same signed GET a
//! flow sends, for a sample customer and the fields chosen, with what came back — the
//! values as Parley read and typed them, or why they could not be used.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::webhooks::custom_values::{
    DEFAULT_TIMEOUT_MS, FetchFailure, PutCustomValueEndpoint, ValueRequest,
};
use parley_domain::OrgId;
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// A form of the page: `action` is `save`, `delete` or `test`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ValuesForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    timeout_ms: String,
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    fields: String,
}

/// What a test brought back.
struct Tested {
    ok: bool,
    summary: String,
    /// Each value: (field, value as JSON).
    values: Vec<(String, String)>,
}

/// The page.
#[derive(Template)]
#[template(path = "app/custom_values.html")]
struct ValuesPage {
    asset: Assets,
    frame: Frame,
    here: String,
    back_href: String,
    /// The endpoint as stored: (URL, timeout).
    current: Option<(String, u32)>,
    url: String,
    timeout_ms: String,
    customer_id: String,
    channel_id: String,
    fields: String,
    secret: Option<String>,
    tested: Option<Tested>,
    refused: Option<(&'static str, Refusal)>,
}

enum Answer {
    None,
    Secret(String),
    Tested(Tested),
}

/// `GET /app/{org}/integrations/values`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(
        &state,
        &session,
        org,
        ValuesForm::default(),
        Answer::None,
        None,
    )
    .await
}

/// `POST /app/{org}/integrations/values`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(form): Form<ValuesForm>,
) -> Result<Response, PageError> {
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let done: Result<Answer, AppError> = async {
        match form.action.as_str() {
            "save" => {
                let timeout_ms = match form.timeout_ms.trim() {
                    "" => None,
                    t => Some(t.parse().map_err(|_| {
                        AppError::invalid("timeout_ms", "must be a whole number of milliseconds")
                    })?),
                };
                let set = app
                    .put_custom_value_endpoint(
                        access,
                        PutCustomValueEndpoint {
                            url: form.url.trim().to_owned(),
                            secret: None,
                            timeout_ms,
                        },
                    )
                    .await?;
                Ok(set.secret.map_or(Answer::None, Answer::Secret))
            }
            "delete" => app
                .delete_custom_value_endpoint(access)
                .await
                .map(|()| Answer::None),
            "test" => {
                app.get_custom_value_endpoint(access).await?;
                let fields: Vec<String> = form
                    .fields
                    .split(',')
                    .map(|f| f.trim().to_owned())
                    .filter(|f| !f.is_empty())
                    .collect();
                if fields.is_empty() {
                    return Err(AppError::invalid("fields", "name at least one field"));
                }
                let request = ValueRequest {
                    customer_id: Some(form.customer_id.trim().to_owned()).filter(|c| !c.is_empty()),
                    channel_id: form.channel_id.trim().to_owned(),
                    fields,
                };
                let fetched = app.fetch_custom_values(access.org_id(), &request).await?;
                Ok(Answer::Tested(match fetched {
                    Ok(got) => Tested {
                        ok: true,
                        summary: format!("Answered in {} ms", got.latency.as_millis()),
                        values: got
                            .values
                            .iter()
                            .map(|(k, v)| (k.clone(), v.to_string()))
                            .collect(),
                    },
                    Err(failure) => Tested {
                        ok: false,
                        summary: failure_words(&failure),
                        values: Vec::new(),
                    },
                }))
            }
            _ => Err(AppError::invalid("action", "is not one this page knows")),
        }
    }
    .await;
    match done {
        Ok(Answer::None) => {
            Ok(Redirect::to(&format!("/app/{org}/integrations/values")).into_response())
        }
        Ok(outcome) => show(&state, &session, org, form, outcome, None).await,
        Err(e) => {
            let panel = if form.action == "test" {
                "test"
            } else {
                "endpoint"
            };
            let refusal = Refusal::of(&e.into());
            show(
                &state,
                &session,
                org,
                form,
                Answer::None,
                Some((panel, refusal)),
            )
            .await
        }
    }
}

/// A failed fetch as the page says it.
fn failure_words(failure: &FetchFailure) -> String {
    let said = failure.to_string();
    let mut chars = said.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    form: ValuesForm,
    outcome: Answer,
    refused: Option<(&'static str, Refusal)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let current = match app.get_custom_value_endpoint(access).await {
        Ok(e) => Some((e.url, e.timeout_ms)),
        Err(AppError::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let keys: Vec<String> = app
        .list_fields(access)
        .await?
        .into_iter()
        .skip(parley_domain::FieldDefinition::builtins(access.org_id()).len())
        .map(|f| f.key.as_str().to_owned())
        .take(5)
        .collect();
    let kept = refused.as_ref().is_some_and(|(p, _)| *p == "endpoint");
    let (url, timeout_ms) = match (&current, kept) {
        (Some((u, t)), false) => (u.clone(), t.to_string()),
        (None, false) => (String::new(), DEFAULT_TIMEOUT_MS.to_string()),
        (_, true) => (form.url.clone(), form.timeout_ms.clone()),
    };
    let testing = form.action == "test";
    let (secret, tested) = match outcome {
        Answer::None => (None, None),
        Answer::Secret(s) => (Some(s), None),
        Answer::Tested(t) => (None, Some(t)),
    };
    let status = refused
        .as_ref()
        .map_or(http::StatusCode::OK, |(_, r)| r.status);
    let page = ValuesPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Integrations,
            format!("/app/{org}/integrations/values"),
        )
        .await?,
        here: format!("/app/{org}/integrations/values"),
        back_href: format!("/app/{org}/integrations"),
        current,
        url,
        timeout_ms,
        customer_id: if testing {
            form.customer_id
        } else {
            String::new()
        },
        channel_id: if testing {
            form.channel_id
        } else {
            "+447700900123".to_owned()
        },
        fields: if testing {
            form.fields
        } else {
            keys.join(", ")
        },
        secret,
        tested,
        refused,
    };
    Ok(render(status, &page))
}
