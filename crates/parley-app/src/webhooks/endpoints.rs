//! Webhook endpoints as administrators manage them (permission `admin`), their deliveries
//! and attempts logs, and replay.
//!
//! Decisions:
//! * a URL is checked when saved: its shape, then every address its host resolves to
//!   against the SSRF guard (unless `outbound.allow_private_targets`). A name that does
//!   not resolve *now* is accepted (its DNS record may come later, or the API node may not
//!   see the receiver's resolver); deliveries check addresses again as they connect and
//!   log a refusal as a failed attempt;
//! * `events` lists wire names; leaving it out, or `["*"]`, subscribes to every type,
//!   including types added later;
//! * a secret is generated unless one is supplied, and is returned only by the call that
//!   set it (create, rotate);
//! * rotation keeps the previous secret signing for an overlap (24 h unless the call
//!   names another, at most 7 days; 0 ends it at once): receivers can roll their secret
//!   over without losing a message;
//! * disabling (`enabled: false`) marks the reason `manual`; enabling clears the reason
//!   and the failing streak. Events raised while an endpoint is disabled are not queued
//!   for it; deliveries still pending when it was disabled fail without being sent, and
//!   can be replayed after it is enabled again;
//! * a replay starts a new round of the full retry schedule, with the same `webhook-id`;
//!   replaying to a disabled endpoint is refused (enable it first).

use chrono::{DateTime, Utc};
use parley_domain::{
    AuditAction, Delivery, DeliveryAttempt, DeliveryStatus, DisabledReason, EventId, EventType,
    Permission, Subscription, WebhookEndpoint, WebhookId,
};
use parley_store::{Page, PageRequest, ReplayScope};
use parley_webhooks::Secret;
use parley_webhooks::target::{TargetError, check_target, parse_target};

use crate::auth::Access;
use crate::error::{StoreResultExt, absorb};
use crate::{App, AppError, Conflict, FieldError};

const WEBHOOK: &str = "webhook";
/// The longest overlap a rotation may ask for.
pub const MAX_SECRET_OVERLAP: std::time::Duration = std::time::Duration::from_secs(7 * 24 * 3600);
/// The longest description.
pub const MAX_DESCRIPTION_CHARS: usize = 500;
/// The longest URL.
pub const MAX_URL_CHARS: usize = 2048;

/// An endpoint to create.
#[derive(Debug, Clone, Default)]
pub struct NewWebhook {
    /// Where to deliver.
    pub url: String,
    /// A note for people.
    pub description: String,
    /// Event type wire names; `None` or `["*"]` for all.
    pub events: Option<Vec<String>>,
    /// A `whsec_…` secret to use instead of a generated one.
    pub secret: Option<String>,
    /// Created disabled when false.
    pub enabled: bool,
}

/// Changes to an endpoint; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<String>,
    /// A new description.
    pub description: Option<String>,
    /// A new subscription (`["*"]` for all).
    pub events: Option<Vec<String>>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A rotation.
#[derive(Debug, Clone, Default)]
pub struct RotateSecret {
    /// The new secret; generated when `None`.
    pub secret: Option<String>,
    /// How long the old secret keeps signing; the configured default when `None`.
    pub overlap: Option<std::time::Duration>,
}

/// An endpoint with the secret just set, shown this once.
#[derive(Debug, Clone)]
pub struct CreatedWebhook {
    /// The endpoint.
    pub endpoint: WebhookEndpoint,
    /// The `whsec_…` secret.
    pub secret: String,
}

/// What a replay queues again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayRequest {
    /// One message, whatever its status.
    One(EventId),
    /// Every failed message queued at or after this time.
    FailedSince(DateTime<Utc>),
}

