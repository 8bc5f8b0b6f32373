//! `/app/{org}/integrations`: the organization's webhook endpoints, for administrators.
//! **Add webhook** takes a **Callback URL** and one checkbox per event type (none ticked:
//! every type, including ones added later); the signing secret is shown once, on the page
//! that answers the save or the rotation, with a copy button. Each endpoint can be sent a
//! sample request (**Test kind**, **Test**) whose answer (status, latency, the start of
//! the body, or the error) is shown beside it, enabled or disabled, given a new secret
//! (the old one keeps signing for a day, as the API's rotation does) and deleted. A
//! refused save shows each problem next to its field and in an alert, with what was typed
//! kept.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode};
use parley_app::webhooks::{NewWebhook, RotateSecret, SampleKind, TestExchange, WebhookPatch};
use parley_domain::{DisabledReason, EventType, OrgId, Subscription, WebhookEndpoint, WebhookId};
use parley_store::PageRequest;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;
use crate::problem::ApiError;

/// A form of the page as posted: `action` is `create`, `test`, `enable`, `disable`,
/// `rotate` or `delete`; `events` repeats, one per ticked box.
#[derive(Debug, Default)]
pub(crate) struct IntegrationForm {
    csrf: String,
    action: String,
    id: String,
    url: String,
    description: String,
    events: Vec<String>,
    kind: String,
}

impl IntegrationForm {
    /// Reads the posted pairs (a repeated name does not fit a plain struct).
    fn from_posted(p: &Posted) -> Self {
        Self {
            csrf: p.text("csrf"),
            action: p.text("action"),
            id: p.text("id"),
            url: p.text("url"),
            description: p.text("description"),
            events: p.all("events"),
            kind: p.text("kind"),
        }
    }
}

/// An event type's checkbox.
struct EventBox {
    name: &'static str,
    checked: bool,
}

/// One endpoint as listed.
struct Endpoint {
    id: String,
    url: String,
    description: String,
    events: String,
    state: String,
    enabled: bool,
    /// The answer to a test just sent to it.
    test: Option<TestResult>,
    /// A problem an action on it just met.
    problem: Option<String>,
}

/// What a test brought back.
struct TestResult {
    kind: &'static str,
    ok: bool,
    summary: String,
    body: String,
}

/// The page.
#[derive(Template)]
#[template(path = "app/integrations.html")]
struct IntegrationsPage {
    asset: Assets,
    frame: Frame,
    action_href: String,
    endpoints: Vec<Endpoint>,
    kinds: Vec<&'static str>,
    boxes: Vec<EventBox>,
    /// The add form's values (kept when it was refused).
    url: String,
    description: String,
    /// Why the add form was refused.
    refused: Option<Refusal>,
    /// A secret to show once: the endpoint's URL and the secret.
    secret: Option<(String, String)>,
}

/// What the last post did, for the page that answers it.
enum Outcome {
    None,
    Secret(String, String),
    Tested(WebhookId, SampleKind, TestExchange),
    Refused(IntegrationForm, ApiError),
}

/// `GET /app/{org}/integrations`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, Outcome::None).await
}

/// `POST /app/{org}/integrations`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = IntegrationForm::from_posted(&Posted::new(pairs));
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let app = &state.app;
    let access = &viewer.access;
    let id = || -> Result<WebhookId, parley_app::AppError> {
        form.id
            .parse()
            .map_err(|_| parley_app::AppError::NotFound("webhook endpoint"))
    };
    let done: Result<Outcome, parley_app::AppError> = async {
        Ok(match form.action.as_str() {
            "create" => {
                let created = app
                    .create_webhook(
                        access,
                        NewWebhook {
                            url: form.url.trim().to_owned(),
                            description: form.description.clone(),
                            events: (!form.events.is_empty()).then(|| form.events.clone()),
                            secret: None,
                            enabled: true,
                        },
                    )
                    .await?;
                Outcome::Secret(created.endpoint.url, created.secret)
            }
            "rotate" => {
                let rotated = app
                    .rotate_webhook_secret(access, id()?, RotateSecret::default())
                    .await?;
                Outcome::Secret(rotated.endpoint.url, rotated.secret)
            }
            "test" => {
                let kind = SampleKind::from_wire(&form.kind).ok_or_else(|| {
                    parley_app::AppError::invalid("kind", "choose one of the five sample requests")
                })?;
                let id = id()?;
                Outcome::Tested(id, kind, app.test_webhook(access, id, kind).await?)
            }
            "enable" | "disable" => {
                let patch = WebhookPatch {
                    enabled: Some(form.action == "enable"),
                    ..WebhookPatch::default()
                };
                app.update_webhook(access, id()?, patch).await?;
                return Ok(Outcome::None);
            }
            "delete" => {
                app.delete_webhook(access, id()?).await?;
                return Ok(Outcome::None);
            }
            _ => {
                return Err(parley_app::AppError::invalid(
                    "action",
                    "must be create, test, enable, disable, rotate or delete",
                ));
            }
        })
    }
    .await;
    match done {
        Ok(Outcome::None) => Ok(Redirect::to(&format!("/app/{org}/integrations")).into_response()),
        Ok(outcome) => show(&state, &session, org, outcome).await,
        Err(e) => show(&state, &session, org, Outcome::Refused(form, e.into())).await,
    }
}

