//! The layering table of HOUSE_STYLE B.3, written once as code: which workspace crates
//! each crate may depend on, and that `parley-testkit` is only ever a dev-dependency.

use std::path::Path;
use std::process::Command;

use anyhow::Context;

/// `(crate, workspace crates it may depend on as a normal or build dependency)`.
const ALLOWED: &[(&str, &[&str])] = &[
    ("parley-domain", &[]),
    ("parley-import", &["parley-domain"]),
    ("parley-flow", &["parley-domain"]),
    ("parley-campaign", &[]),
    ("parley-webhooks", &[]),
    ("parley-sftp", &[]),
    ("parley-channels", &["parley-domain", "parley-webhooks"]),
    ("parley-standin", &["parley-channels"]),
    ("parley-store", &["parley-domain"]),
    (
        "parley-store-sqlite",
        &["parley-domain", "parley-store", "parley-store-sql"],
    ),
    ("parley-store-sql", &["parley-domain", "parley-store"]),
    (
        "parley-store-postgres",
        &["parley-domain", "parley-store", "parley-store-sql"],
    ),
    ("parley-jobs", &["parley-domain", "parley-store"]),
    (
        "parley-app",
        &[
            "parley-domain",
            "parley-store",
            "parley-jobs",
            "parley-import",
            "parley-flow",
            "parley-webhooks",
            "parley-sftp",
            "parley-channels",
            "parley-campaign",
        ],
    ),
    (
        "parley-http",
        &["parley-domain", "parley-store", "parley-app"],
    ),
    (
        "parley",
        &[
            "parley-domain",
            "parley-store",
            "parley-store-sqlite",
            "parley-store-postgres",
            "parley-jobs",
            "parley-app",
            "parley-http",
            "parley-import",
            "parley-flow",
            "parley-webhooks",
            "parley-standin",
            "parley-campaign",
        ],
    ),
    (
        "parley-testkit",
        &[
            "parley-domain",
            "parley-store",
            "parley-store-sqlite",
            "parley-store-postgres",
            "parley-jobs",
            "parley-app",
            "parley-http",
            "parley-standin",
        ],
    ),
    ("xtask", &[]),
];

/// External crates a layer must never use (the engines and the web stack stay at the edges).
const FORBIDDEN_EXTERNAL: &[(&str, &[&str])] = &[
    ("parley-domain", &["tokio", "sqlx", "axum", "reqwest"]),
    ("parley-import", &["tokio", "sqlx", "axum", "reqwest"]),
    ("parley-flow", &["tokio", "sqlx", "axum", "reqwest"]),
    ("parley-campaign", &["tokio", "sqlx", "axum", "reqwest"]),
    ("parley-webhooks", &["sqlx", "axum"]),
    ("parley-sftp", &["sqlx", "axum", "reqwest"]),
    ("parley-channels", &["sqlx", "axum"]),
    ("parley-standin", &["sqlx"]),
    ("parley-store", &["sqlx", "axum", "reqwest"]),
    ("parley-jobs", &["sqlx", "axum"]),
    ("parley-app", &["sqlx", "axum"]),
    ("parley-http", &["sqlx"]),
];

pub fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("parsing cargo metadata")?;
    let packages = metadata["packages"].as_array().cloned().unwrap_or_default();
    let workspace: Vec<String> = packages
        .iter()
        .filter_map(|p| p["name"].as_str().map(str::to_owned))
        .collect();
    let mut problems = Vec::new();
    for package in &packages {
        let name = package["name"].as_str().unwrap_or_default();
        let Some((_, allowed)) = ALLOWED.iter().find(|(n, _)| *n == name) else {
            problems.push(format!(
                "{name} is not in the layering table (xtask/src/layers.rs)"
            ));
            continue;
        };
        let forbidden = FORBIDDEN_EXTERNAL
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(&[][..], |(_, f)| *f);
        for dep in package["dependencies"].as_array().into_iter().flatten() {
            let dep_name = dep["name"].as_str().unwrap_or_default();
            let is_dev = dep["kind"].as_str() == Some("dev");
            if dep_name == "parley-testkit" && !is_dev {
                problems.push(format!(
                    "{name} depends on parley-testkit outside [dev-dependencies]"
                ));
            }
            if is_dev {
                continue;
            }
            if workspace.iter().any(|w| w == dep_name) && !allowed.contains(&dep_name) {
                problems.push(format!(
                    "{name} must not depend on {dep_name} (HOUSE_STYLE B.3)"
                ));
            }
            if forbidden.contains(&dep_name) {
                problems.push(format!("{name} must not depend on {dep_name}"));
            }
        }
    }
    Ok(problems)
}
