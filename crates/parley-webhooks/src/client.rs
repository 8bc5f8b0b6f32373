//! The HTTP client deliveries and custom value requests go through: one pool of keep-alive
//! connections per process, a timeout over the whole exchange, redirects never followed,
//! system proxies ignored (a proxy would reach what the SSRF guard refuses), and at most a
//! bounded prefix of each response body read.

use std::time::{Duration, Instant};

use reqwest::Url;
use reqwest::redirect::Policy;

use crate::retry::parse_retry_after;
use crate::target::{TargetError, check_addresses, literal_address};

/// Bytes of a webhook response kept for the attempts log.
pub const RESPONSE_EXCERPT_BYTES: usize = 1024;

/// How the client behaves.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The longest a whole exchange may take (SPEC §7.2: 15 s for webhooks).
    pub timeout: Duration,
    /// The longest connecting may take.
    pub connect_timeout: Duration,
    /// Whether loopback, private and similar addresses may be reached.
    pub allow_private_targets: bool,
    /// Idle connections kept per host.
    pub idle_per_host: usize,
    /// The `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            connect_timeout: Duration::from_secs(5),
            allow_private_targets: false,
            idle_per_host: 64,
            user_agent: concat!("Parley-Webhooks/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Why an exchange did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeliveryError {
    /// The receiver answered, but not with a 2xx.
    #[error("the receiver answered {status}")]
    Status {
        /// The status.
        status: u16,
        /// What its `Retry-After` asked for.
        retry_after: Option<Duration>,
    },
    /// `410 Gone`: the receiver wants no more.
    #[error("the receiver answered 410 Gone")]
    Gone,
    /// A redirect, which is never followed.
    #[error("the receiver redirected ({status}) to {location}; redirects are not followed")]
    Redirect {
        /// The status.
        status: u16,
        /// Where to.
        location: String,
    },
    /// No complete answer within the timeout.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The connection could not be made or broke.
    #[error("connection failed: {0}")]
    Connect(String),
    /// The SSRF guard refused the target.
    #[error("refused: {0}")]
    Refused(String),
}

/// What to do after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Follow the schedule.
    Scheduled,
    /// Follow the receiver's `Retry-After` (still within the schedule's attempts).
    After(Duration),
    /// Do not retry.
    Never,
}

impl DeliveryError {
    /// How this failure is retried.
    #[must_use]
    pub fn retry(&self) -> Retry {
        match self {
            DeliveryError::Gone => Retry::Never,
            DeliveryError::Status {
                retry_after: Some(after),
                ..
            } => Retry::After(*after),
            _ => Retry::Scheduled,
        }
    }
}

/// One exchange as the attempts log keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exchange {
    /// The status, when the receiver answered.
    pub status: Option<u16>,
    /// From sending to the end of the body read.
    pub latency: Duration,
    /// The first bytes of the body (up to the limit asked for).
    pub body: Vec<u8>,
    /// `Ok` for a 2xx.
    pub outcome: Result<(), DeliveryError>,
}

impl Exchange {
    /// The body as text, invalid UTF-8 replaced.
    #[must_use]
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// The client. Cheap to clone; clones share the connection pool.
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
    settings: ClientSettings,
}

impl WebhookClient {
    /// Builds the client (and installs the ring TLS provider for the process, once).
    pub fn new(settings: ClientSettings) -> Result<Self, reqwest::Error> {
        // Fails only when a provider is installed already, which is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .redirect(Policy::none())
            .no_proxy()
            .timeout(settings.timeout)
            .connect_timeout(settings.connect_timeout)
            .pool_max_idle_per_host(settings.idle_per_host)
            .tcp_nodelay(true)
            .user_agent(settings.user_agent.clone());
        if !settings.allow_private_targets {
            builder = builder.dns_resolver(crate::target::GuardedResolver);
        }
        Ok(Self {
            http: builder.build()?,
            settings,
        })
    }

    /// The same client (sharing its connections) with another timeout for the whole
    /// exchange: custom value requests have their own (SPEC §7.3: 5 s by default).
    #[must_use]
    pub fn with_timeout(&self, timeout: Duration) -> Self {
        Self {
            http: self.http.clone(),
            settings: ClientSettings {
                timeout,
                ..self.settings.clone()
            },
        }
    }

    /// The settings it was built with.
    #[must_use]
    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// Sends one request and reads at most `max_body` bytes of the answer. `now` (Unix
    /// seconds) reads a dated `Retry-After`.
    pub async fn send(
        &self,
        method: http::Method,
        url: &Url,
        headers: &[(&'static str, String)],
        body: Option<Vec<u8>>,
        max_body: usize,
        now: i64,
    ) -> Exchange {
        let started = Instant::now();
        if let Some(address) = literal_address(url)
            && !self.settings.allow_private_targets
            && let Err(e) = check_addresses(url.host_str().unwrap_or_default(), &[address])
        {
            return failed(started, DeliveryError::Refused(e.to_string()));
        }
        let mut request = self
            .http
            .request(method, url.clone())
            .timeout(self.settings.timeout);
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let mut response = match request.send().await {
            Ok(r) => r,
            Err(e) => return failed(started, self.classify(&e)),
        };
        let status = response.status();
        let retry_after = response
            .headers()
            .get(http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, now));
        let location = response
            .headers()
            .get(http::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("nowhere")
            .to_owned();
        let mut kept = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    let room = max_body.saturating_sub(kept.len());
                    kept.extend_from_slice(&chunk[..chunk.len().min(room)]);
                    if kept.len() >= max_body {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    return Exchange {
                        status: Some(status.as_u16()),
                        latency: started.elapsed(),
                        body: kept,
                        outcome: Err(self.classify(&e)),
                    };
                }
            }
        }
        let code = status.as_u16();
        let outcome = if status.is_success() {
            Ok(())
        } else if code == 410 {
            Err(DeliveryError::Gone)
        } else if status.is_redirection() {
            Err(DeliveryError::Redirect {
                status: code,
                location,
            })
        } else {
            Err(DeliveryError::Status {
                status: code,
                retry_after,
            })
        };
        Exchange {
            status: Some(code),
            latency: started.elapsed(),
            body: kept,
            outcome,
        }
    }

    fn classify(&self, e: &reqwest::Error) -> DeliveryError {
        if e.is_timeout() {
            return DeliveryError::Timeout(self.settings.timeout);
        }
        // The guard's refusal arrives as the resolver's error, somewhere in the chain.
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            if let Some(refusal @ TargetError::Forbidden { .. }) = err.downcast_ref::<TargetError>()
            {
                return DeliveryError::Refused(refusal.to_string());
            }
            source = err.source();
        }
        DeliveryError::Connect(error_chain(e))
    }
}

fn failed(started: Instant, error: DeliveryError) -> Exchange {
    Exchange {
        status: None,
        latency: started.elapsed(),
        body: Vec::new(),
        outcome: Err(error),
    }
}

/// `a: b: c` from an error and its sources, without repeats.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut source = e.source();
    while let Some(err) = source {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = err.source();
    }
    parts.join(": ")
}
