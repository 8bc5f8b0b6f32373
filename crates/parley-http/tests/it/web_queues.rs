//! The queues page as an administrator uses it: queues added, renamed and removed (a bad
//! key refused with its words, what was typed kept), members added with a capacity and
//! removed, outcome statuses added, changed and removed; Parley's own `default` queue
//! and `opted_out` status listed without controls; the page is an administrator's only.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, poster, sign_in,
};

#[tokio::test]
async fn an_administrator_manages_queues_members_and_outcome_statuses_in_the_page() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let ann = t
        .create_user(
            org,
            "ann@example.test",
            "Ann Agent",
            "ann password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/queues");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains(">Queues</a>"), "the top bar links it");
    assert!(text.contains("<strong>Default</strong> <code>default</code>"));
    assert!(text.contains("<strong>Opted out</strong> <code>opted_out</code>"));
    assert!(
        !text.contains("id=\"rename-default\""),
        "Parley's own queue has no controls"
    );
    assert!(
        !text.contains("id=\"label-opted_out\""),
        "nor its own status"
    );
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);
    let see = || async { html(&t.send(get(&path, &owner)).await).to_owned() };

    let refused = t
        .send(post(&[
            ("action", "create-queue"),
            ("key", "Bad Key"),
            ("name", "Arrears"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused);
    assert!(
        text.contains("role=\"alert\">key must be 1 to 64 lower-case letters"),
        "{text}"
    );
    assert!(text.contains("value=\"Bad Key\"") && text.contains("value=\"Arrears\""));

    let r = t
        .send(post(&[
            ("action", "create-queue"),
            ("key", "arrears"),
            ("name", "Arrears"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t
        .send(post(&[
            ("action", "put-member"),
            ("key", "arrears"),
            ("user", &ann.id.to_string()),
            ("capacity", "3"),
            ("available", "1"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let text = see().await;
    assert!(
        text.contains("<tr><td>Ann Agent</td><td>3</td><td>Available</td>"),
        "{text}"
    );
    let r = t
        .send(post(&[
            ("action", "rename-queue"),
            ("key", "arrears"),
            ("name", "Arrears team"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(
        see()
            .await
            .contains("<strong>Arrears team</strong> <code>arrears</code>")
    );
    let too_many = t
        .send(post(&[
            ("action", "put-member"),
            ("key", "arrears"),
            ("user", &ann.id.to_string()),
            ("capacity", "0"),
        ]))
        .await;
    assert_eq!(too_many.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&too_many).contains("role=\"alert\">capacity must be from 1 to"));
    t.send(post(&[
        ("action", "remove-member"),
        ("key", "arrears"),
        ("user", &ann.id.to_string()),
    ]))
    .await;
    assert!(
        see()
            .await
            .contains("No members: nobody is given its conversations.")
    );

    let r = t
        .send(post(&[
            ("action", "create-status"),
            ("key", "promise_to_pay"),
            ("label", "Promise to pay"),
            ("category", "positive"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t
        .send(post(&[
            ("action", "update-status"),
            ("key", "promise_to_pay"),
            ("label", "Promised"),
            ("category", "neutral"),
            ("closes", "1"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let text = see().await;
    assert!(text.contains(
        "<strong>Promised</strong> <code>promise_to_pay</code> <span class=\"badge\">neutral</span> <span class=\"badge closed\">closes</span>"
    ), "{text}");
    let refused = t
        .send(post(&[
            ("action", "create-status"),
            ("key", "paid"),
            ("label", "Paid"),
            ("category", "great"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("category must be"));
    t.send(post(&[
        ("action", "delete-status"),
        ("key", "promise_to_pay"),
    ]))
    .await;
    t.send(post(&[("action", "delete-queue"), ("key", "arrears")]))
        .await;
    let text = see().await;
    assert!(!text.contains("promise_to_pay") && !text.contains("<code>arrears</code>"));

    // An agent has no such page and no such post.
    let agent = cookies_of(&sign_in(&t, "ann@example.test", "ann password 1", "").await);
    assert_eq!(
        t.send(get(&path, &agent)).await.status,
        StatusCode::FORBIDDEN
    );
    let desk = html(
        &t.send(get(&format!("/app/{org}/conversations"), &agent))
            .await,
    )
    .to_owned();
    assert!(!desk.contains(">Queues</a>"));
    let forged = t
        .send(form(
            &path,
            &agent,
            &[
                ("csrf", &csrf_field(&desk)),
                ("action", "create-queue"),
                ("key", "x"),
                ("name", "X"),
            ],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(!see().await.contains("<code>x</code>"));
}
