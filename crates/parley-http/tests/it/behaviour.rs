//! Behaviour across requests: idempotent creation, browser sessions with CSRF, the last
//! owner, pagination, the audit trail.

use axum::body::Body;
use http::{Method, Request};
use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::json;

fn post(path: &str, token: &str, key: &str, body: &serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn idempotency_keys_replay_the_first_response() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let first = t
        .send(post(
            "/api/v1/organizations",
            &token,
            "k-1",
            &json!({"name": "Once"}),
        ))
        .await;
    assert_eq!(first.status, 201);
    assert_eq!(first.headers.get("idempotency-replayed").unwrap(), "false");
    let again = t
        .send(post(
            "/api/v1/organizations",
            &token,
            "k-1",
            &json!({"name": "Once"}),
        ))
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers.get("idempotency-replayed").unwrap(), "true");
    assert_eq!(
        again.json, first.json,
        "the same organization, not a second one"
    );
    let list = t.get("/api/v1/organizations", &token).await;
    assert_eq!(
        list.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| o["name"] == "Once")
            .count(),
        1
    );
    let other = t
        .send(post(
            "/api/v1/organizations",
            &token,
            "k-1",
            &json!({"name": "Different"}),
        ))
        .await;
    assert_eq!(
        (other.status.as_u16(), other.json["type"].as_str()),
        (422, Some("/problems/idempotency-key-reused"))
    );
    let bad = t
        .send(post(
            "/api/v1/organizations",
            &token,
            "bad key with spaces",
            &json!({"name": "x"}),
        ))
        .await;
    assert_eq!(bad.json["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn browser_sessions_need_the_csrf_token_for_changes() {
    let t = TestApp::new().await;
    let sign_in = json!({"email": "OWNER@example.test", "password": OWNER_PASSWORD});
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            None,
            Some(sign_in),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let cookies: Vec<String> = r
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    let session = cookies
        .iter()
        .find(|c| c.starts_with("parley_session="))
        .unwrap();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Lax"));
    let cookie = session.split(';').next().unwrap().to_owned();
    let csrf = r.json["csrf_token"].as_str().unwrap().to_owned();
    let with_cookie =
        |method: Method, path: &str, csrf: Option<&str>, body: Option<serde_json::Value>| {
            let mut b = Request::builder()
                .method(method)
                .uri(path)
                .header("cookie", &cookie);
            if let Some(c) = csrf {
                b = b.header("x-csrf-token", c);
            }
            match body {
                Some(body) => b
                    .header("content-type", "application/json")
                    .body(Body::from(body.to_string()))
                    .unwrap(),
                None => b.body(Body::empty()).unwrap(),
            }
        };
    assert_eq!(
        t.send(with_cookie(Method::GET, "/api/v1/auth/session", None, None))
            .await
            .status,
        200
    );
    let r = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/organizations",
            None,
            Some(json!({"name": "x"})),
        ))
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["type"].as_str()),
        (403, Some("/problems/csrf-failed"))
    );
    let r = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/organizations",
            Some("forged"),
            Some(json!({"name": "x"})),
        ))
        .await;
    assert_eq!(r.status, 403);
    let r = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/organizations",
            Some(&csrf),
            Some(json!({"name": "x"})),
        ))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = t
        .send(with_cookie(
            Method::POST,
            "/api/v1/auth/sign-out",
            Some(&csrf),
            None,
        ))
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(
        t.send(with_cookie(Method::GET, "/api/v1/auth/session", None, None))
            .await
            .status,
        401
    );
    let wrong = json!({"email": "owner@example.test", "password": "not the password"});
    assert_eq!(
        t.call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            None,
            Some(wrong)
        )
        .await
        .status,
        401
    );
    let token = t.owner_token().await;
    let log = t.get("/api/v1/audit-log", &token).await;
    let actions: Vec<&str> = log.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for expected in [
        "sign_in",
        "sign_out",
        "api_key_created",
        "role_changed",
        "organization_created",
    ] {
        assert!(
            actions.contains(&expected),
            "{expected} missing from {actions:?}"
        );
    }
}

