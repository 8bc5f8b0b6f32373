//! SMS encoding and segments (`reference/channels.md` §6): GSM-7 when every character is
//! in the GSM 03.38 basic or extension table, else UCS-2; and the parts a long message is
//! sent in (160 septets or 70 UTF-16 units alone, 153 or 67 per part when concatenated),
//! never splitting an extension character's two septets or a surrogate pair.

use std::ops::Range;

use parley_domain::Encoding;

/// Septets of a lone GSM-7 message.
pub const GSM7_SINGLE: usize = 160;
/// Septets per part of a concatenated GSM-7 message (6-octet UDH, padded to 7 septets).
pub const GSM7_PART: usize = 153;
/// UTF-16 units of a lone UCS-2 message.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 units per part of a concatenated UCS-2 message.
pub const UCS2_PART: usize = 67;

/// The GSM 03.38 basic table beyond ASCII look-alikes, as characters (ESC, 0x1B, is not a
/// character of its own). Every printable ASCII character but `` ` `` and the eight of the
/// extension table is in the basic table at one septet, as are LF and CR.
const BASIC_NON_ASCII: &str = "£¥èéùìòÇØøÅåΔΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà";

/// The extension table: each is ESC plus a code, two septets. FF is U+000C.
const EXTENSION: &str = "\u{c}^{}\\[~]|€";

/// Septets `c` takes in GSM-7, or `None` when it has no GSM-7 form.
#[must_use]
pub fn gsm7_septets(c: char) -> Option<usize> {
    if EXTENSION.contains(c) {
        return Some(2);
    }
    match c {
        '\n' | '\r' => Some(1),
        '`' => None,
        ' '..='~' => Some(1),
        _ if c.is_ascii() => None,
        _ if BASIC_NON_ASCII.contains(c) => Some(1),
        _ => None,
    }
}

/// How a body goes on the air: its encoding, its length in that encoding's units
/// (septets or UTF-16 code units) and the byte ranges of its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segmented {
    /// GSM-7 when every character has a GSM-7 form.
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Byte ranges of the body, one per part, in order, covering it exactly; one empty
    /// range for an empty body (it still goes as one message).
    pub parts: Vec<Range<usize>>,
}

impl Segmented {
    /// How many messages the provider bills: the number of parts.
    #[must_use]
    pub fn segments(&self) -> u32 {
        u32::try_from(self.parts.len()).unwrap_or(u32::MAX)
    }
}

