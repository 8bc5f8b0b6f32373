//! The web application's pages as a browser meets them, in process: `/` sends you to sign
//! in; the sign-in form says the same for a wrong email or password, is limited like the
//! API, refuses a post another site made and returns you to a page of this application
//! only; sign-out needs the session's CSRF token; every page carries the strict headers;
//! the desk lists what the person may see, with customer text as inert text (search, unread
//! and switching are in `web_lists`, canned replies in `web_replies`).

use axum::body::Body;
use http::{Method, Request};
use parley_domain::{OrgId, Role};
use parley_testkit::{OWNER_PASSWORD, TestApp, TestResponse};
use serde_json::json;

pub(crate) const OWNER: &str = "owner@example.test";

pub(crate) fn form(path: &str, cookies: &str, fields: &[(&str, &str)]) -> Request<Body> {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("cookie", cookies)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap()
}

/// A poster of forms to `path` as the session `cookies`, each with the page's `csrf` token
/// before the fields given.
pub(crate) fn poster<'a>(
    path: &'a str,
    cookies: &'a str,
    csrf: &'a str,
) -> impl Fn(&[(&str, &str)]) -> Request<Body> + 'a {
    move |fields| {
        let mut all = vec![("csrf", csrf)];
        all.extend_from_slice(fields);
        form(path, cookies, &all)
    }
}

/// The session cookies of a new person with `role` on `org` (`email`, password
/// `"<local part> password 1"`), signed in through the page.
pub(crate) async fn person(t: &TestApp, org: OrgId, email: &str, role: Role) -> String {
    let local = email.split('@').next().unwrap_or(email);
    let password = format!("{local} password 1");
    t.create_user(org, email, local, password.clone(), role)
        .await
        .unwrap();
    cookies_of(&sign_in(t, email, &password, "").await)
}

pub(crate) fn get(path: &str, cookies: &str) -> Request<Body> {
    Request::builder()
        .uri(path)
        .header("cookie", cookies)
        .body(Body::empty())
        .unwrap()
}

pub(crate) fn location(r: &TestResponse) -> &str {
    r.headers
        .get("location")
        .map_or("", |v| v.to_str().unwrap())
}

/// The `name=value` pairs of a response's `Set-Cookie` headers, as a `Cookie` header.
pub(crate) fn cookies_of(r: &TestResponse) -> String {
    r.headers
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

pub(crate) fn html(r: &TestResponse) -> &str {
    r.json.as_str().unwrap_or_default()
}

/// The value of the first `name="csrf"` hidden field of a page.
pub(crate) fn csrf_field(page: &str) -> String {
    let at = page.find("name=\"csrf\" value=\"").expect("a CSRF field") + 19;
    page[at..].split('"').next().unwrap().to_owned()
}

pub(crate) fn assert_page_headers(r: &TestResponse) {
    let header = |n: &str| r.headers.get(n).map_or("", |v| v.to_str().unwrap());
    assert_eq!(header("content-type"), "text/html; charset=utf-8");
    let csp = header("content-security-policy");
    for part in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(part), "{csp}");
    }
    assert!(!csp.contains("unsafe"), "{csp}");
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert_eq!(header("cache-control"), "no-store");
}

pub(crate) async fn sign_in(t: &TestApp, email: &str, password: &str, next: &str) -> TestResponse {
    t.send(form(
        "/app/sign-in",
        "",
        &[("email", email), ("password", password), ("next", next)],
    ))
    .await
}

/// A sim channel whose flow hands every customer to the `collections` queue at once.
pub(crate) async fn queue_channel(t: &TestApp, token: &str) -> String {
    let flow = t
        .publish_flow(
            token,
            json!({"schema": 1, "name": "help", "start": "human", "steps": {
                "human": {"type": "queue", "queue": "collections", "text": "A colleague will reply."}}}),
        )
        .await;
    t.sim_channel(token, Some(&flow)).await
}

/// A conversation from `from` that the bot hands to the `collections` queue at once, its
/// first message `text`.
pub(crate) async fn waiting_conversation(t: &TestApp, from: &str, text: &str) {
    let token = t.owner_token().await;
    let channel = queue_channel(t, &token).await;
    t.post_ok(
        &token,
        &format!("/api/v1/channels/{channel}/sim/inbound"),
        json!({"from": from, "text": text}),
    )
    .await;
}

