//! An organization's help text and contact hours through the API: every bad part named at
//! once; a sub-organization created later starts with them; a campaign that names no
//! window sends in the organization's contact hours (a window it names wins); `HELP` on
//! a channel without its own help text answers with the organization's, and a channel's
//! own still comes first.

use http::Method;
use parley_domain::Role;
use parley_testkit::{TestApp, problem_fields};
use serde_json::{Value, json};

use crate::campaigns::{flow, import, phones};

async fn patch(t: &TestApp, token: &str, path: &str, body: Value) -> parley_testkit::TestResponse {
    t.call(Method::PATCH, path, Some(token), None, Some(body))
        .await
}

#[tokio::test]
async fn help_text_and_contact_hours_are_the_organizations_defaults() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Arrears", None, Role::Owner).await;
    let path = format!("/api/v1/organizations/{org}");

    let bad = patch(
        &t,
        &token,
        &path,
        json!({"help_text": "x".repeat(481),
               "contact_hours": {"days": ["mon", "funday"], "opens": "25:00"}}),
    )
    .await;
    assert_eq!(bad.status, 422, "{}", bad.json);
    let mut fields = problem_fields(&bad.json);
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["contact_hours.days", "contact_hours.opens", "help_text"],
        "{}",
        bad.json
    );

    let weekdays =
        json!({"days": ["mon", "tue", "wed", "thu", "fri"], "opens": "09:00", "closes": "17:30"});
    let ok = patch(
        &t,
        &token,
        &path,
        json!({"help_text": "  Arrears team: call 0800 123 456.  ", "contact_hours": weekdays}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    assert_eq!(ok.json["help_text"], "Arrears team: call 0800 123 456.");
    assert_eq!(ok.json["contact_hours"], weekdays);

    // A sub-organization starts with them.
    let sub = t
        .post_ok(&token, "/api/v1/organizations", json!({"name": "North"}))
        .await;
    assert_eq!(sub["help_text"], "Arrears team: call 0800 123 456.");
    assert_eq!(sub["contact_hours"], weekdays);

    // A campaign that names no window takes the contact hours; one that names a part
    // keeps that part.
    let flow = flow(&t, &token).await;
    let channel = t.sim_channel(&token, None).await;
    let import = import(&t, &token, Value::Array(phones(2, 1))).await;
    let created = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Weekdays", "audience": {"import_id": import}, "flow_id": flow, "channel_id": channel}),
        )
        .await;
    assert_eq!(created["window"], weekdays);
    let own = t
        .post_ok(
            &token,
            "/api/v1/campaigns",
            json!({"name": "Saturday", "audience": {"import_id": import}, "flow_id": flow,
                   "channel_id": channel, "window": {"days": ["sat"]}}),
        )
        .await;
    assert_eq!(
        own["window"],
        json!({"days": ["sat"], "opens": "09:00", "closes": "17:30"})
    );

    // HELP answers with the organization's text; a channel's own comes first.
    let said = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911100009", "text": "HELP"}),
        )
        .await;
    let conversation = said["conversation"]["id"].as_str().unwrap();
    let thread = t
        .get(&format!("/api/v1/conversations/{conversation}"), &token)
        .await
        .json;
    assert_eq!(
        thread["messages"][1]["body"], "Arrears team: call 0800 123 456.",
        "{thread}"
    );
    let own_help = t
        .call(
            Method::PATCH,
            &format!("/api/v1/channels/{channel}"),
            Some(&token),
            None,
            Some(json!({"settings": {"help_text": "Channel help."}})),
        )
        .await;
    assert_eq!(own_help.status, 200, "{}", own_help.json);
    let said = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911100008", "text": "help"}),
        )
        .await;
    let conversation = said["conversation"]["id"].as_str().unwrap();
    let thread = t
        .get(&format!("/api/v1/conversations/{conversation}"), &token)
        .await
        .json;
    assert_eq!(thread["messages"][1]["body"], "Channel help.");

    // An empty help text removes it.
    let cleared = patch(&t, &token, &path, json!({"help_text": ""})).await;
    assert_eq!(cleared.json["help_text"], Value::Null);
    assert_eq!(cleared.json["contact_hours"], weekdays, "kept when absent");
}
