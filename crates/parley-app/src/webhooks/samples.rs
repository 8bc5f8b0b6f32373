//! The endpoint tests (SPEC §7.2): a realistic sample of one of five kinds, signed with the
//! endpoint's secrets and sent at once, returning exactly what was sent and received.
//!
//! Decisions:
//! * a test is not a delivery: it is neither queued nor retried and does not enter the
//!   attempts log or change the endpoint's failing streak; disabled endpoints can be
//!   tested (that is how one checks a receiver before enabling it again);
//! * samples carry `"test": true` inside `data`, a fresh `evt_…` id, and the events real
//!   changes raise, built by the same code (`conversations::events`) from example values
//!   (the reserved `+44 7700 900xxx` drama numbers);
//! * `customValueRequest` sends the GET of SPEC §7.3 to the endpoint's URL, with the query
//!   a flow's `fetch` step sends and the same identification headers over an empty body.

use chrono::{DateTime, Utc};
use parley_domain::{
    Channel, ChannelAddress, ChannelId, ChannelKind, Contact, ContactId, Conversation, Direction,
    EventId, Message, MessageId, MessageStatus, Provider, WebhookEndpoint, WebhookId,
};
use parley_webhooks::client::RESPONSE_EXCERPT_BYTES;

use crate::auth::Access;
use crate::conversations::events;
use crate::{App, AppError};

/// The five tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    /// A `ping` envelope.
    Ping,
    /// An `inboundMessage` event.
    InboundMessage,
    /// A `deliveryReport` event.
    DeliveryReport,
    /// A `setStatus` event.
    SetStatus,
    /// The custom value GET.
    CustomValueRequest,
}

impl SampleKind {
    /// Every kind.
    pub const ALL: [SampleKind; 5] = [
        SampleKind::Ping,
        SampleKind::InboundMessage,
        SampleKind::DeliveryReport,
        SampleKind::SetStatus,
        SampleKind::CustomValueRequest,
    ];

    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            SampleKind::Ping => "ping",
            SampleKind::InboundMessage => "inboundMessage",
            SampleKind::DeliveryReport => "deliveryReport",
            SampleKind::SetStatus => "setStatus",
            SampleKind::CustomValueRequest => "customValueRequest",
        }
    }

    /// Reads a wire name.
    #[must_use]
    pub fn from_wire(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// The request a test sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRequest {
    /// `POST` or `GET`.
    pub method: String,
    /// The full URL.
    pub url: String,
    /// Headers in sending order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for a GET).
    pub body: String,
}

/// The answer a test received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedResponse {
    /// The HTTP status, when there was an answer.
    pub status: Option<u16>,
    /// Milliseconds from sending to the end of the body read.
    pub latency_ms: u32,
    /// The first KiB of the body.
    pub body: String,
    /// What went wrong; `None` for a 2xx.
    pub error: Option<String>,
}

/// A test's request and response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestExchange {
    /// What was sent.
    pub request: SentRequest,
    /// What came back.
    pub response: ReceivedResponse,
}

/// The example values the samples describe: a contact, an SMS channel, a conversation
/// and a message, as stored.
struct Example {
    contact: Contact,
    channel: Channel,
    conversation: Conversation,
    message: Message,
}

fn example(endpoint: &WebhookEndpoint, at: DateTime<Utc>, direction: Direction) -> Example {
    let org = endpoint.organization_id;
    let contact = Contact {
        id: ContactId::generate(),
        organization_id: org,
        customer_id: Some("C-1001".to_owned()),
        fields: [
            ("first_name", "Alex"),
            ("last_name", "Sample"),
            ("email", "alex.sample@example.com"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.into()))
        .collect(),
        addresses: vec![ChannelAddress {
            kind: ChannelKind::Sms,
            address: "+447700900123".to_owned(),
        }],
        created_at: at,
        updated_at: at,
    };
    let channel = Channel {
        id: ChannelId::generate(),
        organization_id: org,
        provider: Provider::Twilio,
        name: "Collections SMS".to_owned(),
        sender: "+447700900000".to_owned(),
        inbound_flow: None,
        inbound_queue: "general".to_owned(),
        rate_per_second: 1,
        settings: serde_json::Map::new(),
        secret_sealed: None,
        enabled: true,
        created_at: at,
        updated_at: at,
        archived_at: None,
    };
    let conversation = Conversation {
        revision: 1,
        ..Conversation::open(org, contact.id, channel.id, Direction::Outbound, at)
    };
    let (sender, body, status, provider) = match direction {
        Direction::Inbound => (
            "contact",
            "Can I pay £50 on Friday?",
            MessageStatus::Received,
            None,
        ),
        Direction::Outbound => (
            "bot",
            "Hi Alex, your balance is £123.45. Reply PAY to settle it.",
            MessageStatus::Delivered,
            Some("SM00000000000000000000000000000000".to_owned()),
        ),
    };
    let message = Message {
        id: MessageId::generate(),
        organization_id: org,
        conversation_id: conversation.id,
        channel_id: channel.id,
        direction,
        sender: sender.to_owned(),
        body: body.to_owned(),
        status,
        provider_message_id: provider,
        error_code: None,
        error_message: None,
        segments: 1,
        encoding: Some(parley_domain::Encoding::Gsm7),
        status_times: std::collections::BTreeMap::new(),
        created_at: at,
        updated_at: at,
    };
    Example {
        contact,
        channel,
        conversation,
        message,
    }
}

