//! Sending through a provider: what every adapter's `send` returns, how a refusal is
//! classified for the send queue (retry now, after a while, or never), and the HTTP
//! exchange the REST adapters share (timeouts, no redirects, no proxies, a bounded
//! answer, and the SSRF guard of `parley-webhooks`: an organization sets a channel's
//! `base_url`, so unless private targets are allowed a send never reaches a loopback,
//! private, link-local or metadata address, whether written literally or resolved).

use std::sync::Arc;
use std::time::Duration;

use parley_domain::MessageStatus;
use parley_webhooks::target::{GuardedResolver, TargetError, check_addresses, literal_address};

/// The most of a provider's answer that is read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// The most characters of a provider's words kept in an error (they are stored with the
/// message and shown to agents).
pub const MAX_ERROR_CHARS: usize = 500;

/// `text` cut to at most `max` characters (on a character boundary), marked with `…`.
#[must_use]
pub fn bounded_text(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => format!("{}…", &text[..cut]),
    }
}

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
    /// The SSRF guard refused the provider's address (the channel's `base_url` is or
    /// resolves to a loopback, private, link-local or metadata address).
    #[error("refused to connect: {0}")]
    TargetRefused(String),
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
            SendError::BadAnswer(_) | SendError::TargetRefused(_) => Retry::Never,
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
            SendError::TargetRefused(_) => "target_refused",
        }
    }

    /// The error as stored with a message: at most [`MAX_ERROR_CHARS`] characters.
    #[must_use]
    pub fn stored_text(&self) -> String {
        bounded_text(&self.to_string(), MAX_ERROR_CHARS)
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
/// no redirects (a provider API never redirects a send), no system proxies, and unless
/// `allow_private_targets` the SSRF guard on every address it connects to.
#[derive(Debug, Clone)]
pub struct ProviderHttp {
    client: reqwest::Client,
    timeout: Duration,
    allow_private_targets: bool,
}

/// The guard's refusal in an error's chain of causes (the resolver's error reaches the
/// caller wrapped by the HTTP client).
fn guard_refusal<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e TargetError> {
    let mut cause = Some(error);
    while let Some(e) = cause {
        if let Some(refusal) = e.downcast_ref::<TargetError>() {
            return Some(refusal);
        }
        cause = e.source();
    }
    None
}

impl ProviderHttp {
    /// A client whose exchanges take at most `timeout`; with `allow_private_targets`
    /// false (the default everywhere but tests and on-premise providers), the SSRF guard
    /// refuses loopback, private, link-local and metadata addresses.
    pub fn new(timeout: Duration, allow_private_targets: bool) -> Result<Self, SendError> {
        // Fails only when a provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .tcp_nodelay(true)
            .user_agent(concat!("Parley/", env!("CARGO_PKG_VERSION")));
        if !allow_private_targets {
            builder = builder.dns_resolver(Arc::new(GuardedResolver));
        }
        let client = builder
            .build()
            .map_err(|e| SendError::Connect(e.to_string()))?;
        Ok(Self {
            client,
            timeout,
            allow_private_targets,
        })
    }

    /// Sends `request` (built on [`ProviderHttp::client`]) and reads a bounded answer.
    pub(crate) async fn exchange(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<Answer, SendError> {
        let classify = |e: reqwest::Error| {
            if let Some(refusal) = guard_refusal(&e) {
                SendError::TargetRefused(refusal.to_string())
            } else if e.is_timeout() {
                SendError::Timeout(self.timeout)
            } else {
                SendError::Connect(e.to_string())
            }
        };
        let request = request.build().map_err(classify)?;
        // A host written as an address is never resolved, so the guard checks it here.
        if !self.allow_private_targets
            && let Some(address) = literal_address(request.url())
        {
            check_addresses(request.url().host_str().unwrap_or_default(), &[address])
                .map_err(|refusal| SendError::TargetRefused(refusal.to_string()))?;
        }
        let mut response = self.client.execute(request).await.map_err(classify)?;
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
