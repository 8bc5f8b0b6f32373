//! `/api/v1/outcome-statuses` and `/api/v1/queues`: agents read them, administrators
//! define, change and remove them; `opted_out` and `default` are Parley's own; bad fields
//! are named and change nothing.

use http::Method;
use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::json;

#[tokio::test]
async fn outcome_statuses_are_read_by_agents_and_managed_by_administrators() {
    let t = TestApp::new().await;
    let admin = t.owner_token().await;
    let org = t.root.organization;
    let agent = t.token_in(org, Role::Agent).await;

    // Parley's own opted_out is always there, and cannot be defined or removed.
    let r = t
        .request(&agent, Method::GET, "/api/v1/outcome-statuses", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["data"][0]["key"], "opted_out");
    assert_eq!(r.json["data"][0]["closes"], true);
    let r = t
        .request(
            &admin,
            Method::POST,
            "/api/v1/outcome-statuses",
            Some(json!({"key": "opted_out", "label": "Mine", "category": "neutral"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["errors"][0]["field"].as_str()),
        (422, Some("key"))
    );
    let r = t
        .request(
            &admin,
            Method::DELETE,
            "/api/v1/outcome-statuses/opted_out",
            None,
        )
        .await;
    assert_eq!(r.status, 422);

    // Every bad field at once.
    let r = t
        .request(
            &admin,
            Method::POST,
            "/api/v1/outcome-statuses",
            Some(json!({"key": "Promise To Pay", "label": "", "category": "great"})),
        )
        .await;
    assert_eq!(r.status, 422);
    let mut fields: Vec<&str> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    fields.sort_unstable();
    assert_eq!(fields, ["category", "key", "label"]);

    // Agents read but do not define.
    let ptp = json!({"key": "promise_to_pay", "label": "Promise to pay", "category": "positive"});
    let r = t
        .request(
            &agent,
            Method::POST,
            "/api/v1/outcome-statuses",
            Some(ptp.clone()),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = t
        .request(
            &admin,
            Method::POST,
            "/api/v1/outcome-statuses",
            Some(ptp.clone()),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["closes"].as_bool()),
        (201, Some(false))
    );
    let r = t
        .request(&admin, Method::POST, "/api/v1/outcome-statuses", Some(ptp))
        .await;
    assert_eq!(r.status, 409, "a key is defined once");

    // Changes replace what they name; the list is by key.
    let r = t
        .request(
            &admin,
            Method::PATCH,
            "/api/v1/outcome-statuses/promise_to_pay",
            Some(json!({"closes": true})),
        )
        .await;
    assert_eq!(
        (
            r.status.as_u16(),
            r.json["closes"].as_bool(),
            r.json["label"].as_str()
        ),
        (200, Some(true), Some("Promise to pay"))
    );
    let r = t
        .request(&agent, Method::GET, "/api/v1/outcome-statuses", None)
        .await;
    let keys: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["opted_out", "promise_to_pay"]);
    let r = t
        .request(
            &admin,
            Method::PATCH,
            "/api/v1/outcome-statuses/unknown",
            Some(json!({"closes": true})),
        )
        .await;
    assert_eq!(r.status, 404);

    // Removal.
    let r = t
        .request(
            &admin,
            Method::DELETE,
            "/api/v1/outcome-statuses/promise_to_pay",
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = t
        .request(
            &admin,
            Method::DELETE,
            "/api/v1/outcome-statuses/promise_to_pay",
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn queues_are_read_by_agents_and_managed_by_administrators() {
    let t = TestApp::new().await;
    let admin = t.owner_token().await;
    let agent = t.token_in(t.root.organization, Role::Agent).await;
    let r = t.request(&agent, Method::GET, "/api/v1/queues", None).await;
    assert_eq!(
        (r.status.as_u16(), r.json["data"][0]["key"].as_str()),
        (200, Some("default"))
    );
    for (body, field) in [
        (json!({"key": "default", "name": "Mine"}), "key"),
        (json!({"key": "Collections", "name": "Collections"}), "key"),
        (json!({"key": "collections", "name": " "}), "name"),
    ] {
        let r = t
            .request(&admin, Method::POST, "/api/v1/queues", Some(body))
            .await;
        assert_eq!(
            (r.status.as_u16(), r.json["errors"][0]["field"].as_str()),
            (422, Some(field))
        );
    }
    let body = json!({"key": "collections", "name": "Collections"});
    assert_eq!(
        t.request(&agent, Method::POST, "/api/v1/queues", Some(body.clone()))
            .await
            .status,
        403
    );
    assert_eq!(
        t.request(&admin, Method::POST, "/api/v1/queues", Some(body.clone()))
            .await
            .status,
        201
    );
    assert_eq!(
        t.request(&admin, Method::POST, "/api/v1/queues", Some(body))
            .await
            .status,
        409
    );
    let r = t
        .request(
            &admin,
            Method::PATCH,
            "/api/v1/queues/collections",
            Some(json!({"name": "Debt"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["name"].as_str()),
        (200, Some("Debt"))
    );
    let r = t.request(&agent, Method::GET, "/api/v1/queues", None).await;
    let keys: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["collections", "default"]);
    assert_eq!(
        t.request(&admin, Method::DELETE, "/api/v1/queues/collections", None)
            .await
            .status,
        204
    );
    assert_eq!(
        t.request(&admin, Method::DELETE, "/api/v1/queues/collections", None)
            .await
            .status,
        404
    );
    assert_eq!(
        t.request(&admin, Method::DELETE, "/api/v1/queues/default", None)
            .await
            .status,
        422
    );
}
