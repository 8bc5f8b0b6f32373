//! What the desk lists and for whom: finding conversations by their contact (customer id,
//! phone number in any form, part of a name; in the pages and the API), the unread
//! marker (per person, cleared by opening), and switching to another organization the
//! person belongs to (a new session there, the old one ended).

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, TestApp, problem_fields};
use serde_json::json;

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, first_row, form, get, html, location,
    maria_waits, queue_channel, sign_in, waiting_conversation,
};

#[tokio::test]
async fn the_desk_finds_conversations_by_customer_id_number_and_name() {
    let (t, owner) = maria_waits().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    waiting_conversation(&t, "+447911100299", "Hello?").await;
    let search = |q: &str| {
        let path = format!("/app/{org}/conversations?view=mine&q={}", query_value(q));
        let owner = owner.clone();
        let t = &t;
        async move { t.send(get(&path, &owner)).await }
    };
    // The national form of the number, the customer id, part of the name in any case.
    for q in ["07911 100201", "AC-7", "lopez", "MARIA LO"] {
        let found = search(q).await;
        assert_eq!(found.status, StatusCode::OK, "{q}");
        assert_page_headers(&found);
        let text = html(&found);
        assert!(text.contains("Maria Lopez"), "{q} finds Maria");
        assert!(!text.contains("+447911100299"), "{q} finds only Maria");
        assert!(
            text.contains("Results for “"),
            "{q}: the list says it is a search"
        );
        assert!(text.contains("Clear search"), "{q}");
        // The open conversation keeps the results beside it.
        let open = html(&t.send(get(&first_row(text), &owner)).await).to_owned();
        assert!(
            open.contains("Results for “"),
            "{q}: opened from the results"
        );
    }
    let none = search("Nobody Here").await;
    assert!(html(&none).contains("No conversation matches “Nobody Here”"));
    let long = search(&"x".repeat(201)).await;
    assert_eq!(long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&long).contains("<strong>q</strong> must be at most 200 characters"));

    // The API finds them the same way.
    let listed = t
        .get("/api/v1/conversations?search=07911%20100201", &token)
        .await;
    assert_eq!(listed.status, StatusCode::OK);
    assert_eq!(listed.json["data"].as_array().unwrap().len(), 1);
    let too_long = t
        .get(
            &format!("/api/v1/conversations?search={}", "x".repeat(201)),
            &token,
        )
        .await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem_fields(&too_long.json), ["search"]);
}

#[tokio::test]
async fn a_conversation_is_unread_for_each_person_until_they_open_it() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let channel = queue_channel(&t, &token).await;
    let inbound = |text: &'static str| {
        let token = token.clone();
        let path = format!("/api/v1/channels/{channel}/sim/inbound");
        let t = &t;
        async move {
            t.post_ok(
                &token,
                &path,
                json!({"from": "+447911100201", "text": text}),
            )
            .await;
        }
    };
    inbound("Can I pay monthly?").await;
    t.create_user(
        org,
        "sam@example.test",
        "Sam Supervisor",
        "sam password 1".into(),
        Role::Supervisor,
    )
    .await
    .unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let sam = cookies_of(&sign_in(&t, "sam@example.test", "sam password 1", "").await);
    let list = format!("/app/{org}/conversations?view=unassigned");
    let unread = |cookies: String| {
        let t = &t;
        let list = list.clone();
        async move {
            let page = t.send(get(&list, &cookies)).await;
            html(&page).contains("<a class=\"row unread\"")
        }
    };
    assert!(unread(owner.clone()).await, "new to the owner");
    assert!(unread(sam.clone()).await, "new to Sam");
    let row = first_row(html(&t.send(get(&list, &owner)).await));
    let opened = t.send(get(&row, &owner)).await;
    assert!(
        !html(&opened).contains("<a class=\"row unread\""),
        "the open conversation's row is read"
    );
    assert!(!unread(owner.clone()).await, "read by the owner");
    assert!(unread(sam.clone()).await, "still unread for Sam");
    // The customer writes again (a second later): unread again, until opened again.
    t.clock.advance(chrono::Duration::seconds(1));
    inbound("Hello?").await;
    assert!(unread(owner.clone()).await, "the customer wrote since");
    t.send(get(&row, &owner)).await;
    assert!(!unread(owner).await);
}

#[tokio::test]
async fn a_person_switches_to_another_organization_they_belong_to() {
    let t = TestApp::new().await;
    let root = t.root.organization;
    let elsewhere = t
        .app
        .admin_create_organization("Elsewhere Ltd", None)
        .await
        .unwrap()
        .id;
    let invited = t
        .app
        .admin_invite(elsewhere, OWNER, Role::Agent)
        .await
        .unwrap();
    t.app
        .accept_invitation(parley_app::tenancy::AcceptRequest {
            token: invited.token,
            password: OWNER_PASSWORD.into(),
            name: None,
            client: "test".to_owned(),
        })
        .await
        .unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let desk = t
        .send(get(&format!("/app/{root}/conversations"), &owner))
        .await;
    let page = html(&desk).to_owned();
    assert!(page.contains("Your other organizations"), "{page}");
    assert!(page.contains(&format!(
        "<button type=\"submit\" name=\"org\" value=\"{elsewhere}\" class=\"quiet\">Elsewhere Ltd</button>"
    )));
    // The session is for the first organization: the other is not reachable with it.
    let away = format!("/app/{elsewhere}/conversations");
    assert_eq!(
        t.send(get(&away, &owner)).await.status,
        StatusCode::NOT_FOUND
    );
    let csrf = csrf_field(&page);
    let no_token = t
        .send(form(
            "/app/switch",
            &owner,
            &[("org", &elsewhere.to_string())],
        ))
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    let stranger = t
        .app
        .admin_create_organization("Not theirs", None)
        .await
        .unwrap()
        .id;
    let refused = t
        .send(form(
            "/app/switch",
            &owner,
            &[("csrf", &csrf), ("org", &stranger.to_string())],
        ))
        .await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND, "no membership there");
    let switched = t
        .send(form(
            "/app/switch",
            &owner,
            &[("csrf", &csrf), ("org", &elsewhere.to_string())],
        ))
        .await;
    assert_eq!(switched.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&switched), away);
    let moved = cookies_of(&switched);
    let there = t.send(get(&away, &moved)).await;
    assert_eq!(there.status, StatusCode::OK);
    let there = html(&there).to_owned();
    assert!(there.contains("<span class=\"org-name\">Elsewhere Ltd</span>"));
    assert!(
        there.contains(&format!("value=\"{root}\" class=\"quiet\">Root</button>")),
        "the first organization is now the other one"
    );
    // As an agent there, no canned replies page; the old session has ended.
    assert!(!there.contains(">Canned replies</a>"));
    let old = t
        .send(get(&format!("/app/{root}/conversations"), &owner))
        .await;
    assert_eq!(old.status, StatusCode::SEE_OTHER);
    assert!(location(&old).starts_with("/app/sign-in"));
}

/// `text` as a query string value.
fn query_value(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
