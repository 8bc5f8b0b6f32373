//! `parley chat` as a customer meets it: lines typed reach the sim channel's flow, the
//! bot's replies print, the conversation closes, and `/quit` ends the chat unsent.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use parley_testkit::{TestApp, parley_command};
use serde_json::json;

/// Waits for a printed line containing `text` (30 s at most); the lines read meanwhile.
fn wait_for(lines: &mpsc::Receiver<String>, text: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        match lines.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                let found = line.contains(text);
                seen.push(line);
                if found {
                    return seen;
                }
            }
            Err(_) => panic!("no line with {text:?}; printed: {seen:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_chat_talks_through_the_sim_channel() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "chat", "start": "ask", "steps": {
                "ask": {"type": "ask", "text": "How can we help?", "save_as": "need", "next": "bye"},
                "bye": {"type": "close", "status": "noted", "text": "Thanks, <<need>> noted."}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;

    let binary = Path::new(env!("CARGO_BIN_EXE_parley"));
    let mut child = parley_command(binary, t.db.dir(), &[])
        .args(["chat", "--channel", &channel, "--from", "+447911123456"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, lines) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    wait_for(&lines, "An empty line or /quit ends the chat");
    writeln!(stdin, "hello").unwrap();
    wait_for(&lines, "bot: How can we help?");
    writeln!(stdin, "a payment plan").unwrap();
    let printed = wait_for(&lines, "bot: Thanks, a payment plan noted.");
    let printed = [printed, wait_for(&lines, "the conversation is closed")].concat();
    assert!(
        !printed.iter().any(|l| l.contains("How can we help?")),
        "a reply prints once: {printed:?}"
    );
    // `/quit` ends the session; it is never sent (QUIT is an opt-out keyword).
    writeln!(stdin, "/quit").unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert!(status.success());

    // The chat's replies went through the send queue: delivered by the simulator.
    let list = t.get("/api/v1/conversations", &token).await;
    let conversation = &list.json["data"][0];
    assert_eq!(
        (
            conversation["state"].clone(),
            conversation["status"].clone()
        ),
        (json!("closed"), json!("noted"))
    );
    let id = conversation["id"].as_str().unwrap();
    let thread = t.get(&format!("/api/v1/conversations/{id}"), &token).await;
    let statuses: Vec<&str> = thread.json["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["received", "delivered", "received", "delivered"]);
    let suppressed = t.get("/api/v1/contacts/suppressions", &token).await;
    assert_eq!(suppressed.json["data"], json!([]), "/quit opted no one out");
}
