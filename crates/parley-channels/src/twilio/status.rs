//! Twilio's message statuses (`message_enum_status`, `reference/channels.md` §1.3) in
//! Parley's terms (SPEC §5).
//!
//! Twilio's queueing states (`accepted`, `scheduled`, `queued`, `sending`) are all still
//! `pending` for us: nothing has left Twilio. `canceled` (a scheduled message cancelled)
//! is `failed`: it will never be sent. `partially_delivered` is `delivered`: for a message
//! to one contact, some of it reached the handset. The inbound states are `received`.
//! An unknown status (Twilio adds values without notice) is `None`: the callback is
//! recorded and the message stays as it is.

use parley_domain::MessageStatus;

/// Parley's status for Twilio's `status`, if it knows it.
#[must_use]
pub fn parse(status: &str) -> Option<MessageStatus> {
    Some(match status {
        "accepted" | "scheduled" | "queued" | "sending" => MessageStatus::Pending,
        "sent" => MessageStatus::Sent,
        "delivered" | "partially_delivered" => MessageStatus::Delivered,
        "undelivered" => MessageStatus::Undelivered,
        "failed" | "canceled" => MessageStatus::Failed,
        "read" => MessageStatus::Read,
        "receiving" | "received" => MessageStatus::Received,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_of_twilios_enum_is_known() {
        // The thirteen values of message_enum_status (twilio-oai, §1.3).
        let all = [
            "queued",
            "sending",
            "sent",
            "failed",
            "delivered",
            "undelivered",
            "receiving",
            "received",
            "accepted",
            "scheduled",
            "read",
            "partially_delivered",
            "canceled",
        ];
        for s in all {
            assert!(parse(s).is_some(), "{s}");
        }
        assert_eq!(parse("sent"), Some(MessageStatus::Sent));
        assert_eq!(parse("undelivered"), Some(MessageStatus::Undelivered));
        assert_eq!(parse("canceled"), Some(MessageStatus::Failed));
        assert_eq!(parse("Delivered"), None, "Twilio's values are lower case");
        assert_eq!(parse("lost"), None);
    }
}
