//! SFTP hooks (SPEC §7.4): webhook endpoints that write each event as a file on an SFTP
//! server instead of POSTing it (ADR 0004). They share fan-out, leases, the retry
//! schedule, disabling, the attempts log, messages and replay with HTTP endpoints; only
//! the send step differs.
//!
//! Decisions:
//! * the endpoint's `url` is `sftp://user@host:port/folder` (`/~/folder` for a folder
//!   under the user's home, `/~` for the home itself); it is built and read only here;
//! * the host key is pinned (OpenSSH form); a server showing another is refused before
//!   credentials are sent, and the attempt is logged as failed. `GET /api/v1/sftp/host-key`
//!   shows what a server presents, for an administrator to confirm;
//! * a password or an unencrypted OpenSSH private key, sealed at rest, never shown again;
//! * each event is written as `<UTC timestamp>_<event id>_<type>.json` (timestamp
//!   `20261121T100000.123Z`, the event's time) under `.<name>.part`, then renamed: a
//!   reader never sees half a file, and a retry rewrites the same name;
//! * the host is checked by the SSRF guard like a webhook URL, and a delivery connects to
//!   the address it checked (resolved once, so what was checked is what is reached);
//! * an endpoint is one session per delivery; SFTP hooks carry business events, not the
//!   webhook benchmark's volume.

use std::net::IpAddr;
use std::time::Instant;

use chrono::{DateTime, Utc};
use parley_domain::{
    AuditAction, Permission, SftpAccess, Subscription, WebhookEndpoint, WebhookId,
};
use parley_sftp::{Auth, Connection, Destination};
use parley_store::{Page, PageRequest};
use parley_webhooks::client::{DeliveryError, Exchange};
use parley_webhooks::target::{TargetError, checked_addresses};
use serde::{Deserialize, Serialize};

use super::endpoints::{description, set_enabled, subscription, subscription_names};
use crate::auth::Access;
use crate::error::{StoreResultExt, absorb};
use crate::{App, AppError, FieldError};

const WHAT: &str = "SFTP hook";

/// Where an SFTP hook writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SftpTarget {
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
    /// User name.
    pub user: String,
    /// Absolute (`/srv/in`) or under the home (`outbox`; empty for the home).
    pub folder: String,
}

impl SftpTarget {
    /// The endpoint URL.
    #[must_use]
    pub fn url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        let path = if self.folder.starts_with('/') {
            self.folder.clone()
        } else if self.folder.is_empty() {
            "/~".to_owned()
        } else {
            format!("/~/{}", self.folder)
        };
        format!("sftp://{}@{host}:{}{path}", self.user, self.port)
    }

    /// Reads an endpoint URL built by [`SftpTarget::url`].
    #[must_use]
    pub fn from_url(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("sftp://")?;
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let (user, host_port) = authority.split_once('@')?;
        let (host, port) = host_port.rsplit_once(':')?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let folder = match path {
            "/~" | "" => String::new(),
            p => p
                .strip_prefix("/~/")
                .map_or_else(|| p.to_owned(), str::to_owned),
        };
        Some(Self {
            host: host.to_owned(),
            port: port.parse().ok()?,
            user: user.to_owned(),
            folder,
        })
    }

    /// The folder as the SFTP server takes it.
    pub(super) fn remote_folder(&self) -> &str {
        if self.folder.is_empty() {
            "."
        } else {
            &self.folder
        }
    }
}

/// A credential as sealed.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Credential {
    Password(String),
    PrivateKey(String),
}

/// An SFTP hook as the API shows it.
#[derive(Debug, Clone)]
pub struct SftpHook {
    /// The endpoint (its id, events, state).
    pub endpoint: WebhookEndpoint,
    /// Where it writes.
    pub target: SftpTarget,
    /// `password` or `private_key`.
    pub auth: &'static str,
    /// The pinned host key.
    pub host_key: String,
}

impl SftpHook {
    /// The pinned host key's SHA-256 fingerprint (`SHA256:…`).
    #[must_use]
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.host_key)
    }
}

/// The SHA-256 fingerprint (`SHA256:…`) of a host key in OpenSSH form, or words saying it
/// is not one.
#[must_use]
pub fn fingerprint(host_key: &str) -> String {
    parley_sftp::host_key_fingerprint(host_key)
        .unwrap_or_else(|_| "not a readable public key".to_owned())
}

