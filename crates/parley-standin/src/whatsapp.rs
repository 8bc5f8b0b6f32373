//! A WhatsApp Cloud API stand-in (`reference/channels.md` §3, §9): `POST
//! /{version}/{phone_number_id}/messages` with a Bearer token and a JSON body, answered
//! with `{messaging_product, contacts, messages: [{id}]}` or Meta's error body (`190` a bad
//! token, `100` a bad parameter, `131047` free text outside the 24-hour window, or a
//! failure queued with [`WhatsappStandIn::fail_next`]). The window opens when a customer
//! writes through [`WhatsappStandIn::inbound`], as on WhatsApp. Each accepted message gets
//! status webhooks (`sent`, `delivered`, `read`; with [`WhatsappStandIn::reorder`], `read`
//! before a late `delivered`), signed with `X-Hub-Signature-256`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_channels::whatsapp::signature;
use serde_json::{Value, json};

use crate::server::{Ledger, Running, client, random_id, serve};

/// How long a customer's message keeps free text open.
const WINDOW: Duration = Duration::from_secs(24 * 3600);

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentWhatsapp {
    /// The id it answered with (`wamid.…`).
    pub id: String,
    /// The recipient.
    pub to: String,
    /// The text, or the template's name for a template.
    pub text: String,
    /// Whether it was a template.
    pub template: bool,
}

struct Inner {
    phone_number_id: String,
    access_token: String,
    app_secret: String,
    webhook: String,
    report_delay: Duration,
    reorder: bool,
    last_inbound: HashMap<String, Instant>,
    ledger: Ledger<SentWhatsapp>,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running stand-in; stops when dropped.
pub struct WhatsappStandIn {
    /// `http://127.0.0.1:<port>`: the base URL a WhatsApp channel is configured with.
    pub base_url: String,
    inner: Shared,
    _server: Running,
}

fn error(status: u16, code: i64, message: &str) -> Response {
    let body = json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_data": {"messaging_product": "whatsapp", "details": message},
        "fbtrace_id": random_id("A"),
    }});
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The recipient's WhatsApp id: the number without `+`.
fn wa_id(to: &str) -> String {
    to.trim_start_matches('+').to_owned()
}

async fn send(
    State(inner): State<Shared>,
    Path((_version, number)): Path<(String, String)>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let accepted = {
        let state = lock(&inner);
        let bearer = format!("Bearer {}", state.access_token);
        if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(bearer.as_str()) {
            return error(401, 190, "Invalid OAuth access token.");
        }
        if number != state.phone_number_id {
            return error(
                400,
                100,
                "Unsupported post request: unknown phone number id.",
            );
        }
        if let Some((status, code, message)) = state.ledger.next_failure() {
            return error(status, code, &message);
        }
        let Ok(request) = serde_json::from_str::<Value>(&body) else {
            return error(400, 100, "Invalid parameter: the body is not JSON.");
        };
        if request["messaging_product"] != "whatsapp" {
            return error(
                400,
                100,
                "Invalid parameter: messaging_product must be whatsapp.",
            );
        }
        let Some(to) = request["to"].as_str().filter(|t| !t.is_empty()) else {
            return error(400, 100, "Invalid parameter: to is required.");
        };
        let to = wa_id(to);
        let (text, template) = match request["type"].as_str() {
            Some("text") => match request["text"]["body"].as_str() {
                Some(b) if !b.is_empty() => (b.to_owned(), false),
                _ => return error(400, 100, "Invalid parameter: text.body is required."),
            },
            Some("template") => match request["template"]["name"].as_str() {
                Some(n) => (n.to_owned(), true),
                None => return error(400, 100, "Invalid parameter: template.name is required."),
            },
            _ => {
                return error(
                    400,
                    100,
                    "Invalid parameter: type must be text or template.",
                );
            }
        };
        let open = state
            .last_inbound
            .get(&to)
            .is_some_and(|at| at.elapsed() < WINDOW);
        if !template && !open {
            return error(
                400,
                131_047,
                "Re-engagement message: more than 24 hours have passed since the recipient last replied.",
            );
        }
        let sent = SentWhatsapp {
            id: format!("wamid.{}", random_id("HBg")),
            to,
            text,
            template,
        };
        state.ledger.record(sent.clone());
        sent
    };
    tokio::spawn(report(inner.clone(), accepted.clone()));
    let answer = json!({
        "messaging_product": "whatsapp",
        "contacts": [{"input": accepted.to, "wa_id": accepted.to}],
        "messages": [{"id": accepted.id}],
    });
    ([("content-type", "application/json")], answer.to_string()).into_response()
}

/// The `messages` envelope Meta wraps every webhook in.
fn envelope(phone_number_id: &str, value: &Value) -> Value {
    let mut value = value.clone();
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] =
        json!({"display_phone_number": "15550000000", "phone_number_id": phone_number_id});
    json!({"object": "whatsapp_business_account", "entry": [{
        "id": "102290129340398",
        "changes": [{"field": "messages", "value": value}],
    }]})
}

