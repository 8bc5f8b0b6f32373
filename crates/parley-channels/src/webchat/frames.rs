//! The web-chat socket's frames: JSON text messages, one object each, told apart by
//! `type`.
//!
//! From the widget:
//! * `{"type":"hello","visitor_token":…,"user_token":…}`: the first frame, both optional;
//! * `{"type":"message","text":"…","client_id":"…"}`: the visitor writes; `client_id`
//!   (the widget's own id for it, 1 to 64 of `A–Z a–z 0–9 _ -`) makes a resend after a
//!   reconnection harmless;
//! * `{"type":"received","id":"msg_…"}` and `{"type":"read","id":"msg_…"}`: a reply
//!   reached the page, or was shown on a visible page.
//!
//! From the server: `welcome` (the visitor token to keep and the history), `message` (a
//! line of the thread, whoever wrote it) and `error` (a code and a sentence).
//!
//! A frame that cannot be read gets an error naming the field; the socket stays open.

use serde::{Deserialize, Serialize};

/// The longest text a visitor may send.
pub const MAX_TEXT_CHARS: usize = 4_096;
/// The longest frame the server reads (a text of 4,096 characters of 4 bytes, escaped,
/// fits well).
pub const MAX_FRAME_BYTES: usize = 64 * 1024;
/// The longest client id.
const MAX_CLIENT_ID: usize = 64;
/// The longest token or message id read.
const MAX_TOKEN: usize = 4_096;

/// What the widget sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientFrame {
    /// The first frame: who the visitor is.
    Hello {
        /// The token the server gave this browser before.
        visitor_token: Option<String>,
        /// The site's JWT for a signed-in user.
        user_token: Option<String>,
    },
    /// The visitor writes.
    Message {
        /// What they wrote.
        text: String,
        /// The widget's id for it.
        client_id: String,
    },
    /// A reply reached the page.
    Received {
        /// The message's id.
        id: String,
    },
    /// A reply was shown on a visible page.
    Read {
        /// The message's id.
        id: String,
    },
}

/// A frame that cannot be read: the field and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FrameError {
    /// The field (`type`, `text`…), or `frame` for the whole.
    pub field: String,
    /// Why.
    pub reason: String,
}

impl FrameError {
    fn new(field: &str, reason: impl Into<String>) -> Self {
        Self {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(rename = "type")]
    kind: String,
    visitor_token: Option<String>,
    user_token: Option<String>,
    text: Option<String>,
    client_id: Option<String>,
    id: Option<String>,
}

fn bounded(field: &str, value: Option<String>, max: usize) -> Result<Option<String>, FrameError> {
    match value {
        Some(v) if v.len() > max => Err(FrameError::new(
            field,
            format!("must be at most {max} bytes"),
        )),
        Some(v) if v.is_empty() => Ok(None),
        v => Ok(v),
    }
}

fn required(field: &str, value: Option<String>, max: usize) -> Result<String, FrameError> {
    bounded(field, value, max)?.ok_or_else(|| FrameError::new(field, "is required"))
}

/// Reads one frame from the widget.
pub fn parse(text: &str) -> Result<ClientFrame, FrameError> {
    if text.len() > MAX_FRAME_BYTES {
        return Err(FrameError::new(
            "frame",
            format!("must be at most {MAX_FRAME_BYTES} bytes"),
        ));
    }
    let de = &mut serde_json::Deserializer::from_str(text);
    let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "frame".to_owned()
        } else {
            path
        };
        FrameError {
            field,
            reason: e.into_inner().to_string(),
        }
    })?;
    let unexpected = |field: &str, present: bool| {
        if present {
            Err(FrameError::new(
                field,
                format!("is not part of a {} frame", raw.kind),
            ))
        } else {
            Ok(())
        }
    };
    match raw.kind.as_str() {
        "hello" => {
            unexpected("text", raw.text.is_some())?;
            unexpected("client_id", raw.client_id.is_some())?;
            unexpected("id", raw.id.is_some())?;
            Ok(ClientFrame::Hello {
                visitor_token: bounded("visitor_token", raw.visitor_token, MAX_TOKEN)?,
                user_token: bounded("user_token", raw.user_token, MAX_TOKEN)?,
            })
        }
        "message" => {
            unexpected("visitor_token", raw.visitor_token.is_some())?;
            unexpected("user_token", raw.user_token.is_some())?;
            unexpected("id", raw.id.is_some())?;
            let text = raw.text.unwrap_or_default();
            if text.trim().is_empty() {
                return Err(FrameError::new("text", "must not be empty"));
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(FrameError::new(
                    "text",
                    format!("must be at most {MAX_TEXT_CHARS} characters"),
                ));
            }
            let client_id = required("client_id", raw.client_id, MAX_CLIENT_ID)?;
            if !client_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            {
                return Err(FrameError::new(
                    "client_id",
                    "must be letters, digits, _ or - only",
                ));
            }
            Ok(ClientFrame::Message { text, client_id })
        }
        "received" | "read" => {
            unexpected("visitor_token", raw.visitor_token.is_some())?;
            unexpected("user_token", raw.user_token.is_some())?;
            unexpected("text", raw.text.is_some())?;
            unexpected("client_id", raw.client_id.is_some())?;
            let id = required("id", raw.id, MAX_CLIENT_ID)?;
            Ok(if raw.kind == "read" {
                ClientFrame::Read { id }
            } else {
                ClientFrame::Received { id }
            })
        }
        other => Err(FrameError::new(
            "type",
            format!("{other:?} is not one of hello, message, received, read"),
        )),
    }
}

