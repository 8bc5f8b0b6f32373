//! `TestApp`: the real router over a real store (a temporary SQLite database, or a fresh
//! PostgreSQL one) and a fake clock, driven in-process with `oneshot`, with a
//! bootstrapped organization and owner key. On PostgreSQL a test may start a second
//! application on its own connections to the same database: a second process.

use std::sync::Arc;

use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt;
use parley_app::auth::Argon2Cost;
use parley_app::tenancy::{BootstrapRequest, Bootstrapped};
use parley_app::{App, MasterKey, Settings};
use parley_domain::{OrgId, Role};
use parley_store::Store;
use parley_store_postgres::PgStore;
use serde_json::Value;
use tower::ServiceExt;

use crate::{FakeClock, TempPostgres, TempSqlite, temp_postgres, temp_sqlite};

/// Password hashing cheap enough for tests.
pub const TEST_ARGON2: Argon2Cost = Argon2Cost {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};
/// The bootstrapped owner's password.
pub const OWNER_PASSWORD: &str = "owner password 123";

/// The HTTP router over `app`, as `parley serve` builds it (without metrics).
fn router_of(app: &App) -> axum::Router {
    parley_http::router(parley_http::AppState {
        app: app.clone(),
        metrics: None,
        secure_cookies: false,
        trusted_proxies: Vec::new().into(),
    })
}

/// A running application for tests.
pub struct TestApp {
    pub app: App,
    pub clock: Arc<FakeClock>,
    pub router: axum::Router,
    pub root: Bootstrapped,
    pub db: TestDb,
    key: MasterKey,
    settings: Settings,
}

/// The database under a [`TestApp`], removed when the test ends.
pub enum TestDb {
    Sqlite(TempSqlite),
    Postgres(TempPostgres),
}

impl TestDb {
    /// The store.
    #[must_use]
    pub fn store(&self) -> Arc<dyn Store> {
        match self {
            Self::Sqlite(db) => db.store.clone(),
            Self::Postgres(db) => db.store.clone(),
        }
    }

    /// The SQLite database's folder.
    ///
    /// # Panics
    /// On PostgreSQL, which has none.
    #[must_use]
    pub fn dir(&self) -> &std::path::Path {
        match self {
            Self::Sqlite(db) => db.dir.path(),
            Self::Postgres(_) => panic!("a PostgreSQL test database has no folder"),
        }
    }
}

/// A response, with its body parsed as JSON when it is JSON.
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub json: Value,
}

/// Every invalid field a problem document names, sorted.
#[must_use]
pub fn problem_fields(problem: &Value) -> Vec<&str> {
    let mut named: Vec<&str> = problem["errors"]
        .as_array()
        .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    named.sort_unstable();
    named
}

impl TestResponse {
    /// The status as a number and the JSON body.
    #[must_use]
    pub fn pair(self) -> (u16, Value) {
        (self.status.as_u16(), self.json)
    }

    /// The status and the first invalid field named by a problem document.
    #[must_use]
    pub fn problem_field(&self) -> (u16, Option<&str>) {
        (
            self.status.as_u16(),
            self.json["errors"][0]["field"].as_str(),
        )
    }
}

impl TestApp {
    /// The store under the app, for checks a test makes beside the API.
    #[must_use]
    pub fn store(&self) -> Arc<dyn Store> {
        self.db.store()
    }

    /// A bootstrapped application on a fresh SQLite store.
    pub async fn new() -> Self {
        Self::with_settings(|_| {}).await
    }

    /// [`TestApp::new`] with settings changed by `change` (cheap password hashing is
    /// already set).
    pub async fn with_settings(change: impl FnOnce(&mut Settings)) -> Self {
        Self::on(TestDb::Sqlite(temp_sqlite().await), change).await
    }

    /// [`TestApp::new`] on a fresh PostgreSQL database, or `None` (printed) when
    /// `PARLEY_TEST_POSTGRES_URL` is not set.
    pub async fn on_postgres() -> Option<Self> {
        Some(Self::on(TestDb::Postgres(temp_postgres().await?), |_| {}).await)
    }

    /// [`TestApp::new`] on `db`.
    async fn on(db: TestDb, change: impl FnOnce(&mut Settings)) -> Self {
        let clock = Arc::new(FakeClock::new());
        let mut settings = Settings {
            argon2: TEST_ARGON2,
            ..Settings::default()
        };
        change(&mut settings);
        let key = MasterKey::generate().unwrap();
        let app = App::new(db.store(), clock.clone(), &key, settings.clone())
            .await
            .unwrap();
        let root = app
            .bootstrap(BootstrapRequest {
                organization_name: "Root".into(),
                owner_email: "owner@example.test".into(),
                owner_password: OWNER_PASSWORD.into(),
            })
            .await
            .unwrap()
            .unwrap();
        let router = router_of(&app);
        Self {
            app,
            clock,
            router,
            root,
            db,
            key,
            settings,
        }
    }

