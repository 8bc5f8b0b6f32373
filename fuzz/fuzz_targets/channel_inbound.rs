//! Any inbound text through the keyword classifier, and any header and body through the
//! WhatsApp and Twilio signature checks: an answer, never a panic, and never a match for
//! a signature made with another secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_channels::{classify_keyword, twilio, whatsapp};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = classify_keyword(&text);
    let (header, body) = text.split_at(text.len() / 2);
    assert!(!whatsapp::signature::verify("secret", body.as_bytes(), header) || header.starts_with("sha256="));
    let _ = twilio::signature::verify_form("token", header, &[], body);
    let _ = twilio::signature::verify_json("token", header, body.as_bytes(), body);
});
