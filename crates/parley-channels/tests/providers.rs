//! The Twilio and WhatsApp adapters against the stand-ins (`parley-standin`, through
//! `parley-testkit`), which speak
//! the providers' wire formats and sign their callbacks as the providers do; callbacks land
//! in a recording receiver and are checked with this crate's signature checks and readers.

use std::time::Duration;

use parley_channels::twilio::client::{TwilioClient, TwilioConfig, TwilioMessage};
use parley_channels::twilio::{callback as twilio_callback, signature as twilio_signature};
use parley_channels::whatsapp::client::{WhatsappClient, WhatsappConfig, WhatsappMessage};
use parley_channels::whatsapp::{callback as wa_callback, signature as wa_signature};
use parley_channels::{ProviderHttp, Retry, SendError};
use parley_domain::MessageStatus;
use parley_testkit::{Received, Receiver, TwilioOutcome, TwilioStandIn, WhatsappStandIn};

const SID: &str = "AC00000000000000000000000000000001";
const TOKEN: &str = "twilio-auth-token";
const FAST: Duration = Duration::from_millis(20);

fn http() -> ProviderHttp {
    ProviderHttp::new(Duration::from_secs(5), true).expect("client")
}

fn twilio(base_url: &str, token: &str) -> TwilioClient {
    TwilioClient::new(
        http(),
        TwilioConfig {
            base_url: base_url.to_owned(),
            account_sid: SID.to_owned(),
            auth_token: token.to_owned(),
            from: "+447700900001".to_owned(),
        },
    )
}

fn form(r: &Received) -> Vec<(String, String)> {
    url::form_urlencoded::parse(&r.body).into_owned().collect()
}

fn refused(result: Result<parley_channels::Accepted, SendError>) -> (String, Retry) {
    match result {
        Err(e @ SendError::Refused { .. }) => (e.code().to_owned(), e.retry()),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn twilio_sends_and_its_signed_status_callbacks_read_back() {
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0)
        .await
        .expect("stand-in");
    let receiver = Receiver::start().await;
    let client = twilio(&standin.base_url, TOKEN);
    let accepted = client
        .send(&TwilioMessage {
            to: "+447700900123",
            body: "You owe £5 – pay at https://pay.example/x",
            status_callback: Some(&receiver.url),
            idempotency_key: None,
        })
        .await
        .expect("sent");
    assert!(accepted.provider_message_id.starts_with("SM"));
    assert_eq!(accepted.status, MessageStatus::Pending);
    let sent = standin.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, "You owe £5 – pay at https://pay.example/x");
    assert_eq!(sent[0].from, "+447700900001");

    let callbacks = receiver.wait_for(2, Duration::from_secs(5)).await;
    let mut statuses = Vec::new();
    for r in &callbacks {
        let params = form(r);
        let header = r.header("x-twilio-signature");
        assert!(twilio_signature::verify_form(
            TOKEN,
            &receiver.url,
            &params,
            header
        ));
        assert!(!twilio_signature::verify_form(
            "another-token",
            &receiver.url,
            &params,
            header
        ));
        let report = twilio_callback::status_report(&params).expect("a status report");
        assert_eq!(report.message_sid, accepted.provider_message_id);
        statuses.push(report.status);
    }
    assert_eq!(
        statuses,
        [Some(MessageStatus::Sent), Some(MessageStatus::Delivered)]
    );

    // An undelivered outcome carries Twilio's error code.
    standin.deliver_as(TwilioOutcome::Undelivered(30003));
    client
        .send(&TwilioMessage {
            to: "+447700900124",
            body: "Second",
            status_callback: Some(&receiver.url),
            idempotency_key: None,
        })
        .await
        .expect("sent");
    let callbacks = receiver.wait_for(4, Duration::from_secs(5)).await;
    let last = twilio_callback::status_report(&form(&callbacks[3])).expect("report");
    assert_eq!(last.status, Some(MessageStatus::Undelivered));
    assert_eq!(last.error_code.as_deref(), Some("30003"));
}

#[tokio::test]
async fn twilio_repeats_with_one_idempotency_key_send_once() {
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0)
        .await
        .expect("stand-in");
    let client = twilio(&standin.base_url, TOKEN);
    let message = |key| TwilioMessage {
        to: "+447700900123",
        body: "Hello",
        status_callback: None,
        idempotency_key: key,
    };
    let first = client.send(&message(Some("msg_1"))).await.expect("sent");
    let again = client
        .send(&message(Some("msg_1")))
        .await
        .expect("answered");
    assert_eq!(
        again.provider_message_id, first.provider_message_id,
        "the first answer, again"
    );
    let other = client.send(&message(Some("msg_2"))).await.expect("sent");
    assert_ne!(other.provider_message_id, first.provider_message_id);
    let without = client.send(&message(None)).await.expect("sent");
    assert_ne!(without.provider_message_id, first.provider_message_id);
    assert_eq!(standin.sent_count(), 3, "the repeat sent nothing");
    assert_eq!(standin.replays(), 1);
    assert_eq!(standin.sent()[0].idempotency_key.as_deref(), Some("msg_1"));
}

