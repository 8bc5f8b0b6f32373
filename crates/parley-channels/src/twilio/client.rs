//! Sending through Twilio's Messages API (`reference/channels.md` §1.1–1.2, §1.7): a form
//! `POST` to `{base}/2010-04-01/Accounts/{sid}/Messages.json` with Basic auth, answered
//! `201` with the message resource, or an error body `{code, message, more_info, status}`.
//!
//! Refusals are classified by Twilio's code first: `20429` and `429` wait for
//! `Retry-After`; `21611` (the sender's queue is full) waits a minute; server errors are
//! retried; everything else about the message (`21211` invalid number, `21610` the
//! recipient replied STOP, `21614` not a mobile…) or the account (`20003`) never is.

use std::time::Duration;

use parley_domain::MessageStatus;
use serde::Deserialize;

use super::status;
use crate::send::{Accepted, ProviderHttp, Retry, SendError, by_status};

/// Twilio's API.
pub const DEFAULT_BASE_URL: &str = "https://api.twilio.com";

/// A Twilio channel's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioConfig {
    /// The API's base URL (Twilio's, or a compatible provider's or a stand-in's).
    pub base_url: String,
    /// The account (`AC…`).
    pub account_sid: String,
    /// The auth token: signs callbacks and authenticates sends.
    pub auth_token: String,
    /// The sender: a number, an alphanumeric id, or a Messaging Service (`MG…`).
    pub from: String,
}

/// A message as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TwilioMessage<'a> {
    /// The recipient (E.164, or `whatsapp:+…`).
    pub to: &'a str,
    /// The text.
    pub body: &'a str,
    /// Where Twilio reports its statuses (our `/hooks/twilio/{channel}/status`).
    pub status_callback: Option<&'a str>,
    /// Sent as `Idempotency-Key`: the same on every attempt at one message, so a
    /// provider that takes the header (Twilio-compatible ones do; Twilio ignores it)
    /// answers a repeat with the first message instead of sending it again.
    pub idempotency_key: Option<&'a str>,
}

#[derive(Deserialize)]
struct Resource {
    sid: String,
    status: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    message: Option<String>,
}

/// Sends through Twilio.
#[derive(Debug, Clone)]
pub struct TwilioClient {
    http: ProviderHttp,
    config: TwilioConfig,
}

impl TwilioClient {
    /// A client for one channel's account.
    #[must_use]
    pub fn new(http: ProviderHttp, config: TwilioConfig) -> Self {
        Self { http, config }
    }

    /// Sends one message.
    pub async fn send(&self, message: &TwilioMessage<'_>) -> Result<Accepted, SendError> {
        let c = &self.config;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            c.base_url.trim_end_matches('/'),
            c.account_sid
        );
        // Built in a block: the serializer is not `Sync`, so it must not live across the
        // exchange's await (the send queue's futures move between threads).
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.append_pair("To", message.to);
            if c.from.starts_with("MG") {
                form.append_pair("MessagingServiceSid", &c.from);
            } else {
                form.append_pair("From", &c.from);
            }
            form.append_pair("Body", message.body);
            if let Some(callback) = message.status_callback {
                form.append_pair("StatusCallback", callback);
            }
            form.finish()
        };
        let mut request = self
            .http
            .client()
            .post(url)
            .basic_auth(&c.account_sid, Some(&c.auth_token))
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            );
        if let Some(key) = message.idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        let request = request.body(body);
        let answer = self.http.exchange(request).await?;
        if (200..300).contains(&answer.status) {
            let resource: Resource = serde_json::from_slice(&answer.body)
                .map_err(|e| SendError::BadAnswer(e.to_string()))?;
            return Ok(Accepted {
                provider_message_id: resource.sid,
                // queued/accepted/sending: nothing has left Twilio yet.
                status: status::parse(&resource.status)
                    .filter(|s| *s == MessageStatus::Sent)
                    .unwrap_or(MessageStatus::Pending),
            });
        }
        let error: Option<ErrorBody> = serde_json::from_slice(&answer.body).ok();
        let code = error.as_ref().and_then(|e| e.code);
        let retry = match code {
            Some(20429) => Retry::After(answer.retry_after.unwrap_or(Duration::from_secs(1))),
            Some(21611) => Retry::After(Duration::from_secs(60)),
            _ => by_status(&answer),
        };
        Err(SendError::Refused {
            code: code.map_or_else(|| format!("http_{}", answer.status), |c| c.to_string()),
            message: error
                .and_then(|e| e.message)
                .unwrap_or_else(|| format!("Twilio answered {}", answer.status)),
            retry,
        })
    }
}