/// Who wrote a line of the thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// The visitor.
    Inbound,
    /// The bot or a person of the organization.
    Outbound,
}

/// A line of the thread as the widget shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The message's id.
    pub id: String,
    /// Who wrote it.
    pub direction: Direction,
    /// The text.
    pub text: String,
    /// When (RFC 3339).
    pub at: String,
    /// The widget's id, on the visitor's own lines when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// What the server sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// The answer to `hello`.
    Welcome {
        /// The token to keep (a fresh one at every connection: its expiry slides).
        visitor_token: String,
        /// The thread so far, oldest first.
        history: Vec<Line>,
    },
    /// A line of the thread.
    Message(Line),
    /// Something went wrong with the last frame.
    Error {
        /// A stable code (`bad_frame`, `rate_limited`, `user_token_invalid`…).
        code: String,
        /// A sentence for the developer.
        detail: String,
    },
}

impl ServerFrame {
    /// The frame as JSON text.
    #[must_use]
    pub fn to_text(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| {
            r#"{"type":"error","code":"internal","detail":"unwritable frame"}"#.to_owned()
        })
    }

    /// An error frame.
    #[must_use]
    pub fn error(code: &str, detail: impl Into<String>) -> Self {
        Self::Error {
            code: code.to_owned(),
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reads_each_frame() {
        assert_eq!(
            parse(r#"{"type":"hello"}"#),
            Ok(ClientFrame::Hello {
                visitor_token: None,
                user_token: None
            })
        );
        assert_eq!(
            parse(r#"{"type":"hello","visitor_token":"a.b.c","user_token":""}"#),
            Ok(ClientFrame::Hello {
                visitor_token: Some("a.b.c".into()),
                user_token: None
            })
        );
        assert_eq!(
            parse(r#"{"type":"message","text":"hi ✓","client_id":"c-1_x"}"#),
            Ok(ClientFrame::Message {
                text: "hi ✓".into(),
                client_id: "c-1_x".into()
            })
        );
        assert_eq!(
            parse(r#"{"type":"read","id":"msg_1"}"#),
            Ok(ClientFrame::Read { id: "msg_1".into() })
        );
        assert_eq!(
            parse(r#"{"type":"received","id":"msg_1"}"#),
            Ok(ClientFrame::Received { id: "msg_1".into() })
        );
    }

    fn field_of(text: &str) -> String {
        parse(text).unwrap_err().field
    }

    #[test]
    fn names_what_is_wrong() {
        assert_eq!(field_of("not json"), "frame");
        assert_eq!(field_of(r#"{"text":"x"}"#), "frame");
        assert_eq!(field_of(r#"{"type":"shout"}"#), "type");
        assert_eq!(field_of(r#"{"type":"message","client_id":"a"}"#), "text");
        assert_eq!(
            field_of(r#"{"type":"message","text":"  ","client_id":"a"}"#),
            "text"
        );
        assert_eq!(field_of(r#"{"type":"message","text":"x"}"#), "client_id");
        assert_eq!(
            field_of(r#"{"type":"message","text":"x","client_id":"a b"}"#),
            "client_id"
        );
        assert_eq!(
            field_of(r#"{"type":"message","text":5,"client_id":"a"}"#),
            "text"
        );
        assert_eq!(field_of(r#"{"type":"hello","text":"x"}"#), "text");
        assert_eq!(field_of(r#"{"type":"read"}"#), "id");
        assert_eq!(field_of(r#"{"type":"hello","extra":1}"#), "extra");
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        assert_eq!(
            field_of(&format!(
                r#"{{"type":"message","text":"{long}","client_id":"a"}}"#
            )),
            "text"
        );
        assert_eq!(field_of(&" ".repeat(MAX_FRAME_BYTES + 1)), "frame");
    }

    #[test]
    fn server_frames_have_the_documented_shape() {
        let line = Line {
            id: "msg_1".into(),
            direction: Direction::Outbound,
            text: "Hello".into(),
            at: "2026-12-05T10:00:00.000Z".into(),
            client_id: None,
        };
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::Message(line.clone()).to_text()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "message", "id": "msg_1", "direction": "outbound",
                "text": "Hello", "at": "2026-12-05T10:00:00.000Z"})
        );
        let v: serde_json::Value = serde_json::from_str(
            &ServerFrame::Welcome {
                visitor_token: "t".into(),
                history: vec![line],
            }
            .to_text(),
        )
        .unwrap();
        assert_eq!(v["type"], "welcome");
        assert_eq!(v["history"][0]["direction"], "outbound");
        let v: serde_json::Value =
            serde_json::from_str(&ServerFrame::error("bad_frame", "text: x").to_text()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"type": "error", "code": "bad_frame", "detail": "text: x"})
        );
    }

    proptest! {
        #[test]
        fn any_text_is_a_frame_or_an_error_naming_a_field(text in ".{0,200}") {
            if let Err(e) = parse(&text) {
                prop_assert!(!e.field.is_empty());
            }
        }

        #[test]
        fn a_message_frame_reads_back_its_text(
            text in "[^\u{0}-\u{1f}]{1,300}".prop_filter("not blank", |t| !t.trim().is_empty()),
            id in "[A-Za-z0-9_-]{1,64}",
        ) {
            let frame = serde_json::json!({"type": "message", "text": text, "client_id": id});
            prop_assert_eq!(
                parse(&frame.to_string()),
                Ok(ClientFrame::Message { text, client_id: id })
            );
        }
    }
}