#[tokio::test]
async fn twilio_refusals_are_classified() {
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0)
        .await
        .expect("stand-in");
    let message = |to| TwilioMessage {
        to,
        body: "Hello",
        status_callback: None,
        idempotency_key: None,
    };
    let client = twilio(&standin.base_url, TOKEN);
    assert_eq!(
        refused(
            twilio(&standin.base_url, "wrong")
                .send(&message("+447700900123"))
                .await
        ),
        ("20003".to_owned(), Retry::Never)
    );
    assert_eq!(
        refused(client.send(&message("07700 900123")).await),
        ("21211".to_owned(), Retry::Never)
    );
    standin.fail_next(400, 21610, "Attempt to send to unsubscribed recipient");
    assert_eq!(
        refused(client.send(&message("+447700900123")).await),
        ("21610".to_owned(), Retry::Never)
    );
    standin.fail_next(429, 20429, "Too Many Requests");
    assert_eq!(
        refused(client.send(&message("+447700900123")).await),
        ("20429".to_owned(), Retry::After(Duration::from_secs(1)))
    );
    standin.fail_next(503, 20503, "Service unavailable");
    assert_eq!(
        refused(client.send(&message("+447700900123")).await),
        ("20503".to_owned(), Retry::Now)
    );
    // Nothing refused reached the stand-in's record; the next send goes through.
    assert!(standin.sent().is_empty());
    client.send(&message("+447700900123")).await.expect("sent");
    assert_eq!(standin.sent().len(), 1);

    // A provider that cannot be reached is retried.
    let gone = standin.base_url.clone();
    drop(standin);
    let err = twilio(&gone, TOKEN)
        .send(&message("+447700900123"))
        .await
        .expect_err("unreachable");
    assert_eq!((err.code(), err.retry()), ("unreachable", Retry::Now));
}

#[tokio::test]
async fn twilio_inbound_messages_arrive_signed() {
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0)
        .await
        .expect("stand-in");
    let receiver = Receiver::start().await;
    let (status, _) = standin
        .inbound(&receiver.url, "+447700900123", "+447700900001", "STOP")
        .await
        .expect("posted");
    assert_eq!(status, 200);
    let r = &receiver.wait_for(1, Duration::from_secs(5)).await[0];
    let params = form(r);
    assert!(twilio_signature::verify_form(
        TOKEN,
        &receiver.url,
        &params,
        r.header("x-twilio-signature")
    ));
    let inbound = twilio_callback::inbound(&params).expect("inbound");
    assert_eq!(
        (inbound.from.as_str(), inbound.body.as_str()),
        ("+447700900123", "STOP")
    );
    assert_eq!(inbound.account_sid, SID);
    assert_eq!(
        parley_channels::classify_keyword(&inbound.body),
        Some(parley_channels::Keyword::OptOut)
    );
}

const NUMBER: &str = "106540352242922";
const META_TOKEN: &str = "meta-access-token";
const APP_SECRET: &str = "meta-app-secret";

fn whatsapp(base_url: &str, token: &str) -> WhatsappClient {
    WhatsappClient::new(
        http(),
        WhatsappConfig {
            base_url: base_url.to_owned(),
            phone_number_id: NUMBER.to_owned(),
            access_token: token.to_owned(),
        },
    )
}

fn read_webhook(r: &Received) -> wa_callback::Callback {
    assert!(wa_signature::verify(
        APP_SECRET,
        &r.body,
        r.header("x-hub-signature-256")
    ));
    assert!(!wa_signature::verify(
        "another-secret",
        &r.body,
        r.header("x-hub-signature-256")
    ));
    wa_callback::parse(&r.body).expect("a valid webhook")
}

#[tokio::test]
async fn whatsapp_keeps_the_window_and_reports_out_of_order() {
    let receiver = Receiver::start().await;
    let standin = WhatsappStandIn::start(NUMBER, META_TOKEN, APP_SECRET, &receiver.url, FAST, 0)
        .await
        .expect("stand-in");
    let client = whatsapp(&standin.base_url, META_TOKEN);
    let text = WhatsappMessage::Text {
        to: "+16505551234",
        body: "Your balance is £120",
    };
    // Free text before the customer wrote: outside the window.
    assert_eq!(
        refused(client.send(&text).await),
        ("131047".to_owned(), Retry::Never)
    );
    // A template goes through outside the window.
    let parameters = ["Ada".to_owned()];
    client
        .send(&WhatsappMessage::Template {
            to: "+16505551234",
            name: "payment_reminder",
            language: "en_GB",
            parameters: &parameters,
        })
        .await
        .expect("template sent");

    // The customer writes: a signed webhook, and the window opens.
    standin
        .inbound("+16505551234", "Sheena Nelson", "Hi, can I pay on Friday?")
        .await
        .expect("posted");
    standin.reorder(true);
    let accepted = client
        .send(&text)
        .await
        .expect("text sent inside the window");
    assert!(accepted.provider_message_id.starts_with("wamid."));

    // 3 statuses of the template, 1 inbound, 3 statuses of the text.
    let received = receiver.wait_for(7, Duration::from_secs(5)).await;
    let callbacks: Vec<_> = received.iter().map(read_webhook).collect();
    let inbound: Vec<_> = callbacks.iter().flat_map(|c| c.messages.clone()).collect();
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].from, "16505551234");
    assert_eq!(inbound[0].profile_name.as_deref(), Some("Sheena Nelson"));
    assert_eq!(inbound[0].text.as_deref(), Some("Hi, can I pay on Friday?"));
    let reports: Vec<_> = callbacks
        .iter()
        .flat_map(|c| c.statuses.clone())
        .filter(|s| s.id == accepted.provider_message_id)
        .collect();
    let order: Vec<_> = reports.iter().map(|s| s.raw_status.as_str()).collect();
    assert_eq!(order, ["sent", "read", "delivered"]);
    // Applied in arrival order, the late delivered does not move it back from read.
    let mut status = MessageStatus::Pending;
    for s in reports.iter().filter_map(|s| s.status) {
        if status.advances_to(s) {
            status = s;
        }
    }
    assert_eq!(status, MessageStatus::Read);
}

