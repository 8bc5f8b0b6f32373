//! Prefixed, opaque identifiers (SPEC §7.5): a UUIDv7 inside, `<prefix>_<26 base32 chars>`
//! outside. One macro defines every id type; raw `String` ids never appear in signatures.
//!
//! UUIDv7 keeps ids time-ordered, so ordering by id is ordering by creation, which is what
//! cursor pagination relies on. Ids come from `Uuid::now_v7()`, whose per-process counter
//! keeps them strictly increasing inside one process; they are opaque and never compared
//! with clock readings, so they need no injected clock.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

/// Crockford's base32 alphabet, lower case (no i, l, o, u), as TypeID uses.
const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const ENCODED_LEN: usize = 26;

/// Why a string is not a valid id of the expected type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IdError {
    /// The prefix before `_` is not the one this id type uses.
    #[error("expected an id starting with `{expected}_`")]
    WrongPrefix {
        /// The prefix the id type requires.
        expected: &'static str,
    },
    /// The part after the prefix is not 26 base32 characters encoding 128 bits.
    #[error("malformed `{prefix}_` id")]
    Malformed {
        /// The prefix of the id type.
        prefix: &'static str,
    },
}

fn encode(uuid: Uuid) -> [u8; ENCODED_LEN] {
    let mut value = uuid.as_u128();
    let mut out = [0u8; ENCODED_LEN];
    // 26 characters carry 130 bits; the first carries only the top 3 bits (so it is 0..=7).
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(value & 31) as usize];
        value >>= 5;
    }
    out
}

fn decode(text: &str) -> Option<Uuid> {
    let bytes = text.as_bytes();
    if bytes.len() != ENCODED_LEN || bytes[0] > b'7' {
        return None;
    }
    let mut value: u128 = 0;
    for &b in bytes {
        let digit = ALPHABET.iter().position(|&a| a == b)? as u128;
        value = (value << 5) | digit;
    }
    Some(Uuid::from_u128(value))
}

/// Time-ordered UUIDv7s drawn one after another without asking the operating system for
/// randomness each time: the 74 bits after the timestamp start at a random point and count
/// up (RFC 9562 §6.2, "monotonic random"). An import creating a million contacts spent
/// ~5% of its writer thread in `getrandom` through `Uuid::now_v7` before this.
///
/// Ids from one sequence are strictly increasing; ids from different sequences (or from
/// `generate`) differ in 74 bits that started at independent random points.
#[derive(Debug)]
pub struct IdSequence {
    last_ms: u64,
    counter: u128,
}

impl IdSequence {
    const COUNTER_BITS: u32 = 74;

    /// A sequence starting at a random point.
    #[must_use]
    pub fn new() -> Self {
        Self {
            last_ms: 0,
            counter: Uuid::new_v4().as_u128() & ((1 << Self::COUNTER_BITS) - 1),
        }
    }

    /// The next UUIDv7: the current millisecond (never earlier than the last one given)
    /// and the next counter value.
    pub fn next_uuid(&mut self) -> Uuid {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.counter = (self.counter + 1) & ((1 << Self::COUNTER_BITS) - 1);
        // A counter that wraps moves to the next millisecond, so order still holds.
        let floor = if self.counter == 0 {
            self.last_ms + 1
        } else {
            self.last_ms
        };
        self.last_ms = floor.max(now) & ((1 << 48) - 1);
        let rand_a = self.counter >> 62;
        let rand_b = self.counter & ((1 << 62) - 1);
        Uuid::from_u128(
            (u128::from(self.last_ms) << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b,
        )
    }
}

impl Default for IdSequence {
    fn default() -> Self {
        Self::new()
    }
}

pub(crate) fn format_id(prefix: &str, uuid: Uuid, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let encoded = encode(uuid);
    // The alphabet is ASCII, so this cannot fail.
    let text = std::str::from_utf8(&encoded).map_err(|_| fmt::Error)?;
    write!(f, "{prefix}_{text}")
}

pub(crate) fn parse_id(prefix: &'static str, text: &str) -> Result<Uuid, IdError> {
    let rest = text
        .strip_prefix(prefix)
        .and_then(|r| r.strip_prefix('_'))
        .ok_or(IdError::WrongPrefix { expected: prefix })?;
    decode(rest).ok_or(IdError::Malformed { prefix })
}

macro_rules! define_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// The text before the `_` in this id type's string form.
            pub const PREFIX: &'static str = $prefix;

            /// A fresh, time-ordered id.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// The next id of `sequence` (for many ids at once, e.g. an import's).
            #[must_use]
            pub fn next_of(sequence: &mut IdSequence) -> Self {
                Self(sequence.next_uuid())
            }

