//! The integrations page as an administrator uses it: **Add webhook** with a **Callback
//! URL** and event boxes (every bad field named next to it, what was typed kept), the
//! secret shown once, **Test** with each of the five kinds against a real receiver (the
//! answer shown beside the endpoint), disable and enable, rotate (a new secret shown
//! once), delete; the page and its posts are an administrator's only, and every post
//! needs the session's CSRF token.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, Receiver, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, location, poster, sign_in,
};

/// The text between `start` and the next `end` in `page`.
fn between<'a>(page: &'a str, start: &str, end: &str) -> Option<&'a str> {
    page.split_once(start)?
        .1
        .split_once(end)
        .map(|(inside, _)| inside)
}

#[tokio::test]
async fn an_administrator_adds_tests_rotates_and_deletes_a_webhook_in_the_page() {
    // The receiver listens on loopback, which Parley refuses unless told otherwise.
    let t = TestApp::with_settings(|s| s.allow_private_targets = true).await;
    let org = t.root.organization;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/integrations");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains(">Integrations</a>"), "the top bar links it");
    assert!(text.contains("<label for=\"hook-url\">Callback URL</label>"));
    for name in [
        "inboundMessage",
        "messageSend",
        "deliveryReport",
        "payment",
        "setStatus",
        "conversationClosed",
        "moveToQueue",
        "conversationAssignment",
    ] {
        assert!(
            text.contains(&format!(
                "<input type=\"checkbox\" name=\"events\" value=\"{name}\">{name}</label>"
            )),
            "{name}"
        );
    }
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);

    // A bad URL is named next to its field, the boxes ticked stay ticked.
    let refused = t
        .send(post(&[
            ("action", "create"),
            ("url", "ftp://example.com/x"),
            ("events", "setStatus"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused);
    assert!(text.contains("role=\"alert\">url "), "{text}");
    assert!(text.contains("aria-invalid=\"true\" aria-describedby=\"hook-url-problem\""));
    assert!(text.contains("value=\"ftp://example.com/x\""));
    assert!(text.contains("value=\"setStatus\" checked>"));

    let receiver = Receiver::start().await;
    let added = t
        .send(post(&[
            ("action", "create"),
            ("url", &receiver.url),
            ("description", "Collections system"),
            ("events", "setStatus"),
            ("events", "conversationClosed"),
        ]))
        .await;
    assert_eq!(added.status, StatusCode::OK);
    let text = html(&added).to_owned();
    let secret = between(
        &text,
        "<code id=\"secret-value\" class=\"mono\">",
        "</code>",
    )
    .expect("the secret is shown once")
    .to_owned();
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert!(text.contains("setStatus, conversationClosed"));
    let again = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(!again.contains(&secret), "not shown again");
    let id = between(&again, "<li id=\"hook-", "\"").unwrap().to_owned();

    // Each of the five samples reaches the receiver, and its answer is shown.
    for (n, kind) in [
        "ping",
        "inboundMessage",
        "deliveryReport",
        "setStatus",
        "customValueRequest",
    ]
    .into_iter()
    .enumerate()
    {
        let tested = t
            .send(post(&[("action", "test"), ("id", &id), ("kind", kind)]))
            .await;
        assert_eq!(tested.status, StatusCode::OK, "{kind}");
        let text = html(&tested);
        assert!(
            text.contains(&format!(
                "role=\"status\">\n          <p><strong>{kind}</strong>: 200 in "
            )),
            "{kind}: {text}"
        );
        receiver
            .wait_for(n + 1, std::time::Duration::from_secs(5))
            .await;
    }
    let received = receiver.received();
    assert!(received[0].headers.contains_key("webhook-signature"));
    assert_eq!(
        received[4].method,
        http::Method::GET,
        "the custom value request"
    );

    // Disable, enable, rotate (a new secret, once), delete.
    let r = t.send(post(&[("action", "disable"), ("id", &id)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&r), path);
    assert!(html(&t.send(get(&path, &owner)).await).contains("badge closed\">Disabled</span>"));
    t.send(post(&[("action", "enable"), ("id", &id)])).await;
    let rotated = t.send(post(&[("action", "rotate"), ("id", &id)])).await;
    let new = between(
        html(&rotated),
        "<code id=\"secret-value\" class=\"mono\">",
        "</code>",
    )
    .unwrap()
    .to_owned();
    assert!(new.starts_with("whsec_") && new != secret);
    let gone = t.send(post(&[("action", "delete"), ("id", &id)])).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert!(html(&t.send(get(&path, &owner)).await).contains("No webhook endpoints yet."));
    let missing = t.send(post(&[("action", "delete"), ("id", &id)])).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Without the token nothing changes; a supervisor has no such page and no such post.
    let no_token = t
        .send(form(
            &path,
            &owner,
            &[("action", "create"), ("url", &receiver.url)],
        ))
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    t.create_user(
        org,
        "sam@example.test",
        "Sam Supervisor",
        "sam password 1".into(),
        Role::Supervisor,
    )
    .await
    .unwrap();
    let sam = cookies_of(&sign_in(&t, "sam@example.test", "sam password 1", "").await);
    let refused = t.send(get(&path, &sam)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let desk = html(
        &t.send(get(&format!("/app/{org}/conversations"), &sam))
            .await,
    )
    .to_owned();
    assert!(!desk.contains(">Integrations</a>"));
    let forged = t
        .send(form(
            &path,
            &sam,
            &[
                ("csrf", &csrf_field(&desk)),
                ("action", "create"),
                ("url", &receiver.url),
            ],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(html(&t.send(get(&path, &owner)).await).contains("No webhook endpoints yet."));
}