#[tokio::test]
async fn the_last_owner_stays_and_roles_change_with_audit() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let owner = t.root.owner.id;
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{owner}"),
            Some(&token),
            None,
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["type"].as_str()),
        (409, Some("/problems/conflict")),
        "{}",
        r.json
    );
    assert_eq!(
        t.call(
            Method::DELETE,
            &format!("/api/v1/users/{owner}"),
            Some(&token),
            None,
            None
        )
        .await
        .status,
        409
    );
    // A second owner joins by invitation; then the first may step down.
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&token),
            None,
            Some(json!({"email": "second@example.test", "role": "owner"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let accept = json!({"token": r.json["token"], "password": "second pass 1", "name": "Second"});
    let r = t
        .call(
            Method::POST,
            "/api/v1/invitations/accept",
            None,
            None,
            Some(accept),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["role"].as_str()),
        (200, Some("owner")),
        "{}",
        r.json
    );
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/users/{owner}"),
            Some(&token),
            None,
            Some(json!({"role": "admin"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["role"].as_str()),
        (200, Some("admin"))
    );
    let dup = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&token),
            None,
            Some(json!({"email": "new@example.test", "role": "viewer", "name": "New", "password": "chosen by admin"})),
        )
        .await;
    assert_eq!(
        dup.status, 422,
        "an administrator chooses no one's name or password: {}",
        dup.json
    );
    let fields: Vec<&str> = dup.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["name", "password"]);
}

#[tokio::test]
async fn lists_paginate_with_cursors() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    for i in 0..5 {
        t.call(
            Method::POST,
            "/api/v1/organizations",
            Some(&token),
            None,
            Some(json!({"name": format!("child {i}")})),
        )
        .await;
    }
    let mut seen = Vec::new();
    let mut path = "/api/v1/organizations?limit=2".to_owned();
    loop {
        let r = t.get(&path, &token).await;
        let page = r.json["data"].as_array().unwrap();
        assert!(page.len() <= 2);
        seen.extend(page.iter().map(|o| o["id"].as_str().unwrap().to_owned()));
        match r.json["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/organizations?limit=2&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen.len(), 6);
    let openapi = t
        .call(Method::GET, "/api/v1/openapi.json", None, None, None)
        .await;
    assert_eq!(openapi.json["openapi"], "3.1.0");
}

/// Every response of the OpenAPI document has the description OpenAPI 3.1 requires.
#[tokio::test]
async fn every_openapi_response_has_a_description() {
    let document_json = serde_json::to_value(parley_http::openapi()).unwrap();
    for (path, item) in document_json["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                assert!(
                    response["description"]
                        .as_str()
                        .is_some_and(|d| !d.is_empty()),
                    "{method} {path} {status} has no description"
                );
            }
        }
    }
}

/// Every `$ref` in the document names a schema the document defines (a reference to a
/// schema no operation brings in, like the shared problem answer's, would dangle).
#[tokio::test]
async fn every_openapi_reference_resolves() {
    fn walk(value: &serde_json::Value, refs: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(r) = map.get("$ref").and_then(serde_json::Value::as_str) {
                    refs.push(r.to_owned());
                }
                map.values().for_each(|v| walk(v, refs));
            }
            serde_json::Value::Array(items) => items.iter().for_each(|v| walk(v, refs)),
            _ => {}
        }
    }
    let document = serde_json::to_value(parley_http::openapi()).unwrap();
    let mut refs = Vec::new();
    walk(&document, &mut refs);
    assert!(refs.iter().any(|r| r == "#/components/schemas/Problem"));
    for r in refs {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or(&r);
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "{r} names no schema of the document"
        );
    }
}

