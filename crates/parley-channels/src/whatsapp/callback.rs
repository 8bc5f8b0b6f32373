//! WhatsApp Cloud API webhooks (`reference/channels.md` §3.4): the verification handshake,
//! and the `messages` envelope read into inbound messages and status reports. Check the
//! signature (`signature::verify`) on the raw bytes before calling [`parse`].
//!
//! Unknown fields are ignored (Meta adds them); a missing required field is an error that
//! names its path, so a malformed callback is refused whole and nothing of it is applied.

use parley_domain::MessageStatus;
use serde::Deserialize;

/// The answer to Meta's `GET` handshake: the challenge to echo when `mode` is `subscribe`
/// and `token` is ours, else `None` (answer 403).
#[must_use]
pub fn handshake<'q>(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&'q str>,
    ours: &str,
) -> Option<&'q str> {
    use subtle::ConstantTimeEq;
    let token_ok: bool = token.is_some_and(|t| t.as_bytes().ct_eq(ours.as_bytes()).into());
    (mode == Some("subscribe") && token_ok && !ours.is_empty())
        .then_some(challenge)
        .flatten()
}

/// A customer's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Our number's id (`metadata.phone_number_id`): which channel it came to.
    pub phone_number_id: String,
    /// The sender's WhatsApp id (their number without `+`).
    pub from: String,
    /// The sender's profile name, when Meta gives one.
    pub profile_name: Option<String>,
    /// Meta's message id (`wamid.…`).
    pub id: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// `text`, `image`, `button`, `interactive`, `system`…
    pub kind: String,
    /// The text: a text message's body, a button's text, an interactive reply's title, a
    /// media caption; `None` for what carries no text.
    pub text: Option<String>,
}

/// A status report on one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// Our number's id.
    pub phone_number_id: String,
    /// Meta's id of our message.
    pub id: String,
    /// Parley's status, when the reported one is known (`super::status::parse`).
    pub status: Option<MessageStatus>,
    /// The status as Meta wrote it.
    pub raw_status: String,
    /// Unix seconds.
    pub timestamp: i64,
    /// The contact's WhatsApp id.
    pub recipient_id: String,
    /// The first error's code and title, on failures.
    pub error: Option<(i64, String)>,
}

/// What one webhook delivered, in the order Meta listed it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Callback {
    /// Customers' messages.
    pub messages: Vec<Inbound>,
    /// Reports on our messages.
    pub statuses: Vec<StatusReport>,
}

/// Why a webhook body was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the WhatsApp webhook body is not valid at `{path}`: {reason}")]
pub struct CallbackError {
    /// Where (`entry[0].changes[0].value.messages[1].timestamp`), or `.` for the whole.
    pub path: String,
    /// What is wrong there.
    pub reason: String,
}

#[derive(Deserialize)]
struct Envelope {
    object: String,
    #[serde(default)]
    entry: Vec<Entry>,
}

#[derive(Deserialize)]
struct Entry {
    #[serde(default)]
    changes: Vec<Change>,
}

#[derive(Deserialize)]
struct Change {
    field: String,
    value: Value,
}

#[derive(Deserialize)]
struct Value {
    metadata: Metadata,
    #[serde(default)]
    contacts: Vec<WaContact>,
    #[serde(default)]
    messages: Vec<Message>,
    #[serde(default)]
    statuses: Vec<Status>,
}

#[derive(Deserialize)]
struct Metadata {
    phone_number_id: String,
}

#[derive(Deserialize)]
struct WaContact {
    wa_id: String,
    profile: Option<Profile>,
}

#[derive(Deserialize)]
struct Profile {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Message {
    from: String,
    id: String,
    timestamp: Seconds,
    #[serde(rename = "type")]
    kind: String,
    text: Option<Body>,
    button: Option<ButtonReply>,
    interactive: Option<Interactive>,
    image: Option<Caption>,
    document: Option<Caption>,
    video: Option<Caption>,
}

#[derive(Deserialize)]
struct Body {
    body: String,
}

#[derive(Deserialize)]
struct ButtonReply {
    text: String,
}

#[derive(Deserialize)]
struct Interactive {
    button_reply: Option<Titled>,
    list_reply: Option<Titled>,
}

#[derive(Deserialize)]
struct Titled {
    title: String,
}

#[derive(Deserialize)]
struct Caption {
    caption: Option<String>,
}

#[derive(Deserialize)]
struct Status {
    id: String,
    status: String,
    timestamp: Seconds,
    recipient_id: String,
    #[serde(default)]
    errors: Vec<WaError>,
}

#[derive(Deserialize)]
struct WaError {
    code: i64,
    #[serde(default)]
    title: String,
}

/// Unix seconds, which Meta writes as a string of digits.
struct Seconds(i64);

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse()
            .map(Seconds)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not Unix seconds")))
    }
}

impl Message {
    fn text(&self) -> Option<String> {
        let caption = |c: &Option<Caption>| c.as_ref().and_then(|c| c.caption.clone());
        self.text
            .as_ref()
            .map(|t| t.body.clone())
            .or_else(|| self.button.as_ref().map(|b| b.text.clone()))
            .or_else(|| {
                let i = self.interactive.as_ref()?;
                i.button_reply
                    .as_ref()
                    .or(i.list_reply.as_ref())
                    .map(|t| t.title.clone())
            })
            .or_else(|| caption(&self.image))
            .or_else(|| caption(&self.document))
            .or_else(|| caption(&self.video))
    }
}

