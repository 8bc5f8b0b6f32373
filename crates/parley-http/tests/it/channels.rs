//! `/api/v1/channels`: every bad field named at once and nothing stored, credentials that
//! go in and never come out, changes that replace only what they name, and an inbound
//! flow that must be published.

use http::Method;
use parley_testkit::TestApp;
use serde_json::{Value, json};

fn fields_of(problem: &Value) -> Vec<String> {
    let mut fields: Vec<String> = problem["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    fields.sort();
    fields
}

#[tokio::test]
async fn channels_keep_credentials_sealed_and_name_every_bad_field() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;

    // Everything wrong at once: each field named, nothing stored.
    let (status, problem) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(json!({
                "provider": "twilio", "name": "", "sender": "07700900001", "rate_per_second": 0,
                "settings": {"account_sid": "AC1", "region": "ie1"},
                "credentials": {"auth_tokn": "x"},
            })),
        )
        .await
        .pair();
    assert_eq!(status, 422, "{problem}");
    assert_eq!(
        fields_of(&problem),
        [
            "credentials.auth_token",
            "credentials.auth_tokn",
            "name",
            "rate_per_second",
            "sender",
            "settings.account_sid",
            "settings.region",
        ]
    );
    let (_, list) = t
        .request(&token, Method::GET, "/api/v1/channels", None)
        .await
        .pair();
    assert_eq!(list["data"], json!([]), "nothing was stored");
    let (status, problem) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(json!({"provider": "smpp", "name": "x", "sender": "x"})),
        )
        .await
        .pair();
    assert_eq!(
        (status, fields_of(&problem)),
        (422, vec!["provider".to_owned()])
    );

    // A good channel: the answer names its credentials, never their values.
    let (status, created) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(json!({
                "provider": "twilio", "name": "Collections SMS", "sender": "+447700900001",
                "settings": {"account_sid": "AC0123456789abcdef0123456789abcdef"},
                "credentials": {"auth_token": "super-secret-token"},
            })),
        )
        .await
        .pair();
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["credentials"], json!(["auth_token"]));
    assert_eq!(created["rate_per_second"], 1, "Twilio's long-code default");
    assert_eq!(created["inbound_queue"], "default");
    assert!(!created.to_string().contains("super-secret-token"));
    let id = created["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/channels/{id}");
    let (_, got) = t.request(&token, Method::GET, &path, None).await.pair();
    assert_eq!(got, created);
    let (_, audit) = t
        .request(&token, Method::GET, "/api/v1/audit-log", None)
        .await
        .pair();
    assert!(
        !audit.to_string().contains("super-secret-token"),
        "the audit log holds no secret"
    );

    // A change replaces what it names: a new rate, the token kept.
    let (status, changed) = t.request(&token, Method::PATCH, &path, Some(json!({"rate_per_second": 5, "settings": {"base_url": "https://eu1.twilio.invalid"}})))
    .await.pair();
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["rate_per_second"], 5);
    assert_eq!(changed["credentials"], json!(["auth_token"]));
    assert_eq!(
        changed["settings"]["base_url"],
        "https://eu1.twilio.invalid"
    );
    // Removing a required credential is refused, and changes nothing.
    let (status, problem) = t
        .request(
            &token,
            Method::PATCH,
            &path,
            Some(json!({"name": "Renamed", "credentials": {"auth_token": null}})),
        )
        .await
        .pair();
    assert_eq!(
        (status, fields_of(&problem)),
        (422, vec!["credentials.auth_token".to_owned()])
    );
    let (_, got) = t.request(&token, Method::GET, &path, None).await.pair();
    assert_eq!(got["name"], "Collections SMS");

    // The inbound flow must be one of ours with a published version.
    let (_, flow) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/flows",
            Some(json!({"schema": 1,
        "name": "Greeting", "start": "bye",
        "steps": {"bye": {"type": "close", "status": "done", "text": "Goodbye"}}})),
        )
        .await
        .pair();
    let flow_id = flow["id"].as_str().unwrap().to_owned();
    t.define_flow_names(
        &token,
        &json!({"steps": {"bye": {"type": "close", "status": "done"}}}),
    )
    .await;
    let (status, problem) = t
        .request(
            &token,
            Method::PATCH,
            &path,
            Some(json!({"inbound_flow": flow_id})),
        )
        .await
        .pair();
    assert_eq!(
        (status, fields_of(&problem)),
        (422, vec!["inbound_flow".to_owned()]),
        "no version yet"
    );
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/flows/{flow_id}/versions"),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let (status, changed) = t
        .request(
            &token,
            Method::PATCH,
            &path,
            Some(json!({"inbound_flow": flow_id})),
        )
        .await
        .pair();
    assert_eq!(
        (status, changed["inbound_flow"].as_str()),
        (200, Some(flow_id.as_str()))
    );
    let (status, changed) = t
        .request(
            &token,
            Method::PATCH,
            &path,
            Some(json!({"inbound_flow": null})),
        )
        .await
        .pair();
    assert_eq!((status, &changed["inbound_flow"]), (200, &Value::Null));
}

