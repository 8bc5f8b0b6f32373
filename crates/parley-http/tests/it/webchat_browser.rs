//! The web-chat widget in a real browser: Debian's chromium, driven by npm's
//! `playwright-core` (`tests/browser/webchat.mjs`), opens a page of another origin that
//! embeds `/widget.js`, writes, sees the bot's reply, reloads and sees the thread again.
//!
//! Runs through `super::browser::run_script`, which says what it needs; never skipped.

use axum::response::Html;
use serde_json::Value;

use super::webchat::{QUESTION, conversations, thread, webchat_app};

/// Serves the "organization's site" on `listener`: one page embedding the widget from
/// `parley`.
fn serve_site(listener: tokio::net::TcpListener, parley: &str, channel: &str) {
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Example shop</title></head>\
         <body><h1>Example shop</h1><p>Questions? Ask us.</p>\
         <script src=\"{parley}/widget.js\" data-channel=\"{channel}\" async></script></body></html>"
    );
    let router =
        axum::Router::new().route("/", axum::routing::get(move || async move { Html(page) }));
    tokio::spawn(async move { axum::serve(listener, router).await });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_widget_chats_in_a_real_browser_and_keeps_the_thread_across_a_reload() {
    if !super::browser::available() {
        return;
    }
    // The site is another origin, which the channel allows.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (t, token, channel, parley, cancel) = webchat_app(None, &[&origin]).await;
    serve_site(listener, &parley, &channel);

    let message = "Hello from the browser";
    let stdout = super::browser::run_script(
        "webchat.mjs",
        &[
            ("PAGE_URL", format!("{origin}/")),
            ("MESSAGE", message.to_owned()),
            ("REPLY", QUESTION.to_owned()),
        ],
    )
    .await;

    // After the reload the page showed the whole thread, in order.
    let shown: Value = serde_json::from_str(stdout.trim()).expect("the thread as JSON");
    let shown: Vec<(&str, &str)> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["direction"].as_str().unwrap(),
                l["text"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(shown, [("inbound", message), ("outbound", QUESTION)]);

    // And Parley holds it: one conversation, the visitor's message and the reply, which
    // the page reported shown.
    let listed = conversations(&t, &token, &channel).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    let th = thread(&t, &token, listed[0]["id"].as_str().unwrap()).await;
    let messages = th["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{th}");
    assert_eq!(messages[0]["body"], message);
    assert_eq!(messages[1]["body"], QUESTION);
    assert_eq!(messages[1]["status"], "read", "{th}");
    cancel.cancel();
}
