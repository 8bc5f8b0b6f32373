//! What the benchmarks share to serve Parley and drive it as people do: [`Served`] runs
//! what `parley serve` runs on a local port, [`person`] makes someone who signs in,
//! [`SignedIn`] reads and posts pages through the router with their session, and
//! [`browser_script`] runs a headless-chromium script beside the browser tests and reads
//! its summary.

use std::time::Duration;

use anyhow::{Context as _, ensure};
use parley_app::App;

/// What `parley serve` runs, on a local port for a benchmark: the job workers, the
/// sender, the live feed and the router. Dropping it does not stop them; [`Served::stop`]
/// does.
pub(crate) struct Served {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    cancel: tokio_util::sync::CancellationToken,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Served {
    /// Starts serving `app`.
    pub(crate) async fn start(app: &App) -> anyhow::Result<Self> {
        let cancel = tokio_util::sync::CancellationToken::new();
        let runner = app.job_runner(4, Duration::from_secs(30));
        let mut tasks = vec![
            tokio::spawn(runner.start(cancel.clone())),
            app.start_sends(cancel.clone()),
            app.start_live_feed(cancel.clone()),
        ];
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let service = parley_http::service(parley_http::AppState {
            app: app.clone(),
            metrics: None,
            secure_cookies: false,
            trusted_proxies: Vec::new().into(),
        });
        tasks.push(tokio::spawn({
            let cancel = cancel.clone();
            async move {
                let _ = axum::serve(listener, service)
                    .with_graceful_shutdown(cancel.cancelled_owned())
                    .await;
            }
        }));
        Ok(Self {
            base,
            cancel,
            tasks,
        })
    }

    /// Stops everything and waits for it.
    pub(crate) async fn stop(self) {
        self.cancel.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// A person who signs in with `email` and `password`, a member of `access`'s
/// organization with `role` (invited and accepted, as people join).
pub(crate) async fn person(
    app: &App,
    access: &parley_app::auth::Access,
    email: &str,
    password: &str,
    role: parley_domain::Role,
) -> anyhow::Result<parley_domain::UserId> {
    let invited = app.admin_invite(access.org_id(), email, role).await?;
    Ok(app
        .accept_invitation(parley_app::tenancy::AcceptRequest {
            token: invited.token,
            password: password.to_owned(),
            name: Some("Bench Person".to_owned()),
            client: "bench".to_owned(),
        })
        .await?
        .user)
}

/// Runs the browser script `script` (beside the web application's browser tests, with
/// their chromium and playwright-core) with `env`, and reads the JSON summary it prints;
/// a script that fails, or reports a `failure`, is an error with what it printed.
pub(crate) async fn browser_script(
    script: &str,
    env: Vec<(&'static str, String)>,
) -> anyhow::Result<serde_json::Value> {
    let output = tokio::process::Command::new("node")
        .arg(script)
        .envs(env)
        .output()
        .await
        .context(
            "running node (install node and `npm ci --prefix crates/parley-http/tests/browser`)",
        )?;
    let text = String::from_utf8_lossy(&output.stdout);
    ensure!(
        output.status.success(),
        "the browser script failed: {text}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_str(text.trim()).context("the browser script's summary")?;
    ensure!(
        summary.get("failure").is_none(),
        "the browser script stopped: {summary}"
    );
    Ok(summary)
}

/// The router `parley serve` runs, in process, with a person signed in through the
/// sign-in form: every page a benchmark reads goes through the session, permission and
/// rendering code a browser's request does.
pub(crate) struct SignedIn {
    router: axum::Router,
    cookie: String,
}

impl SignedIn {
    /// Signs `email` in with `password`.
    pub(crate) async fn new(app: &App, email: &str, password: &str) -> anyhow::Result<Self> {
        use tower::ServiceExt as _;
        let router = parley_http::router(parley_http::AppState {
            app: app.clone(),
            metrics: None,
            secure_cookies: false,
            trusted_proxies: Vec::new().into(),
        });
        let form = format!(
            "email={}&password={}",
            email.replace('@', "%40"),
            password.replace(' ', "+")
        );
        let signed = router
            .clone()
            .oneshot(
                http::Request::post("/app/sign-in")
                    .header(
                        http::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .header("sec-fetch-site", "same-origin")
                    .body(axum::body::Body::from(form))?,
            )
            .await?;
        let cookies: Vec<String> = signed
            .headers()
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::to_owned)
            .collect();
        ensure!(
            !cookies.is_empty(),
            "signing in failed: {}",
            signed.status()
        );
        Ok(Self {
            router,
            cookie: cookies.join("; "),
        })
    }

    /// Sends `request` (its cookie added) and reads the answer's body; a failure status is
    /// an error.
    async fn send(
        &self,
        request: http::request::Builder,
        body: axum::body::Body,
    ) -> anyhow::Result<axum::body::Bytes> {
        use http_body_util::BodyExt as _;
        use tower::ServiceExt as _;
        let request = request
            .header(http::header::COOKIE, &self.cookie)
            .header("sec-fetch-site", "same-origin")
            .body(body)?;
        let path = request.uri().to_string();
        let response = self.router.clone().oneshot(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        ensure!(status.is_success(), "{path}: {status}");
        Ok(bytes)
    }

    /// `GET path`.
    pub(crate) async fn get(&self, path: &str) -> anyhow::Result<axum::body::Bytes> {
        self.send(http::Request::get(path), axum::body::Body::empty())
            .await
    }

    /// `POST path` with a form of `fields`.
    pub(crate) async fn post(
        &self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> anyhow::Result<axum::body::Bytes> {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencoding(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            http::Request::post(path).header(
                http::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            ),
            axum::body::Body::from(body),
        )
        .await
    }
}

/// `text` percent-encoded for a form body.
fn urlencoding(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
