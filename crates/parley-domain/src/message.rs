//! Messages' vocabulary (SPEC §5): their direction, status, SMS encoding, and the rule that
//! a status only moves forward. The runtime and the channel adapters decide *when* a
//! status changes; this module decides whether a reported status may change it.

use serde::{Deserialize, Serialize};

/// Which way a message travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From the contact to the organization.
    Inbound,
    /// From the organization (bot or agent) to the contact.
    Outbound,
}

impl Direction {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Inbound, Self::Outbound]
            .into_iter()
            .find(|d| d.as_str() == name)
    }
}

/// Where a message stands (SPEC §5). Inbound messages are `received`; outbound ones start
/// `pending` and move forward as the provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// An inbound message as it arrived.
    Received,
    /// Accepted by Parley, not yet by the provider.
    Pending,
    /// Accepted by the provider (or the carrier).
    Sent,
    /// Reached the handset.
    Delivered,
    /// The carrier could not deliver it.
    Undelivered,
    /// The provider refused it, or Parley could not send it (e.g. `opted_out`).
    Failed,
    /// Read by the contact (channels with read receipts).
    Read,
}

impl MessageStatus {
    /// Every status, in declaration order.
    pub const ALL: [MessageStatus; 7] = [
        Self::Received,
        Self::Pending,
        Self::Sent,
        Self::Delivered,
        Self::Undelivered,
        Self::Failed,
        Self::Read,
    ];

    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Read => "read",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == name)
    }

    /// How far along an outbound message is; `None` for `received`, which belongs to
    /// inbound messages and never changes.
    ///
    /// `undelivered` and `failed` share a rank below `delivered`: providers report out of
    /// order (a WhatsApp `delivered` may follow a `failed`, and `read` may come with no
    /// `delivered` at all), and evidence that the message arrived outweighs a report that
    /// it did not, never the other way round.
    #[must_use]
    pub const fn rank(self) -> Option<u8> {
        match self {
            Self::Received => None,
            Self::Pending => Some(0),
            Self::Sent => Some(1),
            Self::Undelivered | Self::Failed => Some(2),
            Self::Delivered => Some(3),
            Self::Read => Some(4),
        }
    }

    /// Whether a report of `next` moves a message that is `self` now. A report that does
    /// not is still recorded (with its time) but leaves the status as it is.
    #[must_use]
    pub fn advances_to(self, next: MessageStatus) -> bool {
        matches!((self.rank(), next.rank()), (Some(now), Some(then)) if then > now)
    }

    /// An outcome: the provider will report nothing that matters after it, except `read`.
    #[must_use]
    pub const fn is_outcome(self) -> bool {
        matches!(
            self,
            Self::Delivered | Self::Undelivered | Self::Failed | Self::Read
        )
    }
}

/// How an SMS body is encoded on the air (SPEC §5, `reference/channels.md` §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// The GSM 03.38 7-bit alphabet (basic table, and the extension table at two septets).
    Gsm7,
    /// UTF-16 code units: any text with a character outside GSM-7.
    Ucs2,
}

impl Encoding {
    /// The stored and wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Encoding::Gsm7 => "gsm7",
            Encoding::Ucs2 => "ucs2",
        }
    }

    /// Reads a stored name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Gsm7, Self::Ucs2]
            .into_iter()
            .find(|e| e.as_str() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::MessageStatus::*;
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::from_name(s.as_str()), Some(s));
        }
        assert_eq!(MessageStatus::from_name("queued"), None);
        for d in [Direction::Inbound, Direction::Outbound] {
            assert_eq!(Direction::from_name(d.as_str()), Some(d));
        }
        for e in [Encoding::Gsm7, Encoding::Ucs2] {
            assert_eq!(Encoding::from_name(e.as_str()), Some(e));
        }
    }

    #[test]
    fn status_only_moves_forward() {
        // The usual path.
        assert!(Pending.advances_to(Sent));
        assert!(Sent.advances_to(Delivered));
        assert!(Delivered.advances_to(Read));
        // Skipped steps are fine: read with no delivered, failed straight from pending.
        assert!(Sent.advances_to(Read));
        assert!(Pending.advances_to(Failed));
        // A late delivered after read is recorded but does not move it back (SPEC §5).
        assert!(!Read.advances_to(Delivered));
        assert!(!Delivered.advances_to(Sent));
        // Evidence of arrival outweighs a failure report, never the reverse.
        assert!(Failed.advances_to(Delivered));
        assert!(Undelivered.advances_to(Read));
        assert!(!Delivered.advances_to(Failed));
        assert!(!Failed.advances_to(Undelivered));
        assert!(!Undelivered.advances_to(Failed));
        // The same status again changes nothing; inbound messages never move.
        assert!(!Sent.advances_to(Sent));
        assert!(!Received.advances_to(Read));
        assert!(!Pending.advances_to(Received));
    }

    #[test]
    fn any_order_of_reports_ends_at_the_furthest() {
        // Whatever order the reports come in, applying advances_to ends on the furthest.
        let reports = [Sent, Delivered, Read, Failed];
        let mut order = reports;
        for _ in 0..24 {
            let mut status = Pending;
            for r in order {
                if status.advances_to(r) {
                    status = r;
                }
            }
            assert_eq!(status, Read, "{order:?}");
            order.rotate_left(1);
            order.swap(0, 2);
        }
    }
}
