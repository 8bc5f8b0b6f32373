//! Messaging channels as administrators manage them (permission `admin`, SPEC §5): create,
//! list, get and change. What each provider needs is in [`rules`].
//!
//! Decisions:
//! * credentials are sealed at rest (context `channel:<id>`) and never shown again; an
//!   answer lists the names of those set. A change replaces only the credentials it
//!   names (`null` removes an optional one), so rotating one token does not mean
//!   re-entering the others;
//! * `settings` are replaced key by key the same way;
//! * the inbound flow must be a flow of the organization with a published version (the
//!   runtime starts its latest version); without one, customers who write first wait in
//!   `inbound_queue` (default `default`, Parley's own queue; any other must be a queue the
//!   organization defined);
//! * the rate defaults to what the provider allows a new sender (Twilio 1 message per
//!   second on a long code, WhatsApp 80, the simulator and web chat 100), at most 10,000;
//! * the provider never changes: a channel's messages belong to one provider's ids.

pub(crate) mod rules;

pub use rules::{credential_keys, setting_keys};

use parley_domain::{AuditAction, Channel, ChannelId, FlowId, Permission, Provider};
use parley_store::{Page, PageRequest};
use serde_json::{Map, Value};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

const CHANNEL: &str = "channel";
/// The highest send rate a channel may be given.
pub const MAX_RATE_PER_SECOND: u32 = 10_000;
/// The queue customers wait in when a channel names none: Parley's own `default`.
pub const DEFAULT_INBOUND_QUEUE: &str = crate::conversations::queues::DEFAULT_QUEUE;

/// A channel to create.
#[derive(Debug, Clone, Default)]
pub struct NewChannel {
    /// `sim`, `twilio`, `whatsapp` or `webchat`.
    pub provider: String,
    /// A name people recognise.
    pub name: String,
    /// Our address at the provider.
    pub sender: String,
    /// The flow started for customers who write first.
    pub inbound_flow: Option<FlowId>,
    /// Where they wait without one.
    pub inbound_queue: Option<String>,
    /// Messages per second; the provider's default when `None`.
    pub rate_per_second: Option<u32>,
    /// The provider's settings.
    pub settings: Map<String, Value>,
    /// The provider's credentials.
    pub credentials: Map<String, Value>,
    /// Created disabled when `Some(false)`.
    pub enabled: Option<bool>,
}

/// Changes; `None` leaves a field as it is. In `settings` and `credentials`, each key
/// named is set, or removed when `null`.
#[derive(Debug, Clone, Default)]
pub struct ChannelPatch {
    /// A new name.
    pub name: Option<String>,
    /// A new sender.
    pub sender: Option<String>,
    /// A new inbound flow; `Some(None)` removes it.
    pub inbound_flow: Option<Option<FlowId>>,
    /// A new inbound queue.
    pub inbound_queue: Option<String>,
    /// A new rate.
    pub rate_per_second: Option<u32>,
    /// Settings to set or remove.
    pub settings: Map<String, Value>,
    /// Credentials to set or remove.
    pub credentials: Map<String, Value>,
    /// Enable or disable.
    pub enabled: Option<bool>,
}

/// A channel with the names of the credentials it holds (never their values).
#[derive(Debug, Clone)]
pub struct ChannelView {
    /// The channel (its `secret_sealed` is for the runtime, not for answers).
    pub channel: Channel,
    /// Names of the credentials set, sorted.
    pub credentials: Vec<String>,
}

fn default_rate(provider: Provider) -> u32 {
    match provider {
        Provider::Twilio => 1,
        Provider::Whatsapp => 80,
        Provider::Sim | Provider::Webchat => 100,
    }
}

fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

fn check_queue(queue: &str) -> Result<String, FieldError> {
    crate::conversations::queues::check_queue_key("inbound_queue", queue)?;
    Ok(queue.to_owned())
}

fn check_rate(rate: u32) -> Result<u32, FieldError> {
    if (1..=MAX_RATE_PER_SECOND).contains(&rate) {
        Ok(rate)
    } else {
        Err(FieldError::new(
            "rate_per_second",
            format!("must be from 1 to {MAX_RATE_PER_SECOND}"),
        ))
    }
}

/// Applies `changes` to `current`: a `null` removes the key.
fn merge(current: &mut Map<String, Value>, changes: Map<String, Value>) {
    for (key, value) in changes {
        if value.is_null() {
            current.remove(&key);
        } else {
            current.insert(key, value);
        }
    }
}