#[tokio::test]
async fn signing_in_and_out_of_the_web_application() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    // Nobody signed in: `/` and a desk page lead to sign-in, the page remembered.
    let r = t.send(get("/", "")).await;
    assert_eq!((r.status.as_u16(), location(&r)), (303, "/app/sign-in"));
    let desk = format!("/app/{org}/conversations?view=all");
    let r = t.send(get(&desk, "")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        location(&r),
        format!(
            "/app/sign-in?next={}",
            form_urlencoded::byte_serialize(desk.as_bytes()).collect::<String>()
        )
    );
    let r = t.send(get("/app/sign-in?next=/app/x", "")).await;
    assert_eq!(r.status, 200);
    assert_page_headers(&r);
    let page = html(&r);
    for label in [
        "<label for=\"email\">Email</label>",
        "<label for=\"password\">Password</label>",
        ">Sign in</button>",
    ] {
        assert!(page.contains(label), "{label}");
    }

    // A wrong password and an unknown email read the same, and set no cookie.
    let wrong = sign_in(&t, OWNER, "not the password", "").await;
    let unknown = sign_in(&t, "nobody@example.test", "not the password", "").await;
    for r in [&wrong, &unknown] {
        assert_eq!(r.status, 401);
        assert_page_headers(r);
        assert!(html(r).contains("That email and password do not match an account."));
        assert!(r.headers.get("set-cookie").is_none());
    }
    // A post another site made is refused before anything is checked.
    let mut cross = form(
        "/app/sign-in",
        "",
        &[("email", OWNER), ("password", OWNER_PASSWORD)],
    );
    cross
        .headers_mut()
        .insert("sec-fetch-site", "cross-site".parse().unwrap());
    let r = t.send(cross).await;
    assert_eq!(r.status, 403);
    assert!(r.headers.get("set-cookie").is_none());

    // Signing in returns to the page asked for (of this application only).
    let r = sign_in(&t, OWNER, OWNER_PASSWORD, &desk).await;
    assert_eq!((r.status.as_u16(), location(&r)), (303, desk.as_str()));
    let cookies = cookies_of(&r);
    assert!(cookies.contains("parley_session="), "{cookies}");
    let r = sign_in(&t, OWNER, OWNER_PASSWORD, "https://evil.example/app/").await;
    assert_eq!(location(&r), format!("/app/{org}/conversations"));
    let r = t.send(get("/", &cookies)).await;
    assert_eq!(location(&r), format!("/app/{org}/conversations"));
    let r = t.send(get(&desk, &cookies)).await;
    assert_eq!(r.status, 200);
    assert_page_headers(&r);
    let page = html(&r).to_owned();
    assert!(page.contains("aria-label=\"Conversations\""));
    assert!(page.contains(">Sign out</button>"));

    // Sign-out needs the session's token: without it the session goes on.
    let r = t
        .send(form("/app/sign-out", &cookies, &[("csrf", "forged")]))
        .await;
    assert_eq!(r.status, 403);
    assert_eq!(t.send(get(&desk, &cookies)).await.status, 200);
    let r = t
        .send(form(
            "/app/sign-out",
            &cookies,
            &[("csrf", &csrf_field(&page))],
        ))
        .await;
    assert_eq!((r.status.as_u16(), location(&r)), (303, "/app/sign-in"));
    assert!(cookies_of(&r).contains("parley_session="));
    assert_eq!(
        t.send(get(&desk, &cookies)).await.status,
        303,
        "the session ended"
    );
}

#[tokio::test]
async fn the_sign_in_form_is_limited_like_the_api() {
    let t = TestApp::new().await;
    for _ in 0..10 {
        assert_eq!(sign_in(&t, OWNER, "wrong password", "").await.status, 401);
    }
    let limited = sign_in(&t, OWNER, OWNER_PASSWORD, "").await;
    assert_eq!(limited.status, 429);
    assert!(html(&limited).contains("Too many attempts. Try again in"));
    let after: u64 = limited.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&after), "{after}");
    t.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(sign_in(&t, OWNER, OWNER_PASSWORD, "").await.status, 303);
}

