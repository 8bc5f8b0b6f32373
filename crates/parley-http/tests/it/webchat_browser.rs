//! The web-chat widget in a real browser: Debian's chromium, driven by npm's
//! `playwright-core` (`tests/browser/webchat.mjs`), opens a page of another origin that
//! embeds `/widget.js`, writes, sees the bot's reply, reloads and sees the thread again.
//!
//! Needs `node`, `/usr/bin/chromium` (`apt-get install chromium`) and the script's
//! package (`npm ci --prefix crates/parley-http/tests/browser`); `.ci/run` installs all
//! three when missing. Without them the test fails saying so: it is never skipped.

use std::path::PathBuf;
use std::time::Duration;

use axum::response::Html;
use serde_json::Value;

use super::webchat::{QUESTION, conversations, thread, webchat_app};

fn browser_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

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
    let dir = browser_dir();
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "no chromium at {chromium}: apt-get install chromium (.ci/run does)"
    );
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "playwright-core is not installed: npm ci --prefix {} (.ci/run does)",
        dir.display()
    );

    // The site is another origin, which the channel allows.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (t, token, channel, parley, cancel) = webchat_app(None, &[&origin]).await;
    serve_site(listener, &parley, &channel);

    let message = "Hello from the browser";
    let run = tokio::process::Command::new("node")
        .arg(dir.join("webchat.mjs"))
        .current_dir(&dir)
        .env("PAGE_URL", format!("{origin}/"))
        .env("MESSAGE", message)
        .env("REPLY", QUESTION)
        .env("CHROMIUM", &chromium)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("the browser finishes within 90 s")
        .expect("node runs (is Node.js installed?)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "the browser test failed:\n{stdout}\n{stderr}"
    );

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