fn context(id: ChannelId) -> String {
    crate::sealing::context(
        parley_store::SealedKind::ChannelCredentials,
        &id.to_string(),
        "",
    )
}

impl App {
    fn seal_credentials(
        &self,
        id: ChannelId,
        credentials: &Map<String, Value>,
    ) -> Result<Option<String>, AppError> {
        if credentials.is_empty() {
            return Ok(None);
        }
        let text = Value::Object(credentials.clone()).to_string();
        self.keys
            .sealed_box
            .seal(text.as_bytes(), &context(id))
            .map(Some)
            .map_err(|e| AppError::Internal(Box::new(e)))
    }

    /// A channel's credentials, opened (for the runtime and the callbacks).
    pub(crate) fn channel_credentials(
        &self,
        channel: &Channel,
    ) -> Result<Map<String, Value>, AppError> {
        let Some(sealed) = &channel.secret_sealed else {
            return Ok(Map::new());
        };
        let bytes = self
            .keys
            .sealed_box
            .open(sealed, &context(channel.id))
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        match serde_json::from_slice(&bytes) {
            Ok(Value::Object(map)) => Ok(map),
            _ => Err(AppError::Internal(
                "a channel's credentials do not open as a JSON object".into(),
            )),
        }
    }

    fn view(&self, channel: Channel) -> Result<ChannelView, AppError> {
        let mut credentials: Vec<String> = self
            .channel_credentials(&channel)?
            .keys()
            .cloned()
            .collect();
        credentials.sort();
        Ok(ChannelView {
            channel,
            credentials,
        })
    }

