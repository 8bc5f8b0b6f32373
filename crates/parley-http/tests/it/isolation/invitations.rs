//! Invitations across organizations (the token routes, outside the walk over `SCOPED`):
//! accounts cannot be planted or hijacked, and no answer tells whether an email has an
//! account.

use http::Method;
use parley_domain::{OrgId, Role};
use parley_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

async fn invite(t: &TestApp, token: &str, email: &str, role: &str) -> TestResponse {
    t.call(
        Method::POST,
        "/api/v1/users",
        Some(token),
        None,
        Some(json!({"email": email, "role": role})),
    )
    .await
}

async fn accept(t: &TestApp, token: &Value, password: &str) -> TestResponse {
    t.call(
        Method::POST,
        "/api/v1/invitations/accept",
        None,
        None,
        Some(json!({"token": token, "password": password})),
    )
    .await
}

async fn sign_in(t: &TestApp, email: &str, password: &str, org: Option<OrgId>) -> TestResponse {
    t.call(
        Method::POST,
        "/api/v1/auth/sign-in",
        None,
        None,
        Some(json!({"email": email, "password": password, "organization_id": org})),
    )
    .await
}

/// The shape of a JSON value: its keys, recursively, without the values.
fn shape(v: &Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(shape).collect()),
        Value::String(_) => Value::from("string"),
        other => other.clone(),
    }
}

/// Accounts cannot be planted or hijacked across organizations: inviting grants nothing,
/// an administrator never chooses or learns another organization's person's password or
/// details, the answer does not tell whether an email has an account, and a default
/// sign-in lands in the account's own first organization.
#[tokio::test]
async fn invitations_never_grant_across_organizations() {
    let t = TestApp::new().await;
    let (a, token_a) = t.org_with_token("A", None, Role::Admin).await;
    let (b, token_b) = t.org_with_token("B", None, Role::Admin).await;
    let agent = t
        .create_user(
            b,
            "agent@b.example",
            "Bea Agent",
            "bea's password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    t.clock.advance(chrono::Duration::minutes(1));

    // A invites B's agent, and an email no account has: the same answer, no membership.
    let existing = invite(&t, &token_a, "agent@b.example", "admin").await;
    let unknown = invite(&t, &token_a, "nobody@b.example", "admin").await;
    assert_eq!(existing.status, 201, "{}", existing.json);
    assert_eq!(unknown.status, 201, "{}", unknown.json);
    assert_eq!(shape(&existing.json), shape(&unknown.json));
    for field in ["state", "role", "invited_by", "accepted_at", "accepted_by"] {
        assert_eq!(
            existing.json["invitation"][field], unknown.json["invitation"][field],
            "{field}"
        );
    }
    let text = existing.json.to_string();
    assert!(
        !text.contains(&agent.id.to_string()) && !text.contains("Bea Agent"),
        "the answer names nothing of the account: {text}"
    );
    assert!(
        t.store()
            .find_membership(agent.id, a)
            .await
            .unwrap()
            .is_none()
    );
    let members = t.get("/api/v1/users", &token_a).await;
    assert!(!members.json.to_string().contains("agent@b.example"));

    // A holds the link but cannot use it without the agent's password.
    let r = accept(&t, &existing.json["token"], "a's guess 12345").await;
    assert_eq!(r.status, 401, "{}", r.json);
    assert!(
        t.store()
            .find_membership(agent.id, a)
            .await
            .unwrap()
            .is_none()
    );
    // The agent accepts with their own password: now a member of both, and their
    // default sign-in still lands in B, their own first organization.
    let r = accept(&t, &existing.json["token"], "bea's password 1").await;
    assert_eq!(
        (r.status.as_u16(), r.json["created_account"].as_bool()),
        (200, Some(false)),
        "{}",
        r.json
    );
    assert_eq!(r.json["role"], "admin");
    let r = sign_in(&t, "agent@b.example", "bea's password 1", None).await;
    assert_eq!(r.json["organization_id"], b.to_string(), "{}", r.json);
    // The link is used up.
    let r = accept(&t, &existing.json["token"], "bea's password 1").await;
    assert_eq!(r.status, 404);

    // Planting: A invites an email no account has yet and accepts it with a password A
    // chose. When B later invites the same email, B's link needs that account's password,
    // which only A knows, so B's admin and the real person see the invitation wait; and
    // A, who knows the password, has no link to B and cannot sign in to B.
    let planted = invite(&t, &token_a, "cfo@b.example", "viewer").await;
    let r = accept(&t, &planted.json["token"], "a chose this 1").await;
    assert_eq!(r.json["created_account"], true, "{}", r.json);
    let b_invite = invite(&t, &token_b, "cfo@b.example", "admin").await;
    assert_eq!(b_invite.status, 201, "{}", b_invite.json);
    assert_eq!(shape(&b_invite.json), shape(&unknown.json));
    let r = sign_in(&t, "cfo@b.example", "a chose this 1", Some(b)).await;
    assert_eq!(r.status, 401, "A cannot reach B: {}", r.json);
    let contacts = t
        .call(
            Method::GET,
            "/api/v1/contacts",
            Some(&token_a),
            Some(b),
            None,
        )
        .await;
    assert_eq!(contacts.status, 404);
    let r = accept(&t, &b_invite.json["token"], "a different pw 1").await;
    assert_eq!(r.status, 401, "B's link needs the account's password");

    // No admin sets a password or a name for anyone.
    let r = t
        .call(
            Method::POST,
            "/api/v1/users",
            Some(&token_a),
            None,
            Some(json!({"email": "x@a.example", "role": "agent", "password": "chosen by admin", "name": "X"})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);

    // Invitations are listed and withdrawn only within their organization.
    let list_b = t.get("/api/v1/invitations", &token_b).await;
    assert!(!list_b.json.to_string().contains("nobody@b.example"));
    let id = unknown.json["invitation"]["id"].as_str().unwrap();
    let r = t
        .call(
            Method::DELETE,
            &format!("/api/v1/invitations/{id}"),
            Some(&token_b),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
    let r = t
        .call(
            Method::DELETE,
            &format!("/api/v1/invitations/{id}"),
            Some(&token_a),
            None,
            None,
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["state"].as_str()),
        (200, Some("revoked"))
    );
    let r = accept(&t, &unknown.json["token"], "too late pass 1").await;
    assert_eq!(r.status, 404, "a withdrawn link no longer works");
    assert!(
        t.store()
            .find_user_by_email("nobody@b.example")
            .await
            .unwrap()
            .is_none()
    );

    // A sub-organization's invitation makes a member of it alone.
    let (a1, token_a1) = t.org_with_token("A1", Some(a), Role::Admin).await;
    let child = invite(&t, &token_a1, "child@a.example", "agent").await;
    let r = accept(&t, &child.json["token"], "child password 1").await;
    assert_eq!(r.json["organization_id"], a1.to_string(), "{}", r.json);
    let user = t
        .store()
        .find_user_by_email("child@a.example")
        .await
        .unwrap()
        .unwrap()
        .user;
    let memberships = t.store().list_memberships_of_user(user.id).await.unwrap();
    assert_eq!(memberships.len(), 1);
    assert_eq!(memberships[0].organization_id, a1);
    // The parent's admin sees the child's invitations; the child's admin not the parent's.
    let r = t
        .call(
            Method::GET,
            "/api/v1/invitations",
            Some(&token_a),
            Some(a1),
            None,
        )
        .await;
    assert!(r.json.to_string().contains("child@a.example"), "{}", r.json);
    let r = t
        .call(
            Method::GET,
            "/api/v1/invitations",
            Some(&token_a1),
            Some(a),
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}
