//! Customers' messages arriving from providers: Twilio's inbound webhook and WhatsApp's
//! (with its verification handshake). Each is checked against the provider's signature
//! with the channel's credentials before anything is read, then handed to the runtime
//! ([`super::runtime`]) as the sim's are.
//!
//! Decisions:
//! * a message the provider delivers twice (the same `MessageSid` or `wamid`) is
//!   acknowledged and taken once;
//! * WhatsApp addresses arrive as digits (`447911123456`) and are stored in E.164
//!   (`+447911123456`), as imports store them;
//! * a WhatsApp message without text (an image without caption, a sticker) is recorded as
//!   `[image]`, `[sticker]`…, so agents see that something came; media files are not
//!   fetched;
//! * one WhatsApp callback may carry several messages and statuses: each message is its
//!   own turn, in the order Meta listed them, then each status; a status names its time,
//!   which is kept (statuses arriving out of order never move a message back);
//! * a disabled channel acknowledges and drops what arrives (providers retry refusals for
//!   days).

use chrono::{DateTime, Utc};
use parley_channels::whatsapp::callback as wa;
use parley_domain::{Channel, MessageStatus, Provider, StatusReport};

use super::turn::Inbound;
use crate::{App, AppError};

impl App {
    /// A Twilio inbound message webhook (`POST /hooks/twilio/{channel}/inbound`): checked
    /// like a status callback (`Forbidden` when unsigned, `Invalid` naming the form field
    /// when unreadable), then received.
    pub async fn twilio_inbound_callback(
        &self,
        channel: &Channel,
        path_and_query: &str,
        params: &[(String, String)],
        signature: &str,
    ) -> Result<(), AppError> {
        self.require_twilio_signature(channel, path_and_query, params, signature)?;
        let message = parley_channels::twilio::callback::inbound(params)
            .map_err(|e| AppError::invalid(e.field.clone(), e.reason))?;
        if !channel.enabled {
            return Ok(());
        }
        self.receive(Inbound {
            channel: channel.clone(),
            from: message.from,
            text: message.body,
            provider_message_id: Some(message.message_sid),
            from_provider: true,
        })
        .await?;
        Ok(())
    }

    /// WhatsApp's verification handshake (`GET /hooks/whatsapp/{channel}`): the challenge
    /// to echo, or `Forbidden` when the verify token is not the channel's.
    pub fn whatsapp_handshake(
        &self,
        channel: &Channel,
        mode: Option<&str>,
        token: Option<&str>,
        challenge: Option<&str>,
    ) -> Result<String, AppError> {
        let forbidden = AppError::Forbidden("the verify token is not this channel's");
        if channel.provider != Provider::Whatsapp {
            return Err(forbidden);
        }
        let credentials = self.channel_credentials(channel)?;
        let ours = credentials
            .get("verify_token")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        wa::handshake(mode, token, challenge, ours)
            .map(str::to_owned)
            .ok_or(forbidden)
    }

    /// A WhatsApp webhook (`POST /hooks/whatsapp/{channel}`): `X-Hub-Signature-256` over
    /// the raw body with the channel's app secret, then every message and status in it.
    pub async fn whatsapp_callback(
        &self,
        channel: &Channel,
        body: &[u8],
        signature: &str,
    ) -> Result<(), AppError> {
        let forbidden = AppError::Forbidden(
            "X-Hub-Signature-256 does not sign this body with the channel's app secret",
        );
        if channel.provider != Provider::Whatsapp {
            return Err(forbidden);
        }
        let credentials = self.channel_credentials(channel)?;
        let secret = credentials
            .get("app_secret")
            .and_then(|t| t.as_str())
            .unwrap_or_default();
        if secret.is_empty()
            || !parley_channels::whatsapp::signature::verify(secret, body, signature)
        {
            return Err(forbidden);
        }
        let callback = wa::parse(body).map_err(|e| AppError::invalid(e.path, e.reason))?;
        if !channel.enabled {
            return Ok(());
        }
        for message in callback.messages {
            let text = message
                .text
                .unwrap_or_else(|| format!("[{}]", message.kind));
            let from = if message.from.starts_with('+') {
                message.from
            } else {
                format!("+{}", message.from)
            };
            self.receive(Inbound {
                channel: channel.clone(),
                from,
                text,
                provider_message_id: Some(message.id),
                from_provider: true,
            })
            .await?;
        }
        for status in callback.statuses {
            let Some(reported) = status.status else {
                continue;
            };
            let (error_code, error_message) = match (reported, status.error) {
                (MessageStatus::Failed | MessageStatus::Undelivered, Some((code, title))) => {
                    (Some(code.to_string()), Some(title))
                }
                _ => (None, None),
            };
            let at = DateTime::<Utc>::from_timestamp(status.timestamp, 0)
                .unwrap_or_else(|| self.clock.now());
            self.apply_status_report(
                channel,
                &status.id,
                StatusReport {
                    status: reported,
                    at,
                    error_code,
                    error_message,
                },
            )
            .await?;
        }
        Ok(())
    }
}
