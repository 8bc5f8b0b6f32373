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
