//! Twilio's callbacks (`reference/channels.md` §1.4–1.5), form-encoded: an inbound message
//! or a status report on one of ours. Check the signature (`signature::verify_form`) over
//! *all* the parameters received before calling these; unknown parameters are ignored
//! here, as Twilio adds them without notice.

use parley_domain::MessageStatus;

/// A customer's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// Twilio's id (`SM…`/`MM…`).
    pub message_sid: String,
    /// The account it came to.
    pub account_sid: String,
    /// The sender's address (E.164, or `whatsapp:+…`).
    pub from: String,
    /// Our number it came to.
    pub to: String,
    /// The text (empty for media alone).
    pub body: String,
    /// Media attached: content type and URL, in order.
    pub media: Vec<(String, String)>,
}

/// A status report on one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    /// Twilio's id of our message.
    pub message_sid: String,
    /// Parley's status, when Twilio's is known (`super::status::parse`).
    pub status: Option<MessageStatus>,
    /// The status as Twilio wrote it.
    pub raw_status: String,
    /// Twilio's error code on failures (`30003`…).
    pub error_code: Option<String>,
    /// Twilio's error text, when it sends one.
    pub error_message: Option<String>,
}

/// Why a callback was refused: the parameter missing or wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the Twilio callback's `{field}` {reason}")]
pub struct CallbackError {
    /// The form parameter.
    pub field: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

fn first<'p>(params: &'p [(String, String)], name: &str) -> Option<&'p str> {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn required<'p>(params: &'p [(String, String)], name: &str) -> Result<&'p str, CallbackError> {
    let reason = match first(params, name) {
        Some(v) if !v.is_empty() => return Ok(v),
        Some(_) => "is empty",
        None => "is missing",
    };
    Err(CallbackError {
        field: name.to_owned(),
        reason,
    })
}

/// The most media items a message may carry (Twilio's limit is 10).
const MAX_MEDIA: usize = 10;

/// Reads an inbound message callback.
pub fn inbound(params: &[(String, String)]) -> Result<Inbound, CallbackError> {
    let count = match first(params, "NumMedia") {
        None | Some("") => 0,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= MAX_MEDIA)
            .ok_or_else(|| CallbackError {
                field: "NumMedia".to_owned(),
                reason: "is not a number from 0 to 10",
            })?,
    };
    let media = (0..count)
        .map(|i| {
            Ok((
                required(params, &format!("MediaContentType{i}"))?.to_owned(),
                required(params, &format!("MediaUrl{i}"))?.to_owned(),
            ))
        })
        .collect::<Result<Vec<_>, CallbackError>>()?;
    Ok(Inbound {
        message_sid: required(params, "MessageSid")?.to_owned(),
        account_sid: required(params, "AccountSid")?.to_owned(),
        from: required(params, "From")?.to_owned(),
        to: required(params, "To")?.to_owned(),
        body: first(params, "Body").unwrap_or_default().to_owned(),
        media,
    })
}

/// Reads a status callback.
pub fn status_report(params: &[(String, String)]) -> Result<StatusReport, CallbackError> {
    let raw = required(params, "MessageStatus")?;
    let optional = |name| {
        first(params, name)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    Ok(StatusReport {
        message_sid: required(params, "MessageSid")?.to_owned(),
        status: super::status::parse(raw),
        raw_status: raw.to_owned(),
        error_code: optional("ErrorCode"),
        error_message: optional("ErrorMessage"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn form(text: &str) -> Vec<(String, String)> {
        text.split('&')
            .filter_map(|p| p.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.replace("%2B", "+").replace("%20", " ")))
            .collect()
    }

    #[test]
    fn an_inbound_sms_with_media() {
        let params = form(
            "ToCountry=GB&SmsMessageSid=SM11&NumMedia=1&MediaContentType0=image/jpeg\
             &MediaUrl0=https://api.twilio.example/m/1&SmsSid=SM11&SmsStatus=received\
             &Body=I%20can%20pay%20on%20Friday&To=%2B447700900001&NumSegments=1\
             &MessageSid=SM11&AccountSid=AC22&From=%2B447700900123&ApiVersion=2010-04-01",
        );
        let got = inbound(&params).expect("reads");
        assert_eq!(got.message_sid, "SM11");
        assert_eq!(got.account_sid, "AC22");
        assert_eq!(
            (got.from.as_str(), got.to.as_str()),
            ("+447700900123", "+447700900001")
        );
        assert_eq!(got.body, "I can pay on Friday");
        assert_eq!(
            got.media,
            [(
                "image/jpeg".to_owned(),
                "https://api.twilio.example/m/1".to_owned()
            )]
        );
    }

    #[test]
    fn missing_or_wrong_fields_are_named() {
        let err = inbound(&form("AccountSid=AC1&From=%2B1&To=%2B2")).expect_err("no sid");
        assert_eq!(
            (err.field.as_str(), err.reason),
            ("MessageSid", "is missing")
        );
        let err = inbound(&form("MessageSid=SM1&AccountSid=AC1&From=&To=%2B2")).expect_err("empty");
        assert_eq!((err.field.as_str(), err.reason), ("From", "is empty"));
        let err = inbound(&form(
            "MessageSid=SM1&AccountSid=AC1&From=%2B1&To=%2B2&NumMedia=11",
        ))
        .expect_err("too many");
        assert_eq!(err.field, "NumMedia");
        let err = inbound(&form(
            "MessageSid=SM1&AccountSid=AC1&From=%2B1&To=%2B2&NumMedia=1",
        ))
        .expect_err("media missing");
        assert_eq!(err.field, "MediaContentType0");
        assert!(err.to_string().contains("MediaContentType0"));
    }

    #[test]
    fn status_reports() {
        let got = status_report(&form(
            "MessageSid=SM9&MessageStatus=undelivered&ErrorCode=30003&AccountSid=AC1&RawDlrDoneDate=2612041005",
        ))
        .expect("reads");
        assert_eq!(got.status, Some(MessageStatus::Undelivered));
        assert_eq!(got.error_code.as_deref(), Some("30003"));
        assert_eq!(got.error_message, None);
        let got =
            status_report(&form("MessageSid=SM9&MessageStatus=sent&ErrorCode=")).expect("reads");
        assert_eq!(
            (got.status, got.error_code),
            (Some(MessageStatus::Sent), None)
        );
        let got = status_report(&form("MessageSid=SM9&MessageStatus=brand_new")).expect("reads");
        assert_eq!((got.status, got.raw_status.as_str()), (None, "brand_new"));
        let err = status_report(&form("MessageSid=SM9")).expect_err("no status");
        assert_eq!(err.field, "MessageStatus");
    }

    proptest! {
        #[test]
        fn any_form_is_an_answer_not_a_panic(
            pairs in proptest::collection::vec(("[A-Za-z0-9]{1,18}", "\\PC{0,12}"), 0..12)
        ) {
            let _ = inbound(&pairs);
            let _ = status_report(&pairs);
        }
    }
}
