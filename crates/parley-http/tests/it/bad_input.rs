//! Bad input and bad credentials get problem documents naming what is wrong; nothing
//! answers 500 or shows internal text.

use axum::body::Body;
use chrono::Duration;
use http::{Method, Request};
use jsonwebtoken::{EncodingKey, Header};
use parley_testkit::TestApp;
use serde_json::json;

fn is_problem(r: &parley_testkit::TestResponse) -> bool {
    r.headers.get("content-type").and_then(|v| v.to_str().ok()) == Some("application/problem+json")
}

#[tokio::test]
async fn malformed_unknown_and_mistyped_bodies_name_the_problem() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let raw = |body: &'static str| {
        Request::builder()
            .method(Method::POST)
            .uri("/api/v1/organizations")
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(Body::from(body))
            .unwrap()
    };
    let r = t.send(raw("{\"name\": \"x\",\n  oops}")).await;
    assert_eq!(r.status, 400);
    assert!(is_problem(&r));
    assert_eq!(r.json["type"], "/problems/malformed-body");
    assert!(
        r.json["detail"].as_str().unwrap().contains("line 2"),
        "{}",
        r.json
    );

    for (body, field) in [
        (json!({"name": "x", "colour": "red"}), "colour"),
        (json!({"name": 42}), "name"),
        (json!({}), "name"),
        (
            json!({"name": "x", "default_country": "UK"}),
            "default_country",
        ),
        (
            json!({"name": "x", "timezone": "Mars/Olympus Mons"}),
            "timezone",
        ),
        (json!({"name": "x", "locale": "ymd"}), "locale"),
        (json!({"name": "   "}), "name"),
        // The right shape, but no such zone.
        (json!({"name": "x", "timezone": "Mars/Olympus"}), "timezone"),
    ] {
        let r = t
            .call(
                Method::POST,
                "/api/v1/organizations",
                Some(&token),
                None,
                Some(body.clone()),
            )
            .await;
        assert_eq!(r.status, 422, "{body}: {}", r.json);
        assert!(is_problem(&r));
        assert_eq!(r.json["errors"][0]["field"], field, "{body}: {}", r.json);
    }
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("colour=red", "colour"),
    ] {
        let r = t
            .get(&format!("/api/v1/organizations?{query}"), &token)
            .await;
        assert_eq!(r.problem_field(), (422, Some(field)), "{query}: {}", r.json);
    }
    let r = t
        .send(
            Request::builder()
                .method(Method::POST)
                .uri("/api/v1/organizations")
                .header("authorization", format!("Bearer {token}"))
                .body(Body::from("name=x"))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, 415);
    let r = t
        .call(
            Method::GET,
            "/api/v1/organizations",
            Some(&token),
            Some(parley_domain::OrgId::generate()),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t
        .send(
            Request::builder()
                .uri("/api/v1/organizations")
                .header("authorization", format!("Bearer {token}"))
                .header("parley-organization", "acme")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("Parley-Organization")));
    let r = t.get("/api/v1/organizations/not-an-id", &token).await;
    assert_eq!(r.status, 404);
    let r = t.get("/api/v1/nowhere", &token).await;
    assert_eq!((r.status.as_u16(), is_problem(&r)), (404, true));
    let r = t
        .call(
            Method::PUT,
            "/api/v1/organizations",
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!((r.status.as_u16(), is_problem(&r)), (405, true));
}