#[tokio::test]
async fn the_desk_lists_what_the_person_may_see_as_inert_text() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(2)>";
    waiting_conversation(&t, "+447911123456", hostile).await;
    let r = sign_in(&t, OWNER, OWNER_PASSWORD, "").await;
    let owner = cookies_of(&r);
    let unassigned = format!("/app/{org}/conversations?view=unassigned");
    let page = t.send(get(&unassigned, &owner)).await;
    let text = html(&page);
    assert!(
        text.contains("+447911123456"),
        "the contact's address names the row"
    );
    // The bot's reply is the last message; the customer's text is in the thread.
    assert!(text.contains("Bot: A colleague will reply."));
    let href = first_row(text);
    let thread = t.send(get(&href, &owner)).await;
    assert_eq!(thread.status, 200, "{href}");
    let text = html(&thread);
    let escaped = "&#60;script&#62;alert(1)&#60;/script&#62;&#60;img src=x onerror=alert(2)&#62;";
    assert!(text.contains(escaped), "escaped as text");
    assert!(!text.contains("<script>alert"));
    assert!(
        text.contains("aria-label=\"+447911123456\""),
        "the thread is named after the contact"
    );

    let counted = "<span class=\"view-label\">Unassigned</span><span class=\"count\"><span class=\"visually-hidden\">, </span>1</span>";
    assert!(text.contains(counted), "the view says how many wait");

    // An agent who is not a member of the queue sees nothing there, and not the thread.
    let agent_user = t
        .create_user(
            org,
            "agent@example.test",
            "Avery Agent",
            "agent password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let agent = cookies_of(&sign_in(&t, "agent@example.test", "agent password 1", "").await);
    let page = t.send(get(&unassigned, &agent)).await;
    assert_eq!(page.status, 200);
    assert!(!html(&page).contains("+447911123456"));
    assert_eq!(t.send(get(&href, &agent)).await.status, 404);
    // Nor may they use a view for those who read everything, or for another's queue.
    let all = t
        .send(get(&format!("/app/{org}/conversations?view=all"), &agent))
        .await;
    assert!(!html(&all).contains("?view=all\" aria-current"));
    assert!(
        !html(&all).contains("view=queue%3Acollections"),
        "not their queue"
    );

    // A member of the queue has a view of it and may open what waits there.
    let token = t.owner_token().await;
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/queues/collections/members/{}", agent_user.id),
            Some(&token),
            None,
            Some(json!({})),
        )
        .await;
    assert!(r.status.is_success(), "{}", r.json);
    let queue = t
        .send(get(
            &format!("/app/{org}/conversations?view=queue%3Acollections"),
            &agent,
        ))
        .await;
    let text = html(&queue);
    assert!(
        text.contains("view=queue%3Acollections\" aria-current=\"page\""),
        "{text}"
    );
    assert!(text.contains("+447911123456"));
    assert_eq!(t.send(get(&href, &agent)).await.status, 200);

    // Their menu switches them Away in their queues, and back.
    assert!(text.contains("aria-pressed=\"true\">Available</button>"));
    let here = format!("/app/{org}/conversations?view=queue%3Acollections");
    let r = t
        .send(form(
            &format!("/app/{org}/availability"),
            &agent,
            &[
                ("csrf", &csrf_field(text)),
                ("available", "0"),
                ("back", &here),
            ],
        ))
        .await;
    assert_eq!((r.status.as_u16(), location(&r)), (303, here.as_str()));
    let members = t
        .get("/api/v1/queues/collections/members", &token)
        .await
        .json;
    assert_eq!(members[0]["available"], false, "{members}");
    let page = t.send(get(&here, &agent)).await;
    assert!(html(&page).contains("aria-pressed=\"true\">Away</button>"));
}

/// The href of the first conversation row of a list page.
/// Defines the outcome status Promise to pay (it does not close the conversation).
pub(crate) async fn define_promise_to_pay(t: &TestApp) {
    let token = t.owner_token().await;
    t.post_ok(
        &token,
        "/api/v1/outcome-statuses",
        json!({"key": "promise_to_pay", "label": "Promise to pay", "category": "positive"}),
    )
    .await;
}

/// A test application where Maria Lopez (customer AC-7, +447911100201) waits in a queue
/// with "Can I pay monthly?", and the owner's signed-in cookies.
pub(crate) async fn maria_waits() -> (TestApp, String) {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    t.post_ok(
        &token,
        "/api/v1/contacts",
        json!({"customer_id": "AC-7", "fields": {"first_name": "Maria", "last_name": "Lopez"},
            "addresses": [{"kind": "sms", "address": "+447911100201"}]}),
    )
    .await;
    waiting_conversation(&t, "+447911100201", "Can I pay monthly?").await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    (t, owner)
}

pub(crate) fn first_row(page: &str) -> String {
    page.split("<a class=\"row")
        .nth(1)
        .and_then(|s| s.split("href=\"").nth(1))
        .and_then(|s| s.split('"').next())
        .expect("a row")
        .replace("&amp;", "&")
        .replace("&#38;", "&")
}

