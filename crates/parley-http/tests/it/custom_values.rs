//! `/api/v1/custom-value-endpoint` and the signed GET a flow's `fetch` step sends there
//! (SPEC §7.3), against a real receiver: values typed by field definitions, and timeout,
//! non-2xx and bad bodies told apart.

use std::time::Duration;

use http::Method;
use parley_app::webhooks::custom_values::{FetchFailure, ValueRequest};
use parley_domain::{EventId, Role};
use parley_testkit::{Receiver, Reply};
use serde_json::{Value, json};

use crate::webhooks::{app, assert_signed};

#[tokio::test]
async fn the_custom_value_endpoint_answers_typed_values_or_a_distinct_failure() {
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    t.define_fields(
        &token,
        &[("balance", "money"), ("next_payment_date", "date")],
    )
    .await;
    let receiver = Receiver::start().await;
    let request = ValueRequest {
        customer_id: Some("C-1001".into()),
        channel_id: "+447700900123".into(),
        fields: vec!["balance".into(), "next_payment_date".into()],
    };
    let fetch = || t.app.fetch_custom_values(org, &request);
    assert_eq!(fetch().await.unwrap(), Err(FetchFailure::NotConfigured));
    assert_eq!(
        t.get("/api/v1/custom-value-endpoint", &token).await.status,
        404
    );

    // Bad input names the field and sets nothing.
    let put = |body: Value| {
        t.call(
            Method::PUT,
            "/api/v1/custom-value-endpoint",
            Some(&token),
            None,
            Some(body),
        )
    };
    let r = put(json!({"url": "ftp://example.com"})).await;
    assert_eq!(r.problem_field(), (422, Some("url")));
    let r = put(json!({"url": receiver.url, "timeout_ms": 50})).await;
    assert_eq!(r.problem_field(), (422, Some("timeout_ms")));
    assert_eq!(
        t.get("/api/v1/custom-value-endpoint", &token).await.status,
        404
    );

    // The first PUT generates the secret and shows it; a later one keeps it unseen.
    let r = put(json!({"url": receiver.url, "timeout_ms": 800})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let r = put(json!({"url": format!("{}?source=parley", receiver.url), "timeout_ms": 800})).await;
    assert!(r.json.get("secret").is_none(), "{}", r.json);
    let got = t.get("/api/v1/custom-value-endpoint", &token).await.json;
    assert_eq!(got["timeout_ms"], 800);
    assert!(got.get("secret").is_none());

    // A good answer: values typed by their field definitions, null left out, extras ignored.
    receiver.script([Reply::Json(
        200,
        r#"{"balance": "£1,234.50", "next_payment_date": "01/12/2026", "other": 1}"#.into(),
    )]);
    let values = fetch().await.unwrap().unwrap().values;
    assert_eq!(values["next_payment_date"], "2026-12-01");
    assert_eq!(values["balance"], "1234.50");
    assert_eq!(values.len(), 2);
    let sent = receiver.received().pop().unwrap();
    assert_eq!(sent.method, Method::GET);
    assert_eq!(
        sent.uri,
        "/hook?source=parley&customerId=C-1001&channelId=%2B447700900123&fields=balance%2Cnext_payment_date"
    );
    let id: EventId = sent.header("webhook-id").parse().unwrap();
    assert_signed(&sent, &secret, &org.to_string(), id);
    assert!(sent.body.is_empty());
    receiver.script([Reply::Json(
        200,
        r#"{"balance": "10", "next_payment_date": null}"#.into(),
    )]);
    let values = fetch().await.unwrap().unwrap().values;
    assert_eq!(values.get("next_payment_date"), None);

    // Each kind of failure is told apart.
    receiver.script([Reply::Slow(Duration::from_secs(2), 200)]);
    assert_eq!(
        fetch().await.unwrap(),
        Err(FetchFailure::Timeout(Duration::from_millis(800)))
    );
    receiver.script([Reply::Status(503)]);
    assert_eq!(fetch().await.unwrap(), Err(FetchFailure::Status(503)));
    for (body, why) in [
        ("[1, 2]", "not a JSON object"),
        ("{\"balance\": \"1\"}", "next_payment_date is missing"),
        (
            "{\"balance\": \"lots\", \"next_payment_date\": null}",
            "field balance:",
        ),
        ("<html>", "not JSON"),
    ] {
        receiver.script([Reply::Json(200, body.into())]);
        match fetch().await.unwrap() {
            Err(FetchFailure::BadBody(text)) => assert!(text.contains(why), "{body}: {text}"),
            other => panic!("{body}: {other:?}"),
        }
    }

    // Removed: fetches fail as not configured.
    let r = t
        .call(
            Method::DELETE,
            "/api/v1/custom-value-endpoint",
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(fetch().await.unwrap(), Err(FetchFailure::NotConfigured));
    let agent = t.token_in(org, Role::Agent).await;
    assert_eq!(
        t.get("/api/v1/custom-value-endpoint", &agent).await.status,
        403
    );
}

#[tokio::test]
async fn a_fetch_step_goes_on_with_a_null_value_as_no_value() {
    let t = app(Duration::from_secs(5)).await;
    let token = t.owner_token().await;
    t.define_fields(
        &token,
        &[("balance", "money"), ("next_payment_date", "date")],
    )
    .await;
    let receiver = Receiver::start().await;
    let r = t
        .call(
            Method::PUT,
            "/api/v1/custom-value-endpoint",
            Some(&token),
            None,
            Some(json!({"url": receiver.url})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let flow = t
        .publish_flow(
            &token,
            json!({"schema": 1, "name": "lookup", "start": "lookup", "steps": {
                "lookup": {"type": "fetch", "fields": ["balance", "next_payment_date"],
                           "next": "tell", "on_failure": "sorry"},
                "tell": {"type": "close", "status": "done",
                         "text": "Balance <<balance>>; next payment [<<next_payment_date>>]"},
                "sorry": {"type": "close", "status": "done", "text": "Sorry: <<fetch_error>>"}}}),
        )
        .await;
    let channel = t.sim_channel(&token, Some(&flow)).await;
    let cancel = tokio_util::sync::CancellationToken::new();
    tokio::spawn(
        t.app
            .job_runner(2, Duration::from_secs(30))
            .start(cancel.clone()),
    );
    receiver.script([Reply::Json(
        200,
        r#"{"balance": "10", "next_payment_date": null}"#.into(),
    )]);
    let first = t
        .post_ok(
            &token,
            &format!("/api/v1/channels/{channel}/sim/inbound"),
            json!({"from": "+447911123456", "text": "hello"}),
        )
        .await;
    let id = first["conversation"]["id"].as_str().unwrap().to_owned();
    let mut bodies = Vec::new();
    for _ in 0..200 {
        let th = t.get(&format!("/api/v1/conversations/{id}"), &token).await;
        bodies = th.json["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["direction"] == "outbound")
            .map(|m| m["body"].as_str().unwrap().to_owned())
            .collect();
        if !bodies.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(bodies, ["Balance 10.00; next payment []"]);
    cancel.cancel();
}
