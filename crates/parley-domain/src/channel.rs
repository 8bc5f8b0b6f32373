//! Messaging channels (SPEC §5): one provider account and sender of an organization, the
//! flow that greets customers who write first, and the pace it may send at. Credentials
//! are stored sealed; this crate only carries the sealed text.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ChannelId, ChannelKind, FlowId, OrgId};

/// Who carries a channel's messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    /// Built in, for demos and tests: outbound messages are recorded, inbound ones are
    /// posted by API or the CLI, delivery reports are simulated.
    Sim,
    /// Twilio's Programmable Messaging (or a Twilio-compatible provider).
    Twilio,
    /// Meta's WhatsApp Cloud API.
    Whatsapp,
    /// The embeddable web-chat widget.
    Webchat,
}

impl Provider {
    /// Every provider.
    pub const ALL: [Provider; 4] = [Self::Sim, Self::Twilio, Self::Whatsapp, Self::Webchat];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Provider::Sim => "sim",
            Provider::Twilio => "twilio",
            Provider::Whatsapp => "whatsapp",
            Provider::Webchat => "webchat",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == name)
    }

    /// The kind of contact address its customers write from: a phone number for SMS (the
    /// simulator simulates SMS), a WhatsApp number, a web-chat visitor.
    #[must_use]
    pub const fn address_kind(self) -> ChannelKind {
        match self {
            Provider::Sim | Provider::Twilio => ChannelKind::Sms,
            Provider::Whatsapp => ChannelKind::Whatsapp,
            Provider::Webchat => ChannelKind::Webchat,
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A channel as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Channel {
    /// The id.
    pub id: ChannelId,
    /// Its organization.
    pub organization_id: OrgId,
    /// Who carries it.
    pub provider: Provider,
    /// A name people recognise ("Collections SMS").
    pub name: String,
    /// Our address at the provider: the number or sender id (Twilio), the phone number id
    /// (WhatsApp), the site (web chat), anything (sim).
    pub sender: String,
    /// The flow started for a customer who writes first.
    pub inbound_flow: Option<FlowId>,
    /// Where such a customer waits for people when there is no inbound flow.
    pub inbound_queue: String,
    /// Most messages sent per second.
    pub rate_per_second: u32,
    /// The provider's settings that are not secret (base URL, account sid, allowed
    /// origins, simulated delays…), as a JSON object.
    pub settings: serde_json::Map<String, serde_json::Value>,
    /// The provider's credentials (auth token, access token, app secret…) sealed.
    pub secret_sealed: Option<String>,
    /// Whether it sends and takes messages.
    pub enabled: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
    /// When it was archived: disabled, left out of lists and of new uses; its
    /// conversations keep it.
    pub archived_at: Option<DateTime<Utc>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_names_round_trip_and_map_to_address_kinds() {
        for p in Provider::ALL {
            assert_eq!(Provider::from_name(p.as_str()), Some(p));
        }
        assert_eq!(Provider::from_name("smpp"), None);
        assert_eq!(Provider::Twilio.address_kind(), ChannelKind::Sms);
        assert_eq!(Provider::Whatsapp.address_kind(), ChannelKind::Whatsapp);
        assert_eq!(Provider::Webchat.address_kind(), ChannelKind::Webchat);
    }
}
