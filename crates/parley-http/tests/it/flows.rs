//! `/api/v1/flows` end to end: drafts in JSON and YAML, validation against the
//! organization's fields, publishing immutable versions, input errors that change nothing,
//! and who may do what.

use http::{Method, Request};
use parley_domain::Role;
use parley_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

const ARREARS: &str = include_str!("../../../../examples/flows/arrears_reminder.json");
const TRIAGE: &str = include_str!("../../../../examples/flows/inbound_triage.yaml");

/// Sends `text` with `content_type` (no body when `None`).
async fn send_document(
    t: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    text: Option<&str>,
) -> TestResponse {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", content_type);
    let body = text.map_or_else(axum::body::Body::empty, |s| {
        axum::body::Body::from(s.to_owned())
    });
    t.send(builder.body(body).unwrap()).await
}

async fn create(t: &TestApp, token: &str, content_type: &str, text: &str) -> TestResponse {
    send_document(
        t,
        Method::POST,
        "/api/v1/flows",
        token,
        content_type,
        Some(text),
    )
    .await
}

/// The queue and statuses the triage flow names, as an administrator defines them.
fn triage_names() -> Value {
    json!({"fallback_queue": "customer_service", "steps": {
        "a": {"type": "queue", "queue": "customer_service"},
        "b": {"type": "close", "status": "resolved"},
        "c": {"type": "close", "status": "no_response"}}})
}

fn texts(diagnostics: &Value) -> Vec<&str> {
    diagnostics
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["text"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn a_draft_is_validated_against_the_organizations_fields_then_published() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;

    // The arrears reminder reads `date_of_birth` and `postcode`, which this organization
    // has not defined yet: the draft is saved, with the findings.
    let r = create(&t, &token, "application/json", ARREARS).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("flow_"), "{id}");
    assert_eq!(r.json["name"], "Arrears reminder");
    assert_eq!(r.json["latest_version"], Value::Null);
    assert_eq!(r.json["publishable"], false);
    assert_eq!(r.json["draft"]["start"], "hello");
    // Saved in canonical form: defaults written out.
    assert_eq!(r.json["draft"]["steps"]["offer"]["expect"], "text");
    let draft = r.json["draft"].clone();
    let found = texts(&r.json["diagnostics"]);
    for expected in [
        "error[unknown_queue] fallback_queue: queue `collections` is not a queue of the organization; define it or use `default`",
        "error[unknown_field] step `check_dob`, rules[0].when: `<<date_of_birth>>` is not a variable of this flow, a built-in or a contact field of the organization",
        "error[unknown_field] step `check_postcode`, rules[0].when: `<<postcode>>` is not a variable of this flow, a built-in or a contact field of the organization",
        "error[unknown_status] step `verified`, status: status `verified` is not an outcome status of the organization; define it",
        "error[unknown_queue] step `agent`, queue: queue `collections` is not a queue of the organization; define it or use `default`",
    ] {
        assert!(
            found.contains(&expected),
            "{expected} missing from {found:?}"
        );
    }
    assert_eq!(found.len(), 9, "{found:?}");
    let first = &r.json["diagnostics"][2];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["rule"], "unknown_field");
    assert_eq!(first["step"], "check_dob");
    assert_eq!(first["field"], "rules[0].when");
    assert_eq!(first["path"], "steps.check_dob.rules[0].when");

    // Publishing is refused with every error, each at its place in the document.
    let versions = format!("/api/v1/flows/{id}/versions");
    let r = t
        .call(Method::POST, &versions, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(r.json["type"], "/problems/validation-failed");
    let errors: Vec<(&str, &str)> = r.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap(), e["message"].as_str().unwrap()))
        .collect();
    assert_eq!(errors.len(), 9, "{errors:?}");
    assert_eq!(errors[0].0, "fallback_queue");
    assert_eq!(errors[1].0, "steps.agent.queue");
    assert_eq!(errors[2].0, "steps.check_dob.rules[0].when");
    assert!(
        errors[2]
            .1
            .starts_with("unknown_field: `<<date_of_birth>>` is not"),
        "{errors:?}"
    );
    assert_eq!(errors[3].0, "steps.check_postcode.rules[0].when");
    let r = t.get(&versions, &token).await;
    assert_eq!(r.json["data"], json!([]));

    // Once the organization defines the fields, its queues and outcome statuses, the same
    // draft validates and publishes.
    t.define_fields(
        &token,
        &[("date_of_birth", "date"), ("postcode", "postcode")],
    )
    .await;
    t.define_flow_names(&token, &serde_json::from_str(ARREARS).unwrap())
        .await;
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/flows/{id}/validate"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({"publishable": true, "diagnostics": []}));
    let r = t
        .call(Method::POST, &versions, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["version"], 1);
    assert_eq!(r.json["flow_id"], id.as_str());
    assert_eq!(r.json["name"], "Arrears reminder");
    assert_eq!(r.json["published_by"], Value::Null, "an API key is no user");
    let v1_document = r.json["document"].clone();
    assert_eq!(v1_document, draft, "the version holds the draft as saved");

    // Publishing the same draft again creates nothing.
    let r = t
        .call(Method::POST, &versions, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["version"], 1);

    // A new draft (YAML this time) leaves version 1 as it was until it is published.
    t.define_flow_names(&token, &triage_names()).await;
    let flow = format!("/api/v1/flows/{id}");
    let r = send_document(
        &t,
        Method::PUT,
        &flow,
        &token,
        "application/yaml",
        Some(TRIAGE),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["name"], "Inbound triage");
    assert_eq!(r.json["latest_version"], 1);
    assert_eq!(r.json["publishable"], true, "{}", r.json["diagnostics"]);
    assert_eq!(r.json["draft"]["fallback_queue"], "customer_service");
    let r = t.get(&format!("{versions}/1"), &token).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["document"], v1_document);
    let r = t
        .call(Method::POST, &versions, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["version"], 2);
    assert_eq!(r.json["name"], "Inbound triage");

    // Versions list newest first, without their documents; each can be read back.
    let r = t.get(&versions, &token).await;
    let listed: Vec<(u64, &str)> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["version"].as_u64().unwrap(), v["name"].as_str().unwrap()))
        .collect();
    assert_eq!(listed, [(2, "Inbound triage"), (1, "Arrears reminder")]);
    assert!(r.json["data"][0].get("document").is_none());
    let r = t.get(&format!("{versions}?limit=1"), &token).await;
    assert_eq!(r.json["data"][0]["version"], 2);
    let next = r.json["next_cursor"].as_str().unwrap().to_owned();
    let r = t
        .get(&format!("{versions}?limit=1&cursor={next}"), &token)
        .await;
    assert_eq!(r.json["data"][0]["version"], 1);

    let r = t.get(&flow, &token).await;
    assert_eq!(r.json["latest_version"], 2);
    let r = t.get("/api/v1/flows", &token).await;
    assert_eq!(r.json["data"][0]["id"], id.as_str());
    assert_eq!(r.json["data"][0]["latest_version"], 2);
    assert!(r.json["data"][0].get("draft").is_none());

    // Versions are never deleted: no route does it.
    let r = t
        .call(
            Method::DELETE,
            &format!("{versions}/1"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 405, "{}", r.json);
    let r = t
        .call(Method::DELETE, &flow, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 405, "{}", r.json);
    assert_eq!(t.get(&format!("{versions}/1"), &token).await.status, 200);

    // Every save and publication is in the audit log.
    let r = t.get("/api/v1/audit-log", &token).await;
    let actions: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["subject"] == id.as_str())
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "flow_published",
            "flow_saved",
            "flow_published",
            "flow_saved"
        ]
    );
}