#[tokio::test]
async fn expired_forged_revoked_and_missing_credentials_get_401() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    assert_eq!(t.get("/api/v1/organizations", &token).await.status, 200);

    let r = t
        .call(Method::GET, "/api/v1/organizations", None, None, None)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.headers.get("www-authenticate").unwrap(), "Bearer");

    // Forged: the right claims signed with another key.
    let claims = json!({"iss": "parley", "sub": t.root.api_key.key.id, "org": t.root.organization, "iat": 0, "exp": 4_000_000_000_i64, "jti": "x"});
    let forged = jsonwebtoken::encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(b"not the server key"),
    )
    .unwrap();
    let r = t.get("/api/v1/organizations", &forged).await;
    assert_eq!(
        (r.status.as_u16(), r.json["type"].as_str()),
        (401, Some("/problems/unauthenticated"))
    );
    for garbage in ["abc", "a.b.c", ""] {
        let r = t
            .call(
                Method::GET,
                "/api/v1/organizations",
                Some(garbage),
                None,
                None,
            )
            .await;
        assert_eq!(r.status, 401, "{garbage:?}");
    }

    // Expired: an hour and a second later by the injected clock.
    t.clock.advance(Duration::seconds(3601));
    let r = t.get("/api/v1/organizations", &token).await;
    assert_eq!(r.status, 401);
    assert!(r.json["detail"].as_str().unwrap().contains("expired"));

    // Revoked: tokens of a revoked key stop at once.
    let fresh = t.owner_token().await;
    let (org, other) = t
        .org_with_token(
            "Other",
            Some(t.root.organization),
            parley_domain::Role::Admin,
        )
        .await;
    let keys = t.get("/api/v1/api-keys", &other).await;
    let key_id = keys.json["data"][0]["id"].as_str().unwrap().to_owned();
    let r = t
        .call(
            Method::DELETE,
            &format!("/api/v1/api-keys/{key_id}"),
            Some(&fresh),
            Some(org),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = t.get("/api/v1/organizations", &other).await;
    assert_eq!(r.status, 401);
    assert!(r.json["detail"].as_str().unwrap().contains("revoked"));

    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            None,
            Some(json!({"key_id": "key_nope", "secret": "x"})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("key_id")));
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            None,
            Some(json!({"key_id": t.root.api_key.key.id, "secret": "pk_wrong"})),
        )
        .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn permissions_are_enforced_by_role() {
    let t = TestApp::new().await;
    let (_, viewer) = t
        .org_with_token(
            "Viewers",
            Some(t.root.organization),
            parley_domain::Role::Viewer,
        )
        .await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/organizations",
            Some(&viewer),
            None,
            Some(json!({"name": "nope"})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["type"].as_str()),
        (403, Some("/problems/forbidden"))
    );
    assert_eq!(t.get("/api/v1/organizations", &viewer).await.status, 200);
    assert_eq!(t.get("/api/v1/users", &viewer).await.status, 403);
    let (_, admin) = t
        .org_with_token(
            "Admins",
            Some(t.root.organization),
            parley_domain::Role::Admin,
        )
        .await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/api-keys",
            Some(&admin),
            None,
            Some(json!({"name": "too much", "permissions": ["retention"]})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("permissions")));
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&admin),
            None,
            Some(json!({"email": "o@example.test", "role": "owner"})),
        )
        .await;
    assert_eq!(r.status, 403, "an admin cannot create an owner");
}

/// A body with several bad values is answered once, naming every one of them, and changes
/// nothing; a patch likewise.
#[tokio::test]
async fn every_bad_field_of_a_body_is_reported_at_once() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let fields = |r: &parley_testkit::TestResponse| -> Vec<String> {
        r.json["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| e["field"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let bad =
        json!({"name": " ", "default_country": "UK", "timezone": "Mars/Olympus", "locale": "ymd"});
    let r = t
        .call(
            Method::POST,
            "/api/v1/organizations",
            Some(&token),
            None,
            Some(bad),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(
        fields(&r),
        ["name", "default_country", "timezone", "locale"],
        "{}",
        r.json
    );
    let listed = t.get("/api/v1/organizations", &token).await;
    assert_eq!(
        listed.json["data"].as_array().unwrap().len(),
        1,
        "nothing was created"
    );

    let org = t.root.organization;
    let r = t
        .call(
            Method::PATCH,
            &format!("/api/v1/organizations/{org}"),
            Some(&token),
            None,
            Some(json!({"name": "Renamed", "timezone": "Europe/Nowhere", "default_country": "ZZ"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(fields(&r), ["default_country", "timezone"], "{}", r.json);
    let kept = t.get(&format!("/api/v1/organizations/{org}"), &token).await;
    assert_ne!(
        kept.json["name"], "Renamed",
        "a refused patch changes nothing"
    );
}