/// An SFTP hook to create, or the fields to change (`None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct SftpHookInput {
    /// Host name or address.
    pub host: Option<String>,
    /// Port (22 when created without one).
    pub port: Option<u16>,
    /// User name.
    pub user: Option<String>,
    /// A password (replaces any private key).
    pub password: Option<String>,
    /// An OpenSSH private key (replaces any password).
    pub private_key: Option<String>,
    /// The server's public key, OpenSSH form.
    pub host_key: Option<String>,
    /// The folder.
    pub folder: Option<String>,
    /// Event type wire names (`["*"]` or absent at creation: all; `[]`: none, for a
    /// destination used only as an import inbox).
    pub events: Option<Vec<String>>,
    /// A note for people.
    pub description: Option<String>,
    /// Enabled (true when created without it).
    pub enabled: Option<bool>,
}

fn credential_context(id: WebhookId) -> String {
    crate::sealing::context(
        parley_store::SealedKind::SftpCredential,
        &id.to_string(),
        "",
    )
}

fn check_host(host: &str) -> Result<String, FieldError> {
    let host = host.trim();
    let ok = !host.is_empty()
        && host.len() <= 253
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
    if ok {
        Ok(host.to_owned())
    } else {
        Err(FieldError::new(
            "host",
            "must be a host name or an IP address",
        ))
    }
}

fn check_user(user: &str) -> Result<String, FieldError> {
    let ok = !user.is_empty()
        && user.len() <= 64
        && user
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if ok {
        Ok(user.to_owned())
    } else {
        Err(FieldError::new(
            "user",
            "must be 1 to 64 letters, digits, dots, dashes or underscores",
        ))
    }
}

pub(crate) fn check_folder(folder: &str) -> Result<String, FieldError> {
    let folder = folder.trim().trim_end_matches('/');
    let bad = folder.len() > 1024
        || folder.chars().any(char::is_control)
        || folder.split('/').any(|s| s == "..")
        || folder.contains('\\');
    if bad {
        Err(FieldError::new(
            "folder",
            "must be a path without `..`, backslashes or control characters",
        ))
    } else {
        Ok(folder.to_owned())
    }
}

impl App {
    /// Checks the SFTP host against the SSRF guard (an unresolvable name passes, as for
    /// webhook URLs).
    async fn check_sftp_host(&self, host: &str, port: u16) -> Result<(), FieldError> {
        match self.sftp_address(host, port).await {
            Ok(_) | Err(TargetError::Unresolvable { .. }) => Ok(()),
            Err(e) => Err(FieldError::new("host", e.to_string())),
        }
    }

    /// The address to connect to for `host`, resolved once and checked by the SSRF guard.
    async fn sftp_address(&self, host: &str, port: u16) -> Result<IpAddr, TargetError> {
        let bracketed = if host.contains(':') {
            format!("[{host}]")
        } else {
            host.to_owned()
        };
        let url = parley_webhooks::Url::parse(&format!("sftp://{bracketed}:{port}/"))
            .map_err(|e| TargetError::Syntax(e.to_string()))?;
        let addresses = checked_addresses(&url, self.settings.allow_private_targets).await?;
        addresses.first().copied().ok_or(TargetError::Unresolvable {
            host: host.to_owned(),
            reason: "no addresses".to_owned(),
        })
    }

    /// The view of an SFTP endpoint; `NotFound` for an HTTP one.
    fn sftp_hook(&self, endpoint: WebhookEndpoint) -> Result<SftpHook, AppError> {
        let (Some(access), Some(target)) = (&endpoint.sftp, SftpTarget::from_url(&endpoint.url))
        else {
            return Err(AppError::NotFound(WHAT));
        };
        let auth = match self.open_credential(endpoint.id, &access.credential_sealed)? {
            Credential::Password(_) => "password",
            Credential::PrivateKey(_) => "private_key",
        };
        Ok(SftpHook {
            host_key: access.host_key.clone(),
            endpoint,
            target,
            auth,
        })
    }

