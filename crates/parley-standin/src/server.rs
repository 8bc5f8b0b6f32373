//! What the stand-ins share: a server on a loopback port that stops when its handle is
//! dropped, provider-style random ids, the client they call Parley's webhooks with, and
//! the ledger of what they accepted, were told to fail and reported.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// A running server; stops when dropped.
pub(crate) struct Running {
    pub(crate) address: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Running {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `router` on `127.0.0.1:port` (0: any free port).
pub(crate) async fn serve(router: axum::Router, port: u16) -> std::io::Result<Running> {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let address = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router.into_make_service()).await;
    });
    Ok(Running { address, task })
}

/// `prefix` and 32 hex digits, as Twilio's ids are (`SM…`): a counter, so ids never
/// repeat in one process, then random digits.
pub(crate) fn random_id(prefix: &str) -> String {
    static COUNTER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut bytes = [0u8; 12];
    // A failed read leaves zeros; the counter still keeps ids apart.
    let _ = getrandom::fill(&mut bytes);
    let random = hex::encode(bytes);
    format!("{prefix}{n:08x}{random}")
}

/// The client callbacks are sent with: one per process, so callbacks reuse their
/// connections as a provider's do (building a client per callback cost a TLS setup and a
/// new connection each, and capped a stand-in at about a hundred messages a second).
pub(crate) fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            // Fails only when a provider is installed already, which is fine.
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .no_proxy()
                .timeout(std::time::Duration::from_secs(10))
                .build()
                .unwrap_or_default()
        })
        .clone()
}

/// What a stand-in remembers, shared with its handlers: the messages it accepted,
/// failures queued for the next sends, and the callbacks it sent with Parley's answers.
pub(crate) struct Ledger<T> {
    inner: Arc<Mutex<Entries<T>>>,
}

struct Entries<T> {
    sent: Vec<T>,
    failures: VecDeque<(u16, i64, String)>,
    reports: Vec<(String, String, u16)>,
}

impl<T> Clone for Ledger<T> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
        }
    }
}

impl<T: Clone> Ledger<T> {
    pub(crate) fn new() -> Self {
        Self {
            inner: Arc::new(Mutex::new(Entries {
                sent: Vec::new(),
                failures: VecDeque::new(),
                reports: Vec::new(),
            })),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<T>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a failure (HTTP status, provider code, message) for the next send.
    pub(crate) fn fail_next(&self, status: u16, code: i64, message: &str) {
        self.lock()
            .failures
            .push_back((status, code, message.to_owned()));
    }

    /// The failure the next send answers with, if one is queued.
    pub(crate) fn next_failure(&self) -> Option<(u16, i64, String)> {
        self.lock().failures.pop_front()
    }

    pub(crate) fn record(&self, sent: T) {
        self.lock().sent.push(sent);
    }

    pub(crate) fn sent(&self) -> Vec<T> {
        self.lock().sent.clone()
    }

    pub(crate) fn sent_count(&self) -> usize {
        self.lock().sent.len()
    }

    /// Notes a callback sent: the message's id, the status reported, Parley's answer.
    pub(crate) fn report(&self, id: &str, status: &str, answer: u16) {
        self.lock()
            .reports
            .push((id.to_owned(), status.to_owned(), answer));
    }

    pub(crate) fn reports(&self) -> Vec<(String, String, u16)> {
        self.lock().reports.clone()
    }
}