#[tokio::test]
async fn validate_checks_a_document_without_saving_it() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let r = create(&t, &token, "application/yaml", TRIAGE).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let saved = r.json.clone();
    let broken = r#"{"schema": 1, "name": "Broken", "start": "a", "steps": {
        "a": {"type": "branch", "rules": [{"when": "<<x>> ==", "next": "b"}], "otherwise": "nowhere"},
        "b": {"type": "close", "status": "done"}}}"#;
    t.define_flow_names(&token, &serde_json::from_str(broken).unwrap())
        .await;
    let r = send_document(
        &t,
        Method::POST,
        &format!("/api/v1/flows/{id}/validate"),
        &token,
        "application/json",
        Some(broken),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["publishable"], false);
    let found = texts(&r.json["diagnostics"]);
    assert!(
        found.contains(&"error[unknown_step] step `a`, otherwise: no step is named `nowhere`"),
        "{found:?}"
    );
    let condition = r.json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["rule"] == "condition")
        .unwrap();
    assert_eq!(condition["path"], "steps.a.rules[0].when");
    assert_eq!(condition["column"], 9, "the end of `<<x>> ==`");
    // Nothing was saved.
    let r = t.get(&format!("/api/v1/flows/{id}"), &token).await;
    assert_eq!(r.json, saved);
}

