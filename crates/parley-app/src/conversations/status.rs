//! Provider callbacks about our messages: checking that a callback is the provider's own
//! (its signature, with the channel's credentials), and applying a status report.
//!
//! Decisions:
//! * a report on a message Parley does not know (sent outside Parley, or erased) is
//!   acknowledged and ignored: providers retry what is refused, and nothing would change;
//! * every report's time is kept, but the status only moves forward
//!   (`Message::record`); a move raises `messageSend` or `deliveryReport` in the same
//!   transaction, a report that moves nothing raises nothing;
//! * callbacks are checked against `server.public_url`, the URL the provider was given;
//!   a Parley behind a proxy must be configured with its public URL, or no signature
//!   matches.

use parley_domain::{
    Channel, Contact, Conversation, Message, MessageStatus, Provider, StatusReport,
};
use parley_store::{MessageChange, MessageKey};

use super::events;
use crate::{App, AppError};

impl App {
    /// The channel a provider callback names, whatever its organization (the callback
    /// proves itself with the channel's credentials, not with a caller's access).
    pub async fn channel_for_callback(
        &self,
        id: parley_domain::ChannelId,
    ) -> Result<Option<Channel>, AppError> {
        Ok(self.store.find_channel_for_callback(id).await?)
    }

    /// The URL a provider calls for `path_and_query` (which starts with `/`).
    fn public_url_of(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.settings.public_url)
    }

    /// Refuses (`Forbidden`) a form callback to `path_and_query` carrying `params` unless
    /// Twilio signed it with this channel's auth token (`X-Twilio-Signature`).
    pub(super) fn require_twilio_signature(
        &self,
        channel: &Channel,
        path_and_query: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> Result<(), AppError> {
        let forbidden = AppError::Forbidden(
            "X-Twilio-Signature does not sign this request with the channel's auth token",
        );
        if channel.provider != Provider::Twilio {
            return Err(forbidden);
        }
        let credentials = self.channel_credentials(channel)?;
        let Some(token) = credentials.get("auth_token").and_then(|t| t.as_str()) else {
            return Err(forbidden);
        };
        if parley_channels::twilio::signature::verify_form(
            token,
            &self.public_url_of(path_and_query),
            params,
            signature,
        ) {
            Ok(())
        } else {
            Err(forbidden)
        }
    }

    /// A Twilio status callback (`POST /hooks/twilio/{channel}/status`): checked against
    /// the channel's auth token (`Forbidden` when the signature does not match, and then
    /// nothing is read), read (`Invalid` naming the form field), and applied. A status
    /// Parley does not know yet changes nothing.
    pub async fn twilio_status_callback(
        &self,
        channel: &Channel,
        path_and_query: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> Result<(), AppError> {
        self.require_twilio_signature(channel, path_and_query, params, signature)?;
        let report = parley_channels::twilio::callback::status_report(params)
            .map_err(|e| AppError::invalid(e.field.clone(), e.reason))?;
        if let Some(status) = report.status {
            let report_at = StatusReport {
                status,
                at: self.clock.now(),
                error_code: report.error_code,
                error_message: report.error_message,
            };
            self.apply_status_report(channel, &report.message_sid, report_at)
                .await?;
        }
        Ok(())
    }

    /// Applies a provider's status report on one of `channel`'s messages; the message as
    /// it stands after, or `None` when Parley does not know the message.
    pub async fn apply_status_report(
        &self,
        channel: &Channel,
        provider_message_id: &str,
        report: StatusReport,
    ) -> Result<Option<Message>, AppError> {
        let key = MessageKey::Provider {
            channel: channel.id,
            provider_message_id: provider_message_id.to_owned(),
        };
        self.apply_report(key, report).await
    }

    /// Applies a status report on the message `key` names (see the module's decisions).
    pub(crate) async fn apply_report(
        &self,
        key: MessageKey,
        report: StatusReport,
    ) -> Result<Option<Message>, AppError> {
        let Some(found) = self.store.find_message(&key).await? else {
            return Ok(None);
        };
        let conversation = self
            .store
            .get_conversation(found.organization_id, found.conversation_id)
            .await?
            .ok_or_else(|| AppError::Internal("a message lost its conversation".into()))?;
        let channel = self
            .store
            .find_channel(found.organization_id, found.channel_id)
            .await?
            .ok_or_else(|| AppError::Internal("a message lost its channel".into()))?;
        let contact = self.event_contact(&conversation).await?;
        let to = super::turn::address_of(&contact, channel.provider.address_kind());
        let now = self.clock.now();
        let provider = channel.provider;
        let decide = Box::new(move |message: &Message, conversation: &Conversation| {
            report_change(message, conversation, &channel, &contact, &to, &report, now)
        });
        let changed = self.store.change_message(key, decide).await?;
        if let Some(message) = &changed {
            crate::telemetry::message_report(provider, message.status.as_str());
        }
        Ok(Some(changed.unwrap_or(found)))
    }

    /// The conversation's contact for an event: as stored, or only its id when it has
    /// been erased.
    pub(crate) async fn event_contact(
        &self,
        conversation: &Conversation,
    ) -> Result<Contact, AppError> {
        let stored = self
            .store
            .get_contact(conversation.organization_id, conversation.contact_id)
            .await?;
        Ok(stored.unwrap_or_else(|| Contact {
            id: conversation.contact_id,
            organization_id: conversation.organization_id,
            customer_id: None,
            fields: serde_json::Map::new(),
            addresses: Vec::new(),
            created_at: conversation.opened_at,
            updated_at: conversation.opened_at,
        }))
    }
}

/// The change a status report makes to `message` (see the module's decisions): `None`
/// when it repeats a status already reported.
pub(super) fn report_change(
    message: &Message,
    conversation: &Conversation,
    channel: &Channel,
    contact: &Contact,
    to: &str,
    report: &StatusReport,
    now: chrono::DateTime<chrono::Utc>,
) -> Option<MessageChange> {
    // `record` keeps the first time of each status: a repeat with no move is a no-op.
    let first_of_its_status = !message.status_times.contains_key(report.status.as_str());
    let mut changed = message.clone();
    let previous: MessageStatus = message.status;
    let moved = changed.record(report);
    if !moved && !first_of_its_status {
        return None;
    }
    changed.updated_at = now;
    let events = if moved {
        vec![events::status_change(
            conversation,
            channel,
            &changed,
            contact,
            to,
            previous,
            report.at,
        )]
    } else {
        Vec::new()
    };
    Some(MessageChange {
        message: changed,
        events,
        jobs: Vec::new(),
        finish_job: None,
    })
}
