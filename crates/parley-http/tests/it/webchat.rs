//! The web-chat channel over a real WebSocket on a loopback port: a visitor's message runs
//! the flow and the reply reaches the socket; acknowledgements move the reply to
//! `delivered` and `read`; a resend is taken once; the thread comes back after a
//! reconnection with the visitor token; origins, channels, visitor tokens and the site's
//! user JWTs are checked; bad frames are named; a visitor writing too fast is held back;
//! a turn's several replies reach the socket in the order the flow wrote them.
//! The browser test (`webchat_browser.rs`) drives the widget itself.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use parley_domain::{ChannelAddress, ChannelKind, Clock};
use parley_store::ContactUpdate;
use parley_testkit::TestApp;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_util::sync::CancellationToken;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The site's page origin, one of the channel's allowed origins.
pub const SITE: &str = "https://shop.example.com";
/// The site's secret for its user JWTs.
pub const IDENTITY_SECRET: &str = "the shop's identity secret, 32+ characters long";
/// The flow's question.
pub const QUESTION: &str = "How can we help?";

/// What [`ordered_flow`] writes in each turn, in order.
pub const ORDERED_REPLIES: [&str; 4] = [
    "You can pay securely here: https://pay.example.com/p/42",
    "Your reference is 42.",
    "Goodbye!",
    QUESTION,
];

/// A flow writing [`ORDERED_REPLIES`] in every turn: three messages, then its question.
pub fn ordered_flow() -> Value {
    json!({"schema": 1, "name": "pay", "start": "link", "steps": {
        "link": {"type": "message", "text": ORDERED_REPLIES[0], "next": "reference"},
        "reference": {"type": "message", "text": ORDERED_REPLIES[1], "next": "bye"},
        "bye": {"type": "message", "text": ORDERED_REPLIES[2], "next": "ask"},
        "ask": {"type": "ask", "text": QUESTION, "save_as": "need", "next": "link"}}})
}

/// A served test application with a `webchat` channel running a looping flow, its job
/// workers, in-process sender and live feed: (app, owner token, channel id, base URL).
pub async fn webchat_app(
    credentials: Option<Value>,
    origins: &[&str],
) -> (TestApp, String, String, String, CancellationToken) {
    let flow = json!({"schema": 1, "name": "help", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": QUESTION, "save_as": "need", "next": "ask"}}});
    webchat_app_running(flow, credentials, origins).await
}

/// [`webchat_app`] with the channel running `flow`.
pub async fn webchat_app_running(
    flow: Value,
    credentials: Option<Value>,
    origins: &[&str],
) -> (TestApp, String, String, String, CancellationToken) {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let flow = t.publish_flow(&token, flow).await;
    let mut body = json!({"provider": "webchat", "name": "Shop chat", "sender": "Example Shop",
        "inbound_flow": flow,
        "settings": {"allowed_origins": [SITE, "http://localhost:5173"]}});
    for origin in origins {
        body["settings"]["allowed_origins"]
            .as_array_mut()
            .unwrap()
            .push(json!(origin));
    }
    if let Some(c) = credentials {
        body["credentials"] = c;
    }
    let channel = t.post_ok(&token, "/api/v1/channels", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let base = t.listen().await;
    let cancel = t.run_workers();
    (t, token, channel, base, cancel)
}

/// A web chat without a flow on the site, in the organization of `token`.
async fn bare_webchat(t: &TestApp, token: &str, name: &str) -> String {
    let body = json!({"provider": "webchat", "name": name, "sender": name,
        "settings": {"allowed_origins": [SITE]}});
    t.post_ok(token, "/api/v1/channels", body).await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn with_secret() -> Option<Value> {
    Some(json!({"identity_secret": IDENTITY_SECRET}))
}

async fn open(base: &str, channel: &str, origin: Option<&str>) -> Result<Ws, WsError> {
    let url = format!(
        "{}/webchat/ws?channel={channel}",
        base.replace("http://", "ws://")
    );
    let mut request = url.into_client_request().unwrap();
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("origin", origin.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(ws, _)| ws)
}

async fn send(ws: &mut Ws, frame: Value) {
    ws.send(Message::text(frame.to_string())).await.unwrap();
}

/// The next JSON frame (pings skipped); `None` when the socket closed.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let m = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a frame within 5 s");
        match m {
            Some(Ok(Message::Text(t))) => return Some(serde_json::from_str(&t).unwrap()),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(c))) => {
                eprintln!("closed: {c:?}");
                return None;
            }
            Some(Err(e)) => {
                eprintln!("socket error: {e}");
                return None;
            }
            None => return None,
            Some(Ok(other)) => panic!("unexpected frame {other:?}"),
        }
    }
}

