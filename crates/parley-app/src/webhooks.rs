//! Webhooks (SPEC §7.1–7.2): endpoints as administrators manage them, the delivery engine
//! that turns outbox events into signed requests, and the endpoint tests.
//!
//! * [`endpoints`]: create, update, rotate, delete; the deliveries and attempts logs;
//!   replay.
//! * [`delivery`]: the engine `parley serve` runs: fan-out, claims, a pool of concurrent
//!   requests over keep-alive connections, batched recording, and the retry decisions.
//! * [`samples`]: the five tests' realistic samples, sent at once.
//! * [`sftp`]: SFTP hooks, endpoints that write each event as a file (SPEC §7.4).
//! * [`custom_values`]: the organization's custom value endpoint and the signed GET flow
//!   `fetch` steps make (SPEC §7.3).
//!
//! Secrets are sealed at rest with the row's id as associated data, and are shown once:
//! in the answer that created or rotated them.

pub mod custom_values;
pub mod delivery;
pub mod endpoints;
pub mod samples;
pub mod sftp;

use std::time::Duration;

use parley_domain::{WebhookEndpoint, WebhookId};
use parley_webhooks::Secret;
use parley_webhooks::client::{ClientSettings, WebhookClient};
use parley_webhooks::sign::Signing;

use crate::{App, AppError};

pub use delivery::{DeliveryEngine, EngineSettings};
pub use endpoints::{CreatedWebhook, NewWebhook, ReplayRequest, RotateSecret, WebhookPatch};
pub use samples::{SampleKind, TestExchange};

/// How webhooks are delivered, resolved from configuration.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The longest one delivery may take (SPEC §7.2: 15 s).
    pub timeout: Duration,
    /// The `iss` claim of the delivery JWT.
    pub issuer: String,
    /// How long the previous secret keeps signing after a rotation, unless the rotation
    /// names another overlap.
    pub secret_overlap: Duration,
    /// How often SFTP import inboxes are polled.
    pub inbox_every: Duration,
    /// How long an inbox file's size and modification time must stay the same before it
    /// is taken (zero: take it at once).
    pub inbox_settle: Duration,
    /// The delivery engine's pool and pacing.
    pub engine: EngineSettings,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(15),
            issuer: "parley".to_owned(),
            secret_overlap: Duration::from_secs(24 * 3600),
            inbox_every: Duration::from_secs(60),
            inbox_settle: Duration::from_secs(5),
            engine: EngineSettings::default(),
        }
    }
}

impl WebhookSettings {
    /// The HTTP client these settings describe, guarded unless `allow_private_targets`.
    pub(crate) fn client(&self, allow_private_targets: bool) -> Result<WebhookClient, AppError> {
        WebhookClient::new(ClientSettings {
            timeout: self.timeout,
            allow_private_targets,
            idle_per_host: self.engine.concurrency.max(1),
            ..ClientSettings::default()
        })
        .map_err(|e| AppError::Internal(Box::new(e)))
    }
}

/// Request headers as sent: lower-case names and values, in order.
pub(crate) type Headers = Vec<(&'static str, String)>;

/// The sealing context of an endpoint's secrets: binds a sealed secret to its endpoint.
fn secret_context(id: WebhookId) -> String {
    crate::sealing::context(parley_store::SealedKind::WebhookSecret, &id.to_string(), "")
}

impl App {
    /// Seals a signing secret under `context` (which binds it to its row).
    fn seal_secret(&self, context: &str, secret: &Secret) -> Result<String, AppError> {
        self.keys
            .sealed_box
            .seal(secret.expose().as_bytes(), context)
            .map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// Opens a signing secret sealed under `context`.
    fn open_secret(&self, context: &str, sealed: &str) -> Result<Secret, AppError> {
        let bytes = self
            .keys
            .sealed_box
            .open(sealed, context)
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let text = String::from_utf8(bytes).map_err(|e| AppError::Internal(Box::new(e)))?;
        Secret::parse(&text).map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// Seals an endpoint secret.
    fn seal_webhook_secret(&self, id: WebhookId, secret: &Secret) -> Result<String, AppError> {
        self.seal_secret(&secret_context(id), secret)
    }

    /// The identification headers of a request (SPEC §7.2): the JWT (signed with the
    /// newest secret, `aud` = `audience`) and the Standard Webhooks headers, signed with
    /// every secret given.
    pub(crate) fn sign(
        &self,
        secrets: &[Secret],
        audience: &str,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
        body: &[u8],
    ) -> Result<Headers, AppError> {
        let refs: Vec<&Secret> = secrets.iter().collect();
        Signing {
            secrets: &refs,
            issuer: &self.settings.webhooks.issuer,
            endpoint_id: audience,
        }
        .headers(id, at.timestamp(), body)
        .map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// The identification headers of a request to `endpoint`, signed with every current
    /// secret.
    pub(crate) fn signed_headers(
        &self,
        endpoint: &WebhookEndpoint,
        id: &str,
        at: chrono::DateTime<chrono::Utc>,
        body: &[u8],
    ) -> Result<Headers, AppError> {
        let secrets = self.signing_secrets(endpoint, at)?;
        self.sign(&secrets, &endpoint.id.to_string(), id, at, body)
    }

    /// The secrets that sign for `endpoint` at `now`, newest first: the current one and,
    /// during a rotation's overlap, the previous one.
    fn signing_secrets(
        &self,
        endpoint: &WebhookEndpoint,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Secret>, AppError> {
        let context = secret_context(endpoint.id);
        let mut secrets = vec![self.open_secret(&context, &endpoint.secret_sealed)?];
        if let Some((sealed, until)) = &endpoint.previous_secret
            && *until > now
        {
            secrets.push(self.open_secret(&context, sealed)?);
        }
        Ok(secrets)
    }
}
