//! A webhook receiver for tests: a real HTTP server on a loopback port that records every
//! request and answers from a script (then `200 OK` once the script is spent).

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, StatusCode, Uri};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// This status, at once.
    Status(u16),
    /// This status with a `Retry-After` value.
    RetryAfter(u16, String),
    /// This status after a delay (longer than the client's timeout makes a timeout).
    Slow(Duration, u16),
    /// A `302` to this location.
    Redirect(String),
    /// This status with this body, as JSON.
    Json(u16, String),
}

/// A request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The method.
    pub method: Method,
    /// Path and query.
    pub uri: String,
    /// Headers.
    pub headers: HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// When it arrived (after the body was read).
    pub at: Instant,
}

impl Received {
    /// A header as text ("" when absent).
    #[must_use]
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    /// The body as JSON (`Null` when it is not JSON).
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

#[derive(Default)]
struct Inner {
    script: VecDeque<Reply>,
    received: Vec<Received>,
}

/// The running receiver; stops when dropped.
pub struct Receiver {
    /// `http://127.0.0.1:<port>/hook`.
    pub url: String,
    inner: Arc<Mutex<Inner>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(
    State(inner): State<Arc<Mutex<Inner>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let reply = {
        let mut inner = inner.lock().unwrap();
        inner.received.push(Received {
            method,
            uri: uri.to_string(),
            headers,
            body: body.to_vec(),
            at: Instant::now(),
        });
        inner.script.pop_front()
    };
    let status = |code: u16| StatusCode::from_u16(code).unwrap_or(StatusCode::OK);
    match reply {
        None => (StatusCode::OK, "ok").into_response(),
        Some(Reply::Status(code)) => (status(code), format!("answer {code}")).into_response(),
        Some(Reply::RetryAfter(code, after)) => {
            (status(code), [("retry-after", after)], "later").into_response()
        }
        Some(Reply::Slow(delay, code)) => {
            tokio::time::sleep(delay).await;
            (status(code), "slow").into_response()
        }
        Some(Reply::Redirect(to)) => (StatusCode::FOUND, [("location", to)], "").into_response(),
        Some(Reply::Json(code, body)) => (
            status(code),
            [("content-type", "application/json".to_owned())],
            body,
        )
            .into_response(),
    }
}

impl Receiver {
    /// Starts a receiver answering `200` to everything.
    pub async fn start() -> Self {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let router = axum::Router::new()
            .fallback(answer)
            .with_state(inner.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Self {
            url: format!("http://{address}/hook"),
            inner,
            task,
        }
    }

    /// Queues answers for the next requests, in order.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) {
        self.inner.lock().unwrap().script.extend(replies);
    }

    /// Every request so far.
    #[must_use]
    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().unwrap().received.clone()
    }

    /// Waits (up to `within`) until at least `count` requests have arrived; returns them.
    ///
    /// # Panics
    /// When they do not arrive in time.
    pub async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count {
                return received;
            }
            assert!(
                Instant::now() < deadline,
                "expected {count} requests within {within:?}, got {}",
                received.len()
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