/// Chooses the encoding of `body` and splits it into parts.
#[must_use]
pub fn segment(body: &str) -> Segmented {
    let gsm: Option<Vec<usize>> = body.chars().map(gsm7_septets).collect();
    let (encoding, costs, single, part) = match gsm {
        Some(costs) => (Encoding::Gsm7, costs, GSM7_SINGLE, GSM7_PART),
        None => (
            Encoding::Ucs2,
            body.chars().map(char::len_utf16).collect(),
            UCS2_SINGLE,
            UCS2_PART,
        ),
    };
    let units: usize = costs.iter().sum();
    if units <= single {
        return Segmented {
            encoding,
            units,
            parts: std::iter::once(0..body.len()).collect(),
        };
    }
    let mut parts = Vec::with_capacity(units.div_ceil(part));
    let (mut start, mut used) = (0, 0);
    for ((at, _), cost) in body.char_indices().zip(costs) {
        // A character that does not fit whole starts the next part.
        if used + cost > part {
            parts.push(start..at);
            start = at;
            used = 0;
        }
        used += cost;
    }
    parts.push(start..body.len());
    Segmented {
        encoding,
        units,
        parts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_basic_table_is_one_septet_and_the_extension_two() {
        // Every cell of the reference's basic table (§6.1) but ESC, row by row.
        let basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                     ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
        assert_eq!(basic.chars().count(), 127);
        for c in basic.chars() {
            assert_eq!(gsm7_septets(c), Some(1), "{c:?}");
        }
        for c in "\u{c}^{}\\[~]|€".chars() {
            assert_eq!(gsm7_septets(c), Some(2), "{c:?}");
        }
        // Look-alikes and everything else force UCS-2.
        for c in ['`', '\t', '\u{0}', 'ç', 'á', '“', '’', '😀', 'Ж', '\u{7f}'] {
            assert_eq!(gsm7_septets(c), None, "{c:?}");
        }
    }

    #[test]
    fn lengths_at_the_limits() {
        let at = |n: usize, c: &str| c.repeat(n);
        let s = segment(&at(160, "a"));
        assert_eq!(
            (s.encoding, s.units, s.segments()),
            (Encoding::Gsm7, 160, 1)
        );
        assert_eq!(segment(&at(161, "a")).segments(), 2);
        assert_eq!(segment(&at(306, "a")).segments(), 2);
        assert_eq!(segment(&at(307, "a")).segments(), 3);
        // Extension characters count twice: 80 of them fill one message.
        let s = segment(&at(80, "€"));
        assert_eq!((s.units, s.segments()), (160, 1));
        assert_eq!(segment(&at(81, "€")).segments(), 2);
        // One character outside GSM-7 switches the whole message to UCS-2.
        let s = segment(&format!("{}ç", at(69, "a")));
        assert_eq!((s.encoding, s.units, s.segments()), (Encoding::Ucs2, 70, 1));
        assert_eq!(segment(&at(71, "ж")).segments(), 2);
        assert_eq!(segment(&at(134, "ж")).segments(), 2);
        assert_eq!(segment(&at(135, "ж")).segments(), 3);
        // An emoji outside the BMP is two units.
        let s = segment(&at(35, "😀"));
        assert_eq!((s.encoding, s.units, s.segments()), (Encoding::Ucs2, 70, 1));
        // An empty body is still one message.
        let s = segment("");
        assert_eq!(s.units, 0);
        assert_eq!(s.parts.len(), 1);
        assert_eq!(s.parts[0], 0..0);
    }

    #[test]
    fn a_two_unit_character_is_never_split() {
        // 152 septets, then an extension character: it moves whole to the second part.
        let body = format!("{}€{}", "a".repeat(152), "b".repeat(10));
        let s = segment(&body);
        assert_eq!(s.units, 164);
        assert_eq!(&body[s.parts[0].clone()], "a".repeat(152));
        assert!(body[s.parts[1].clone()].starts_with('€'));
        // 66 units, then an emoji (a surrogate pair): it moves whole too.
        let body = format!("{}😀{}", "ж".repeat(66), "ж".repeat(5));
        let s = segment(&body);
        assert_eq!(&body[s.parts[0].clone()], "ж".repeat(66));
        assert!(body[s.parts[1].clone()].starts_with('😀'));
    }

    fn units_of(text: &str, encoding: Encoding) -> usize {
        text.chars()
            .map(|c| match encoding {
                Encoding::Gsm7 => gsm7_septets(c).unwrap_or(usize::MAX / 4),
                Encoding::Ucs2 => c.len_utf16(),
            })
            .sum()
    }

    proptest! {
        #[test]
        fn parts_cover_the_body_and_fit(body in "[a-z€😀ж ]{0,400}|\\PC{0,300}") {
            let s = segment(&body);
            // The parts are contiguous, in order, and cover the body exactly.
            let mut end = 0;
            for part in &s.parts {
                prop_assert_eq!(part.start, end);
                end = part.end;
            }
            prop_assert_eq!(end, body.len());
            prop_assert_eq!(units_of(&body, s.encoding), s.units);
            let gsm = body.chars().all(|c| gsm7_septets(c).is_some());
            prop_assert_eq!(s.encoding == Encoding::Gsm7, gsm);
            let (single, part) = match s.encoding {
                Encoding::Gsm7 => (GSM7_SINGLE, GSM7_PART),
                Encoding::Ucs2 => (UCS2_SINGLE, UCS2_PART),
            };
            if s.parts.len() == 1 {
                prop_assert!(s.units <= single);
            } else {
                prop_assert!(s.units > single);
                for p in &s.parts {
                    let text = &body[p.clone()];
                    prop_assert!(units_of(text, s.encoding) <= part);
                    prop_assert!(!text.is_empty());
                }
                // Greedy: no part could have taken the next part's first character.
                for w in s.parts.windows(2) {
                    let first = body[w[1].clone()].chars().next().map(|c| c.to_string());
                    let grown = format!("{}{}", &body[w[0].clone()], first.unwrap_or_default());
                    prop_assert!(units_of(&grown, s.encoding) > part);
                }
            }
        }
    }
}
