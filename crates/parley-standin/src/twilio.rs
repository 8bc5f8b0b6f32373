//! A Twilio stand-in (`reference/channels.md` §1, §9): `POST
//! /2010-04-01/Accounts/{sid}/Messages.json` with Basic auth and a form body, answered `201`
//! with the message resource, or Twilio's legacy error body (`20003` bad credentials,
//! `21604` no `To`, `21211` an invalid `To`, `21602` no `Body`, or a failure queued with
//! [`TwilioStandIn::fail_next`]). A message with a `StatusCallback` then gets the status
//! callbacks Twilio sends (`sent`, then `delivered` or the outcome set with
//! [`TwilioStandIn::deliver_as`]), form-encoded and signed with `X-Twilio-Signature`.
//! [`TwilioStandIn::inbound`] posts a customer's message to Parley the same way.
//!
//! A request with an `Idempotency-Key` header whose key was seen before on the account
//! is answered with the first request's message resource and sends nothing (the
//! behaviour of Twilio-compatible providers that take the header, e.g. Telnyx's
//! documented `Idempotency-Key`; Twilio itself documents none for Messages, and ignores
//! the header). [`TwilioStandIn::replays`] counts such answers.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use parley_channels::twilio::signature;

use crate::server::{Ledger, Running, client, random_id, serve};

/// A message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentSms {
    /// The id it answered with (`SM…`).
    pub sid: String,
    /// `To`.
    pub to: String,
    /// `From`, or the `MessagingServiceSid`.
    pub from: String,
    /// `Body`.
    pub body: String,
    /// `StatusCallback`, if given.
    pub status_callback: Option<String>,
    /// The request's `Idempotency-Key`, if given.
    pub idempotency_key: Option<String>,
}

/// What the status callbacks report after `sent`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TwilioOutcome {
    /// `delivered`.
    Delivered,
    /// `undelivered` with this error code (e.g. `30003`).
    Undelivered(u32),
    /// `failed` with this error code (e.g. `30006`).
    Failed(u32),
}

struct Inner {
    account_sid: String,
    auth_token: String,
    report_delay: Duration,
    outcome: TwilioOutcome,
    ledger: Ledger<SentSms>,
    /// The resource answered for each idempotency key.
    answered: std::collections::HashMap<String, String>,
    replays: usize,
}

type Shared = Arc<Mutex<Inner>>;

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, Inner> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The running stand-in; stops when dropped.
pub struct TwilioStandIn {
    /// `http://127.0.0.1:<port>`: the base URL a Twilio channel is configured with.
    pub base_url: String,
    inner: Shared,
    _server: Running,
}

fn error(status: u16, code: i64, message: &str) -> Response {
    let body = serde_json::json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    });
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// `{"sent": n, "replays": n}`.
async fn ledger(State(inner): State<Shared>) -> Response {
    let state = lock(&inner);
    let body = serde_json::json!({"sent": state.ledger.sent_count(), "replays": state.replays});
    (
        StatusCode::OK,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// Whether `to` looks like an address Twilio would take: E.164 or `whatsapp:` E.164.
fn valid_to(to: &str) -> bool {
    let number = to.strip_prefix("whatsapp:").unwrap_or(to);
    number.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
    })
}

fn authorized(headers: &HeaderMap, sid: &str, token: &str) -> bool {
    use base64::Engine;
    let pair = format!("{sid}:{token}");
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(pair.as_bytes())
    );
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == expected)
}