/// The sample body of a POST test: the event a real change would raise, built by the same
/// code (`conversations::events`), marked `"test": true`.
fn sample_body(
    kind: SampleKind,
    id: EventId,
    endpoint: &WebhookEndpoint,
    at: DateTime<Utc>,
) -> serde_json::Value {
    let phone = "+447700900123";
    let mut data = match kind {
        SampleKind::Ping | SampleKind::CustomValueRequest => serde_json::json!({
            "message": "Test ping from Parley",
            "endpoint_id": endpoint.id.to_string(),
        }),
        SampleKind::InboundMessage => {
            let e = example(endpoint, at, Direction::Inbound);
            events::inbound_message(&e.conversation, &e.channel, &e.message, &e.contact, phone).data
        }
        SampleKind::DeliveryReport => {
            let e = example(endpoint, at, Direction::Outbound);
            events::status_change(
                &e.conversation,
                &e.channel,
                &e.message,
                &e.contact,
                phone,
                MessageStatus::Sent,
                at,
            )
            .data
        }
        SampleKind::SetStatus => {
            let e = example(endpoint, at, Direction::Outbound);
            events::set_status(
                &e.conversation,
                &e.contact,
                "promise_to_pay",
                "Promise to pay",
                events::Actor::Bot,
                at,
            )
            .data
        }
    };
    data["test"] = true.into();
    serde_json::json!({
        "id": id.to_string(),
        "type": kind.as_str(),
        "timestamp": events::timestamp(at),
        "organization_id": endpoint.organization_id.to_string(),
        "data": data,
    })
}

impl App {
    /// Sends a test of `kind` to an endpoint now.
    pub async fn test_webhook(
        &self,
        access: &Access,
        id: WebhookId,
        kind: SampleKind,
    ) -> Result<TestExchange, AppError> {
        let endpoint = self.get_webhook(access, id).await?;
        let at = self.clock.now();
        let event = EventId::generate();
        if endpoint.sftp.is_some() {
            return self.test_sftp_hook(&endpoint, kind, event, at).await;
        }
        let (url, method, body) = if kind == SampleKind::CustomValueRequest {
            let sample = super::custom_values::ValueRequest {
                customer_id: Some("C-1001".to_owned()),
                channel_id: "+447700900123".to_owned(),
                fields: vec!["balance".to_owned(), "next_payment_date".to_owned()],
            };
            let url = super::custom_values::request_url(&endpoint.url, &sample)?;
            (url, http::Method::GET, Vec::new())
        } else {
            let url = parley_webhooks::target::parse_target(&endpoint.url)
                .map_err(|e| AppError::invalid("url", e.to_string()))?;
            let body = serde_json::to_vec(&sample_body(kind, event, &endpoint, at))
                .map_err(|e| AppError::Internal(Box::new(e)))?;
            (url, http::Method::POST, body)
        };
        let mut headers = self.signed_headers(&endpoint, &event.to_string(), at, &body)?;
        if method == http::Method::GET {
            headers.retain(|(name, _)| *name != "content-type");
        }
        let exchange = self
            .webhook_client
            .send(
                method.clone(),
                &url,
                &headers,
                (!body.is_empty()).then(|| body.clone()),
                RESPONSE_EXCERPT_BYTES,
                at.timestamp(),
            )
            .await;
        Ok(test_exchange(
            method.as_str(),
            url.to_string(),
            headers
                .into_iter()
                .map(|(n, v)| (n.to_owned(), v))
                .collect(),
            &body,
            exchange,
        ))
    }

    /// A test of an SFTP hook: the sample is written as a file, as an event would be.
    async fn test_sftp_hook(
        &self,
        endpoint: &WebhookEndpoint,
        kind: SampleKind,
        event: EventId,
        at: DateTime<Utc>,
    ) -> Result<TestExchange, AppError> {
        if kind == SampleKind::CustomValueRequest {
            return Err(AppError::invalid(
                "kind",
                "customValueRequest tests an HTTP endpoint; an SFTP hook writes files",
            ));
        }
        let body = serde_json::to_vec(&sample_body(kind, event, endpoint, at))
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let name = super::sftp::file_name(at, &event.to_string(), kind.as_str());
        let (exchange, path) = self.write_sftp(endpoint, &name, &body).await;
        Ok(test_exchange("SFTP PUT", path, Vec::new(), &body, exchange))
    }
}

fn test_exchange(
    method: &str,
    url: String,
    headers: Vec<(String, String)>,
    body: &[u8],
    exchange: parley_webhooks::client::Exchange,
) -> TestExchange {
    TestExchange {
        request: SentRequest {
            method: method.to_owned(),
            url,
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        },
        response: ReceivedResponse {
            status: exchange.status,
            latency_ms: u32::try_from(exchange.latency.as_millis()).unwrap_or(u32::MAX),
            body: exchange.body_text(),
            error: exchange.outcome.err().map(|e| e.to_string()),
        },
    }
}
