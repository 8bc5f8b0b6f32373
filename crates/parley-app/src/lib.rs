#![doc = include_str!("../README.md")]

mod archive;
pub mod auth;
pub mod campaigns;
pub mod channels;
pub mod contacts;
pub mod conversations;
mod error;
pub mod flows;
mod idempotency;
pub mod imports;
pub mod jobs;
pub mod live;
pub mod sealing;
pub mod telemetry;
pub mod tenancy;
pub mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use parley_domain::{AuditAction, AuditId, Clock, NewAuditEntry, OrgId};
use parley_store::Store;

pub use error::{AppError, Conflict, FieldError, What};
pub use sealing::{MasterKey, SealError, SealedBox};

/// Settings the use cases need, resolved from configuration by the binary.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Lifetime of a JWT issued for an API key (SPEC §1: 1 h by default).
    pub token_ttl: Duration,
    /// Lifetime of a browser session.
    pub session_ttl: Duration,
    /// Argon2id cost: memory in KiB, iterations, lanes.
    pub argon2: auth::Argon2Cost,
    /// Threads that hash passwords and how many requests may wait for them.
    pub password_pool: auth::PoolSize,
    /// Limits on failed sign-ins and key exchanges.
    pub throttle: auth::ThrottleSettings,
    /// How long an `Idempotency-Key` is remembered.
    pub idempotency_ttl: Duration,
    /// The largest file an import accepts, in bytes.
    pub max_import_bytes: u64,
    /// Webhook delivery.
    pub webhooks: webhooks::WebhookSettings,
    /// Allow outbound requests to URLs an organization sets (webhook endpoints, custom
    /// value endpoints, SFTP hosts, channel providers' `base_url`) that are or resolve to
    /// loopback, private, link-local or metadata addresses (`outbound.allow_private_targets`:
    /// tests and on-premise receivers only).
    pub allow_private_targets: bool,
    /// The URL providers and browsers reach Parley at (`server.public_url`, no trailing
    /// `/`): provider callbacks are signed over URLs under it.
    pub public_url: String,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            token_ttl: Duration::from_secs(3600),
            session_ttl: Duration::from_secs(12 * 3600),
            argon2: auth::Argon2Cost::default(),
            password_pool: auth::PoolSize::default(),
            throttle: auth::ThrottleSettings::default(),
            idempotency_ttl: Duration::from_secs(24 * 3600),
            max_import_bytes: 512 * 1024 * 1024,
            webhooks: webhooks::WebhookSettings::default(),
            allow_private_targets: false,
            public_url: "http://127.0.0.1:8080".to_owned(),
        }
    }
}

/// Everything a use case needs. Cheap to clone.
#[derive(Clone)]
pub struct App {
    /// Every storage port (reached from outside this crate only through its use cases).
    pub(crate) store: Arc<dyn Store>,
    /// The injected clock.
    pub clock: Arc<dyn Clock>,
    /// Keys derived from the master key (token signing, CSRF, sealing).
    pub keys: Arc<auth::Keys>,
    /// Settings.
    pub settings: Settings,
    /// The outbound HTTP client (one keep-alive pool per process) for webhooks and custom
    /// value requests.
    pub webhook_client: parley_webhooks::client::WebhookClient,
    /// Password hashing on a bounded pool.
    pub(crate) passwords: Arc<auth::PasswordPool>,
    /// Limits on guessing credentials in this process.
    pub(crate) throttle: Arc<auth::Throttle>,
    /// The conversation runtime's per-process state (compiled flows, settings read
    /// recently).
    pub(crate) runtime: Arc<conversations::runtime::Runtime>,
    /// The sender's per-process state: the provider client, pacing, the in-process sender.
    pub(crate) sender: Arc<conversations::send::Sender>,
    /// The live stream's feed in this process.
    pub(crate) live: Arc<live::Live>,
    /// The web chat's sockets in this process, by channel and contact.
    pub(crate) webchat: Arc<conversations::webchat::Hub>,
    /// The campaign dispatcher's state in this process.
    pub(crate) dispatch: Arc<campaigns::dispatch::Dispatch>,
    /// Campaign counters read recently.
    pub(crate) campaign_counts: Arc<campaigns::RecentCounts>,
    /// Imports running in this process, with their progress ahead of the store's.
    pub(crate) running_imports: Arc<imports::Running>,
}

impl App {
    /// Assembles the application from its parts, reading from the store what an earlier
    /// master-key rotation carried over; fails when that cannot be read or the HTTP client
    /// cannot be built (no TLS provider).
    pub async fn new(
        store: Arc<dyn Store>,
        clock: Arc<dyn Clock>,
        master: &MasterKey,
        settings: Settings,
    ) -> Result<Self, AppError> {
        let carried = sealing::carried_suppression_key(&*store, &SealedBox::new(master)).await?;
        let live: Arc<live::Live> = Arc::default();
        Ok(Self {
            store,
            clock,
            keys: Arc::new(auth::Keys::derive(master, carried)),
            passwords: Arc::new(auth::PasswordPool::new(settings.password_pool)),
            throttle: Arc::new(auth::Throttle::new(settings.throttle)),
            webhook_client: settings.webhooks.client(settings.allow_private_targets)?,
            runtime: Arc::default(),
            sender: Arc::new(conversations::send::Sender::new(
                settings.allow_private_targets,
            )?),
            webchat: Arc::new(conversations::webchat::Hub::new(live.clone())),
            dispatch: Arc::default(),
            campaign_counts: Arc::default(),
            running_imports: Arc::default(),
            live,
            settings,
        })
    }

    pub(crate) fn audit(
        &self,
        organization: Option<OrgId>,
        actor: &str,
        action: AuditAction,
        subject: &str,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        NewAuditEntry {
            id: AuditId::generate(),
            organization_id: organization,
            actor: actor.to_owned(),
            action,
            subject: subject.to_owned(),
            detail,
            at: self.clock.now(),
        }
    }
}