    fn open_credential(&self, id: WebhookId, sealed: &str) -> Result<Credential, AppError> {
        let bytes = self
            .keys
            .sealed_box
            .open(sealed, &credential_context(id))
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        serde_json::from_slice(&bytes).map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// Validates `input` over `current` (creation when `None`) and builds the endpoint.
    async fn sftp_endpoint(
        &self,
        access: &Access,
        current: Option<(WebhookEndpoint, SftpTarget)>,
        input: SftpHookInput,
    ) -> Result<WebhookEndpoint, AppError> {
        let mut errors = Vec::new();
        let mut take = |r: Result<String, FieldError>| match r {
            Ok(v) => Some(v),
            Err(e) => {
                errors.push(e);
                None
            }
        };
        let creating = current.is_none();
        let base = current.as_ref().map(|(_, t)| t.clone());
        let host = match (&input.host, &base) {
            (Some(h), _) => take(check_host(h)),
            (None, Some(t)) => Some(t.host.clone()),
            (None, None) => take(Err(FieldError::new("host", "is required"))),
        };
        let user = match (&input.user, &base) {
            (Some(u), _) => take(check_user(u)),
            (None, Some(t)) => Some(t.user.clone()),
            (None, None) => take(Err(FieldError::new("user", "is required"))),
        };
        let folder = match (&input.folder, &base) {
            (Some(f), _) => take(check_folder(f)),
            (None, Some(t)) => Some(t.folder.clone()),
            (None, None) => Some(String::new()),
        };
        let port = input.port.or(base.as_ref().map(|t| t.port)).unwrap_or(22);
        if port == 0 {
            errors.push(FieldError::new("port", "must be between 1 and 65535"));
        }
        let host_key = match (&input.host_key, &current) {
            (Some(k), _) => match parley_sftp::parse_host_key(k) {
                Ok(_) => Some(k.trim().to_owned()),
                Err(e) => {
                    errors.push(FieldError::new("host_key", e.to_string()));
                    None
                }
            },
            (None, Some((e, _))) => e.sftp.as_ref().map(|a| a.host_key.clone()),
            (None, None) => {
                errors.push(FieldError::new(
                    "host_key",
                    "is required: the server's public key (GET /api/v1/sftp/host-key shows it)",
                ));
                None
            }
        };
        let credential = match (input.password, input.private_key) {
            (Some(_), Some(_)) => {
                errors.push(FieldError::new(
                    "password",
                    "give a password or a private_key, not both",
                ));
                None
            }
            (Some(p), None) if p.is_empty() => {
                errors.push(FieldError::new("password", "must not be empty"));
                None
            }
            (Some(p), None) => Some(Credential::Password(p)),
            (None, Some(k)) => match parley_sftp::check_private_key(&k) {
                Ok(()) => Some(Credential::PrivateKey(k)),
                Err(e) => {
                    errors.push(FieldError::new("private_key", e.to_string()));
                    None
                }
            },
            (None, None) if creating => {
                errors.push(FieldError::new(
                    "password",
                    "give a password or a private_key",
                ));
                None
            }
            (None, None) => None,
        };
        let events = match (&input.events, &current) {
            // An empty list: a destination used only as an import inbox.
            (Some(names), _) if names.is_empty() => Some(Subscription::Nothing),
            (Some(names), _) => absorb(&mut errors, subscription(Some(names)))?,
            (None, Some((e, _))) => Some(e.events.clone()),
            (None, None) => absorb(&mut errors, subscription(None))?,
        };
        let description_text = match (&input.description, &current) {
            (Some(d), _) => absorb(&mut errors, description(d))?,
            (None, Some((e, _))) => Some(e.description.clone()),
            (None, None) => Some(String::new()),
        };
        if let Some(h) = &host
            && let Err(e) = self.check_sftp_host(h, port).await
        {
            errors.push(e);
        }
        let (
            Some(host),
            Some(user),
            Some(folder),
            Some(host_key),
            Some(events),
            Some(description_text),
        ) = (host, user, folder, host_key, events, description_text)
        else {
            return Err(AppError::Invalid(errors));
        };
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let now = self.clock.now();
        let target = SftpTarget {
            host,
            port,
            user,
            folder,
        };
        let mut endpoint = match current {
            Some((e, _)) => e,
            // The signing secret is unused by SFTP, but every endpoint has one.
            None => self.new_endpoint(access, &super::endpoints::generated_secret()?)?,
        };
        let credential_sealed = match credential {
            Some(c) => {
                let json = serde_json::to_vec(&c).map_err(|e| AppError::Internal(Box::new(e)))?;
                self.keys
                    .sealed_box
                    .seal(&json, &credential_context(endpoint.id))
                    .map_err(|e| AppError::Internal(Box::new(e)))?
            }
            None => endpoint
                .sftp
                .as_ref()
                .map(|a| a.credential_sealed.clone())
                .ok_or(AppError::NotFound(WHAT))?,
        };
        endpoint.url = target.url();
        endpoint.description = description_text;
        endpoint.events = events;
        endpoint.sftp = Some(SftpAccess {
            host_key,
            credential_sealed,
        });
        if let Some(enabled) = input.enabled {
            set_enabled(&mut endpoint, enabled);
        }
        endpoint.updated_at = now;
        Ok(endpoint)
    }

    /// Creates an SFTP hook.
    pub async fn create_sftp_hook(
        &self,
        access: &Access,
        input: SftpHookInput,
    ) -> Result<SftpHook, AppError> {
        access.require(Permission::Administer)?;
        let endpoint = self.sftp_endpoint(access, None, input).await?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookCreated,
            &endpoint.id.to_string(),
            serde_json::json!({"url": endpoint.url, "events": subscription_names(&endpoint.events)}),
        );
        let stored = self.store.create_webhook(endpoint, entry).await?;
        self.sftp_hook(stored)
    }

