//! The web-chat widget in a real browser: Debian's chromium, driven by npm's
//! `playwright-core` (`tests/browser/webchat.mjs`), opens a page of another origin that
//! embeds `/widget.js`, writes several times, sees each turn's replies drawn in the order
//! the flow wrote them, reloads and sees the thread again.
//!
//! Runs through `super::browser::run_script`, which says what it needs; never skipped.

use axum::response::Html;
use serde_json::Value;

use super::webchat::{ORDERED_REPLIES, conversations, ordered_flow, thread, webchat_app_running};

/// Messages the visitor writes, each answered with [`ORDERED_REPLIES`].
const ROUNDS: usize = 5;

/// Serves the "organization's site" on `listener`: one page embedding the widget from
/// `parley`.
fn serve_site(listener: tokio::net::TcpListener, parley: &str, channel: &str) {
    let page = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Example shop</title></head>\
         <body><h1>Example shop</h1><p>Questions? Ask us.</p>\
         <script src=\"{parley}/widget.js\" data-channel=\"{channel}\" async></script></body></html>"
    );
    let router =
        axum::Router::new().route("/", axum::routing::get(move || async move { Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
}

/// The lines a page showed: (direction, text), top to bottom.
fn shown(lines: &Value) -> Vec<(String, String)> {
    lines
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["direction"].as_str().unwrap().to_owned(),
                l["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_draws_each_turns_replies_in_order_and_keeps_the_thread_across_a_reload() {
    if !super::browser::available() {
        return;
    }
    // The site is another origin, which the channel allows.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (t, token, channel, parley, cancel) =
        webchat_app_running(ordered_flow(), None, &[&origin]).await;
    serve_site(listener, &parley, &channel);

    let message = "Hello from the browser";
    let stdout = super::browser::run_script(
        "webchat.mjs",
        &[
            ("PAGE_URL", format!("{origin}/")),
            ("MESSAGE", message.to_owned()),
            ("REPLIES", serde_json::to_string(&ORDERED_REPLIES).unwrap()),
            ("ROUNDS", ROUNDS.to_string()),
        ],
    )
    .await;

    // Each message, then its turn's replies in the flow's order: as the widget drew them
    // when they came, and as it shows the thread after the reload.
    let mut want = Vec::new();
    for round in 1..=ROUNDS {
        want.push(("inbound".to_owned(), format!("{message} {round}")));
        want.extend(ORDERED_REPLIES.map(|r| ("outbound".to_owned(), r.to_owned())));
    }
    let pages: Value = serde_json::from_str(stdout.trim()).expect("the lines as JSON");
    assert_eq!(shown(&pages["drawn"]), want, "as drawn");
    assert_eq!(shown(&pages["reloaded"]), want, "after the reload");
    assert_eq!(
        pages["violations"],
        serde_json::json!([]),
        "axe-core: no serious or critical violation in the open widget"
    );

    // And Parley holds it: one conversation, every message, each reply reported shown,
    // in the flow's order.
    let listed = conversations(&t, &token, &channel).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let conversation = listed[0]["id"].as_str().unwrap();
    // The page reports each reply read as it shows it; the last reports may still be on
    // their way.
    let mut th = thread(&t, &token, conversation).await;
    for _ in 0..250 {
        let read = th["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .all(|m| m["status"] == "read");
        if read {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        th = thread(&t, &token, conversation).await;
    }
    let messages = th["messages"].as_array().unwrap();
    let stored: Vec<_> = messages
        .iter()
        .map(|m| {
            (
                m["direction"].as_str().unwrap().to_owned(),
                m["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(stored, want, "{th}");
    assert!(
        messages
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .all(|m| m["status"] == "read"),
        "every reply read: {th}"
    );
    let delivered: Vec<String> = t
        .store()
        .list_undispatched_events(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.event.data["conversation_id"] == conversation
                && e.event.event_type.as_str() == "deliveryReport"
                && e.event.data["message"]["status"] == "delivered"
        })
        .map(|e| e.event.data["message"]["text"].as_str().unwrap().to_owned())
        .collect();
    let replies: Vec<String> = want
        .iter()
        .filter(|(direction, _)| direction == "outbound")
        .map(|(_, text)| text.clone())
        .collect();
    assert_eq!(delivered, replies, "the page acknowledged them in order");
    cancel.cancel();
}