#[tokio::test]
async fn the_desk_acts_on_a_conversation_through_the_use_cases() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    define_promise_to_pay(&t).await;
    waiting_conversation(&t, "+447911123456", "Can I pay on Friday?").await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let list = t
        .send(get(
            &format!("/app/{org}/conversations?view=unassigned"),
            &owner,
        ))
        .await;
    let thread = first_row(html(&list));
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    for control in [
        "aria-label=\"Reply\"",
        ">Send</button>",
        ">Add note</button>",
        ">Assign to me</button>",
        "<label for=\"move-queue\">Move to queue</label>",
        "<label for=\"outcome-status\">Outcome status</label>",
        ">Close conversation</button>",
    ] {
        assert!(page.contains(control), "{control}");
    }
    let csrf = csrf_field(&page);
    let act = thread.split('?').next().unwrap().to_owned() + "/act";
    let post = |fields: Vec<(&'static str, String)>| {
        let mut all = vec![("csrf", csrf.clone()), ("view", "unassigned".to_owned())];
        all.extend(fields);
        let pairs: Vec<(&str, &str)> = all.iter().map(|(k, v)| (*k, v.as_str())).collect();
        form(&act, &owner, &pairs)
    };
    for fields in [
        vec![("action", "assign".to_owned())],
        vec![
            ("action", "reply".to_owned()),
            ("text", "Friday is fine.".to_owned()),
        ],
        vec![
            ("action", "note".to_owned()),
            ("text", "Promised Friday".to_owned()),
        ],
        vec![
            ("action", "status".to_owned()),
            ("status", "promise_to_pay".to_owned()),
        ],
    ] {
        let r = t.send(post(fields.clone())).await;
        assert_eq!(r.status, 303, "{fields:?}: {}", html(&r));
        assert!(
            location(&r).ends_with("?view=unassigned"),
            "{}",
            location(&r)
        );
    }
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert!(page.contains("Friday is fine."));
    assert!(page.contains("Note by Owner"));
    assert!(page.contains("Promised Friday"));
    assert!(page.contains("Assigned to Owner"));
    assert!(!page.contains(">Assign to me</button>"), "it is mine now");

    // A refused action shows the problem's own words, with its status.
    let r = t
        .send(post(vec![
            ("action", "reply".to_owned()),
            ("text", "   ".to_owned()),
        ]))
        .await;
    assert_eq!(r.status, 422);
    assert!(
        html(&r).contains("role=\"alert\">text must be 1 to 4096 characters"),
        "{}",
        html(&r)
    );
    // A refused note keeps what was written in the box.
    let long = "y".repeat(10_001);
    let r = t
        .send(post(vec![
            ("action", "note".to_owned()),
            ("text", long.clone()),
        ]))
        .await;
    assert_eq!(r.status, 422);
    assert!(
        html(&r).contains(&format!(">{long}</textarea>")),
        "the refused note is still in the reply box"
    );
    // Given to a member of its queue, chosen by name.
    let avery = t
        .create_user(
            org,
            "avery@example.test",
            "Avery Agent",
            "avery password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let token = t.owner_token().await;
    let member = t
        .call(
            Method::PUT,
            &format!("/api/v1/queues/collections/members/{}", avery.id),
            Some(&token),
            None,
            Some(json!({})),
        )
        .await;
    assert!(member.status.is_success(), "{}", member.json);
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert!(page.contains(&format!(
        "<option value=\"{}\">Avery Agent</option>",
        avery.id
    )));
    let r = t
        .send(post(vec![
            ("action", "assign-to".to_owned()),
            ("user", avery.id.to_string()),
        ]))
        .await;
    assert_eq!(r.status, 303, "{}", html(&r));
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert!(page.contains("Assigned to Avery Agent"));

    // Handed back to its bot at a step of its own flow, which runs from there.
    assert!(page.contains("<label for=\"hand-back-step\">Hand back to help at</label>"));
    assert!(page.contains("<option value=\"human\">human</option>"));
    let r = t
        .send(post(vec![
            ("action", "hand-back".to_owned()),
            ("step", "human".to_owned()),
        ]))
        .await;
    assert_eq!(r.status, 303, "{}", html(&r));
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert_eq!(
        page.matches("<p class=\"entry-body\">A colleague will reply.</p>")
            .count(),
        2,
        "the bot spoke again"
    );
    // What happened is in the thread among the messages: events, and Parley's note.
    for shown in [
        "<p class=\"entry-body\">Assigned to Owner</p>",
        "<p class=\"entry-body\">Outcome status set to Promise to pay</p>",
        "<p class=\"entry-body\">Assigned to Avery Agent</p>",
        "<p class=\"entry-body\">Moved to collections</p>",
        "<p class=\"entry-body\">Handed back to the bot “help” at the step “human”.</p>",
    ] {
        assert!(page.contains(shown), "{shown}");
    }

    let r = t.send(post(vec![("action", "close".to_owned())])).await;
    assert_eq!(r.status, 303);
    let r = t.send(post(vec![("action", "close".to_owned())])).await;
    assert_eq!(r.status, 409);
    let closed = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert!(
        closed.contains("<span class=\"entry-who\">Owner</span>")
            && closed.contains("<p class=\"entry-body\">Closed the conversation</p>")
    );
    assert!(html(&r).contains("role=\"alert\""));
    let page = html(&t.send(get(&thread, &owner)).await).to_owned();
    assert!(
        !page.contains("aria-label=\"Reply\""),
        "a closed conversation takes no reply"
    );

    // A viewer reads but has no reply box, and a forged post is refused.
    t.create_user(
        org,
        "viewer@example.test",
        "Vera Viewer",
        "viewer password 1".into(),
        Role::Viewer,
    )
    .await
    .unwrap();
    let viewer = cookies_of(&sign_in(&t, "viewer@example.test", "viewer password 1", "").await);
    // (Avery, available in its queue, is given it at once: the viewer finds it under All.)
    waiting_conversation(&t, "+447911123457", "Hello?").await;
    let list = t
        .send(get(&format!("/app/{org}/conversations?view=all"), &viewer))
        .await;
    let open = first_row(html(&list));
    let page = html(&t.send(get(&open, &viewer)).await).to_owned();
    assert!(page.contains("Hello?"));
    assert!(!page.contains("aria-label=\"Reply\""));
    let act = open.split('?').next().unwrap().to_owned() + "/act";
    let r = t
        .send(form(
            &act,
            &viewer,
            &[
                ("csrf", &csrf_field(&page)),
                ("action", "reply"),
                ("text", "hi"),
            ],
        ))
        .await;
    assert_eq!(r.status, 403);
    let page = html(&t.send(get(&open, &owner)).await).to_owned();
    assert!(!page.contains(">hi</p>"), "nothing was sent");
    // Parley's own Opted out closes the conversation it is set on, as its list says.
    let r = t
        .send(form(
            &act,
            &owner,
            &[
                ("csrf", &csrf_field(&page)),
                ("action", "status"),
                ("status", "opted_out"),
            ],
        ))
        .await;
    assert_eq!(r.status, 303, "{}", html(&r));
    let page = html(&t.send(get(&open, &owner)).await).to_owned();
    assert!(page.contains("<p class=\"entry-body\">Outcome status set to Opted out</p>"));
    assert!(page.contains("<p class=\"entry-body\">Closed the conversation</p>"));
}