    /// A second application on its own connections to this test's PostgreSQL database,
    /// with the same clock, master key and settings: another process of the same
    /// installation.
    ///
    /// # Panics
    /// On SQLite (one process per database).
    pub async fn second_process(&self) -> App {
        let TestDb::Postgres(db) = &self.db else {
            panic!("a second process needs PostgreSQL");
        };
        let store = Arc::new(PgStore::connect(&db.url, false).await.unwrap());
        App::new(store, self.clock.clone(), &self.key, self.settings.clone())
            .await
            .unwrap()
    }

    /// Starts the application again with `key` (after a master-key rotation): the same
    /// store, clock and settings, a fresh router.
    pub async fn restart_with_key(&mut self, key: MasterKey) {
        self.app = App::new(
            self.db.store(),
            self.clock.clone(),
            &key,
            self.settings.clone(),
        )
        .await
        .unwrap();
        self.router = router_of(&self.app);
        self.key = key;
    }

    /// Runs what `parley serve` runs beside the router — the job workers, the send queue
    /// and the live feed — until the token returned is cancelled.
    pub fn run_workers(&self) -> tokio_util::sync::CancellationToken {
        let cancel = tokio_util::sync::CancellationToken::new();
        tokio::spawn(
            self.app
                .job_runner(2, std::time::Duration::from_secs(30))
                .start(cancel.clone()),
        );
        self.app.start_sends(cancel.clone());
        self.app.start_live_feed(cancel.clone());
        cancel
    }