    /// SFTP hooks of the acting organization (a page may hold fewer than `limit`: HTTP
    /// endpoints on it are left out).
    pub async fn list_sftp_hooks(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<SftpHook>, AppError> {
        let endpoints = self.list_webhooks(access, page).await?;
        let mut items = Vec::new();
        for e in endpoints.items.into_iter().filter(|e| e.sftp.is_some()) {
            items.push(self.sftp_hook(e)?);
        }
        Ok(Page {
            items,
            next_cursor: endpoints.next_cursor,
        })
    }

    /// One SFTP hook.
    pub async fn get_sftp_hook(
        &self,
        access: &Access,
        id: WebhookId,
    ) -> Result<SftpHook, AppError> {
        let endpoint = self.get_webhook(access, id).await.map_err(|e| match e {
            AppError::NotFound(_) => AppError::NotFound(WHAT),
            other => other,
        })?;
        self.sftp_hook(endpoint)
    }

    /// Changes an SFTP hook.
    pub async fn update_sftp_hook(
        &self,
        access: &Access,
        id: WebhookId,
        input: SftpHookInput,
    ) -> Result<SftpHook, AppError> {
        let hook = self.get_sftp_hook(access, id).await?;
        let endpoint = self
            .sftp_endpoint(access, Some((hook.endpoint, hook.target)), input)
            .await?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookUpdated,
            &id.to_string(),
            serde_json::json!({"url": endpoint.url, "enabled": endpoint.enabled}),
        );
        let stored = self
            .store
            .update_webhook(endpoint, entry)
            .await
            .or_not_found(WHAT)?;
        self.sftp_hook(stored)
    }

    /// Deletes an SFTP hook with its messages and attempts log.
    pub async fn delete_sftp_hook(&self, access: &Access, id: WebhookId) -> Result<(), AppError> {
        self.get_sftp_hook(access, id).await?;
        self.delete_webhook(access, id).await
    }

    /// The public key an SFTP server presents, OpenSSH form, for pinning.
    pub async fn sftp_host_key(
        &self,
        access: &Access,
        host: &str,
        port: u16,
    ) -> Result<String, AppError> {
        access.require(Permission::Administer)?;
        let host = check_host(host).map_err(|e| AppError::Invalid(vec![e]))?;
        let address = self
            .sftp_address(&host, port)
            .await
            .map_err(|e| AppError::invalid("host", e.to_string()))?;
        parley_sftp::fetch_host_key(&host, Some(address), port, self.settings.webhooks.timeout)
            .await
            .map_err(|e| AppError::invalid("host", e.to_string()))
    }

