//! Sending through a provider: what every adapter's `send` returns, how a refusal is
//! classified for the send queue (retry now, after a while, or never), and the HTTP
//! exchange the REST adapters share (timeouts, no redirects, no proxies, a bounded
//! answer).

use std::time::Duration;

use parley_domain::MessageStatus;

/// The most of a provider's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// What the provider said when it took a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    /// The provider's id, which its status reports name.
    pub provider_message_id: String,
    /// Where the message stands by the provider's answer (`pending` or `sent`).
    pub status: MessageStatus,
}

/// What the send queue does after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Try again with the queue's backoff (the provider or the network had a problem).
    Now,
    /// Try again no sooner than this (the provider is rate limiting).
    After(Duration),
    /// Never: the message itself was refused, or the channel's settings are wrong.
    Never,
}

/// Why a send did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The provider refused it with its own error code.
    #[error("the provider refused the message ({code}): {message}")]
    Refused {
        /// The provider's code (`21211`, `131047`…), stored as the message's `error_code`.
        code: String,
        /// The provider's words.
        message: String,
        /// What to do about it.
        retry: Retry,
    },
    /// No complete answer in time.
    #[error("no answer from the provider within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or broke.
    #[error("could not reach the provider: {0}")]
    Connect(String),
    /// The provider took the message but its answer cannot be read: sending again could
    /// send it twice, so it is not retried.
    #[error("the provider's answer could not be read: {0}")]
    BadAnswer(String),
}

impl SendError {
    /// How the send queue treats this failure.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            SendError::Refused { retry, .. } => *retry,
            SendError::Timeout(_) | SendError::Connect(_) => Retry::Now,
            SendError::BadAnswer(_) => Retry::Never,
        }
    }

    /// The `error_code` a message that failed this way records.
    #[must_use]
    pub fn code(&self) -> &str {
        match self {
            SendError::Refused { code, .. } => code,
            SendError::Timeout(_) => "timeout",
            SendError::Connect(_) => "unreachable",
            SendError::BadAnswer(_) => "bad_answer",
        }
    }
}

/// A provider's answer: status, `Retry-After` in seconds (when given as such) and body.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Vec<u8>,
}

/// The HTTP client the REST adapters share: keep-alive connections, an overall timeout,
/// no redirects (a provider API never redirects a send) and no system proxies.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
    timeout: Duration,
}

impl ProviderHttp {
    /// A client whose exchanges take at most `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, SendError> {
        // Fails only when a provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .tcp_nodelay(true)
            .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SendError::Connect(e.to_string()))?;
        Ok(Self { client, timeout })
    }

    /// Sends `request` (built on [`ProviderHttp::client`]) and reads a bounded answer.
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, SendError> {
        let classify = |e: reqwest::Error| {
            if e.is_timeout() {
                SendError::Timeout(self.timeout)
            } else {
                SendError::Connect(e.to_string())
            }
        };
        let mut response = request.send().await.map_err(classify)?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let status = response.status().as_u16();
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            let room = MAX_ANSWER_BYTES.saturating_sub(body.len());
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_ANSWER_BYTES {
                break;
            }
        }
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    }

    /// The underlying client, to build requests on.
    pub(crate) fn client(&self) -> &reqwest::Client {
        &self.client
    }
}

/// How a provider error without a rule of its own is retried: rate limits after the
/// provider's `Retry-After` (else a second), server errors now, the rest never.
pub(crate) fn by_status(answer: &Answer) -> Retry {
    match answer.status {
        429 => Retry::After(answer.retry_after.unwrap_or(Duration::from_secs(1))),
        500..=599 => Retry::Now,
        _ => Retry::Never,
    }
}