/// Says hello; the welcome frame.
async fn hello(ws: &mut Ws, visitor_token: Option<&str>, user_token: Option<&str>) -> Value {
    send(
        ws,
        json!({"type": "hello", "visitor_token": visitor_token, "user_token": user_token}),
    )
    .await;
    let welcome = next(ws).await.unwrap();
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    welcome
}

/// Writes `text`; the acknowledgement line, then the flow's reply line.
async fn say(ws: &mut Ws, text: &str, client_id: &str) -> (Value, Value) {
    send(
        ws,
        json!({"type": "message", "text": text, "client_id": client_id}),
    )
    .await;
    let ack = next(ws).await.unwrap();
    assert_eq!(ack["type"], "message", "{ack}");
    assert_eq!(ack["direction"], "inbound");
    assert_eq!(ack["client_id"], client_id);
    assert_eq!(ack["text"], text);
    let reply = next(ws).await.unwrap();
    assert_eq!(reply["direction"], "outbound", "{reply}");
    (ack, reply)
}

fn lines(welcome: &Value) -> Vec<(String, String)> {
    welcome["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["direction"].as_str().unwrap().to_owned(),
                l["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn pair(direction: &str, text: &str) -> (String, String) {
    (direction.to_owned(), text.to_owned())
}

async fn get_json(t: &TestApp, token: &str, path: &str) -> Value {
    let r = t.get(path, token).await;
    assert!(r.status.is_success(), "{path}: {}", r.json);
    r.json
}

pub async fn conversations(t: &TestApp, token: &str, channel: &str) -> Vec<Value> {
    let path = format!("/api/v1/conversations?channel_id={channel}");
    get_json(t, token, &path).await["data"]
        .as_array()
        .unwrap()
        .clone()
}

pub async fn thread(t: &TestApp, token: &str, conversation: &str) -> Value {
    get_json(t, token, &format!("/api/v1/conversations/{conversation}")).await
}

/// Polls until `check` holds (5 s at most).
async fn eventually(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..250 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("{what} did not happen within 5 s");
}

#[tokio::test]
async fn a_visitor_chats_acknowledges_and_finds_the_thread_after_a_reconnection() {
    let (t, token, channel, base, cancel) = webchat_app(None, &[]).await;
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    let welcome = hello(&mut ws, None, None).await;
    let visitor_token = welcome["visitor_token"].as_str().unwrap().to_owned();
    assert!(lines(&welcome).is_empty(), "a new visitor has no thread");
    assert!(
        conversations(&t, &token, &channel).await.is_empty(),
        "a page view writes nothing"
    );

    let (ack, reply) = say(&mut ws, "Hi, I have a question", "c1").await;
    assert_eq!(reply["text"], QUESTION);
    // A resend (after a lost acknowledgement) is answered with the stored line, once.
    send(
        &mut ws,
        json!({"type": "message", "text": "Hi, I have a question", "client_id": "c1"}),
    )
    .await;
    let again = next(&mut ws).await.unwrap();
    assert_eq!(again["id"], ack["id"]);
    // The page says the reply arrived and was read.
    let reply_id = reply["id"].as_str().unwrap();
    send(&mut ws, json!({"type": "received", "id": reply_id})).await;
    send(&mut ws, json!({"type": "read", "id": reply_id})).await;

    let listed = conversations(&t, &token, &channel).await;
    assert_eq!(listed.len(), 1);
    let conversation = listed[0]["id"].as_str().unwrap().to_owned();
    eventually("the reply is read", async || {
        let th = thread(&t, &token, &conversation).await;
        th["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["id"] == reply_id && m["status"] == "read")
    })
    .await;
    let th = thread(&t, &token, &conversation).await;
    assert_eq!(
        th["messages"].as_array().unwrap().len(),
        2,
        "the resend was taken once: {th}"
    );

    // The outbox announces it all, with the web-chat address.
    let events: Vec<(String, Value)> = t
        .store()
        .list_undispatched_events(1_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event.data["conversation_id"] == conversation.as_str())
        .map(|e| (e.event.event_type.as_str().to_owned(), e.event.data))
        .collect();
    let kinds: Vec<&str> = events.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "inboundMessage",
            "messageSend",
            "deliveryReport",
            "deliveryReport"
        ]
    );
    let inbound = &events[0].1["message"];
    assert_eq!(inbound["channel"], "webchat");
    assert!(inbound["from"].as_str().unwrap().starts_with("visitor:"));
    assert_eq!(inbound["text"], "Hi, I have a question");
    assert_eq!(events[1].1["message"]["to"], inbound["from"]);
    assert_eq!(events[2].1["message"]["status"], "delivered");
    assert_eq!(events[3].1["message"]["status"], "read");

    // An agent's reply reaches the open socket too.
    t.post_ok(
        &token,
        &format!("/api/v1/conversations/{conversation}/messages"),
        json!({"text": "An agent here."}),
    )
    .await;
    let line = next(&mut ws).await.unwrap();
    assert_eq!(
        (line["direction"].as_str(), line["text"].as_str()),
        (Some("outbound"), Some("An agent here."))
    );

    // A reload: the same visitor, the whole thread, oldest first.
    ws.close(None).await.unwrap();
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    let welcome = hello(&mut ws, Some(&visitor_token), None).await;
    assert_eq!(
        lines(&welcome),
        [
            pair("inbound", "Hi, I have a question"),
            pair("outbound", QUESTION),
            pair("outbound", "An agent here.")
        ]
    );
    assert_eq!(welcome["history"][0]["client_id"], "c1");
    // The agent has the conversation now: the visitor's next message reaches them, and
    // the same conversation goes on.
    send(
        &mut ws,
        json!({"type": "message", "text": "It is about my bill", "client_id": "c2"}),
    )
    .await;
    assert_eq!(next(&mut ws).await.unwrap()["client_id"], "c2");
    assert_eq!(conversations(&t, &token, &channel).await.len(), 1);
    let th = thread(&t, &token, &conversation).await;
    assert_eq!(
        th["messages"].as_array().unwrap().last().unwrap()["body"],
        "It is about my bill"
    );
    cancel.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_turns_replies_reach_the_socket_in_the_flows_order_every_time() {
    let (t, token, channel, base, cancel) = webchat_app_running(ordered_flow(), None, &[]).await;
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    hello(&mut ws, None, None).await;
    // Five rounds: what a visitor may write at once.
    for round in 0..5 {
        let text = format!("message {round}");
        send(
            &mut ws,
            json!({"type": "message", "text": text, "client_id": format!("o{round}")}),
        )
        .await;
        let mut shown = Vec::new();
        while shown.len() < 1 + ORDERED_REPLIES.len() {
            let f = next(&mut ws).await.unwrap();
            assert_eq!(f["type"], "message", "{f}");
            shown.push(pair(
                f["direction"].as_str().unwrap(),
                f["text"].as_str().unwrap(),
            ));
            if f["direction"] == "outbound" {
                send(&mut ws, json!({"type": "received", "id": f["id"]})).await;
            }
        }
        let mut want = vec![pair("inbound", &text)];
        want.extend(ORDERED_REPLIES.map(|r| pair("outbound", r)));
        assert_eq!(shown, want, "round {round}");
    }
    // The page acknowledged them in that order too.
    let listed = conversations(&t, &token, &channel).await;
    let conversation = listed[0]["id"].as_str().unwrap().to_owned();
    let delivered = async || {
        t.store()
            .list_undispatched_events(10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| {
                e.event.data["conversation_id"] == conversation.as_str()
                    && e.event.event_type.as_str() == "deliveryReport"
            })
            .map(|e| e.event.data["message"]["text"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    eventually("every reply delivered", async || {
        delivered().await.len() == 5 * ORDERED_REPLIES.len()
    })
    .await;
    let want: Vec<String> = (0..5)
        .flat_map(|_| ORDERED_REPLIES.map(str::to_owned))
        .collect();
    assert_eq!(delivered().await, want);
    cancel.cancel();
}

#[tokio::test]
async fn sockets_are_refused_for_other_origins_channels_and_identities() {
    let (t, token, channel, base, cancel) = webchat_app(None, &[]).await;
    let status = |r: Result<Ws, WsError>| match r {
        Err(WsError::Http(response)) => response.status().as_u16(),
        Err(e) => panic!("{e}"),
        Ok(_) => 101,
    };
    assert_eq!(
        status(open(&base, &channel, Some("https://evil.example.com")).await),
        403
    );
    assert_eq!(
        status(open(&base, &channel, Some("http://shop.example.com")).await),
        403
    );
    assert_eq!(status(open(&base, &channel, None).await), 403);
    assert_eq!(status(open(&base, "chn_nonesuch", Some(SITE)).await), 404);
    assert_eq!(status(open(&base, "", Some(SITE)).await), 422);
    assert_eq!(
        status(open(&base, &channel, Some("http://localhost:5173")).await),
        101
    );
    // Another kind of channel is not a web chat.
    let sim = t.sim_channel(&token, None).await;
    assert_eq!(status(open(&base, &sim, Some(SITE)).await), 404);

    // The first frame must be hello.
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    send(
        &mut ws,
        json!({"type": "message", "text": "hi", "client_id": "a"}),
    )
    .await;
    let e = next(&mut ws).await.unwrap();
    assert_eq!(
        (e["type"].as_str(), e["code"].as_str()),
        (Some("error"), Some("bad_frame"))
    );
    assert!(next(&mut ws).await.is_none(), "the socket closes");

    // Bad frames are named, and the socket carries on.
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    let first = hello(&mut ws, Some("not.a.token"), None).await;
    for (frame, field) in [
        (json!({"type": "message", "client_id": "a"}), "text:"),
        (
            json!({"type": "message", "text": "hi", "client_id": "a b"}),
            "client_id:",
        ),
        (json!({"type": "shout"}), "type:"),
        (json!({"type": "read", "id": "msg_not_shown_here"}), "id:"),
    ] {
        send(&mut ws, frame).await;
        let e = next(&mut ws).await.unwrap();
        assert_eq!(e["code"], "bad_frame", "{e}");
        assert!(e["detail"].as_str().unwrap().starts_with(field), "{e}");
    }
    ws.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    assert_eq!(next(&mut ws).await.unwrap()["code"], "bad_frame");
    say(&mut ws, "still here", "ok1").await;

    // A visitor token is for its channel only: on another web chat it is a new visitor.
    let other = bare_webchat(&t, &token, "Other").await;
    let mut ws2 = open(&base, &other, Some(SITE)).await.unwrap();
    let second = hello(&mut ws2, first["visitor_token"].as_str(), None).await;
    assert!(lines(&second).is_empty());
    // A user JWT on a channel without an identity secret cannot be checked.
    let mut ws3 = open(&base, &channel, Some(SITE)).await.unwrap();
    send(
        &mut ws3,
        json!({"type": "hello", "user_token": user_jwt(&t, "42", 3_600, IDENTITY_SECRET)}),
    )
    .await;
    assert_eq!(
        next(&mut ws3).await.unwrap()["code"],
        "identity_not_configured"
    );
    assert!(next(&mut ws3).await.is_none());
    cancel.cancel();
}

/// A site's user JWT for `sub`, expiring `ttl` seconds from now, signed with `secret`.
pub fn user_jwt(t: &TestApp, sub: &str, ttl: i64, secret: &str) -> String {
    let exp = t.clock.now().timestamp() + ttl;
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"sub": sub, "exp": exp, "name": "Ada Lovelace"}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .unwrap()
}

#[tokio::test]
async fn a_signed_in_user_is_the_sites_user_on_every_device_and_only_while_signed_in() {
    let (t, token, channel, base, cancel) = webchat_app(with_secret(), &[]).await;
    // An imported customer whose customer id is the site's user id.
    let org = t.root.organization;
    let (customer, _) = t
        .store()
        .contact_for_address(
            org,
            &ChannelAddress {
                kind: ChannelKind::Sms,
                address: "+447911123456".into(),
            },
            t.clock.now(),
        )
        .await
        .unwrap();
    t.store()
        .update_contact(
            org,
            customer.id,
            ContactUpdate {
                customer_id: Some(Some("42".into())),
                ..ContactUpdate::default()
            },
            t.clock.now(),
        )
        .await
        .unwrap();

    let jwt = user_jwt(&t, "42", 3_600, IDENTITY_SECRET);
    let mut laptop = open(&base, &channel, Some(SITE)).await.unwrap();
    let welcome = hello(&mut laptop, None, Some(&jwt)).await;
    say(&mut laptop, "Where is my order?", "l1").await;
    let listed = conversations(&t, &token, &channel).await;
    assert_eq!(
        listed[0]["contact_id"],
        customer.id.to_string(),
        "the imported customer chats"
    );
    let contact = t
        .store()
        .get_contact(org, customer.id)
        .await
        .unwrap()
        .unwrap();
    assert!(
        contact
            .addresses
            .iter()
            .any(|a| a.kind == ChannelKind::Webchat && a.address == "user:42")
    );

    // Their phone, signed in too, shows the same thread and follows it live.
    let mut phone = open(&base, &channel, Some(SITE)).await.unwrap();
    let on_phone = hello(&mut phone, None, Some(&jwt)).await;
    assert_eq!(
        lines(&on_phone),
        [
            pair("inbound", "Where is my order?"),
            pair("outbound", QUESTION)
        ]
    );
    say(&mut laptop, "Order 1001", "l2").await;
    let mine = next(&mut phone).await.unwrap();
    assert_eq!(
        (mine["direction"].as_str(), mine["text"].as_str()),
        (Some("inbound"), Some("Order 1001"))
    );
    assert_eq!(next(&mut phone).await.unwrap()["text"], QUESTION);

    // Signed out (no user JWT), the same browser is a new anonymous visitor.
    let mut after = open(&base, &channel, Some(SITE)).await.unwrap();
    let anonymous = hello(&mut after, welcome["visitor_token"].as_str(), None).await;
    assert!(lines(&anonymous).is_empty(), "{anonymous}");

    // Forged and expired JWTs are refused with 4401.
    for bad in [
        user_jwt(&t, "42", 3_600, "another secret of thirty-two characters!"),
        user_jwt(&t, "42", -3_600, IDENTITY_SECRET),
    ] {
        let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
        send(&mut ws, json!({"type": "hello", "user_token": bad})).await;
        let e = next(&mut ws).await.unwrap();
        assert_eq!(e["code"], "user_token_invalid", "{e}");
        match tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .unwrap()
        {
            Some(Ok(Message::Close(Some(frame)))) => assert_eq!(u16::from(frame.code), 4401),
            other => panic!("expected a close frame, got {other:?}"),
        }
    }
    cancel.cancel();
}

#[tokio::test]
async fn another_organizations_web_chat_neither_knows_the_visitor_nor_hears_their_thread() {
    let (t, token, channel, base, cancel) = webchat_app(None, &[]).await;
    // Another organization (a new root) with its own web chat on the same site.
    let (_, theirs) = t
        .org_with_token("Other company", None, parley_domain::Role::Owner)
        .await;
    let other = bare_webchat(&t, &theirs, "Theirs").await;
    let mut ours = open(&base, &channel, Some(SITE)).await.unwrap();
    let welcome = hello(&mut ours, None, None).await;
    say(&mut ours, "My account number is 1234", "p1").await;

    // Our visitor's token on their channel is a stranger's: a new visitor, no thread.
    let mut there = open(&base, &other, Some(SITE)).await.unwrap();
    let second = hello(&mut there, welcome["visitor_token"].as_str(), None).await;
    assert!(lines(&second).is_empty(), "{second}");
    assert_ne!(second["visitor_token"], welcome["visitor_token"]);
    // Our next exchange reaches our socket and nothing reaches theirs.
    say(&mut ours, "Still there?", "p2").await;
    let heard = tokio::time::timeout(Duration::from_millis(700), there.next()).await;
    assert!(
        !matches!(heard, Ok(Some(Ok(Message::Text(_))))),
        "another organization's socket heard {heard:?}"
    );
    assert!(conversations(&t, &theirs, &other).await.is_empty());
    assert_eq!(conversations(&t, &token, &channel).await.len(), 1);
    cancel.cancel();
}

#[tokio::test]
async fn a_visitor_writing_too_fast_is_held_back_and_nothing_is_lost() {
    let (t, token, channel, base, cancel) = webchat_app(None, &[]).await;
    let mut ws = open(&base, &channel, Some(SITE)).await.unwrap();
    hello(&mut ws, None, None).await;
    // A burst of ten: five at once, then one a second, so on a busy machine a burst
    // that takes longer gets a few more through; the rest are refused, never dropped.
    const BURST: usize = 10;
    let started = std::time::Instant::now();
    for i in 0..BURST {
        send(
            &mut ws,
            json!({"type": "message", "text": format!("burst {i}"), "client_id": format!("b{i}")}),
        )
        .await;
    }
    let mut taken = Vec::new();
    let mut refused = Vec::new();
    while taken.len() + refused.len() < BURST {
        let f = next(&mut ws).await.unwrap();
        match (
            f["type"].as_str(),
            f["direction"].as_str(),
            f["code"].as_str(),
        ) {
            (Some("message"), Some("inbound"), _) => taken.push(f["client_id"].clone()),
            (Some("error"), _, Some("rate_limited")) => refused.push(()),
            (Some("message"), Some("outbound"), _) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    let seconds = usize::try_from(started.elapsed().as_secs()).unwrap();
    assert!(
        (5..=5 + seconds + 1).contains(&taken.len()),
        "{} taken in {seconds} s",
        taken.len()
    );
    assert!(!refused.is_empty(), "a burst of {BURST} is held back");
    // The held-back messages, resent a second apart, are taken.
    let held: Vec<usize> = (0..BURST)
        .filter(|i| !taken.contains(&json!(format!("b{i}"))))
        .collect();
    assert_eq!(held.len(), refused.len());
    for n in held {
        tokio::time::sleep(Duration::from_millis(1_100)).await;
        let client_id = json!(format!("b{n}"));
        send(
            &mut ws,
            json!({"type": "message", "text": format!("burst {n}"), "client_id": client_id}),
        )
        .await;
        loop {
            let f = next(&mut ws).await.unwrap();
            if f["direction"] == "inbound" {
                assert_eq!(f["client_id"], client_id);
                break;
            }
        }
    }
    let listed = conversations(&t, &token, &channel).await;
    let th = thread(&t, &token, listed[0]["id"].as_str().unwrap()).await;
    let inbound = th["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "inbound")
        .count();
    assert_eq!(inbound, BURST, "nothing is lost");
    cancel.cancel();
}