/// Reads a webhook body (already signature-checked).
pub fn parse(body: &[u8]) -> Result<Callback, CallbackError> {
    let mut json = serde_json::Deserializer::from_slice(body);
    let envelope: Envelope = serde_path_to_error::deserialize(&mut json).map_err(|e| {
        let path = e.path().to_string();
        CallbackError {
            path,
            reason: e.into_inner().to_string(),
        }
    })?;
    if envelope.object != "whatsapp_business_account" {
        return Err(CallbackError {
            path: "object".to_owned(),
            reason: format!("`{}` is not `whatsapp_business_account`", envelope.object),
        });
    }
    let mut out = Callback::default();
    for change in envelope.entry.into_iter().flat_map(|e| e.changes) {
        if change.field != "messages" {
            continue;
        }
        let value = change.value;
        let number = value.metadata.phone_number_id;
        for m in &value.messages {
            let profile_name = value
                .contacts
                .iter()
                .find(|c| c.wa_id == m.from)
                .and_then(|c| c.profile.as_ref()?.name.clone());
            out.messages.push(Inbound {
                phone_number_id: number.clone(),
                from: m.from.clone(),
                profile_name,
                id: m.id.clone(),
                timestamp: m.timestamp.0,
                kind: m.kind.clone(),
                text: m.text(),
            });
        }
        for s in value.statuses {
            out.statuses.push(StatusReport {
                phone_number_id: number.clone(),
                status: super::status::parse(&s.status),
                id: s.id,
                raw_status: s.status,
                timestamp: s.timestamp.0,
                recipient_id: s.recipient_id,
                error: s.errors.into_iter().next().map(|e| (e.code, e.title)),
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_inbound_text_message() {
        let got = parse(include_bytes!("fixtures/inbound_text.json")).expect("parses");
        assert!(got.statuses.is_empty());
        assert_eq!(
            got.messages,
            [Inbound {
                phone_number_id: "106540352242922".to_owned(),
                from: "16505551234".to_owned(),
                profile_name: Some("Sheena Nelson".to_owned()),
                id: "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTdBRjQyNzI0RjQ4NDcwQjY4RAA=".to_owned(),
                timestamp: 1_749_416_383,
                kind: "text".to_owned(),
                text: Some("Does it come in another color?".to_owned()),
            }]
        );
    }

    #[test]
    fn statuses_out_of_order_with_an_error() {
        let got = parse(include_bytes!("fixtures/statuses_out_of_order.json")).expect("parses");
        let seen: Vec<_> = got
            .statuses
            .iter()
            .map(|s| (s.id.as_str(), s.status, s.error.as_ref().map(|e| e.0)))
            .collect();
        assert_eq!(
            seen,
            [
                ("wamid.OUT1", Some(MessageStatus::Read), None),
                ("wamid.OUT1", Some(MessageStatus::Delivered), None),
                ("wamid.OUT2", Some(MessageStatus::Failed), Some(131_047)),
            ]
        );
    }

    #[test]
    fn malformed_bodies_name_the_place() {
        let err = parse(b"{\"object\":\"whatsapp_business_account\",\"entry\":[{\"changes\":[{\"field\":\"messages\",\"value\":{\"metadata\":{\"phone_number_id\":\"1\"},\"messages\":[{\"from\":\"2\",\"id\":\"w\",\"timestamp\":\"soon\",\"type\":\"text\"}]}}]}]}")
            .expect_err("bad timestamp");
        assert_eq!(err.path, "entry[0].changes[0].value.messages[0].timestamp");
        assert!(err.reason.contains("soon"), "{err}");
        let err = parse(b"{\"object\":\"page\",\"entry\":[]}").expect_err("not WhatsApp");
        assert_eq!(err.path, "object");
        let err = parse(b"not json").expect_err("not JSON");
        assert_eq!(err.path, ".");
        let err = parse(b"{\"entry\":[]}").expect_err("no object");
        assert!(err.reason.contains("object"), "{err}");
    }

    #[test]
    fn other_fields_and_unknown_statuses_are_kept_apart() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[
            {"field":"account_update","value":{"metadata":{"phone_number_id":"9"}}},
            {"field":"messages","value":{"metadata":{"phone_number_id":"9"},
              "statuses":[{"id":"w","status":"deleted","timestamp":"1","recipient_id":"2"}],
              "messages":[{"from":"2","id":"m","timestamp":"2","type":"interactive",
                "interactive":{"type":"button_reply","button_reply":{"id":"PAY","title":"Pay now"}}}]}}]}]}"#;
        let got = parse(body).expect("parses");
        assert_eq!(got.statuses[0].status, None);
        assert_eq!(got.statuses[0].raw_status, "deleted");
        assert_eq!(got.messages[0].text.as_deref(), Some("Pay now"));
        assert_eq!(got.messages[0].profile_name, None);
    }

    #[test]
    fn the_handshake_echoes_only_for_our_token() {
        let ours = "verify-me";
        assert_eq!(
            handshake(Some("subscribe"), Some(ours), Some("1158201444"), ours),
            Some("1158201444")
        );
        assert_eq!(
            handshake(Some("subscribe"), Some("nope"), Some("1"), ours),
            None
        );
        assert_eq!(
            handshake(Some("unsubscribe"), Some(ours), Some("1"), ours),
            None
        );
        assert_eq!(handshake(None, Some(ours), Some("1"), ours), None);
        assert_eq!(handshake(Some("subscribe"), Some(""), Some("1"), ""), None);
    }

    proptest! {
        #[test]
        fn any_bytes_are_an_answer_not_a_panic(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse(&body);
        }
    }
}
