//! The client against a real HTTP/1.1 listener on loopback, scripted per request: status
//! classes, `410`, redirects not followed, `Retry-After`, the timeout, the body excerpt,
//! connection reuse, and the SSRF guard when private targets are not allowed.
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http::Method;
use parley_webhooks::Secret;
use parley_webhooks::client::{ClientSettings, DeliveryError, Exchange, Retry, WebhookClient};
use parley_webhooks::sign::Signing;
use reqwest::Url;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    connection: usize,
    head: String,
    body: Vec<u8>,
}

/// What the receiver answers: status line, extra headers, body, delay before answering.
struct Answer {
    status: &'static str,
    headers: Vec<String>,
    body: Vec<u8>,
    delay: Duration,
}

fn answer(status: &'static str) -> Answer {
    Answer {
        status,
        headers: Vec::new(),
        body: Vec::new(),
        delay: Duration::ZERO,
    }
}

type Script = Arc<dyn Fn(&Seen) -> Answer + Send + Sync>;

struct Receiver {
    url: Url,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn receiver(script: Script) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = Url::parse(&format!("http://{}/hook", listener.local_addr().unwrap())).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let connections = Arc::new(AtomicUsize::new(0));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let connection = connections.fetch_add(1, Ordering::SeqCst);
            let script = script.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut buffer = Vec::new();
                loop {
                    // Read one request: the head, then `content-length` bytes.
                    let head_end = loop {
                        if let Some(i) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    };
                    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
                    let length: usize = head
                        .lines()
                        .find_map(|l| {
                            let (name, value) = l.split_once(':')?;
                            name.eq_ignore_ascii_case("content-length")
                                .then(|| value.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buffer.len() < head_end + length {
                        let mut chunk = [0u8; 4096];
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let body = buffer[head_end..head_end + length].to_vec();
                    buffer.drain(..head_end + length);
                    let request = Seen {
                        connection,
                        head,
                        body,
                    };
                    let reply = script(&request);
                    log.lock().unwrap().push(request);
                    tokio::time::sleep(reply.delay).await;
                    let mut out = format!(
                        "HTTP/1.1 {}\r\ncontent-length: {}\r\n",
                        reply.status,
                        reply.body.len()
                    );
                    for h in &reply.headers {
                        out.push_str(h);
                        out.push_str("\r\n");
                    }
                    out.push_str("\r\n");
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&reply.body);
                    if socket.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    Receiver { url, seen }
}

fn client(timeout: Duration, allow_private: bool) -> WebhookClient {
    WebhookClient::new(ClientSettings {
        timeout,
        allow_private_targets: allow_private,
        ..ClientSettings::default()
    })
    .unwrap()
}

async fn post(client: &WebhookClient, url: &Url) -> Exchange {
    client
        .send(
            Method::POST,
            url,
            &[
                ("content-type", "application/json".into()),
                ("webhook-id", "evt_1".into()),
            ],
            Some(br#"{"id":"evt_1"}"#.to_vec()),
            1024,
            1_700_000_000,
        )
        .await
}

#[tokio::test]
async fn a_2xx_succeeds_and_connections_are_kept_alive() {
    let r = receiver(Arc::new(|_| Answer {
        body: b"ok".to_vec(),
        ..answer("202 Accepted")
    }))
    .await;
    let c = client(Duration::from_secs(5), true);
    for _ in 0..20 {
        let e = post(&c, &r.url).await;
        assert_eq!(e.outcome, Ok(()));
        assert_eq!(e.status, Some(202));
        assert_eq!(e.body_text(), "ok");
    }
    let seen = r.seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 20);
    assert!(
        seen.iter().all(|s| s.connection == 0),
        "one connection reused"
    );
    let first = &seen[0];
    assert!(
        first.head.starts_with("POST /hook HTTP/1.1\r\n"),
        "{}",
        first.head
    );
    assert!(first.head.to_lowercase().contains("webhook-id: evt_1"));
    assert!(first.head.contains("Parley-Webhooks/"));
    assert_eq!(first.body, br#"{"id":"evt_1"}"#);
}

#[tokio::test]
async fn failures_are_classified_for_retries() {
    let r = receiver(Arc::new(|s: &Seen| {
        let path = s.head.split(' ').nth(1).unwrap_or_default().to_owned();
        match path.as_str() {
            "/500" => answer("500 Internal Server Error"),
            "/410" => answer("410 Gone"),
            "/429" => Answer {
                headers: vec!["Retry-After: 120".into()],
                ..answer("429 Too Many Requests")
            },
            "/302" => Answer {
                headers: vec!["Location: http://elsewhere.example/".into()],
                ..answer("302 Found")
            },
            "/big" => Answer {
                body: vec![b'x'; 5000],
                ..answer("500 Internal Server Error")
            },
            _ => answer("200 OK"),
        }
    }))
    .await;
    let c = client(Duration::from_secs(5), true);
    let at = |p: &str| r.url.join(p).unwrap();

    let e = post(&c, &at("/500")).await;
    assert_eq!(
        e.outcome,
        Err(DeliveryError::Status {
            status: 500,
            retry_after: None
        })
    );
    assert_eq!(e.outcome.unwrap_err().retry(), Retry::Scheduled);

    let e = post(&c, &at("/410")).await;
    assert_eq!(e.outcome, Err(DeliveryError::Gone));
    assert_eq!(DeliveryError::Gone.retry(), Retry::Never);

    let e = post(&c, &at("/429")).await;
    let err = e.outcome.unwrap_err();
    assert_eq!(err.retry(), Retry::After(Duration::from_secs(120)));

    let e = post(&c, &at("/302")).await;
    assert_eq!(
        e.outcome,
        Err(DeliveryError::Redirect {
            status: 302,
            location: "http://elsewhere.example/".into()
        })
    );
    // Not followed: the receiver saw only its own four paths so far.
    assert_eq!(r.seen.lock().unwrap().len(), 4);

    let e = post(&c, &at("/big")).await;
    assert_eq!(e.body.len(), 1024, "only the first KiB is kept");
    assert_eq!(e.status, Some(500));
}

#[tokio::test]
async fn a_slow_receiver_times_out() {
    let r = receiver(Arc::new(|_| Answer {
        delay: Duration::from_millis(800),
        ..answer("200 OK")
    }))
    .await;
    let c = client(Duration::from_millis(200), true);
    let e = post(&c, &r.url).await;
    assert_eq!(
        e.outcome,
        Err(DeliveryError::Timeout(Duration::from_millis(200)))
    );
    assert!(e.latency < Duration::from_millis(700), "{:?}", e.latency);
    assert_eq!(e.status, None);
}

#[tokio::test]
async fn private_targets_are_refused_unless_allowed() {
    let r = receiver(Arc::new(|_| answer("200 OK"))).await;
    let guarded = client(Duration::from_secs(5), false);
    // By literal address…
    let e = post(&guarded, &r.url).await;
    assert!(
        matches!(&e.outcome, Err(DeliveryError::Refused(why)) if why.contains("loopback")),
        "{:?}",
        e.outcome
    );
    // …and by a name that resolves to it, checked as the connection is made.
    let mut by_name = r.url.clone();
    by_name.set_host(Some("localhost")).unwrap();
    let e = post(&guarded, &by_name).await;
    assert!(
        matches!(&e.outcome, Err(DeliveryError::Refused(why)) if why.contains("loopback")),
        "{:?}",
        e.outcome
    );
    assert!(
        r.seen.lock().unwrap().is_empty(),
        "nothing reached the receiver"
    );
    // A connection refused is a connection error, retried on schedule.
    let open = client(Duration::from_secs(5), true);
    let closed = Url::parse("http://127.0.0.1:9/hook").unwrap();
    let e = post(&open, &closed).await;
    assert!(
        matches!(e.outcome, Err(DeliveryError::Connect(_))),
        "{:?}",
        e.outcome
    );
    assert_eq!(post(&open, &by_name).await.outcome, Ok(()));
}

/// The headers of a recorded request, names lower-cased.
fn headers_of(seen: &Seen) -> Vec<(String, String)> {
    seen.head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_delivered_request_verifies_with_the_standard_webhooks_library() {
    if !parley_testkit::tools::available(
        "Python's standardwebhooks",
        parley_testkit::tools::python_standardwebhooks(),
        "python3 -m pip install standardwebhooks==1.1.0",
    ) {
        return;
    }
    let r = receiver(Arc::new(|_| answer("200 OK"))).await;
    let c = client(Duration::from_secs(5), true);
    let old = Secret::generate().unwrap();
    let new = Secret::generate().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap();
    let body = r#"{"id":"evt_01J","type":"ping","timestamp":"2026-11-21T10:00:00.000Z","organization_id":"org_1","data":{"note":"café €5"}}"#
        .as_bytes()
        .to_vec();
    // Rotation in progress: both secrets sign.
    let signing = Signing {
        secrets: &[&new, &old],
        issuer: "parley",
        endpoint_id: "whe_1",
    };
    let headers = signing.headers("evt_01J", now, &body).unwrap();
    let e = c
        .send(
            Method::POST,
            &r.url,
            &headers,
            Some(body.clone()),
            1024,
            now,
        )
        .await;
    assert_eq!(e.outcome, Ok(()));
    let seen = r.seen.lock().unwrap()[0].clone();
    let received = headers_of(&seen);
    assert_eq!(seen.body, body);
    for secret in [&new, &old] {
        assert!(parley_testkit::standard_webhooks_accepts(
            &secret.expose(),
            &received,
            &seen.body
        ));
    }
    // Anything else is refused: another secret, a changed body, a changed id.
    let stranger = Secret::generate().unwrap();
    assert!(!parley_testkit::standard_webhooks_accepts(
        &stranger.expose(),
        &received,
        &seen.body
    ));
    assert!(!parley_testkit::standard_webhooks_accepts(
        &new.expose(),
        &received,
        b"{}"
    ));
    let forged: Vec<(String, String)> = received
        .iter()
        .map(|(n, v)| {
            let v = if n == "webhook-id" {
                "evt_other".to_owned()
            } else {
                v.clone()
            };
            (n.clone(), v)
        })
        .collect();
    assert!(!parley_testkit::standard_webhooks_accepts(
        &new.expose(),
        &forged,
        &seen.body
    ));
}
