//! The invitation page in a real browser: Debian's chromium, driven by npm's
//! `playwright-core` (`tests/browser/invitation.mjs`), opens an invitation's link, sees
//! what it offers, chooses a name and password and accepts; axe-core finds no serious or
//! critical violation, on a phone in the light theme and wide in the dark one. Then the
//! account exists with that password and is a member with the invited role.
//!
//! Needs what the web-chat browser test needs (`.ci/run` installs it); never skipped.
//! `SCREENSHOTS=folder` keeps pictures of the page.

use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::Value;

/// A long organization name and address, so the page is seen wrapping them.
const LONG_NAME: &str =
    "Northern Counties Consumer Credit and Arrears Recovery Services (Customer Care Division)";
const EMAIL: &str = "ann.example-with-a-rather-long-address@collections.example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_accepts_an_invitation_in_a_real_browser() {
    if !super::browser::available() {
        return;
    }
    let t = TestApp::new().await;
    let base = t.listen().await;
    let org = t
        .app
        .admin_create_organization(LONG_NAME, None)
        .await
        .unwrap();
    let invited = t
        .app
        .admin_invite(org.id, EMAIL, Role::Agent)
        .await
        .unwrap();
    let link = format!(
        "{base}{}#{}",
        parley_app::tenancy::ACCEPT_PATH,
        invited.token
    );
    let stdout = super::browser::run_script(
        "invitation.mjs",
        &[
            ("LINK", link),
            ("PASSWORD", "ann's own password 1".to_owned()),
        ],
    )
    .await;
    let summary: Value = serde_json::from_str(stdout.trim()).expect("the summary as JSON");
    assert_eq!(
        summary["offer"],
        format!("You are invited to join {LONG_NAME} as agent, with the email {EMAIL}.")
    );
    assert!(
        summary["done"]
            .as_str()
            .unwrap()
            .contains("account is ready"),
        "{summary}"
    );
    assert_eq!(summary["violations"], serde_json::json!([]), "{summary}");
    assert_eq!(summary["errors"], serde_json::json!([]), "{summary}");

    let creds = t
        .store()
        .find_user_by_email(EMAIL)
        .await
        .unwrap()
        .expect("the account exists");
    assert_eq!(creds.user.name, "Ann Example");
    assert!(parley_app::auth::verify_password(
        "ann's own password 1",
        &creds.password_hash
    ));
    let membership = t
        .store()
        .find_membership(creds.user.id, org.id)
        .await
        .unwrap()
        .expect("a member");
    assert_eq!(membership.role, Role::Agent);

    // The page is served with a strict policy.
    let page = reqwest::get(format!("{base}/invitation")).await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
        "{csp}"
    );
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
}