#[tokio::test]
async fn whatsapp_refusals_are_classified() {
    let receiver = Receiver::start().await;
    let standin = WhatsappStandIn::start(NUMBER, META_TOKEN, APP_SECRET, &receiver.url, FAST, 0)
        .await
        .expect("stand-in");
    let parameters: [String; 0] = [];
    let template = WhatsappMessage::Template {
        to: "+16505551234",
        name: "payment_reminder",
        language: "en_GB",
        parameters: &parameters,
    };
    assert_eq!(
        refused(whatsapp(&standin.base_url, "expired").send(&template).await),
        ("190".to_owned(), Retry::Never)
    );
    let client = whatsapp(&standin.base_url, META_TOKEN);
    standin.fail_next(429, 130_429, "Rate limit hit");
    assert_eq!(
        refused(client.send(&template).await),
        ("130429".to_owned(), Retry::After(Duration::from_secs(6)))
    );
    // A 429 with a code of no rule of its own still waits (the shared rule for statuses).
    standin.fail_next(429, 131_099, "Too many requests");
    assert_eq!(
        refused(client.send(&template).await),
        ("131099".to_owned(), Retry::After(Duration::from_secs(1)))
    );
    standin.fail_next(500, 131_000, "Something went wrong");
    assert_eq!(
        refused(client.send(&template).await),
        ("131000".to_owned(), Retry::Now)
    );
    standin.fail_next(400, 131_026, "Message undeliverable");
    let (code, retry) = refused(client.send(&template).await);
    assert_eq!((code.as_str(), retry), ("131026", Retry::Never));
    assert!(standin.sent().is_empty());
}

/// The guarded client (the default outside tests) never connects to a private provider
/// URL, however it is written, including a name that resolves to loopback; the refusal is
/// final (`target_refused`, never retried) and carries nothing the target said.
#[tokio::test]
async fn a_guarded_client_never_reaches_a_private_provider_url() {
    let standin = TwilioStandIn::start(SID, TOKEN, FAST, 0)
        .await
        .expect("stand-in");
    let port = standin
        .base_url
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_owned();
    let guarded = ProviderHttp::new(Duration::from_secs(5), false).expect("client");
    let forms = [
        standin.base_url.clone(),
        format!("http://localhost:{port}"),
        format!("http://0x7f000001:{port}"),
        format!("http://[::1]:{port}"),
        "http://169.254.169.254".to_owned(),
        "http://10.0.0.1".to_owned(),
    ];
    for base_url in forms {
        let client = TwilioClient::new(
            guarded.clone(),
            TwilioConfig {
                base_url: base_url.clone(),
                account_sid: SID.to_owned(),
                auth_token: TOKEN.to_owned(),
                from: "+447700900001".to_owned(),
            },
        );
        let result = client
            .send(&TwilioMessage {
                to: "+447700900123",
                body: "hello",
                status_callback: None,
                idempotency_key: None,
            })
            .await;
        match result {
            Err(e @ SendError::TargetRefused(_)) => {
                assert_eq!(e.code(), "target_refused", "{base_url}");
                assert_eq!(e.retry(), Retry::Never, "{base_url}");
                assert!(
                    e.to_string().contains("allow_private_targets"),
                    "{base_url}: {e}"
                );
            }
            other => panic!("{base_url}: expected the guard's refusal, got {other:?}"),
        }
    }
    assert!(standin.sent().is_empty(), "no request reached the stand-in");
}

/// A provider's words are kept to a bounded length wherever they are stored.
#[test]
fn stored_error_text_is_bounded() {
    let long = SendError::Refused {
        code: "21211".to_owned(),
        message: "é".repeat(10_000),
        retry: Retry::Never,
    };
    let stored = long.stored_text();
    assert_eq!(stored.chars().count(), parley_channels::MAX_ERROR_CHARS + 1);
    assert!(stored.ends_with('…'));
    let short = SendError::Connect("reset".to_owned());
    assert_eq!(short.stored_text(), short.to_string());
}
