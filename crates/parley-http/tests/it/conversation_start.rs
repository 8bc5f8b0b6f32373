//! A person opens a conversation with one contact: an outbound conversation whose first
//! message is theirs, refused while the contact has one open on the channel, every bad
//! part of the request named at once. (WhatsApp's template rule is in `providers.rs`.)

use http::Method;
use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn a_person_starts_a_conversation_with_one_contact() {
    let t = TestApp::new().await;
    let (_, token) = t.org_with_token("Outbound", None, Role::Admin).await;
    let channel = t.sim_channel(&token, None).await;
    let contact = t.post_ok(&token, "/api/v1/contacts", json!({"customer_id": "AC-1", "addresses": [{"kind": "sms", "address": "+447911123456"}]}))
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let start = json!({"contact_id": contact, "channel_id": channel,
                       "text": "Hello, this is Sam from accounts."});
    let (status, r) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/conversations",
            Some(start.clone()),
        )
        .await
        .pair();
    assert_eq!(status, 201, "{r}");
    assert_eq!(
        (
            &r["conversation"]["direction"],
            &r["conversation"]["state"],
            &r["conversation"]["contact_id"]
        ),
        (&json!("outbound"), &json!("assigned"), &json!(contact))
    );
    assert!(r["conversation"]["first_agent_reply_at"].is_string());
    let first = &r["messages"][0];
    assert_eq!(
        (&first["direction"], &first["body"]),
        (
            &json!("outbound"),
            &json!("Hello, this is Sam from accounts.")
        )
    );
    assert!(
        first["sender"].as_str().unwrap().starts_with("agent:key_"),
        "{first}"
    );
    let id = r["conversation"]["id"].as_str().unwrap().to_owned();
    // The customer's answer continues it.
    let answer = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911123456", "text": "Hi Sam"}),
        )
        .await;
    assert_eq!(answer["conversation"]["id"], id.as_str());

    // While it is open, a second start is refused: write in that one.
    let (status, again) = t
        .request(&token, Method::POST, "/api/v1/conversations", Some(start))
        .await
        .pair();
    assert_eq!(status, 409, "{again}");

    // Every bad part named at once, nothing written.
    let (status, bad) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/conversations",
            Some(json!({"contact_id": "ct_nope", "channel_id": "chn_nope", "text": "x"})),
        )
        .await
        .pair();
    assert_eq!(status, 422, "{bad}");
    assert_eq!(bad["errors"].as_array().unwrap().len(), 2, "{bad}");
    let unknown = format!("ct_{}", "0".repeat(26));
    let (status, bad) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/conversations",
            Some(json!({"contact_id": unknown, "channel_id": channel, "text": " "})),
        )
        .await
        .pair();
    assert_eq!(status, 422, "{bad}");
    let named = parley_testkit::problem_fields(&bad);
    assert_eq!(named, ["contact_id", "text"], "{bad}");
}
