//! WhatsApp Cloud API statuses (`statuses[].status`, `reference/channels.md` §3.4) in
//! Parley's terms (SPEC §5). They arrive out of order, and `delivered` is skipped when
//! delivery and reading happen together; `MessageStatus::advances_to` sorts that out.
//! An unknown status is `None`: recorded, and the message stays as it is.

use parley_domain::MessageStatus;

/// Parley's status for WhatsApp's `status`, if it knows it.
#[must_use]
pub fn parse(status: &str) -> Option<MessageStatus> {
    Some(match status {
        "sent" => MessageStatus::Sent,
        "delivered" => MessageStatus::Delivered,
        "read" => MessageStatus::Read,
        "failed" => MessageStatus::Failed,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_statuses_and_nothing_else() {
        assert_eq!(parse("sent"), Some(MessageStatus::Sent));
        assert_eq!(parse("delivered"), Some(MessageStatus::Delivered));
        assert_eq!(parse("read"), Some(MessageStatus::Read));
        assert_eq!(parse("failed"), Some(MessageStatus::Failed));
        assert_eq!(parse("deleted"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn out_of_order_reports_end_on_the_furthest() {
        // read before delivered (delivered skipped, then late), and delivered after failed.
        let mut status = MessageStatus::Pending;
        for report in ["sent", "read", "delivered", "failed"] {
            let next = parse(report).unwrap_or(status);
            if status.advances_to(next) {
                status = next;
            }
        }
        assert_eq!(status, MessageStatus::Read);
    }
}