#[tokio::test]
async fn documents_that_cannot_be_read_are_refused_and_change_nothing() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let r = create(&t, &token, "application/json", ARREARS).await;
    let id = r.json["id"].as_str().unwrap().to_owned();
    let flow = format!("/api/v1/flows/{id}");
    let before = t.get(&flow, &token).await.json;

    let cases: [(&str, &str, u16, &str, &str); 8] = [
        (
            "application/json",
            r#"{"schema": 1, "name": "x"}"#,
            422,
            "document",
            "missing field `start`",
        ),
        (
            "application/yaml",
            "schema: 1\nname: [unclosed\n",
            422,
            "body",
            "not valid YAML at line",
        ),
        (
            "application/json",
            "{\"schema\": 1, \"name\": ",
            422,
            "body",
            "not valid JSON at line 1",
        ),
        (
            "application/json",
            r#"{"schema": 1, "name": "x", "start": "a", "steps": {"a": {"type": "ask", "text": "?", "save_as": "v", "expect": "colour", "next": "a"}}}"#,
            422,
            "steps.a",
            "unknown variant `colour`",
        ),
        (
            "application/json",
            r#"{"schema": 1, "name": "x", "start": "a", "steps": {}, "colour": "red"}"#,
            422,
            "colour",
            "unknown field `colour`",
        ),
        (
            "application/json",
            r#"{"schema": 9, "name": "x", "start": "a", "steps": {}}"#,
            422,
            "schema",
            "schema 9 is not supported",
        ),
        ("text/csv", "a,b\n", 415, "", "application/yaml"),
        (
            "application/json",
            "",
            422,
            "body",
            "a flow document is required",
        ),
    ];
    for (content_type, text, status, field, message) in cases {
        for method in [Method::POST, Method::PUT] {
            let path = if method == Method::POST {
                "/api/v1/flows".to_owned()
            } else {
                flow.clone()
            };
            let r =
                send_document(&t, method.clone(), &path, &token, content_type, Some(text)).await;
            assert_eq!(r.status, status, "{method} {text}: {}", r.json);
            let shown = if status == 422 {
                assert_eq!(r.json["errors"][0]["field"], field, "{text}: {}", r.json);
                r.json["errors"][0]["message"].as_str().unwrap()
            } else {
                r.json["detail"].as_str().unwrap()
            };
            assert!(shown.contains(message), "{text}: {shown}");
        }
    }
    // Bytes that are not UTF-8.
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/flows")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/yaml")
        .body(axum::body::Body::from(vec![b'n', b':', b' ', 0xff]))
        .unwrap();
    let r = t.send(request).await;
    assert_eq!(r.problem_field(), (422, Some("body")));

    // The draft is as it was, and no other flow appeared.
    assert_eq!(t.get(&flow, &token).await.json, before);
    let r = t.get("/api/v1/flows", &token).await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1);

    // Unknown flows and versions are 404s, whatever the id looks like.
    for path in [
        "/api/v1/flows/flow_00000000000000000000000000".to_owned(),
        "/api/v1/flows/nonsense".to_owned(),
        format!("{flow}/versions/1"),
        format!("{flow}/versions/0"),
        format!("{flow}/versions/first"),
        format!("{flow}/versions/99999999999"),
    ] {
        let r = t.get(&path, &token).await;
        assert_eq!(r.status, 404, "{path}: {}", r.json);
        assert_eq!(r.json["type"], "/problems/not-found");
    }
}

#[tokio::test]
async fn viewers_read_flows_and_only_editors_change_them() {
    let t = TestApp::new().await;
    let (org, supervisor) = t.org_with_token("Flows", None, Role::Supervisor).await;
    let viewer = t.token_in(org, Role::Viewer).await;
    let agent = t.token_in(org, Role::Agent).await;
    t.define_fields(&supervisor, &[("date_of_birth", "date")])
        .await;
    let admin = t.token_in(org, Role::Admin).await;
    t.define_flow_names(&admin, &triage_names()).await;
    let r = create(&t, &supervisor, "application/yaml", TRIAGE).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["id"].as_str().unwrap().to_owned();
    let flow = format!("/api/v1/flows/{id}");
    let versions = format!("{flow}/versions");
    let r = t
        .call(Method::POST, &versions, Some(&supervisor), None, None)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);

    // A viewer reads and validates…
    for path in [
        "/api/v1/flows".to_owned(),
        flow.clone(),
        versions.clone(),
        format!("{versions}/1"),
    ] {
        assert_eq!(t.get(&path, &viewer).await.status, 200, "{path}");
    }
    let r = t
        .call(
            Method::POST,
            &format!("{flow}/validate"),
            Some(&viewer),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // …but neither creates, edits nor publishes.
    assert_eq!(
        create(&t, &viewer, "application/yaml", TRIAGE).await.status,
        403
    );
    let r = send_document(
        &t,
        Method::PUT,
        &flow,
        &viewer,
        "application/yaml",
        Some(TRIAGE),
    )
    .await;
    assert_eq!(r.status, 403);
    let r = t
        .call(Method::POST, &versions, Some(&viewer), None, None)
        .await;
    assert_eq!(r.status, 403);
    // An agent does not see flows at all (SPEC §1: campaigns & flows).
    assert_eq!(t.get(&flow, &agent).await.status, 403);
    assert_eq!(t.get("/api/v1/flows", &agent).await.status, 403);
}

#[tokio::test]
async fn openapi_describes_flow_documents_as_json_or_yaml() {
    let document = serde_json::to_value(parley_http::openapi()).unwrap();
    let request = &document["paths"]["/api/v1/flows"]["post"]["requestBody"];
    // One content type, so generated clients take a typed body (openapi-python-client
    // writes broken code for a body with two); YAML is named in the description.
    assert_eq!(
        request["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/FlowDocument",
        "{request}"
    );
    assert!(
        request["description"]
            .as_str()
            .is_some_and(|d| d.contains("application/yaml")),
        "{request}"
    );
    let publish = &document["paths"]["/api/v1/flows/{id}/versions"]["post"]["responses"];
    assert!(
        publish.get("201").is_some() && publish.get("200").is_some(),
        "{publish}"
    );
}