/// The page, with what the last post did.
async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    let listed = state
        .app
        .list_webhooks(access, PageRequest::first(200))
        .await?
        .items;
    let mut endpoints: Vec<Endpoint> = listed
        .iter()
        .filter(|e| e.sftp.is_none())
        .map(endpoint)
        .collect();
    let mut page = IntegrationsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Integrations,
            format!("/app/{org}/integrations"),
        )
        .await?,
        action_href: format!("/app/{org}/integrations"),
        endpoints: Vec::new(),
        kinds: SampleKind::ALL.iter().map(|k| k.as_str()).collect(),
        boxes: boxes(&[]),
        url: String::new(),
        description: String::new(),
        refused: None,
        secret: None,
    };
    let mut status = StatusCode::OK;
    match outcome {
        Outcome::None => {}
        Outcome::Secret(url, secret) => page.secret = Some((url, secret)),
        Outcome::Tested(id, kind, exchange) => {
            if let Some(e) = endpoints.iter_mut().find(|e| e.id == id.to_string()) {
                e.test = Some(test_result(kind, &exchange));
            }
        }
        Outcome::Refused(form, problem) => {
            let refusal = Refusal::of(&problem);
            status = refusal.status;
            let on_endpoint = form.action != "create" && endpoints.iter().any(|e| e.id == form.id);
            if on_endpoint {
                if let Some(e) = endpoints.iter_mut().find(|e| e.id == form.id) {
                    e.problem = Some(refusal.words);
                }
            } else {
                page.refused = Some(refusal);
                page.boxes = boxes(&form.events);
                page.url = form.url;
                page.description = form.description;
            }
        }
    }
    page.endpoints = endpoints;
    Ok(render(status, &page))
}

/// One checkbox per event type, ticked as `checked` says.
fn boxes(checked: &[String]) -> Vec<EventBox> {
    EventType::ALL
        .iter()
        .map(|t| EventBox {
            name: t.as_str(),
            checked: checked.iter().any(|c| c == t.as_str()),
        })
        .collect()
}

fn endpoint(e: &WebhookEndpoint) -> Endpoint {
    let events = match &e.events {
        Subscription::All => "Every event".to_owned(),
        Subscription::Only(types) => types
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Subscription::Nothing => "No events".to_owned(),
    };
    let state = match (e.enabled, e.disabled_reason) {
        (true, _) if e.failing_since.is_some() => "Enabled, failing".to_owned(),
        (true, _) => "Enabled".to_owned(),
        (false, Some(DisabledReason::Gone)) => {
            "Disabled: the receiver answered 410 Gone".to_owned()
        }
        (false, Some(DisabledReason::Failing)) => "Disabled: failing for too long".to_owned(),
        (false, _) => "Disabled".to_owned(),
    };
    Endpoint {
        id: e.id.to_string(),
        url: e.url.clone(),
        description: e.description.clone(),
        events,
        state,
        enabled: e.enabled,
        test: None,
        problem: None,
    }
}

fn test_result(kind: SampleKind, exchange: &TestExchange) -> TestResult {
    let r = &exchange.response;
    let summary = match (r.status, &r.error) {
        (Some(code), None) => format!("{code} in {} ms", r.latency_ms),
        (Some(code), Some(error)) => format!("{code} in {} ms: {error}", r.latency_ms),
        (None, Some(error)) => format!("No answer after {} ms: {error}", r.latency_ms),
        (None, None) => format!("No answer after {} ms", r.latency_ms),
    };
    TestResult {
        kind: kind.as_str(),
        ok: r.error.is_none(),
        summary,
        body: r.body.chars().take(300).collect(),
    }
}
