//! Archiving flows, channels and campaigns: nothing is deleted, lists leave archived ones
//! out unless asked, what is still in use cannot be archived (409), archived ones cannot
//! be chosen again (422), and restoring brings them back.

use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::{Value, json};

use super::campaigns::{flow, get, import, phones};

/// The ids of a list's items.
async fn ids(t: &TestApp, token: &str, path: &str) -> Vec<String> {
    get(t, token, path).await["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn post(t: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = t
        .call(http::Method::POST, path, Some(token), None, Some(body))
        .await;
    (r.status.as_u16(), r.json)
}

/// `POST /api/v1/{kind}/{id}/{action}` with an empty body: (status, body).
async fn act(t: &TestApp, token: &str, kind: &str, id: &str, action: &str) -> (u16, Value) {
    post(
        t,
        token,
        &format!("/api/v1/{kind}/{id}/{action}"),
        json!({}),
    )
    .await
}

#[tokio::test]
async fn flows_channels_and_campaigns_are_archived_not_deleted() {
    let t = TestApp::new().await;
    let (_, token) = t.org_with_token("Archive", None, Role::Admin).await;
    let flow = flow(&t, &token).await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let import = import(&t, &token, Value::Array(phones(1, 1))).await;
    let conversation = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911100001", "text": "hello"}),
        )
        .await["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = json!({"name": "Old", "audience": {"import_id": import},
                      "flow_id": flow, "channel_id": channel});
    let campaign = t.post_ok(&token, "/api/v1/campaigns", body.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();

    // In use: the channel answers with the flow.
    let (status, r) = act(&t, &token, "flows", &flow, "archive").await;
    assert_eq!(status, 409, "{r}");
    assert!(
        r["detail"]
            .as_str()
            .unwrap()
            .contains("channel answers with this flow"),
        "{r}"
    );

    // A draft campaign is archived: out of the list, read by id, listed when asked.
    let (status, r) = act(&t, &token, "campaigns", &campaign, "archive").await;
    assert_eq!(status, 200, "{r}");
    assert!(r["archived_at"].is_string(), "{r}");
    assert!(ids(&t, &token, "/api/v1/campaigns").await.is_empty());
    assert_eq!(
        ids(&t, &token, "/api/v1/campaigns?archived=true").await,
        [campaign.as_str()]
    );
    assert_eq!(
        get(&t, &token, &format!("/api/v1/campaigns/{campaign}")).await["name"],
        "Old"
    );
    let (status, _) = act(&t, &token, "campaigns", &campaign, "restore").await;
    assert_eq!(status, 200);
    assert_eq!(
        ids(&t, &token, "/api/v1/campaigns").await,
        [campaign.as_str()]
    );

    // Under way: neither the campaign nor its channel is archived.
    assert_eq!(
        act(&t, &token, "campaigns", &campaign, "start").await.0,
        200
    );
    let (status, r) = act(&t, &token, "campaigns", &campaign, "archive").await;
    assert_eq!(status, 409, "{r}");
    let (status, r) = act(&t, &token, "channels", &channel, "archive").await;
    assert_eq!(status, 409, "{r}");
    assert_eq!(
        act(&t, &token, "campaigns", &campaign, "cancel").await.0,
        200
    );

    // Over: the channel is archived and disabled; its conversation stays readable.
    let (status, r) = act(&t, &token, "channels", &channel, "archive").await;
    assert_eq!(status, 200, "{r}");
    assert_eq!(
        (r["enabled"].as_bool(), r["archived_at"].is_string()),
        (Some(false), true)
    );
    assert!(ids(&t, &token, "/api/v1/channels").await.is_empty());
    let thread = get(&t, &token, &format!("/api/v1/conversations/{conversation}")).await;
    assert_eq!(thread["messages"][0]["body"], "hello");

    // Nothing answers with the flow now: it is archived, and chosen again by nobody.
    let (status, r) = act(&t, &token, "flows", &flow, "archive").await;
    assert_eq!(status, 200, "{r}");
    assert!(ids(&t, &token, "/api/v1/flows").await.is_empty());
    assert_eq!(
        ids(&t, &token, "/api/v1/flows?archived=true").await,
        [flow.as_str()]
    );
    let (status, r) = post(&t, &token, "/api/v1/campaigns", body.clone()).await;
    assert_eq!(status, 422, "{r}");
    let named = parley_testkit::problem_fields(&r);
    assert_eq!(named, ["channel_id", "flow_id"], "{r}");
    assert!(r.to_string().contains("archived"), "{r}");

    // Every move is in the audit log.
    let audit = get(&t, &token, "/api/v1/audit-log?limit=100").await;
    let moves = audit["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "archived" || e["action"] == "unarchived")
        .count();
    assert_eq!(moves, 4, "{audit}");
}
