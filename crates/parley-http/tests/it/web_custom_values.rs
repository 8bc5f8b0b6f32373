//! The custom value endpoint's page as an administrator uses it: a bad URL and timeout
//! named beside their fields; saved (the signing secret shown once); **Test** sends the
//! signed GET a flow's `fetch` sends to a real receiver and shows the values Parley read
//! and typed, or why the answer could not be used; removed; administrators only.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, Receiver, Reply, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, get, html, person, poster, sign_in,
};

#[tokio::test]
async fn an_administrator_sets_tests_and_removes_the_custom_value_endpoint() {
    let t = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money")]).await;
    let receiver = Receiver::start().await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/integrations/values");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains("No custom value endpoint yet"));
    assert!(!text.contains("id=\"test-title\""), "nothing to test yet");
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);

    let r = t
        .send(post(&[
            ("action", "save"),
            ("url", "ftp://example.com/values"),
            ("timeout_ms", "10"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&r).to_owned();
    assert!(text.contains("id=\"values-url-problem\""), "{text}");
    assert!(text.contains("value=\"ftp://example.com/values\""));
    let r = t
        .send(post(&[
            ("action", "save"),
            ("url", &receiver.url),
            ("timeout_ms", "10"),
        ]))
        .await;
    assert!(
        html(&r).contains("id=\"values-timeout-problem\""),
        "{}",
        html(&r)
    );

    let r = t
        .send(post(&[
            ("action", "save"),
            ("url", &receiver.url),
            ("timeout_ms", "2000"),
        ]))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the secret is shown on the answer"
    );
    let text = html(&r).to_owned();
    let start = text
        .find("<code id=\"secret-value\" class=\"mono\">")
        .unwrap()
        + 37;
    let secret = &text[start..start + text[start..].find('<').unwrap()];
    assert!(secret.starts_with("whsec_"), "{secret}");
    let later = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(!later.contains(secret), "not shown again");
    assert!(later.contains(&format!(
        "Asking <span class=\"mono\">{}</span>, waiting up to 2000 ms.",
        receiver.url
    )));
    assert!(
        later.contains("id=\"test-fields\" name=\"fields\" value=\"balance\""),
        "the organization's fields"
    );

    receiver.script([
        Reply::Json(200, r#"{"balance": "123.4"}"#.into()),
        Reply::Status(500),
    ]);
    let r = t
        .send(post(&[
            ("action", "test"),
            ("customer_id", "C-17"),
            ("channel_id", "+447700900123"),
            ("fields", "balance"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let text = html(&r).to_owned();
    assert!(
        text.contains("<div class=\"test-result ok\" role=\"status\">"),
        "{text}"
    );
    assert!(
        text.contains("<dt class=\"mono\">balance</dt><dd class=\"mono\">&#34;123.40&#34;</dd>"),
        "typed as money: {text}"
    );
    let got = receiver.received();
    assert_eq!(got[0].method, http::Method::GET);
    assert!(
        got[0].uri.contains("customerId=C-17") && got[0].uri.contains("fields=balance"),
        "{}",
        got[0].uri
    );
    assert!(got[0].headers.contains_key("webhook-signature"));
    let r = t
        .send(post(&[
            ("action", "test"),
            ("customer_id", ""),
            ("channel_id", "+447700900123"),
            ("fields", "balance"),
        ]))
        .await;
    let text = html(&r).to_owned();
    assert!(text.contains("<div class=\"test-result failed\" role=\"status\">"));
    assert!(text.contains("The endpoint answered 500"), "{text}");
    let r = t.send(post(&[("action", "test"), ("fields", " , ")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("id=\"test-fields-problem\""));

    let r = t.send(post(&[("action", "delete")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(html(&t.send(get(&path, &owner)).await).contains("No custom value endpoint yet"));

    let sue = person(&t, org, "sue@example.test", Role::Supervisor).await;
    assert_eq!(t.send(get(&path, &sue)).await.status, StatusCode::FORBIDDEN);
}