async fn create(
    State(inner): State<Shared>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: String,
) -> Response {
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes())
        .into_owned()
        .collect();
    let field = |name: &str| form.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (sent, delay, outcome) = {
        let mut state = lock(&inner);
        let account_ok =
            account.trim_end_matches(".json") == state.account_sid || account == state.account_sid;
        if !account_ok || !authorized(&headers, &state.account_sid, &state.auth_token) {
            return error(401, 20003, "Authenticate");
        }
        if let Some(first) = idempotency_key
            .as_ref()
            .and_then(|k| state.answered.get(k))
            .cloned()
        {
            state.replays += 1;
            return (
                StatusCode::CREATED,
                [("content-type", "application/json")],
                first,
            )
                .into_response();
        }
        if let Some((status, code, message)) = state.ledger.next_failure() {
            return error(status, code, &message);
        }
        let Some(to) = field("To") else {
            return error(400, 21604, "A 'To' phone number is required.");
        };
        if !valid_to(&to) {
            return error(
                400,
                21211,
                &format!("The 'To' number {to} is not a valid phone number."),
            );
        }
        let Some(from) = field("From").or_else(|| field("MessagingServiceSid")) else {
            return error(400, 21603, "A 'From' phone number is required.");
        };
        let Some(text) = field("Body").filter(|b| !b.is_empty()) else {
            return error(400, 21602, "Message body is required.");
        };
        let sent = SentSms {
            sid: random_id("SM"),
            to,
            from,
            body: text,
            status_callback: field("StatusCallback"),
            idempotency_key: idempotency_key.clone(),
        };
        state.ledger.record(sent.clone());
        let resource = resource(&account, &sent);
        if let Some(key) = &idempotency_key {
            state.answered.insert(key.clone(), resource.clone());
        }
        (sent, state.report_delay, state.outcome.clone())
    };
    let resource = resource(&account, &sent);
    if let Some(callback) = sent.status_callback.clone() {
        tokio::spawn(report(
            inner.clone(),
            sent.clone(),
            callback,
            delay,
            outcome,
        ));
    }
    (
        StatusCode::CREATED,
        [("content-type", "application/json")],
        resource,
    )
        .into_response()
}

/// The message resource Twilio answers a create with.
fn resource(account: &str, sent: &SentSms) -> String {
    serde_json::json!({
        "account_sid": account.trim_end_matches(".json"),
        "api_version": "2010-04-01",
        "body": sent.body,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": sent.from,
        "num_media": "0",
        "num_segments": parley_channels::segment(&sent.body).segments().to_string(),
        "sid": sent.sid,
        "status": "queued",
        "to": sent.to,
        "uri": format!("/2010-04-01/Accounts/{account}/Messages/{}.json", sent.sid),
    })
    .to_string()
}

/// Sends `sent`, then the outcome, to `callback`, as Twilio does.
async fn report(
    inner: Shared,
    sent: SentSms,
    callback: String,
    delay: Duration,
    outcome: TwilioOutcome,
) {
    let (account, token, ledger) = {
        let state = lock(&inner);
        (
            state.account_sid.clone(),
            state.auth_token.clone(),
            state.ledger.clone(),
        )
    };
    let (last, code) = match outcome {
        TwilioOutcome::Delivered => ("delivered", None),
        TwilioOutcome::Undelivered(code) => ("undelivered", Some(code)),
        TwilioOutcome::Failed(code) => ("failed", Some(code)),
    };
    for (status, code) in [("sent", None), (last, code)] {
        tokio::time::sleep(delay).await;
        let mut params = vec![
            ("MessageSid".to_owned(), sent.sid.clone()),
            ("SmsSid".to_owned(), sent.sid.clone()),
            ("MessageStatus".to_owned(), status.to_owned()),
            ("SmsStatus".to_owned(), status.to_owned()),
            ("AccountSid".to_owned(), account.clone()),
            ("From".to_owned(), sent.from.clone()),
            ("To".to_owned(), sent.to.clone()),
            ("ApiVersion".to_owned(), "2010-04-01".to_owned()),
        ];
        if let Some(code) = code {
            params.push(("ErrorCode".to_owned(), code.to_string()));
        }
        let answer = post_signed(&callback, &token, &params).await;
        ledger.report(&sent.sid, status, answer.map_or(0, |(s, _)| s));
    }
}

