//! Sending through the WhatsApp Cloud API (`reference/channels.md` §3.1–3.3, §3.6): a JSON
//! `POST` to `{base}/{version}/{phone_number_id}/messages` with a Bearer token, text inside
//! the 24-hour window and templates outside it; answered with `messages[0].id`, or an
//! error body `{"error": {code, message, error_data.details, …}}`.
//!
//! Refusals are classified by Meta's code: the throughput and pair-rate limits (`130429`,
//! `131056`, `4`, `80007`) wait; temporary service errors (`1`, `2`, `131000`, `131016`)
//! and server errors are retried; the rest (`131047` outside the window, `131026`
//! undeliverable, `190` expired token, `100` bad parameter…) never are. Which of text or
//! template to send is the runtime's choice (it knows the last inbound time).

use std::time::Duration;

use parley_domain::MessageStatus;
use serde::Deserialize;
use serde_json::json;

use crate::send::{Accepted, ProviderHttp, Retry, SendError, by_status};

/// Meta's Graph API.
pub const DEFAULT_BASE_URL: &str = "https://graph.facebook.com";

/// The Graph API version requests name.
pub const API_VERSION: &str = "v21.0";

/// A WhatsApp channel's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsappConfig {
    /// The API's base URL (Meta's, or a stand-in's).
    pub base_url: String,
    /// Our number's id (`metadata.phone_number_id` in webhooks).
    pub phone_number_id: String,
    /// The system user's access token.
    pub access_token: String,
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WhatsappMessage<'a> {
    /// Free text (inside the 24-hour window).
    Text {
        /// The recipient's WhatsApp id or number.
        to: &'a str,
        /// The text.
        body: &'a str,
    },
    /// An approved template (outside the window).
    Template {
        /// The recipient.
        to: &'a str,
        /// The template's name.
        name: &'a str,
        /// Its language code (`en_GB`).
        language: &'a str,
        /// The body's parameters, in order.
        parameters: &'a [String],
    },
}

impl WhatsappMessage<'_> {
    fn to_json(&self) -> serde_json::Value {
        match self {
            WhatsappMessage::Text { to, body } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": {"preview_url": false, "body": body},
            }),
            WhatsappMessage::Template {
                to,
                name,
                language,
                parameters,
            } => {
                let parameters: Vec<_> = parameters
                    .iter()
                    .map(|p| json!({"type": "text", "text": p}))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "to": to,
                    "type": "template",
                    "template": {
                        "name": name,
                        "language": {"policy": "deterministic", "code": language},
                        "components": [{"type": "body", "parameters": parameters}],
                    },
                })
            }
        }
    }
}

#[derive(Deserialize)]
struct Sent {
    messages: Vec<SentId>,
}

#[derive(Deserialize)]
struct SentId {
    id: String,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphError,
}

#[derive(Deserialize)]
struct GraphError {
    code: Option<i64>,
    message: Option<String>,
    error_data: Option<ErrorData>,
}

#[derive(Deserialize)]
struct ErrorData {
    details: Option<String>,
}

/// Sends through the Cloud API.
#[derive(Debug, Clone)]
pub struct WhatsappClient {
    http: ProviderHttp,
    config: WhatsappConfig,
}

impl WhatsappClient {
    /// A client for one channel's number.
    #[must_use]
    pub fn new(http: ProviderHttp, config: WhatsappConfig) -> Self {
        Self { http, config }
    }

    /// Sends one message.
    pub async fn send(&self, message: &WhatsappMessage<'_>) -> Result<Accepted, SendError> {
        let c = &self.config;
        let url = format!(
            "{}/{API_VERSION}/{}/messages",
            c.base_url.trim_end_matches('/'),
            c.phone_number_id
        );
        let request = self
            .http
            .client()
            .post(url)
            .bearer_auth(&c.access_token)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(message.to_json().to_string());
        let answer = self.http.exchange(request).await?;
        if (200..300).contains(&answer.status) {
            let sent: Sent = serde_json::from_slice(&answer.body)
                .map_err(|e| SendError::BadAnswer(e.to_string()))?;
            let id = sent
                .messages
                .into_iter()
                .next()
                .ok_or_else(|| SendError::BadAnswer("no message id in the answer".to_owned()))?
                .id;
            // Meta reports `sent` by webhook; until then the message is with Meta.
            return Ok(Accepted {
                provider_message_id: id,
                status: MessageStatus::Pending,
            });
        }
        let error = serde_json::from_slice::<ErrorEnvelope>(&answer.body)
            .ok()
            .map(|e| e.error);
        let code = error.as_ref().and_then(|e| e.code);
        let retry = match code {
            Some(130_429 | 131_056 | 4 | 80_007) => {
                Retry::After(answer.retry_after.unwrap_or(Duration::from_secs(6)))
            }
            Some(1 | 2 | 131_000 | 131_016) => Retry::Now,
            _ => by_status(&answer),
        };
        let message = error
            .map(|e| {
                let base = e.message.unwrap_or_default();
                match e.error_data.and_then(|d| d.details) {
                    Some(details) => format!("{base}: {details}"),
                    None => base,
                }
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| format!("WhatsApp answered {}", answer.status));
        Err(SendError::Refused {
            code: code.map_or_else(|| format!("http_{}", answer.status), |c| c.to_string()),
            message,
            retry,
        })
    }
}
