//! The syntactic stage: TOML tables merged from defaults, file and environment, then
//! deserialised into `RawConfig` with unknown keys refused.

use std::path::Path;

use serde::Deserialize;
use toml::{Table, Value};

use super::{ConfigError, TEST_ENV_PREFIX};

/// The documented default file, printed by `parley config example`.
pub const DEFAULT_FILE: &str = include_str!("../parley.default.toml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub data_dir: String,
    pub store: RawStore,
    pub server: RawServer,
    pub log: RawLog,
    pub secrets: RawSecrets,
    pub auth: RawAuth,
    pub jobs: RawJobs,
    pub imports: RawImports,
    pub webhooks: RawWebhooks,
    pub outbound: RawOutbound,
    pub bootstrap: RawBootstrap,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub url: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawServer {
    pub listen: String,
    pub public_url: String,
    pub secure_cookies: bool,
    pub shutdown_grace: String,
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: String,
    pub level: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSecrets {
    pub master_key: String,
}

impl std::fmt::Debug for RawSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RawSecrets { master_key: <redacted> }")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAuth {
    pub token_ttl: String,
    pub session_ttl: String,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub hash_threads: usize,
    pub hash_queue: usize,
    pub failures_per_address_per_minute: u32,
    pub lockout_after: u32,
    pub failures_per_key_per_minute: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawJobs {
    pub workers: usize,
    pub lease: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImports {
    pub max_file_mib: u64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebhooks {
    /// Moved to `outbound.allow_private_targets`; refused with a message naming it.
    pub allow_private_targets: Option<bool>,
    pub timeout: String,
    pub concurrency: usize,
    pub issuer: String,
    pub secret_overlap: String,
    pub inbox_every: String,
    pub inbox_settle: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOutbound {
    pub allow_private_targets: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBootstrap {
    pub organization_name: String,
    pub owner_email: String,
}

fn parse_table(text: &str, origin: &str) -> Result<Table, ConfigError> {
    text.parse::<Table>().map_err(|e| ConfigError::Syntax {
        origin: origin.to_owned(),
        message: e.to_string().trim().to_owned(),
    })
}

/// Merges `over` into `base`, table by table; a key unknown to `base` is an error naming it.
fn merge(base: &mut Table, over: Table, prefix: &str, origin: &str) -> Result<(), ConfigError> {
    for (key, value) in over {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match (base.get_mut(&key), value) {
            (None, _) => {
                return Err(ConfigError::Key {
                    key: path,
                    message: format!("is not a Parley setting (in {origin})"),
                });
            }
            (Some(Value::Table(b)), Value::Table(o)) => merge(b, o, &path, origin)?,
            (Some(Value::Table(_)), _) => {
                return Err(ConfigError::Value {
                    key: path,
                    message: format!("must be a table of settings (in {origin})"),
                });
            }
            (Some(slot), v) => *slot = v,
        }
    }
    Ok(())
}

/// `PARLEY_SERVER__LISTEN=…` → `{server = {listen = …}}`. Values that read as a TOML
/// number, boolean or array (`["10.0.0.1", "10.0.0.2"]`) keep that type; anything else
/// is a string.
fn env_table(name: &str, value: &str) -> Table {
    let path: Vec<String> = name.split("__").map(str::to_lowercase).collect();
    let typed = format!("v = {value}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"));
    let mut leaf = match typed {
        Some(v @ (Value::Integer(_) | Value::Float(_) | Value::Boolean(_) | Value::Array(_))) => v,
        _ => Value::String(value.to_owned()),
    };
    for segment in path.iter().rev() {
        let mut t = Table::new();
        t.insert(segment.clone(), leaf);
        leaf = Value::Table(t);
    }
    match leaf {
        Value::Table(t) => t,
        _ => Table::new(),
    }
}

/// Reads and merges every source, then deserialises strictly.
pub fn load_raw(
    file: Option<&Path>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<RawConfig, ConfigError> {
    let mut table = parse_table(DEFAULT_FILE, "the built-in defaults")?;
    let default_path = Path::new("parley.toml");
    let chosen = file.or_else(|| default_path.exists().then_some(default_path));
    if let Some(path) = chosen {
        let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
            path: path.to_owned(),
            cause,
        })?;
        let origin = path.display().to_string();
        merge(&mut table, parse_table(&text, &origin)?, "", &origin)?;
    }
    let mut vars: Vec<(String, String)> = vars.into_iter().collect();
    vars.sort();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("PARLEY_") else {
            continue;
        };
        if name.starts_with(TEST_ENV_PREFIX) || name == "PARLEY_CONFIG" || rest.is_empty() {
            continue;
        }
        merge(&mut table, env_table(rest, &value), "", &name)?;
    }
    serde_path_to_error::deserialize(Value::Table(table)).map_err(|e| ConfigError::Value {
        key: e.path().to_string(),
        message: e.inner().to_string(),
    })
}
