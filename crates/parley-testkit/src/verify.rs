//! An independent verifier of webhook signatures: the Standard Webhooks reference library
//! (Python, installed by `.ci/run`), run over a request as received.

use std::io::Write;

/// Whether the reference library accepts `headers` (lower-case names; the `webhook-*` ones
/// are read) and `body` under `secret`.
///
/// # Panics
/// When the verifier cannot run (no `python3`, or the package is missing).
#[must_use]
pub fn standard_webhooks_accepts(secret: &str, headers: &[(String, String)], body: &[u8]) -> bool {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/verify_standard_webhooks.py");
    let headers: serde_json::Map<String, serde_json::Value> = headers
        .iter()
        .map(|(n, v)| (n.clone(), serde_json::Value::from(v.as_str())))
        .collect();
    let input = serde_json::json!({
        "secret": secret,
        "headers": headers,
        "body": String::from_utf8_lossy(body),
    });
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(
        said == "verified" || said.starts_with("refused"),
        "the verifier did not run (is the `standardwebhooks` package installed?): {said}"
    );
    out.status.success()
}