/// Reads a subscription from wire names, naming the bad entry.
pub(crate) fn subscription(names: Option<&[String]>) -> Result<Subscription, AppError> {
    let Some(names) = names else {
        return Ok(Subscription::All);
    };
    if names.iter().any(|n| n == "*") {
        if names.len() > 1 {
            return Err(AppError::invalid(
                "events",
                "\"*\" subscribes to every type and cannot be combined with others",
            ));
        }
        return Ok(Subscription::All);
    }
    if names.is_empty() {
        return Err(AppError::invalid(
            "events",
            "name at least one event type, or [\"*\"] for all",
        ));
    }
    let mut types = Vec::with_capacity(names.len());
    let mut errors = Vec::new();
    for (i, name) in names.iter().enumerate() {
        match EventType::from_wire(name) {
            Some(t) if !types.contains(&t) => types.push(t),
            Some(_) => {}
            None => errors.push(FieldError::new(
                format!("events[{i}]"),
                format!(
                    "{name:?} is not an event type; use one of {}",
                    EventType::ALL.map(EventType::as_str).join(", ")
                ),
            )),
        }
    }
    if errors.is_empty() {
        Ok(Subscription::Only(types))
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// The wire form of a subscription.
#[must_use]
pub fn subscription_names(s: &Subscription) -> Vec<String> {
    match s {
        Subscription::All => vec!["*".to_owned()],
        Subscription::Only(types) => types.iter().map(|t| t.as_str().to_owned()).collect(),
        Subscription::Nothing => Vec::new(),
    }
}

pub(crate) fn description(text: &str) -> Result<String, AppError> {
    let text = text.trim();
    if text.chars().count() > MAX_DESCRIPTION_CHARS {
        return Err(AppError::invalid(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        ));
    }
    Ok(text.to_owned())
}

/// A fresh random `whsec_` secret.
pub(crate) fn generated_secret() -> Result<Secret, AppError> {
    Secret::generate().map_err(|e| AppError::Internal(Box::new(e)))
}

fn supplied_secret(field: &str, text: Option<&str>) -> Result<Secret, AppError> {
    match text {
        Some(text) => Secret::parse(text).map_err(|e| AppError::invalid(field, e.to_string())),
        None => generated_secret(),
    }
}

/// Enables or disables an endpoint as a person does: disabling records the reason
/// `manual`; either way the failing streak starts over. False when it was already so.
pub(crate) fn set_enabled(endpoint: &mut WebhookEndpoint, enabled: bool) -> bool {
    if endpoint.enabled == enabled {
        return false;
    }
    endpoint.enabled = enabled;
    endpoint.disabled_reason = (!enabled).then_some(DisabledReason::Manual);
    endpoint.failing_since = None;
    true
}

impl App {
    /// A new enabled endpoint of the acting organization, subscribed to everything,
    /// signing with `secret`; the caller sets where it delivers.
    pub(crate) fn new_endpoint(
        &self,
        access: &Access,
        secret: &Secret,
    ) -> Result<WebhookEndpoint, AppError> {
        let id = WebhookId::generate();
        let now = self.clock.now();
        Ok(WebhookEndpoint {
            id,
            organization_id: access.org_id(),
            url: String::new(),
            description: String::new(),
            events: Subscription::All,
            enabled: true,
            disabled_reason: None,
            secret_sealed: self.seal_webhook_secret(id, secret)?,
            previous_secret: None,
            failing_since: None,
            sftp: None,
            created_at: now,
            updated_at: now,
        })
    }

    /// Checks a target URL as saving does; returns its normal form.
    pub(crate) async fn checked_target(&self, field: &str, text: &str) -> Result<String, AppError> {
        if text.chars().count() > MAX_URL_CHARS {
            return Err(AppError::invalid(
                field,
                format!("must be at most {MAX_URL_CHARS} characters"),
            ));
        }
        let url = parse_target(text).map_err(|e| AppError::invalid(field, e.to_string()))?;
        match check_target(&url, self.settings.allow_private_targets).await {
            Ok(()) | Err(TargetError::Unresolvable { .. }) => Ok(url.to_string()),
            Err(e) => Err(AppError::invalid(field, e.to_string())),
        }
    }

    /// Creates an endpoint.
    pub async fn create_webhook(
        &self,
        access: &Access,
        new: NewWebhook,
    ) -> Result<CreatedWebhook, AppError> {
        access.require(Permission::Administer)?;
        let mut errors = Vec::new();
        let events = absorb(&mut errors, subscription(new.events.as_deref()))?;
        let url = absorb(&mut errors, self.checked_target("url", &new.url).await)?;
        let description = absorb(&mut errors, description(&new.description))?;
        let secret = absorb(
            &mut errors,
            supplied_secret("secret", new.secret.as_deref()),
        )?;
        let (Some(events), Some(url), Some(description), Some(secret)) =
            (events, url, description, secret)
        else {
            return Err(AppError::Invalid(errors));
        };
        let mut endpoint = self.new_endpoint(access, &secret)?;
        endpoint.url = url;
        endpoint.description = description;
        endpoint.events = events;
        set_enabled(&mut endpoint, new.enabled);
        let id = endpoint.id;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookCreated,
            &id.to_string(),
            serde_json::json!({
                "url": endpoint.url,
                "events": subscription_names(&endpoint.events),
                "enabled": endpoint.enabled,
            }),
        );
        let endpoint = self.store.create_webhook(endpoint, entry).await?;
        Ok(CreatedWebhook {
            endpoint,
            secret: secret.expose(),
        })
    }

    /// Endpoints of the acting organization.
    pub async fn list_webhooks(
        &self,
        access: &Access,
        page: PageRequest,
    ) -> Result<Page<WebhookEndpoint>, AppError> {
        access.require(Permission::Administer)?;
        Ok(self.store.list_webhooks(access.org_id(), page).await?)
    }

    /// One endpoint.
    pub async fn get_webhook(
        &self,
        access: &Access,
        id: WebhookId,
    ) -> Result<WebhookEndpoint, AppError> {
        access.require(Permission::Administer)?;
        self.store
            .find_webhook(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound(WEBHOOK))
    }

    /// Changes an endpoint.
    pub async fn update_webhook(
        &self,
        access: &Access,
        id: WebhookId,
        patch: WebhookPatch,
    ) -> Result<WebhookEndpoint, AppError> {
        let mut endpoint = self.get_webhook(access, id).await?;
        let mut detail = serde_json::Map::new();
        if let Some(url) = &patch.url {
            if endpoint.sftp.is_some() {
                return Err(AppError::invalid(
                    "url",
                    "this is an SFTP hook: change where it writes with PATCH /api/v1/sftp/{id}",
                ));
            }
            endpoint.url = self.checked_target("url", url).await?;
            detail.insert("url".into(), endpoint.url.clone().into());
        }
        if let Some(text) = &patch.description {
            endpoint.description = description(text)?;
            detail.insert("description".into(), endpoint.description.clone().into());
        }
        if let Some(names) = &patch.events {
            endpoint.events = subscription(Some(names))?;
            detail.insert("events".into(), subscription_names(&endpoint.events).into());
        }
        if let Some(enabled) = patch.enabled
            && set_enabled(&mut endpoint, enabled)
        {
            detail.insert("enabled".into(), enabled.into());
        }
        endpoint.updated_at = self.clock.now();
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookUpdated,
            &id.to_string(),
            detail.into(),
        );
        self.store
            .update_webhook(endpoint, entry)
            .await
            .or_not_found(WEBHOOK)
    }

    /// Sets a new secret; the old one keeps signing for the overlap.
    pub async fn rotate_webhook_secret(
        &self,
        access: &Access,
        id: WebhookId,
        rotation: RotateSecret,
    ) -> Result<CreatedWebhook, AppError> {
        let mut endpoint = self.get_webhook(access, id).await?;
        let secret = supplied_secret("secret", rotation.secret.as_deref())?;
        let overlap = rotation
            .overlap
            .unwrap_or(self.settings.webhooks.secret_overlap);
        if overlap > MAX_SECRET_OVERLAP {
            return Err(AppError::invalid(
                "overlap_seconds",
                format!("must be at most {} (7 days)", MAX_SECRET_OVERLAP.as_secs()),
            ));
        }
        let now = self.clock.now();
        let until = now
            + chrono::Duration::from_std(overlap).map_err(|e| AppError::Internal(Box::new(e)))?;
        endpoint.previous_secret =
            (!overlap.is_zero()).then(|| (endpoint.secret_sealed.clone(), until));
        endpoint.secret_sealed = self.seal_webhook_secret(id, &secret)?;
        endpoint.updated_at = now;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookSecretRotated,
            &id.to_string(),
            serde_json::json!({ "overlap_seconds": overlap.as_secs() }),
        );
        let endpoint = self
            .store
            .update_webhook(endpoint, entry)
            .await
            .or_not_found(WEBHOOK)?;
        Ok(CreatedWebhook {
            endpoint,
            secret: secret.expose(),
        })
    }

    /// Deletes an endpoint with its deliveries and attempts log.
    pub async fn delete_webhook(&self, access: &Access, id: WebhookId) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookDeleted,
            &id.to_string(),
            serde_json::json!({}),
        );
        self.store
            .delete_webhook(access.org_id(), id, entry)
            .await
            .or_not_found(WEBHOOK)
    }

    /// The messages (deliveries) of an endpoint, newest first.
    pub async fn list_webhook_messages(
        &self,
        access: &Access,
        id: WebhookId,
        status: Option<DeliveryStatus>,
        page: PageRequest,
    ) -> Result<Page<Delivery>, AppError> {
        self.get_webhook(access, id).await?;
        Ok(self
            .store
            .list_deliveries(access.org_id(), id, status, page)
            .await?)
    }

    /// The attempts log of an endpoint, newest first, optionally of one message.
    pub async fn list_webhook_attempts(
        &self,
        access: &Access,
        id: WebhookId,
        event: Option<EventId>,
        page: PageRequest,
    ) -> Result<Page<DeliveryAttempt>, AppError> {
        self.get_webhook(access, id).await?;
        Ok(self
            .store
            .list_attempts(access.org_id(), id, event, page)
            .await?)
    }

    /// Queues messages of an endpoint again; returns how many.
    pub async fn replay_webhook(
        &self,
        access: &Access,
        id: WebhookId,
        request: ReplayRequest,
    ) -> Result<u64, AppError> {
        let endpoint = self.get_webhook(access, id).await?;
        if !endpoint.enabled {
            return Err(AppError::Conflict(Conflict::WEBHOOK_DISABLED));
        }
        let now = self.clock.now();
        let (scope, detail) = match request {
            ReplayRequest::One(event) => (
                ReplayScope::One(event),
                serde_json::json!({ "event_id": event.to_string() }),
            ),
            ReplayRequest::FailedSince(since) => {
                if since > now {
                    return Err(AppError::invalid("since", "must not be in the future"));
                }
                (
                    ReplayScope::FailedSince(since),
                    serde_json::json!({ "failed_since": since }),
                )
            }
        };
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::WebhookReplayed,
            &id.to_string(),
            detail,
        );
        let count = self
            .store
            .replay_deliveries(access.org_id(), id, scope, now, entry)
            .await
            .or_not_found(WEBHOOK)?;
        if count == 0 && matches!(request, ReplayRequest::One(_)) {
            return Err(AppError::NotFound("message"));
        }
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn subscriptions_read_wire_names_and_name_the_bad_entry() {
        assert_eq!(subscription(None).unwrap(), Subscription::All);
        assert_eq!(
            subscription(Some(&names(&["*"]))).unwrap(),
            Subscription::All
        );
        assert_eq!(
            subscription(Some(&names(&["setStatus", "payment", "setStatus"]))).unwrap(),
            Subscription::Only(vec![EventType::SetStatus, EventType::Payment])
        );
        let Err(AppError::Invalid(errors)) =
            subscription(Some(&names(&["payment", "Payment", "ping"])))
        else {
            panic!("expected field errors");
        };
        assert_eq!(
            errors.iter().map(|e| e.field.as_str()).collect::<Vec<_>>(),
            ["events[1]", "events[2]"]
        );
        assert!(errors[0].message.contains("inboundMessage"));
        assert!(subscription(Some(&[])).is_err());
        assert!(subscription(Some(&names(&["*", "payment"]))).is_err());
    }
}