fn unix_now() -> String {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string()
}

/// Sends the statuses of `sent` to the webhook, as Meta does.
async fn report(inner: Shared, sent: SentWhatsapp) {
    let (delay, reorder, ledger) = {
        let state = lock(&inner);
        (state.report_delay, state.reorder, state.ledger.clone())
    };
    let order: &[&str] = if reorder {
        &["sent", "read", "delivered"]
    } else {
        &["sent", "delivered", "read"]
    };
    for status in order {
        tokio::time::sleep(delay).await;
        let value = json!({"statuses": [{
            "id": sent.id,
            "status": status,
            "timestamp": unix_now(),
            "recipient_id": sent.to,
        }]});
        let answer = post_signed(&inner, &value).await;
        ledger.report(&sent.id, status, answer.map_or(0, |(s, _)| s));
    }
}

/// Posts `value` in its envelope to the webhook, signed; Parley's status and body.
async fn post_signed(inner: &Shared, value: &Value) -> Result<(u16, String), reqwest::Error> {
    let (webhook, secret, number) = {
        let state = lock(inner);
        (
            state.webhook.clone(),
            state.app_secret.clone(),
            state.phone_number_id.clone(),
        )
    };
    let body = envelope(&number, value).to_string();
    let response = client()
        .post(&webhook)
        .header("content-type", "application/json")
        .header(
            "x-hub-signature-256",
            signature::sign(&secret, body.as_bytes()),
        )
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

impl WhatsappStandIn {
    /// Starts a stand-in for one number on `127.0.0.1:port` (0: any free port), sending
    /// its webhooks to `webhook` signed with `app_secret`, statuses `report_delay` apart.
    pub async fn start(
        phone_number_id: &str,
        access_token: &str,
        app_secret: &str,
        webhook: &str,
        report_delay: Duration,
        port: u16,
    ) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            phone_number_id: phone_number_id.to_owned(),
            access_token: access_token.to_owned(),
            app_secret: app_secret.to_owned(),
            webhook: webhook.to_owned(),
            report_delay,
            reorder: false,
            last_inbound: HashMap::new(),
            ledger: Ledger::new(),
        }));
        let router = axum::Router::new()
            .route("/{version}/{number}/messages", axum::routing::post(send))
            .with_state(inner.clone());
        let server = serve(router, port).await?;
        Ok(Self {
            base_url: format!("http://{}", server.address),
            inner,
            _server: server,
        })
    }

    /// Where webhooks go from now on.
    pub fn set_webhook(&self, webhook: &str) {
        lock(&self.inner).webhook = webhook.to_owned();
    }

    /// The next send fails with this HTTP status and Meta error code.
    pub fn fail_next(&self, status: u16, code: i64, message: &str) {
        lock(&self.inner).ledger.fail_next(status, code, message);
    }

    /// Later messages report `read` before a late `delivered` (as Meta may).
    pub fn reorder(&self, on: bool) {
        lock(&self.inner).reorder = on;
    }

    /// Every message accepted so far.
    #[must_use]
    pub fn sent(&self) -> Vec<SentWhatsapp> {
        lock(&self.inner).ledger.sent()
    }

    /// Status webhooks sent so far: message id, status, Parley's answer (0: unreachable).
    #[must_use]
    pub fn statuses(&self) -> Vec<(String, String, u16)> {
        lock(&self.inner).ledger.reports()
    }

    /// A customer writes: opens their 24-hour window and posts the message webhook.
    pub async fn inbound(
        &self,
        from: &str,
        name: &str,
        text: &str,
    ) -> Result<(u16, String), reqwest::Error> {
        let from = wa_id(from);
        lock(&self.inner)
            .last_inbound
            .insert(from.clone(), Instant::now());
        let value = json!({
            "contacts": [{"profile": {"name": name}, "wa_id": from}],
            "messages": [{
                "from": from,
                "id": format!("wamid.{}", random_id("HBg")),
                "timestamp": unix_now(),
                "type": "text",
                "text": {"body": text},
            }],
        });
        post_signed(&self.inner, &value).await
    }

    /// Meta's verification handshake against `webhook`: Parley's status and body.
    pub async fn handshake(
        &self,
        verify_token: &str,
        challenge: &str,
    ) -> Result<(u16, String), reqwest::Error> {
        let webhook = lock(&self.inner).webhook.clone();
        let query = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("hub.mode", "subscribe")
            .append_pair("hub.verify_token", verify_token)
            .append_pair("hub.challenge", challenge)
            .finish();
        let separator = if webhook.contains('?') { '&' } else { '?' };
        let response = client()
            .get(format!("{webhook}{separator}{query}"))
            .send()
            .await?;
        let status = response.status().as_u16();
        Ok((status, response.text().await?))
    }
}