    /// Serves the router on a loopback port until the test ends; its base URL
    /// (`http://127.0.0.1:…`), for clients that need a socket (browsers, WebSockets).
    pub async fn listen(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("no loopback port: {e}"));
        let base = listener
            .local_addr()
            .map(|a| format!("http://{a}"))
            .unwrap_or_default();
        let router = self.router.clone();
        tokio::spawn(async move {
            axum::serve(
                listener,
                router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
            )
            .await
        });
        base
    }

    /// A bearer token for the bootstrap key (owner of the root organization).
    pub async fn owner_token(&self) -> String {
        self.app
            .issue_token(self.root.api_key.key.id, &self.root.api_key.secret)
            .await
            .unwrap()
            .token
    }

    /// A new organization (under `parent`, or a new root) and a token with `role` on it.
    pub async fn org_with_token(
        &self,
        name: &str,
        parent: Option<OrgId>,
        role: Role,
    ) -> (OrgId, String) {
        let org = self
            .app
            .admin_create_organization(name, parent)
            .await
            .unwrap();
        (org.id, self.token_in(org.id, role).await)
    }

    /// A person with `role` on `org`, made as people are: invited, then accepting with
    /// `name` and `password`.
    pub async fn create_user(
        &self,
        org: OrgId,
        email: &str,
        name: &str,
        password: String,
        role: Role,
    ) -> Result<parley_domain::User, parley_app::AppError> {
        let invited = self.app.admin_invite(org, email, role).await?;
        let accepted = self
            .app
            .accept_invitation(parley_app::tenancy::AcceptRequest {
                token: invited.token,
                password,
                name: Some(name.to_owned()),
                client: "test".to_owned(),
            })
            .await?;
        Ok(self.store().get_user(accepted.user).await?)
    }

    /// A bearer token of a new API key with `role` on `org`.
    pub async fn token_in(&self, org: OrgId, role: Role) -> String {
        let key = self
            .app
            .admin_create_api_key(org, "test", role)
            .await
            .unwrap();
        self.app
            .issue_token(key.key.id, &key.secret)
            .await
            .unwrap()
            .token
    }

    /// Defines fields `(key, type)` through the API, asserting each is created.
    pub async fn define_fields(&self, token: &str, fields: &[(&str, &str)]) {
        for (key, field_type) in fields {
            let r = self
                .call(
                    Method::POST,
                    "/api/v1/fields",
                    Some(token),
                    None,
                    Some(serde_json::json!({"key": key, "type": field_type})),
                )
                .await;
            assert_eq!(r.status, 201, "defining {key}: {}", r.json);
        }
    }

    /// `POST path` with a JSON body, asserting success; the answer's JSON.
    pub async fn post_ok(&self, token: &str, path: &str, body: Value) -> Value {
        self.ok(token, Method::POST, path, Some(body)).await
    }

    /// `method path` as `token` with `body` as JSON (or none): the one request helper the
    /// HTTP tests share.
    pub async fn request(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> TestResponse {
        self.call(method, path, Some(token), None, body).await
    }

    /// [`TestApp::request`], asserting a 2xx answer; its JSON.
    pub async fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let r = self.request(token, method, path, body).await;
        assert!(r.status.is_success(), "{path}: {} {}", r.status, r.json);
        r.json
    }

    /// Defines, as an administrator would before publishing, the outcome statuses and
    /// queues a flow document names (publishing refuses a flow naming ones the
    /// organization lacks); those already defined are left as they are.
    pub async fn define_flow_names(&self, token: &str, document: &Value) {
        let steps = document["steps"].as_object().cloned().unwrap_or_default();
        let mut statuses = Vec::new();
        let mut queues: Vec<String> = document["fallback_queue"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect();
        for step in steps.values() {
            match step["type"].as_str() {
                Some("status" | "close") => {
                    statuses.extend(step["status"].as_str().map(str::to_owned));
                }
                Some("queue") => queues.extend(step["queue"].as_str().map(str::to_owned)),
                _ => {}
            }
        }
        for key in statuses.iter().filter(|k| *k != "opted_out") {
            let body = serde_json::json!({"key": key, "label": key, "category": "neutral"});
            let r = self
                .call(
                    Method::POST,
                    "/api/v1/outcome-statuses",
                    Some(token),
                    None,
                    Some(body),
                )
                .await;
            assert!(
                matches!(r.status.as_u16(), 201 | 409),
                "status {key}: {}",
                r.json
            );
        }
        for key in queues.iter().filter(|k| *k != "default") {
            let body = serde_json::json!({"key": key, "name": key});
            let r = self
                .call(
                    Method::POST,
                    "/api/v1/queues",
                    Some(token),
                    None,
                    Some(body),
                )
                .await;
            assert!(
                matches!(r.status.as_u16(), 201 | 409),
                "queue {key}: {}",
                r.json
            );
        }
    }

    /// Creates and publishes a flow from its document (defining the statuses and queues
    /// it names first); its id.
    pub async fn publish_flow(&self, token: &str, document: Value) -> String {
        self.define_flow_names(token, &document).await;
        let flow = self.post_ok(token, "/api/v1/flows", document).await;
        let id = flow["id"].as_str().unwrap_or_default().to_owned();
        self.post_ok(
            token,
            &format!("/api/v1/flows/{id}/versions"),
            serde_json::json!({}),
        )
        .await;
        id
    }

    /// Creates a `sim` channel (reports delivery at once) starting `flow` for customers who
    /// write first; its id.
    pub async fn sim_channel(&self, token: &str, flow: Option<&str>) -> String {
        let channel = self
            .post_ok(
                token,
                "/api/v1/channels",
                serde_json::json!({"provider": "sim", "name": "Simulator", "sender": "demo",
                    "inbound_flow": flow, "settings": {"delivery_delay_ms": 0}}),
            )
            .await;
        channel["id"].as_str().unwrap_or_default().to_owned()
    }

    /// Opens `GET path` as a stream: its status and body, read by the caller.
    pub async fn open_stream(&self, path: &str, token: &str) -> (StatusCode, Body) {
        let request = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        (response.status(), response.into_body())
    }

    /// `GET path` with a bearer token.
    pub async fn get(&self, path: &str, token: &str) -> TestResponse {
        self.call(Method::GET, path, Some(token), None, None).await
    }

    /// Sends a request. `token` goes in `Authorization: Bearer`; `org` in
    /// `Parley-Organization`; `body` as JSON.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        org: Option<OrgId>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            builder = builder.header("authorization", format!("Bearer {t}"));
        }
        if let Some(o) = org {
            builder = builder.header("parley-organization", o.to_string());
        }
        let request = match body {
            Some(b) => builder
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => builder.body(Body::empty()),
        };
        self.send(request.unwrap()).await
    }

    /// Sends a prepared request. A stream (`text/event-stream`) is answered with its
    /// status and headers only: its body never ends.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let streaming = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if streaming {
            return TestResponse {
                status,
                headers,
                json: Value::Null,
            };
        }
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        TestResponse {
            status,
            headers,
            json,
        }
    }
}