            /// Wraps an existing UUID (used by stores and tests).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The UUID inside.
            #[must_use]
            pub const fn uuid(self) -> Uuid {
                self.0
            }

            /// The lowest id a generated id of Unix millisecond `ms` can have: every id
            /// generated at `ms` or later sorts after it (a cursor for "since then").
            #[must_use]
            pub fn floor_at_millis(ms: u64) -> Self {
                let mut bytes = [0u8; 16];
                bytes[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
                bytes[6] = 0x70; // version 7
                bytes[8] = 0x80; // RFC 4122 variant
                Self(Uuid::from_bytes(bytes))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_id($prefix, self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                format_id($prefix, self.0, f)
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                parse_id($prefix, s).map(Self)
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(/// An organization (`org_…`).
    OrgId, "org");
define_id!(/// A user account (`usr_…`).
    UserId, "usr");
define_id!(/// An API key (`key_…`); its secret is shown once and stored hashed.
    ApiKeyId, "key");
define_id!(/// A browser session (`ses_…`).
    SessionId, "ses");
define_id!(/// An audit-log entry (`aud_…`).
    AuditId, "aud");
define_id!(/// A background job (`job_…`).
    JobId, "job");
define_id!(/// A webhook event (`evt_…`), stable across delivery retries.
    EventId, "evt");
define_id!(/// A contact (`ct_…`).
    ContactId, "ct");
define_id!(/// A contact import (`imp_…`).
    ImportId, "imp");
define_id!(/// A conversation (`conv_…`).
    ConversationId, "conv");
define_id!(/// A message (`msg_…`).
    MessageId, "msg");
define_id!(/// A person's note on a conversation (`note_…`).
    NoteId, "note");
define_id!(/// A bot flow (`flow_…`); its versions are numbered within it.
    FlowId, "flow");
define_id!(/// A webhook endpoint (`whk_…`).
    WebhookId, "whk");
define_id!(/// A messaging channel (`chn_…`): one provider account and sender of an organization.
    ChannelId, "chn");
define_id!(/// A campaign (`cmp_…`): one first message to each contact of an audience.
    CampaignId, "cmp");
define_id!(/// An invitation to join an organization (`inv_…`).
    InvitationId, "inv");

impl MessageId {
    /// The first message of campaign recipient `seq`, made from the campaign's id and the
    /// seq (a version-8 UUID: the campaign's 48-bit time and the next 42 bits, which hold
    /// the counter that keeps ids of one millisecond apart, then the seq in 32 bits: four
    /// billion recipients), so it is the same wherever and however often it is made. It
    /// names the recipient: it is the provider's idempotency key for the message
    /// (ADR 0008). It sorts by the campaign's creation time, so before every message
    /// generated after the campaign was created, and apart from generated ids (their
    /// version is 7).
    #[must_use]
    pub fn for_recipient(campaign: CampaignId, seq: u64) -> Self {
        let c = campaign.uuid().as_u128();
        const SEQ_BITS: u32 = 32;
        let seq = u128::from(seq) & ((1 << SEQ_BITS) - 1);
        // Keep the campaign's time (48 bits), rand_a (12 bits) and the top 30 bits of its
        // rand_b; set version 8 and the RFC 4122 variant; the seq takes the low 32 bits.
        let time = c & !((1u128 << 80) - 1);
        let rand_a = c & (0xFFF << 64);
        let rand_b_top = c & (((1 << 30) - 1) << SEQ_BITS);
        Self(Uuid::from_u128(
            time | (0x8 << 76) | rand_a | (0b10 << 62) | rand_b_top | seq,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_recipients_message_id_is_made_from_the_campaign_and_the_seq() {
        let campaign = CampaignId::generate();
        let first = MessageId::for_recipient(campaign, 1);
        assert_eq!(
            first,
            MessageId::for_recipient(campaign, 1),
            "the same every time"
        );
        assert_ne!(first, MessageId::for_recipient(campaign, 2));
        assert_ne!(first, MessageId::for_recipient(CampaignId::generate(), 1));
        let uuid = first.uuid();
        assert_eq!(uuid.get_version_num(), 8);
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
        assert_eq!(
            uuid.as_u128() >> 80,
            campaign.uuid().as_u128() >> 80,
            "its time"
        );
        // Messages made later (from the next millisecond on) sort after it.
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(first < MessageId::generate());
        assert!(MessageId::for_recipient(campaign, 1 << 31) > first);
        assert_eq!(first.to_string().parse::<MessageId>(), Ok(first));
    }

    proptest! {
        #[test]
        fn recipients_message_ids_differ_by_seq(a in 0u64..(1 << 32), b in 0u64..(1 << 32)) {
            let campaign = CampaignId::generate();
            prop_assert_eq!(
                a == b,
                MessageId::for_recipient(campaign, a) == MessageId::for_recipient(campaign, b)
            );
        }
    }

    #[test]
    fn a_floor_sorts_below_every_id_of_its_millisecond_and_above_earlier_ones() {
        let id = EventId::generate();
        let (secs, nanos) = id.uuid().get_timestamp().unwrap().to_unix();
        let ms = secs * 1000 + u64::from(nanos / 1_000_000);
        assert!(EventId::floor_at_millis(ms) <= id);
        assert!(EventId::floor_at_millis(ms + 1) > id);
        assert!(EventId::floor_at_millis(ms - 1) < id);
    }

    #[test]
    fn a_sequence_gives_increasing_version_7_ids_of_now() {
        let before = Uuid::now_v7();
        let mut sequence = IdSequence::new();
        let ids: Vec<ContactId> = (0..10_000)
            .map(|_| ContactId::next_of(&mut sequence))
            .collect();
        assert!(
            ids.windows(2).all(|w| w[0] < w[1]),
            "ids must be strictly increasing"
        );
        for id in [ids[0], ids[9_999]] {
            let uuid = id.uuid();
            assert_eq!(uuid.get_version_num(), 7);
            assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
            let ms = |u: Uuid| u.as_u128() >> 80;
            assert!(ms(uuid) >= ms(before) && ms(uuid) <= ms(Uuid::now_v7()));
            assert_eq!(id.to_string().parse::<ContactId>(), Ok(id));
        }
        // Two sequences start at independent points.
        let other = ContactId::next_of(&mut IdSequence::new());
        assert!(!ids.contains(&other));
    }

    #[test]
    fn a_wrapping_counter_moves_to_the_next_millisecond() {
        // A millisecond in 2096, so the clock does not overtake it.
        let mut sequence = IdSequence {
            last_ms: 4_000_000_000_000,
            counter: (1 << IdSequence::COUNTER_BITS) - 2,
        };
        let a = sequence.next_uuid();
        let b = sequence.next_uuid();
        assert!(a < b, "{a} then {b}");
        assert_eq!(a.as_u128() >> 80, 4_000_000_000_000);
        assert_eq!(b.as_u128() >> 80, 4_000_000_000_001);
        assert_eq!(b.as_u128() & ((1 << 62) - 1), 0);
    }

    #[test]
    fn display_has_prefix_and_fixed_length() {
        let id = OrgId::generate();
        let text = id.to_string();
        assert!(text.starts_with("org_"));
        assert_eq!(text.len(), 4 + ENCODED_LEN);
        assert_eq!(text.parse::<OrgId>(), Ok(id));
    }

    #[test]
    fn wrong_prefix_and_garbage_are_named() {
        let user = UserId::generate().to_string();
        assert_eq!(
            user.parse::<OrgId>(),
            Err(IdError::WrongPrefix { expected: "org" })
        );
        assert_eq!(
            "org_".parse::<OrgId>(),
            Err(IdError::Malformed { prefix: "org" })
        );
        assert_eq!(
            "org_zzzzzzzzzzzzzzzzzzzzzzzzzz".parse::<OrgId>(),
            Err(IdError::Malformed { prefix: "org" })
        );
        assert_eq!(
            "org_0000000000000000000000000u".parse::<OrgId>(),
            Err(IdError::Malformed { prefix: "org" })
        );
    }

    #[test]
    fn later_ids_sort_after_earlier_ones_as_text() {
        let a = ContactId::generate();
        let b = ContactId::generate();
        assert!(a < b);
        assert!(a.to_string() < b.to_string());
    }

    proptest! {
        #[test]
        fn round_trips_every_uuid(bits in any::<u128>()) {
            let id = EventId::from_uuid(Uuid::from_u128(bits));
            prop_assert_eq!(id.to_string().parse::<EventId>(), Ok(id));
        }

        #[test]
        fn text_order_matches_uuid_order(a in any::<u128>(), b in any::<u128>()) {
            let (x, y) = (JobId::from_uuid(Uuid::from_u128(a)), JobId::from_uuid(Uuid::from_u128(b)));
            prop_assert_eq!(x.cmp(&y), x.to_string().cmp(&y.to_string()));
        }

        #[test]
        fn parsing_never_panics(text in ".{0,40}") {
            let _ = text.parse::<MessageId>();
        }
    }
}
