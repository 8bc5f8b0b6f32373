//! A real `parley serve` child process, for crash tests and the README commands, plus a
//! tiny HTTP/1.1 GET over a TCP socket to talk to it.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `parley serve`.
pub struct ParleyProcess {
    pub child: Child,
    pub address: String,
    pub stdout_lines: Vec<String>,
}

/// A `parley` command with a clean environment pointing at `dir` (store, key, port 0).
#[must_use]
pub fn parley_command(binary: &Path, dir: &Path, extra_env: &[(&str, String)]) -> Command {
    let mut command = Command::new(binary);
    command
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "PARLEY_STORE__URL",
            format!("sqlite://{}", dir.join("parley.db").display()),
        )
        .env("PARLEY_DATA_DIR", dir.display().to_string())
        .env("PARLEY_SERVER__LISTEN", "127.0.0.1:0")
        .env("PARLEY_AUTH__ARGON2_MEMORY_KIB", "64")
        .env("PARLEY_AUTH__ARGON2_ITERATIONS", "1")
        .env("PARLEY_LOG__LEVEL", "warn");
    for (k, v) in extra_env {
        command.env(k, v);
    }
    command
}

impl ParleyProcess {
    /// Starts `parley serve` and waits (up to 60 s) for its "listening" line.
    // The child is reaped by `Drop`, or killed and reaped before the timeout panic; the
    // lint cannot see through the returned value.
    #[allow(clippy::zombie_processes)]
    pub fn start(binary: &Path, dir: &Path, extra_env: &[(&str, String)]) -> Self {
        let mut child = parley_command(binary, dir, extra_env)
            .arg("serve")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn parley serve");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut lines = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = rx
                .recv_timeout(left)
                .expect("parley serve printed its listening line in time");
            let address = line
                .strip_prefix("Parley is listening on http://")
                .map(str::to_owned);
            lines.push(line);
            if let Some(address) = address {
                return Self {
                    child,
                    address,
                    stdout_lines: lines,
                };
            }
        }
    }

    /// The value of the line `label …` the process printed (its first start prints the
    /// bootstrap API key's id and secret).
    ///
    /// # Panics
    /// When no line starts with `label`.
    #[must_use]
    pub fn printed(&self, label: &str) -> String {
        self.stdout_lines
            .iter()
            .find_map(|l| l.trim().strip_prefix(label))
            .unwrap_or_else(|| panic!("no {label:?} line in {:?}", self.stdout_lines))
            .trim()
            .to_owned()
    }

    /// An application in this process over the same SQLite database in `dir` and the
    /// same master key, with `settings`, and the owner's access through the API key the
    /// process printed on its first start: what a test uses to act as an administrator
    /// would while the process runs.
    ///
    /// # Panics
    /// When the store, the key or the printed key cannot be read.
    pub async fn app_beside(
        &self,
        dir: &Path,
        settings: parley_app::Settings,
    ) -> (
        parley_app::App,
        std::sync::Arc<dyn parley_store::Store>,
        parley_app::auth::Access,
    ) {
        let url = format!("sqlite://{}", dir.join("parley.db").display());
        let store: std::sync::Arc<dyn parley_store::Store> = std::sync::Arc::new(
            parley_store_sqlite::SqliteStore::connect(&url, false)
                .await
                .expect("the process's store"),
        );
        let key = std::fs::read_to_string(dir.join("parley.key")).expect("the master key file");
        let app = parley_app::App::new(
            store.clone(),
            std::sync::Arc::new(parley_domain::SystemClock),
            &parley_app::MasterKey::from_base64(key.trim()).expect("a master key"),
            settings,
        )
        .await
        .expect("the application");
        let key_id = self.printed("API key id:").parse().expect("a key id");
        let secret = self.printed("API key secret:");
        let token = app
            .issue_token(key_id, &secret)
            .await
            .expect("a token")
            .token;
        let principal = app.authenticate_bearer(&token).await.expect("the key");
        let access = app.access(principal, None).await.expect("access");
        (app, store, access)
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it.
    pub fn kill_hard(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ParleyProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `GET path` on `address`; returns the status code and body.
pub fn http_get(address: &str, path: &str) -> (u16, String) {
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )
    .expect("write request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}