/// Posts `params` as a form to `url`, signed as Twilio signs; Parley's status and body.
async fn post_signed(
    url: &str,
    token: &str,
    params: &[(String, String)],
) -> Result<(u16, String), reqwest::Error> {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    let response = client()
        .post(url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-twilio-signature", signature::sign(token, url, params))
        .body(body)
        .send()
        .await?;
    let status = response.status().as_u16();
    Ok((status, response.text().await?))
}

impl TwilioStandIn {
    /// Starts a stand-in for one account on `127.0.0.1:port` (0: any free port). Status
    /// callbacks follow each other `report_delay` apart.
    pub async fn start(
        account_sid: &str,
        auth_token: &str,
        report_delay: Duration,
        port: u16,
    ) -> std::io::Result<Self> {
        let inner = Arc::new(Mutex::new(Inner {
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            report_delay,
            outcome: TwilioOutcome::Delivered,
            ledger: Ledger::new(),
            answered: std::collections::HashMap::new(),
            replays: 0,
        }));
        let router = axum::Router::new()
            .route(
                "/2010-04-01/Accounts/{account}/Messages.json",
                axum::routing::post(create),
            )
            // The stand-in's own: what it accepted so far (for a benchmark in another
            // process); not part of Twilio's API.
            .route("/_standin/ledger", axum::routing::get(ledger))
            .with_state(inner.clone());
        let server = serve(router, port).await?;
        Ok(Self {
            base_url: format!("http://{}", server.address),
            inner,
            _server: server,
        })
    }

    /// The next send fails with this HTTP status and Twilio error code.
    pub fn fail_next(&self, status: u16, code: u32, message: &str) {
        lock(&self.inner)
            .ledger
            .fail_next(status, i64::from(code), message);
    }

    /// What the status callbacks of later messages report after `sent`.
    pub fn deliver_as(&self, outcome: TwilioOutcome) {
        lock(&self.inner).outcome = outcome;
    }

    /// Every message accepted so far.
    #[must_use]
    pub fn sent(&self) -> Vec<SentSms> {
        lock(&self.inner).ledger.sent()
    }

    /// Requests answered from an earlier one with the same `Idempotency-Key`.
    #[must_use]
    pub fn replays(&self) -> usize {
        lock(&self.inner).replays
    }

    /// How many messages were accepted so far.
    #[must_use]
    pub fn sent_count(&self) -> usize {
        lock(&self.inner).ledger.sent_count()
    }

    /// Status callbacks sent so far: message sid, status, and Parley's HTTP answer (0 when
    /// it could not be reached).
    #[must_use]
    pub fn callbacks(&self) -> Vec<(String, String, u16)> {
        lock(&self.inner).ledger.reports()
    }

    /// Posts a customer's message to Parley's inbound `webhook` as Twilio does (signed form,
    /// `SM` id); Parley's status and body.
    pub async fn inbound(
        &self,
        webhook: &str,
        from: &str,
        to: &str,
        body: &str,
    ) -> Result<(u16, String), reqwest::Error> {
        let (account, token) = {
            let state = lock(&self.inner);
            (state.account_sid.clone(), state.auth_token.clone())
        };
        let sid = random_id("SM");
        let params: Vec<(String, String)> = [
            ("MessageSid", sid.as_str()),
            ("SmsSid", &sid),
            ("SmsMessageSid", &sid),
            ("AccountSid", &account),
            ("From", from),
            ("To", to),
            ("Body", body),
            ("NumMedia", "0"),
            (
                "NumSegments",
                &parley_channels::segment(body).segments().to_string(),
            ),
            ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        post_signed(webhook, &token, &params).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_twilio_takes() {
        assert!(valid_to("+447700900123"));
        assert!(valid_to("whatsapp:+447700900123"));
        assert!(!valid_to("447700900123"));
        assert!(!valid_to("+44 7700 900123"));
        assert!(!valid_to("+1234567"));
    }
}