    /// Checks everything a channel holds; every problem at once.
    async fn check_channel(
        &self,
        access: &Access,
        channel: &Channel,
        credentials: &Map<String, Value>,
    ) -> Result<(), AppError> {
        let mut errors = Vec::new();
        errors.extend(rules::sender(channel.provider, &channel.sender).err());
        errors.extend(rules::settings(channel.provider, &channel.settings));
        // A provider's URL is one an organization sets: the SSRF guard checks it now, for
        // a clear answer, and again at every connection.
        if let Some(Value::String(base_url)) = channel.settings.get("base_url")
            && errors.iter().all(|e| e.field != "settings.base_url")
            && let Err(AppError::Invalid(refused)) =
                self.checked_target("settings.base_url", base_url).await
        {
            errors.extend(refused);
        }
        errors.extend(rules::credentials(channel.provider, credentials));
        let queue = channel.inbound_queue.as_str();
        if queue != crate::conversations::queues::DEFAULT_QUEUE
            && errors.iter().all(|e| e.field != "inbound_queue")
            && !self
                .store
                .list_queues(access.org_id())
                .await?
                .iter()
                .any(|q| q.key == queue)
        {
            errors.push(FieldError::new(
                "inbound_queue",
                format!(
                    "`{queue}` is not a queue of this organization; define it (POST /api/v1/queues) or use `default`"
                ),
            ));
        }
        if let Some(flow) = channel.inbound_flow {
            match self.store.find_flow(access.org_id(), flow).await? {
                Some(f) if f.archived_at.is_some() => errors.push(FieldError::new(
                    "inbound_flow",
                    "the flow is archived; restore it or choose another",
                )),
                Some(f) if f.latest_version.is_some() => {}
                _ => errors.push(FieldError::new(
                    "inbound_flow",
                    "must be a flow of this organization with a published version",
                )),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(AppError::Invalid(errors))
        }
    }

    /// Creates a channel.
    pub async fn create_channel(
        &self,
        access: &Access,
        new: NewChannel,
    ) -> Result<ChannelView, AppError> {
        access.require(Permission::Administer)?;
        let Some(provider) = Provider::from_name(&new.provider) else {
            return Err(AppError::invalid(
                "provider",
                format!(
                    "{:?} is not a provider; use one of {}",
                    new.provider,
                    Provider::ALL.map(Provider::as_str).join(", ")
                ),
            ));
        };
        let mut errors = Vec::new();
        let name = check_name(&new.name).map_err(|e| errors.push(e)).ok();
        let queue = check_queue(
            new.inbound_queue
                .as_deref()
                .unwrap_or(DEFAULT_INBOUND_QUEUE),
        )
        .map_err(|e| errors.push(e))
        .ok();
        let rate = check_rate(new.rate_per_second.unwrap_or(default_rate(provider)))
            .map_err(|e| errors.push(e))
            .ok();
        let id = ChannelId::generate();
        let now = self.clock.now();
        let mut channel = Channel {
            id,
            organization_id: access.org_id(),
            provider,
            name: name.unwrap_or_default(),
            sender: new.sender.trim().to_owned(),
            inbound_flow: new.inbound_flow,
            inbound_queue: queue.unwrap_or_default(),
            rate_per_second: rate.unwrap_or(1),
            settings: new.settings,
            secret_sealed: None,
            enabled: new.enabled.unwrap_or(true),
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        if let Err(AppError::Invalid(more)) =
            self.check_channel(access, &channel, &new.credentials).await
        {
            errors.extend(more);
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        channel.secret_sealed = self.seal_credentials(id, &new.credentials)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::ChannelCreated,
            &id.to_string(),
            serde_json::json!({
                "provider": provider.as_str(),
                "name": channel.name,
                "sender": channel.sender,
                "credentials": new.credentials.keys().collect::<Vec<_>>(),
            }),
        );
        let stored = self.store.create_channel(channel, entry).await?;
        self.view(stored)
    }

    /// Channels of the acting organization.
    pub async fn list_channels(
        &self,
        access: &Access,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<ChannelView>, AppError> {
        access.require(Permission::Administer)?;
        let page = self
            .store
            .list_channels(access.org_id(), archived, page)
            .await?;
        let items = page
            .items
            .into_iter()
            .map(|c| self.view(c))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page {
            items,
            next_cursor: page.next_cursor,
        })
    }

    /// One channel.
    pub async fn get_channel(
        &self,
        access: &Access,
        id: ChannelId,
    ) -> Result<ChannelView, AppError> {
        access.require(Permission::Administer)?;
        let channel = self
            .store
            .find_channel(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound(CHANNEL))?;
        self.view(channel)
    }

    /// Changes a channel.
    pub async fn update_channel(
        &self,
        access: &Access,
        id: ChannelId,
        patch: ChannelPatch,
    ) -> Result<ChannelView, AppError> {
        let ChannelView { mut channel, .. } = self.get_channel(access, id).await?;
        let mut credentials = self.channel_credentials(&channel)?;
        let mut errors = Vec::new();
        let mut changed: Vec<&str> = Vec::new();
        if let Some(name) = &patch.name {
            match check_name(name) {
                Ok(n) => channel.name = n,
                Err(e) => errors.push(e),
            }
            changed.push("name");
        }
        if let Some(sender) = &patch.sender {
            channel.sender = sender.trim().to_owned();
            changed.push("sender");
        }
        if let Some(flow) = patch.inbound_flow {
            channel.inbound_flow = flow;
            changed.push("inbound_flow");
        }
        if let Some(queue) = &patch.inbound_queue {
            match check_queue(queue) {
                Ok(q) => channel.inbound_queue = q,
                Err(e) => errors.push(e),
            }
            changed.push("inbound_queue");
        }
        if let Some(rate) = patch.rate_per_second {
            match check_rate(rate) {
                Ok(r) => channel.rate_per_second = r,
                Err(e) => errors.push(e),
            }
            changed.push("rate_per_second");
        }
        if !patch.settings.is_empty() {
            merge(&mut channel.settings, patch.settings);
            changed.push("settings");
        }
        let credential_names: Vec<String> = patch.credentials.keys().cloned().collect();
        if !patch.credentials.is_empty() {
            merge(&mut credentials, patch.credentials);
            changed.push("credentials");
        }
        if let Some(enabled) = patch.enabled {
            channel.enabled = enabled;
            changed.push("enabled");
        }
        if let Err(AppError::Invalid(more)) =
            self.check_channel(access, &channel, &credentials).await
        {
            errors.extend(more);
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        channel.secret_sealed = self.seal_credentials(id, &credentials)?;
        channel.updated_at = self.clock.now();
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::ChannelUpdated,
            &id.to_string(),
            serde_json::json!({"changed": changed, "credentials": credential_names}),
        );
        let stored = self
            .store
            .update_channel(channel, entry)
            .await
            .or_not_found(CHANNEL)?;
        self.view(stored)
    }
}