#[tokio::test]
async fn the_contact_panel_formats_fields_by_type() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money"), ("date_of_birth", "date")])
        .await;
    t.post_ok(
        &token,
        "/api/v1/contacts",
        json!({"customer_id": "AC-7", "fields": {"first_name": "Maria", "last_name": "Lopez",
            "balance": "1234.5", "date_of_birth": "29/02/1980"},
            "addresses": [{"kind": "sms", "address": "+447911100201"}]}),
    )
    .await;
    waiting_conversation(&t, "+447911100201", "Can I pay monthly?").await;
    let principal = t.app.authenticate_bearer(&token).await.unwrap();
    let access = t.app.access(principal, None).await.unwrap();
    let address = parley_domain::ChannelAddress {
        kind: parley_domain::ChannelKind::Sms,
        address: "+447911100201".to_owned(),
    };
    t.app.suppress(&access, &address, "STOP").await.unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let list = t
        .send(get(
            &format!("/app/{org}/conversations?view=unassigned"),
            &owner,
        ))
        .await;
    let text = html(&list);
    assert!(
        text.contains("Maria Lopez"),
        "the row is named after the contact"
    );
    let page = html(&t.send(get(&first_row(text), &owner)).await).to_owned();
    for shown in [
        "<dt>Customer id</dt><dd>AC-7</dd>",
        "<dd>£1,234.50</dd>",
        "<dd>29 February 1980</dd>",
        "+447911100201 <span class=\"badge opted-out\">Opted out on",
    ] {
        assert!(page.contains(shown), "{shown}");
    }
}