/// What validators and client generators trip on: every operation has its own
/// `operationId`, every `in: path` parameter is in its path's template (query parameters
/// are not declared as path ones), the document never sends a reader to our internal
/// specification, and no schema uses tuple items (`prefixItems`), which generators refuse.
#[tokio::test]
async fn openapi_document_is_what_tools_accept() {
    let document = serde_json::to_value(parley_http::openapi()).unwrap();
    let mut ids = std::collections::BTreeMap::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            assert!(!id.is_empty(), "{method} {path} has no operationId");
            if let Some(other) = ids.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id} is used by {other} and {method} {path}");
            }
            for parameter in op["parameters"].as_array().into_iter().flatten() {
                let name = parameter["name"].as_str().unwrap();
                let in_template = path.contains(&format!("{{{name}}}"));
                assert_eq!(
                    parameter["in"] == "path",
                    in_template,
                    "{method} {path}: parameter {name} is `in: {}`",
                    parameter["in"]
                );
            }
        }
    }
    let text = document.to_string();
    assert!(
        !text.contains("SPEC"),
        "the document cites the internal SPEC"
    );
    assert!(!text.contains("prefixItems"));
    // The enums that describe text fields hold the words the server reads.
    let schemas = &document["components"]["schemas"];
    let words = |name: &str| -> Vec<String> {
        serde_json::from_value(schemas[name]["enum"].clone()).unwrap_or_default()
    };
    let field_types: Vec<String> = parley_domain::FieldType::ALL
        .iter()
        .map(|t| t.as_str().to_owned())
        .collect();
    assert_eq!(words("FieldTypeName"), field_types);
    let mut roles: Vec<String> = parley_domain::Role::ALL
        .iter()
        .map(|r| r.as_str().to_owned())
        .collect();
    let mut named = words("RoleName");
    roles.sort();
    named.sort();
    assert_eq!(named, roles);
    // Each provider's channel body is its own schema, chosen by `provider`.
    let providers: Vec<&str> = schemas["CreateChannelRequest"]["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|variant| {
            let name = variant["$ref"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap();
            let provider = &schemas[name]["allOf"][1]["properties"]["provider"]["$ref"];
            let provider = provider.as_str().unwrap().rsplit('/').next().unwrap();
            schemas[provider]["enum"][0].as_str().unwrap()
        })
        .collect();
    assert_eq!(providers, ["sim", "twilio", "whatsapp", "webchat"]);
    assert_eq!(
        schemas["TwilioSettings"]["allOf"][1]["properties"]["account_sid"]["pattern"],
        "^AC[0-9a-fA-F]{32}$"
    );
    assert_eq!(
        schemas["ChannelCommon"]["properties"]["inbound_queue"]["default"],
        "default"
    );
}

/// Every problem document's `type` answers with a page that explains it; an unknown one
/// is a 404 problem.
#[tokio::test]
async fn every_problem_type_has_a_page() {
    let t = TestApp::new().await;
    for slug in [
        "malformed-body",
        "validation-failed",
        "unsupported-media-type",
        "payload-too-large",
        "unauthenticated",
        "forbidden",
        "csrf-failed",
        "not-found",
        "method-not-allowed",
        "conflict",
        "idempotency-key-reused",
        "idempotency-in-progress",
        "rate-limited",
        "unavailable",
        "internal",
    ] {
        let r = t
            .call(Method::GET, &format!("/problems/{slug}"), None, None, None)
            .await;
        assert_eq!(r.status, 200, "{slug}");
        let page = r.json.as_str().unwrap_or_default().to_owned();
        assert!(page.contains("<h1 id=\"title\">"), "{slug}: {page}");
        assert!(page.contains(&format!("/problems/{slug}")), "{slug}");
        assert!(page.matches("<p class=\"lead\">").count() == 2, "{slug}");
    }
    let r = t
        .call(Method::GET, "/problems/nope", None, None, None)
        .await;
    assert_eq!(r.status, 404);
    // The `type` of a real problem leads to its page.
    let r = t
        .call(Method::GET, "/api/v1/organizations", None, None, None)
        .await;
    let kind = r.json["type"].as_str().unwrap().to_owned();
    let page = t.call(Method::GET, &kind, None, None, None).await;
    assert_eq!(page.status, 200, "{kind}");
}