    /// Where and how to log in to an SFTP endpoint: its target, and the destination with
    /// the address the SSRF guard checked and the opened credential.
    pub(crate) async fn sftp_destination(
        &self,
        endpoint: &WebhookEndpoint,
    ) -> Result<(SftpTarget, Destination), DeliveryError> {
        let (Some(access), Some(target)) = (&endpoint.sftp, SftpTarget::from_url(&endpoint.url))
        else {
            return Err(DeliveryError::Refused("not an SFTP hook".to_owned()));
        };
        let address = match self.sftp_address(&target.host, target.port).await {
            Ok(a) => a,
            Err(e @ TargetError::Forbidden { .. }) => {
                return Err(DeliveryError::Refused(e.to_string()));
            }
            Err(e) => return Err(DeliveryError::Connect(e.to_string())),
        };
        let auth = match self.open_credential(endpoint.id, &access.credential_sealed) {
            Ok(Credential::Password(p)) => Auth::Password(p),
            Ok(Credential::PrivateKey(k)) => Auth::PrivateKey(k),
            Err(e) => {
                tracing::error!(endpoint = %endpoint.id, error = ?e, "an SFTP credential does not open");
                return Err(DeliveryError::Refused(
                    "the SFTP credential does not open with this installation's master key"
                        .to_owned(),
                ));
            }
        };
        let destination = Destination {
            host: target.host.clone(),
            address: Some(address),
            port: target.port,
            user: target.user.clone(),
            auth,
            host_key: access.host_key.clone(),
        };
        Ok((target, destination))
    }

    /// Writes one event (or a test sample) as a file on an SFTP hook's server; returns the
    /// exchange as the attempts log keeps it and the path written.
    pub(crate) async fn write_sftp(
        &self,
        endpoint: &WebhookEndpoint,
        name: &str,
        body: &[u8],
    ) -> (Exchange, String) {
        let started = Instant::now();
        let failed = |error: DeliveryError| Exchange {
            status: None,
            latency: started.elapsed(),
            body: Vec::new(),
            outcome: Err(error),
        };
        let path_in = |t: &SftpTarget| format!("{}/{name}", t.remote_folder());
        let (target, destination) = match self.sftp_destination(endpoint).await {
            Ok(found) => found,
            Err(e) => {
                let path =
                    SftpTarget::from_url(&endpoint.url).map_or_else(String::new, |t| path_in(&t));
                return (failed(e), path);
            }
        };
        let path = path_in(&target);
        let timeout = self.settings.webhooks.timeout;
        let written = async {
            let connection = Connection::open(&destination, timeout).await?;
            let result = connection
                .put_atomic(target.remote_folder(), name, body)
                .await;
            connection.close().await;
            result
        }
        .await;
        let exchange = match written {
            Ok(()) => Exchange {
                status: None,
                latency: started.elapsed(),
                body: format!("wrote {path}").into_bytes(),
                outcome: Ok(()),
            },
            Err(e) => failed(DeliveryError::Connect(e.to_string())),
        };
        (exchange, path)
    }

    /// Delivers a claimed event, serialised as `body`, to an SFTP hook.
    pub(crate) async fn deliver_sftp(
        &self,
        due: &parley_store::DueDelivery,
        body: &[u8],
    ) -> Exchange {
        let event = &due.event;
        let name = file_name(
            event.timestamp,
            &event.id.to_string(),
            event.event_type.as_str(),
        );
        self.write_sftp(&due.endpoint, &name, body).await.0
    }
}

/// `<UTC timestamp>_<event id>_<type>.json`.
#[must_use]
pub fn file_name(at: DateTime<Utc>, id: &str, kind: &str) -> String {
    format!("{}_{id}_{kind}.json", at.format("%Y%m%dT%H%M%S%.3fZ"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_round_trip_through_their_url() {
        for (target, url) in [
            (
                ("files.example.com", 22, "acme", "/srv/parley/out"),
                "sftp://acme@files.example.com:22/srv/parley/out",
            ),
            (
                ("10.0.0.5", 2222, "acme", "outbox"),
                "sftp://acme@10.0.0.5:2222/~/outbox",
            ),
            (("::1", 22, "acme", ""), "sftp://acme@[::1]:22/~"),
        ] {
            let t = SftpTarget {
                host: target.0.to_owned(),
                port: target.1,
                user: target.2.to_owned(),
                folder: target.3.to_owned(),
            };
            assert_eq!(t.url(), url);
            assert_eq!(SftpTarget::from_url(url), Some(t));
        }
        assert_eq!(SftpTarget::from_url("https://example.com/"), None);
    }

    #[test]
    fn file_names_sort_by_time() {
        let at = DateTime::parse_from_rfc3339("2026-11-21T10:00:00.123Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            file_name(at, "evt_1", "setStatus"),
            "20261121T100000.123Z_evt_1_setStatus.json"
        );
        assert!(check_folder("../etc").is_err());
        assert!(check_folder("a/../b").is_err());
        assert_eq!(check_folder("/srv/out/").unwrap(), "/srv/out");
        assert!(check_user("a b").is_err());
        assert!(check_host("exa mple").is_err());
    }
}
