//! Any inbound text through the keyword classifier, the WhatsApp and Twilio signature
//! checks, the callback readers and the web-chat frames and tokens: an answer, never a panic, and never a match for
//! a signature made with another secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_channels::{classify_keyword, twilio, webchat, whatsapp};

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
    // Web chat: a frame or an error naming a field; tokens refused, never a panic.
    if let Err(e) = webchat::frames::parse(&text) {
        assert!(!e.field.is_empty());
    }
    assert!(webchat::identity::read_visitor_token(b"key", &text, "chn", 0).is_none());
    let _ = webchat::identity::read_user_token("secret", &text, 0);
    let _ = webchat::identity::origin_allowed(["https://www.example.com"], &text);
});
