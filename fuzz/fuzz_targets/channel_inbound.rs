//! Any inbound text through the keyword classifier, the WhatsApp and Twilio signature
//! checks and the callback readers: an answer, never a panic, and never a match for
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
    // Callback bodies: a reading or an error naming a place, never a panic.
    if let Err(e) = whatsapp::callback::parse(data) {
        assert!(!e.path.is_empty());
    }
    let pairs: Vec<(String, String)> = text
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let _ = twilio::callback::inbound(&pairs);
    let _ = twilio::callback::status_report(&pairs);
});
