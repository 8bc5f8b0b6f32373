//! The Channels page as an administrator uses it: a Twilio channel refused with each bad
//! field named beside it as the API names it (`settings.account_sid`,
//! `credentials.auth_token`) and the typed token never echoed; then added, its inbound
//! URL to paste shown with a copy button and its credential listed by name only; edited
//! (rate, flow, a replaced token, disabled) with an empty token box keeping the stored
//! one; a web chat channel with its embed snippet; hostile names inert; the page is an
//! administrator's only.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::json;

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, person, poster, sign_in,
};

const SID: &str = "AC0123456789abcdef0123456789abcdef";

#[tokio::test]
async fn an_administrator_adds_and_edits_channels_in_the_page() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let flow = crate::campaigns::flow(&t, &token).await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/channels");
    let page = t
        .send(get(&format!("{path}?provider=twilio"), &owner))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains("aria-current=\"page\">Channels</a>"));
    assert!(text.contains("<label for=\"new-settings.account_sid\">Account SID"));
    assert!(text.contains("name=\"credentials.auth_token\" value=\"\" type=\"password\""));
    assert!(
        text.contains("<option value=\"") && text.contains(">arrears</option>"),
        "published flows to choose"
    );
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);

    let refused = t
        .send(post(&[
            ("action", "create"),
            ("provider", "twilio"),
            ("name", "UK SMS"),
            ("sender", "+447700900001"),
            ("settings.account_sid", "AC-nope"),
            ("credentials.auth_token", ""),
            ("rate_per_second", "0"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused).to_owned();
    for id in [
        "new-settings.account_sid-problem",
        "new-credentials.auth_token-problem",
        "new-rate-problem",
    ] {
        assert!(text.contains(&format!("id=\"{id}\"")), "{id}: {text}");
    }
    assert!(
        text.contains("value=\"AC-nope\"") && text.contains("value=\"UK SMS\""),
        "typed values kept"
    );

    let leaked = t
        .send(post(&[
            ("action", "create"),
            ("provider", "twilio"),
            ("name", "UK SMS"),
            ("sender", "bad sender!"),
            ("settings.account_sid", SID),
            ("credentials.auth_token", "tok-secret-1"),
        ]))
        .await;
    assert_eq!(leaked.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        !html(&leaked).contains("tok-secret-1"),
        "a typed credential is never shown back"
    );

    let r = t
        .send(post(&[
            ("action", "create"),
            ("provider", "twilio"),
            ("name", "UK <b>SMS</b>"),
            ("sender", "+447700900001"),
            ("settings.account_sid", SID),
            ("credentials.auth_token", "tok-secret-1"),
            ("inbound_flow", &flow),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let listed = t.get("/api/v1/channels", &token).await.json;
    let channel = listed["data"][0].clone();
    let id = channel["id"].as_str().unwrap().to_owned();
    assert_eq!(channel["credentials"], json!(["auth_token"]));
    assert_eq!(channel["inbound_flow"], flow.as_str());
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(
        text.contains("UK &#60;b&#62;SMS&#60;/b&#62;"),
        "names render inert"
    );
    assert!(text.contains(&format!(
        "<code id=\"paste-{id}-inbound\" class=\"mono\">http://127.0.0.1:8080/hooks/twilio/{id}/inbound</code><button type=\"button\" data-copy=\"paste-{id}-inbound\">"
    )));
    assert!(text.contains("Credentials set: auth_token") && !text.contains("tok-secret-1"));
    assert!(text.contains("start the flow “arrears”"));

    // An edit with an empty token box keeps the token; a typed one replaces it.
    let app = &t;
    let edit = |token_box: &'static str, enabled: &'static str| {
        let id = id.clone();
        let csrf = csrf.clone();
        let path = path.clone();
        let owner = owner.clone();
        let flow = flow.clone();
        async move {
            let mut fields = vec![
                ("csrf", csrf.as_str()),
                ("action", "update"),
                ("id", id.as_str()),
                ("name", "UK SMS"),
                ("sender", "+447700900001"),
                ("rate_per_second", "5"),
                ("inbound_flow", flow.as_str()),
                ("inbound_queue", "default"),
                ("settings.account_sid", SID),
                ("credentials.auth_token", token_box),
            ];
            if !enabled.is_empty() {
                fields.push(("enabled", enabled));
            }
            app.send(form(&path, &owner, &fields)).await
        }
    };
    // The stored token is the one a Twilio callback must be signed with.
    let inbound = format!("/hooks/twilio/{id}/inbound");
    let signed_with = |key: &'static str, n: u32| {
        let inbound = inbound.clone();
        async move {
            let params: Vec<(String, String)> = [
                ("MessageSid", format!("SM{n:032}")),
                ("AccountSid", SID.to_owned()),
                ("From", "+447700900123".to_owned()),
                ("To", "+447700900001".to_owned()),
                ("Body", "hello".to_owned()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect();
            let url = format!("http://127.0.0.1:8080{inbound}");
            let signature = parley_channels::twilio::signature::sign(key, &url, &params);
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&params)
                .finish();
            let request = http::Request::builder()
                .method(http::Method::POST)
                .uri(&inbound)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-twilio-signature", signature)
                .body(axum::body::Body::from(body))
                .unwrap();
            app.send(request).await.status
        }
    };
    let r = edit("", "1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let kept = t
        .store()
        .find_channel(org, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.rate_per_second, 5);
    assert!(
        signed_with("tok-secret-1", 1).await.is_success(),
        "an empty box keeps the token"
    );
    assert_eq!(signed_with("tok-secret-2", 2).await, StatusCode::FORBIDDEN);
    let r = edit("tok-secret-2", "1").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        signed_with("tok-secret-2", 3).await.is_success(),
        "a typed token replaces it"
    );
    assert_eq!(signed_with("tok-secret-1", 4).await, StatusCode::FORBIDDEN);
    let r = edit("", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let disabled = t
        .store()
        .find_channel(org, id.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert!(!disabled.enabled, "unticked: disabled");

    // Web chat: the embed snippet to paste.
    let r = t
        .send(post(&[
            ("action", "create"),
            ("provider", "webchat"),
            ("name", "Site chat"),
            ("sender", "example.com"),
            (
                "settings.allowed_origins",
                "https://www.example.com\n\nhttps://shop.example.com",
            ),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let chat = t.get("/api/v1/channels", &token).await.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["provider"] == "webchat")
        .cloned()
        .unwrap();
    assert_eq!(
        chat["settings"]["allowed_origins"],
        json!(["https://www.example.com", "https://shop.example.com"])
    );
    let chat_id = chat["id"].as_str().unwrap();
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(text.contains(&format!(
        "&#60;script src=&#34;http://127.0.0.1:8080/widget.js&#34; data-channel=&#34;{chat_id}&#34; async&#62;&#60;/script&#62;"
    )), "{text}");
}

#[tokio::test]
async fn channels_are_for_administrators_only() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let sue = person(&t, org, "sue@example.test", Role::Supervisor).await;
    let path = format!("/app/{org}/channels");
    assert_eq!(t.send(get(&path, &sue)).await.status, StatusCode::FORBIDDEN);
    let desk = html(
        &t.send(get(&format!("/app/{org}/conversations"), &sue))
            .await,
    )
    .to_owned();
    assert!(!desk.contains(">Channels</a>"));
    let forged = form(
        &path,
        &sue,
        &[
            ("csrf", &csrf_field(&desk)),
            ("action", "create"),
            ("provider", "sim"),
            ("name", "Mine"),
            ("sender", "x"),
        ],
    );
    assert_eq!(t.send(forged).await.status, StatusCode::FORBIDDEN);
    let token = t.owner_token().await;
    assert_eq!(
        t.get("/api/v1/channels", &token).await.json["data"],
        json!([]),
        "nothing was added"
    );
}
