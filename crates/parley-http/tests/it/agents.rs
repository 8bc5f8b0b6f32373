//! People's actions on a conversation, by API: reply (through the channel, taking the
//! conversation), assign and unassign, move to a queue, hand back to a flow step, tag a
//! status, close; each announced with its event; bad input named; nothing on a closed
//! conversation.

use std::time::Duration;

use http::Method;
use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

/// A conversation's notes: (author, body), oldest first.
async fn notes_of(t: &TestApp, token: &str, id: &str) -> Vec<(String, String)> {
    let th = t.get(&format!("/api/v1/conversations/{id}"), token).await;
    th.json["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["author"].as_str().unwrap().to_owned(),
                n["body"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The last outbox event of the conversation, leaving out messages' status events (the
/// simulator reports them when it will): (type, data).
async fn last_event(t: &TestApp, conversation: &str) -> (String, Value) {
    t.store()
        .list_undispatched_events(10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.data["conversation_id"] == conversation)
        .filter(|e| {
            !matches!(
                e.event.event_type.as_str(),
                "messageSend" | "deliveryReport"
            )
        })
        .map(|e| (e.event.event_type.as_str().to_owned(), e.event.data))
        .next_back()
        .unwrap()
}

#[tokio::test]
async fn agents_reply_assign_move_hand_back_tag_and_close() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let workers = CancellationToken::new();
    tokio::spawn(
        t.app
            .job_runner(2, Duration::from_secs(30))
            .start(workers.clone()),
    );
    t.app.start_sends(workers.clone());
    t.post_ok(
        &token,
        "/api/v1/outcome-statuses",
        json!({"key": "promise", "label": "Promise to pay", "category": "positive"}),
    )
    .await;
    t.post_ok(
        &token,
        "/api/v1/queues",
        json!({"key": "collections", "name": "Collections"}),
    )
    .await;
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "help", "start": "ask", "steps": {
                "ask": {"type": "ask", "text": "How can we help?", "save_as": "need", "next": "human"},
                "human": {"type": "queue", "queue": "collections", "text": "A colleague will reply."}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let say = |text: &'static str| {
        let (t, token, channel) = (&t, token.clone(), channel.clone());
        async move {
            t.post_ok(
                &token,
                &format!("/api/v1/channels/{channel}/sim/inbound"),
                json!({"from": "+447911123456", "text": text}),
            )
            .await
        }
    };
    say("hello").await;
    let handed = say("my bill is wrong").await;
    let id = handed["conversation"]["id"].as_str().unwrap().to_owned();
    assert_eq!(handed["conversation"]["state"], "queued");
    assert_eq!(handed["conversation"]["queue"], "collections");
    let path = |action: &str| format!("/api/v1/conversations/{id}/{action}");
    // Whoever picks it up reads why it came to the queue.
    assert_eq!(
        notes_of(&t, &token, &id).await,
        [(
            "system".to_owned(),
            "The bot flow “help” handed the conversation over to collections.".to_owned()
        )]
    );

    // A person is given it, by hand.
    let agent = t
        .create_user(
            org,
            "agent@example.test",
            "Agent",
            "agent password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let r = t
        .post_ok(
            &token,
            &path("assign"),
            json!({"user_id": agent.id.to_string()}),
        )
        .await;
    assert_eq!(r["conversation"]["state"], "assigned");
    assert_eq!(r["conversation"]["assignee"], agent.id.to_string());
    let (kind, data) = last_event(&t, &id).await;
    assert_eq!(kind, "conversationAssignment");
    assert_eq!(data["assignee"], agent.id.to_string());
    assert_eq!(data["queue"], "collections");
    assert_eq!(data["assigned_by"]["type"], "api_key");

    // A reply goes out through the channel as the agent's.
    let r = t
        .post_ok(
            &token,
            &path("messages"),
            json!({"text": "Let me check that for you."}),
        )
        .await;
    let reply = &r["messages"][0];
    assert!(
        reply["sender"].as_str().unwrap().starts_with("agent:key_"),
        "{reply}"
    );
    assert_eq!(reply["status"], "pending");
    assert!(r["conversation"]["first_agent_reply_at"].is_string());
    let mut delivered = false;
    for _ in 0..200 {
        let th = t.get(&format!("/api/v1/conversations/{id}"), &token).await;
        if th.json["messages"].as_array().unwrap().last().unwrap()["status"] == "delivered" {
            delivered = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(delivered, "the agent's reply was delivered");

    // Moved back to a queue: unassigned, with the note.
    let r = t
        .post_ok(
            &token,
            &path("move"),
            json!({"queue": "default", "note": "needs a supervisor"}),
        )
        .await;
    assert_eq!(
        (
            r["conversation"]["state"].clone(),
            r["conversation"]["assignee"].clone()
        ),
        (json!("queued"), Value::Null)
    );
    let (kind, data) = last_event(&t, &id).await;
    assert_eq!(
        (kind.as_str(), data["note"].clone()),
        ("moveToQueue", json!("needs a supervisor"))
    );
    let key = data["moved_by"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        notes_of(&t, &token, &id).await.last().unwrap(),
        &(
            "system".to_owned(),
            format!("Moved to default by {key}: needs a supervisor")
        )
    );

    // Handed back to the flow: the question is asked again.
    let r = t
        .post_ok(&token, &path("hand-back"), json!({"step": "ask"}))
        .await;
    assert_eq!(r["conversation"]["state"], "bot");
    assert_eq!(r["messages"][0]["body"], "How can we help?");
    let next = say("I can pay friday").await;
    assert_eq!(
        next["conversation"]["queue"], "collections",
        "the flow ran on"
    );

    // A status, then closing with one.
    let r = t
        .post_ok(&token, &path("status"), json!({"status": "promise"}))
        .await;
    assert_eq!(r["conversation"]["status"], "promise");
    assert_eq!(last_event(&t, &id).await.0, "setStatus");
    let r = t.post_ok(&token, &path("close"), json!({})).await;
    assert_eq!(r["conversation"]["state"], "closed");
    let (kind, data) = last_event(&t, &id).await;
    assert_eq!(
        (kind.as_str(), data["status"].clone()),
        ("conversationClosed", json!("promise"))
    );

    // Closed: no more actions.
    let (status, _) = t
        .request(
            &token,
            Method::POST,
            &path("messages"),
            Some(json!({"text": "hi"})),
        )
        .await
        .pair();
    assert_eq!(status, 409);
    workers.cancel();
}

#[tokio::test]
async fn bad_actions_are_named_and_change_nothing() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let channel = t.sim_channel(&token, None).await;
    let first = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911123456", "text": "hello"}),
        )
        .await;
    let id = first["conversation"]["id"].as_str().unwrap().to_owned();
    let path = |action: &str| format!("/api/v1/conversations/{id}/{action}");
    let other = t
        .app
        .admin_create_organization("Elsewhere", None)
        .await
        .unwrap();
    let stranger = t
        .create_user(
            other.id,
            "s@example.test",
            "S",
            "stranger password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    for (action, body, field) in [
        ("messages", json!({"text": "  "}), "text"),
        (
            "assign",
            json!({"user_id": stranger.id.to_string()}),
            "user",
        ),
        ("assign", json!({"user_id": "nobody"}), "user_id"),
        ("move", json!({"queue": "nowhere"}), "queue"),
        ("status", json!({"status": "unknown"}), "status"),
        ("close", json!({"status": "unknown"}), "status"),
        ("notes", json!({"body": ""}), "body"),
    ] {
        let (status, problem) = t
            .request(&token, Method::POST, &path(action), Some(body))
            .await
            .pair();
        assert_eq!(
            (status, problem["errors"][0]["field"].as_str()),
            (422, Some(field)),
            "{action}: {problem}"
        );
    }
    let viewer = t.token_in(t.root.organization, Role::Viewer).await;
    let (status, _) = t
        .request(&viewer, Method::POST, &path("close"), Some(json!({})))
        .await
        .pair();
    assert_eq!(status, 403);
    let after = t.get(&format!("/api/v1/conversations/{id}"), &token).await;
    assert_eq!(after.json["conversation"]["state"], "queued");
    assert_eq!(after.json["messages"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn conversations_are_listed_by_filter_and_agents_see_what_is_theirs() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let channel = t.sim_channel(&token, None).await;
    let mut ids = Vec::new();
    for (from, text) in [
        ("+447911123456", "my bill"),
        ("+447911123457", "PAYMENT plan"),
    ] {
        let r = t
            .post_ok(
                &token,
                &format!("/api/v1/channels/{channel}/sim/inbound"),
                json!({"from": from, "text": text}),
            )
            .await;
        ids.push(r["conversation"]["id"].as_str().unwrap().to_owned());
    }
    let listed = |query: &str| {
        let (t, token) = (&t, token.clone());
        let query = query.to_owned();
        async move {
            let r = t
                .get(&format!("/api/v1/conversations{query}"), &token)
                .await;
            assert_eq!(r.status, 200, "{query}: {}", r.json);
            r.json["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed("").await,
        [ids[1].clone(), ids[0].clone()],
        "newest first"
    );
    assert_eq!(listed("?q=payment").await, [ids[1].clone()]);
    assert_eq!(listed("?state=queued&queue=default").await.len(), 2);
    assert!(listed("?state=closed").await.is_empty());
    assert_eq!(
        listed(&format!("?channel_id={channel}&limit=1"))
            .await
            .len(),
        1
    );
    let r = t.get("/api/v1/conversations?state=open", &token).await;
    assert_eq!(r.problem_field(), (422, Some("state")));
    let r = t.get("/api/v1/conversations?assignee=bob", &token).await;
    assert_eq!(r.problem_field(), (422, Some("assignee")));

    // An agent's key is no person: nothing is assigned to it, so it sees nothing.
    let agent = t.token_in(t.root.organization, Role::Agent).await;
    let r = t.get("/api/v1/conversations", &agent).await;
    assert_eq!(
        (r.status.as_u16(), r.json["data"].clone()),
        (200, json!([]))
    );
    let r = t
        .get(&format!("/api/v1/conversations/{}", ids[0]), &agent)
        .await;
    assert_eq!(r.status, 404);
    let (status, _) = t
        .request(
            &agent,
            Method::POST,
            &format!("/api/v1/conversations/{}/close", ids[0]),
            Some(json!({})),
        )
        .await
        .pair();
    assert_eq!(status, 404, "an agent acts only on what it may see");
}

/// Reads the stream until an event of `kind` arrives (10 s at most): its `id` and data.
async fn next_event(body: &mut axum::body::Body, kind: &str) -> (String, Value) {
    use http_body_util::BodyExt;
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .unwrap_or_else(|_| panic!("no {kind} event; the stream said: {text}"))
            .unwrap()
            .unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        // Frames end with a blank line.
        while let Some(end) = text.find("\n\n") {
            let block: String = text.drain(..end + 2).collect();
            let field = |name: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(&format!("{name}:")))
                    .map(|v| v.trim().to_owned())
            };
            if field("event").as_deref() == Some(kind) {
                let data: Value = serde_json::from_str(&field("data").unwrap()).unwrap();
                return (field("id").unwrap(), data);
            }
        }
    }
}

#[tokio::test]
async fn the_live_stream_carries_the_organizations_events_as_they_happen() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let feed = CancellationToken::new();
    t.app.start_live_feed(feed.clone());
    let channel = t.sim_channel(&token, None).await;
    let (status, mut body) = t.open_stream("/api/v1/stream", &token).await;
    assert_eq!(status, 200);

    // Another organization's customer writes first: not in this stream.
    let other = t
        .app
        .admin_create_organization("Elsewhere", None)
        .await
        .unwrap();
    let other_token = t.token_in(other.id, Role::Admin).await;
    let other_channel = t.sim_channel(&other_token, None).await;
    t.post_ok(
        &other_token,
        &format!("/api/v1/channels/{other_channel}/sim/inbound"),
        json!({"from": "+447911123456", "text": "not yours"}),
    )
    .await;
    let r = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911123456", "text": "hello"}),
        )
        .await;
    let conversation = r["conversation"]["id"].as_str().unwrap().to_owned();
    let (id, envelope) = next_event(&mut body, "inboundMessage").await;
    assert!(id.starts_with("evt_"), "{id}");
    assert_eq!(envelope["id"], id.as_str());
    assert_eq!(envelope["type"], "inboundMessage");
    assert_eq!(envelope["organization_id"], t.root.organization.to_string());
    assert_eq!(envelope["data"]["conversation_id"], conversation.as_str());
    assert_eq!(envelope["data"]["message"]["text"], "hello");
    let (_, moved) = next_event(&mut body, "moveToQueue").await;
    assert_eq!(moved["data"]["queue"], "default");

    // A person's action shows up the same way.
    t.post_ok(
        &token,
        &format!("/api/v1/conversations/{conversation}/close"),
        json!({}),
    )
    .await;
    let (_, closed) = next_event(&mut body, "conversationClosed").await;
    assert_eq!(closed["data"]["conversation_id"], conversation.as_str());

    // Who may not read conversations may not listen.
    let viewer_less = t.token_in(t.root.organization, Role::Agent).await;
    let (status, _) = t.open_stream("/api/v1/stream", &viewer_less).await;
    assert_eq!(status, 403);
    feed.cancel();
}

#[tokio::test]
async fn waiting_conversations_go_round_robin_to_available_members_within_capacity() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let channel = t.sim_channel(&token, None).await;
    let mut agents = Vec::new();
    for name in ["ann", "bob"] {
        let user = t
            .create_user(
                org,
                &format!("{name}@example.test"),
                name,
                format!("{name} password 123"),
                Role::Agent,
            )
            .await
            .unwrap();
        agents.push(user.id.to_string());
    }
    let members = |user: &str| format!("/api/v1/queues/default/members/{user}");
    // Ann takes one at a time; Bob is away.
    let (status, ann) = t
        .request(
            &token,
            Method::PUT,
            &members(&agents[0]),
            Some(json!({"capacity": 1})),
        )
        .await
        .pair();
    assert_eq!(status, 200, "{ann}");
    assert_eq!(
        (ann["capacity"].clone(), ann["available"].clone()),
        (json!(1), json!(true))
    );
    let (status, _) = t
        .request(
            &token,
            Method::PUT,
            &members(&agents[1]),
            Some(json!({"capacity": 1, "available": false})),
        )
        .await
        .pair();
    assert_eq!(status, 200);

    let write = |from: &'static str| {
        let (t, token, channel) = (&t, token.clone(), channel.clone());
        async move {
            t.post_ok(
                &token,
                &format!("/api/v1/channels/{channel}/sim/inbound"),
                json!({"from": from, "text": "hello"}),
            )
            .await["conversation"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let conversation = |id: String| {
        let (t, token) = (&t, token.clone());
        async move {
            t.get(&format!("/api/v1/conversations/{id}"), &token)
                .await
                .json["conversation"]
                .clone()
        }
    };
    /// Polls until the conversation's assignee is `expected` (assignment follows the turn).
    async fn assigned_to(get: impl AsyncFn() -> Value, expected: Option<&str>) -> Value {
        for _ in 0..300 {
            let c = get().await;
            if c["assignee"].as_str() == expected {
                return c;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("not assigned to {expected:?}: {}", get().await);
    }
    let first = write("+447911000001").await;
    let c = assigned_to(async || conversation(first.clone()).await, Some(&agents[0])).await;
    assert_eq!(c["state"], "assigned");
    // Ann is full and Bob away: the second waits.
    let second = write("+447911000002").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let c = conversation(second.clone()).await;
    assert_eq!(
        (c["state"].clone(), c["assignee"].clone()),
        (json!("queued"), Value::Null)
    );
    // Bob comes back: he gets it.
    t.ok(
        &token,
        Method::PUT,
        &members(&agents[1]),
        Some(json!({"capacity": 1})),
    )
    .await;
    assigned_to(
        async || conversation(second.clone()).await,
        Some(&agents[1]),
    )
    .await;
    // A third waits until Ann closes hers, then goes to her.
    let third = write("+447911000003").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(conversation(third.clone()).await["assignee"], Value::Null);
    t.post_ok(
        &token,
        &format!("/api/v1/conversations/{first}/close"),
        json!({}),
    )
    .await;
    assigned_to(async || conversation(third.clone()).await, Some(&agents[0])).await;
    let (kind, data) = last_event(&t, &third).await;
    assert_eq!(kind, "conversationAssignment");
    assert_eq!(data["assigned_by"]["type"], "system");

    // Members are listed; a stranger cannot be one; removing one twice is "not found".
    let r = t.get("/api/v1/queues/default/members", &token).await;
    assert_eq!(r.json.as_array().unwrap().len(), 2);
    let (status, problem) = t
        .request(
            &token,
            Method::PUT,
            &members(&parley_domain::UserId::generate().to_string()),
            Some(json!({})),
        )
        .await
        .pair();
    assert_eq!(
        (status, problem["errors"][0]["field"].clone()),
        (422, json!("user"))
    );
    let (status, _) = t
        .request(
            &token,
            Method::PUT,
            &members(&agents[0]),
            Some(json!({"capacity": 0})),
        )
        .await
        .pair();
    assert_eq!(status, 422);
    let (status, _) = t
        .request(
            &token,
            Method::PUT,
            "/api/v1/queues/nowhere/members/x",
            Some(json!({})),
        )
        .await
        .pair();
    assert_eq!(status, 404);
    let r = t
        .call(
            Method::DELETE,
            &members(&agents[1]),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    let r = t
        .call(
            Method::DELETE,
            &members(&agents[1]),
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn an_agent_sees_what_is_theirs_and_what_waits_in_their_queues() {
    use parley_app::auth::{Principal, Subject};
    use parley_store::{ConversationFilter, PageRequest};
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let channel = t.sim_channel(&token, None).await;
    let waiting = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911123456", "text": "hello"}),
        )
        .await["conversation"]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let user = t
        .create_user(
            org,
            "ann@example.test",
            "Ann",
            "ann password 123".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let access = t
        .app
        .access(
            Principal {
                subject: Subject::User(user.id),
                home: org,
                permissions: Role::Agent.permissions(),
            },
            None,
        )
        .await
        .unwrap();
    let visible = async || {
        t.app
            .list_conversations(
                &access,
                ConversationFilter::default(),
                PageRequest::first(10),
            )
            .await
            .unwrap()
            .items
            .len()
    };
    // Not hers, not her queue: unseen.
    assert_eq!(visible().await, 0);
    assert!(t.app.get_conversation(&access, waiting).await.is_err());
    // A member of `default` (away, so nothing is assigned): she sees what waits there.
    let (status, _) = t
        .request(
            &token,
            Method::PUT,
            &format!("/api/v1/queues/default/members/{}", user.id),
            Some(json!({"available": false})),
        )
        .await
        .pair();
    assert_eq!(status, 200);
    assert_eq!(visible().await, 1);
    let c = t.app.get_conversation(&access, waiting).await.unwrap();
    assert_eq!(c.assignee, None);
}
