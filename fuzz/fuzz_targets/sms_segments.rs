//! Any text through the SMS segmenter: parts that cover the body exactly, on character
//! boundaries, each within its encoding's part size; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_channels::{GSM7_PART, UCS2_PART, gsm7_septets, segment};
use parley_domain::Encoding;

fuzz_target!(|data: &[u8]| {
    let body = String::from_utf8_lossy(data);
    let s = segment(&body);
    let mut end = 0;
    for part in &s.parts {
        assert_eq!(part.start, end);
        end = part.end;
        let text = &body[part.clone()];
        if s.parts.len() > 1 {
            let units: usize = match s.encoding {
                Encoding::Gsm7 => text.chars().map(|c| gsm7_septets(c).unwrap_or(99)).sum(),
                Encoding::Ucs2 => text.chars().map(char::len_utf16).sum(),
            };
            let limit = if s.encoding == Encoding::Gsm7 { GSM7_PART } else { UCS2_PART };
            assert!(units <= limit);
        }
    }
    assert_eq!(end, body.len());
});