/// A provider's `base_url` is a URL an organization sets, so it goes through the SSRF
/// guard: every way of writing a loopback, private, link-local or metadata address is
/// refused by field, for Twilio and WhatsApp alike, and nothing is stored.
#[tokio::test]
async fn provider_urls_on_private_addresses_are_refused_by_field() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let forms = [
        "http://127.0.0.1:8080",
        "http://169.254.169.254",
        "http://10.0.0.1",
        "http://[::1]",
        "http://0x7f000001",
        "http://localhost:9",
        "http://[::ffff:127.0.0.1]",
    ];
    for base_url in forms {
        let bodies = [
            json!({"provider": "twilio", "name": "SMS", "sender": "+447700900001",
                "settings": {"account_sid": "AC00000000000000000000000000000001", "base_url": base_url},
                "credentials": {"auth_token": "secret"}}),
            json!({"provider": "whatsapp", "name": "WA", "sender": "1234567890",
                "settings": {"base_url": base_url},
                "credentials": {"access_token": "a", "app_secret": "b", "verify_token": "c"}}),
        ];
        for body in bodies {
            let (status, problem) = t
                .request(&token, Method::POST, "/api/v1/channels", Some(body))
                .await
                .pair();
            assert_eq!(status, 422, "{base_url}: {problem}");
            assert_eq!(fields_of(&problem), ["settings.base_url"], "{base_url}");
            let detail = problem["errors"][0]["message"].as_str().unwrap_or_default();
            assert!(
                detail.contains("outbound.allow_private_targets"),
                "{base_url}: the refusal names the setting: {detail}"
            );
        }
    }
    let (_, list) = t
        .request(&token, Method::GET, "/api/v1/channels", None)
        .await
        .pair();
    assert_eq!(list["data"], json!([]), "nothing was stored");

    // An installation that allows private targets takes the same URL.
    let open = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    let token = open.owner_token().await;
    let (status, created) = open.request(&token, Method::POST, "/api/v1/channels", Some(json!({"provider": "twilio", "name": "SMS", "sender": "+447700900001",
            "settings": {"account_sid": "AC00000000000000000000000000000001", "base_url": "http://127.0.0.1:8080"},
            "credentials": {"auth_token": "secret"}})))
    .await.pair();
    assert_eq!(status, 201, "{created}");
}

/// A channel's inbound queue must be one the organization defined (or `default`): a typo
/// is named at once instead of parking customers in a queue no one watches.
#[tokio::test]
async fn an_inbound_queue_must_exist() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let body = |queue: &str| {
        json!({"provider": "sim", "name": "Sim", "sender": "demo", "inbound_queue": queue,
            "settings": {}})
    };
    let (status, problem) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(body("colections")),
        )
        .await
        .pair();
    assert_eq!(status, 422, "{problem}");
    assert_eq!(fields_of(&problem), ["inbound_queue"]);
    let (status, _) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/queues",
            Some(json!({"key": "collections", "name": "Collections"})),
        )
        .await
        .pair();
    assert_eq!(status, 201);
    let (status, created) = t
        .request(
            &token,
            Method::POST,
            "/api/v1/channels",
            Some(body("collections")),
        )
        .await
        .pair();
    assert_eq!(status, 201, "{created}");
    // A change names a missing queue: refused, nothing changed.
    let path = format!("/api/v1/channels/{}", created["id"].as_str().unwrap());
    let (status, problem) = t
        .request(
            &token,
            Method::PATCH,
            &path,
            Some(json!({"inbound_queue": "nowhere"})),
        )
        .await
        .pair();
    assert_eq!(
        (status, fields_of(&problem)),
        (422, vec!["inbound_queue".to_owned()])
    );
    let (_, now) = t.request(&token, Method::GET, &path, None).await.pair();
    assert_eq!(now["inbound_queue"], "collections");
}
