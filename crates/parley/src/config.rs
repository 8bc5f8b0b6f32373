//! Configuration (HOUSE_STYLE B.8): embedded defaults, then `parley.toml` or `--config`,
//! then `PARLEY_*` variables, merged as TOML tables; then a strict two-stage read
//! (`RawConfig` close to the file, resolved into `Config`). Every error names the key and
//! where it came from. Loading never writes files and never changes the environment.

mod raw;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use parley_app::auth::Argon2Cost;

pub use raw::{DEFAULT_FILE, load_raw};

/// Environment variables reserved for the test suite, never read as configuration.
pub const TEST_ENV_PREFIX: &str = "PARLEY_TEST_";

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file could not be read (the cause is part of the message, so it is said once).
    #[error("cannot read config file {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// A file is not valid TOML.
    #[error("{origin} is not valid TOML: {message}")]
    Syntax {
        /// The file.
        origin: String,
        /// Parser message with line and column.
        message: String,
    },
    /// A key Parley does not have, or a table where a value belongs.
    #[error("unknown configuration key `{key}`: {message}")]
    Key {
        /// Dotted key path (`server.listen`).
        key: String,
        /// What is wrong.
        message: String,
    },
    /// A known key with a value it cannot take.
    #[error("invalid value for `{key}`: {message}")]
    Value {
        /// Dotted key path (`server.listen`).
        key: String,
        /// What is wrong, and what it should look like.
        message: String,
    },
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Folder for generated files.
    pub data_dir: PathBuf,
    /// Store URL.
    pub store_url: StoreUrl,
    /// Listen address.
    pub listen: SocketAddr,
    /// Where providers and browsers reach Parley (no trailing `/`).
    pub public_url: String,
    /// Secure cookies.
    pub secure_cookies: bool,
    /// Shutdown grace period.
    pub shutdown_grace: Duration,
    /// Log format.
    pub log_json: bool,
    /// Log filter.
    pub log_level: String,
    /// Configured master key (base64), if any.
    pub master_key: Option<String>,
    /// Token lifetime.
    pub token_ttl: Duration,
    /// Session lifetime.
    pub session_ttl: Duration,
    /// Password hash cost.
    pub argon2: Argon2Cost,
    /// The password hashing pool.
    pub password_pool: parley_app::auth::PoolSize,
    /// Limits on failed sign-ins and key exchanges.
    pub throttle: parley_app::auth::ThrottleSettings,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Default-queue workers.
    pub workers: usize,
    /// Job lease.
    pub job_lease: Duration,
    /// The largest file an import accepts, in bytes.
    pub max_import_bytes: u64,
    /// Webhook delivery.
    pub webhooks: parley_app::webhooks::WebhookSettings,
    /// `outbound.allow_private_targets`.
    pub allow_private_targets: bool,
    /// First organization's name.
    pub bootstrap_organization: String,
    /// First owner's email.
    pub bootstrap_email: String,
}

/// Which engine, from the URL's scheme.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreUrl {
    /// `sqlite://…`
    Sqlite(String),
    /// `postgres://…` or `postgresql://…`
    Postgres(String),
}

impl StoreUrl {
    /// The URL as given.
    #[must_use]
    pub fn as_str(&self) -> &str {
        match self {
            StoreUrl::Sqlite(u) | StoreUrl::Postgres(u) => u,
        }
    }
}

/// Parses `500ms`, `30s`, `5m`, `1h`, `2d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("expected a duration like 30s or 5m, got {text:?}"))?;
    let secs = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("expected a duration like 30s or 5m, got {text:?}")),
    };
    Ok(Duration::from_secs(secs))
}

fn key_error(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Value {
        key: key.to_owned(),
        message: message.into(),
    }
}

impl TryFrom<raw::RawConfig> for Config {
    type Error = ConfigError;

    fn try_from(r: raw::RawConfig) -> Result<Self, ConfigError> {
        let store_url = match r.store.url.split_once("://").map(|(s, _)| s) {
            Some("sqlite") => StoreUrl::Sqlite(r.store.url.clone()),
            Some("postgres" | "postgresql") => StoreUrl::Postgres(r.store.url.clone()),
            _ => {
                return Err(key_error(
                    "store.url",
                    "must start with sqlite:// or postgres://",
                ));
            }
        };
        let listen = r.server.listen.parse().map_err(|_| {
            key_error(
                "server.listen",
                "must be an address and port such as 127.0.0.1:8080",
            )
        })?;
        let public_url = public_url(&r.server.public_url, listen)?;
        let log_json = match r.log.format.as_str() {
            "json" => true,
            "pretty" => false,
            _ => return Err(key_error("log.format", "must be \"pretty\" or \"json\"")),
        };
        let duration = |key: &str, text: &str| parse_duration(text).map_err(|m| key_error(key, m));
        let argon2 = Argon2Cost {
            memory_kib: r.auth.argon2_memory_kib,
            iterations: r.auth.argon2_iterations,
            parallelism: 1,
        };
        if argon2.memory_kib < 8 || argon2.iterations < 1 {
            return Err(key_error(
                "auth.argon2_memory_kib",
                "Argon2 needs at least 8 KiB and 1 iteration",
            ));
        }
        let password_pool = parley_app::auth::PoolSize {
            threads: match r.auth.hash_threads {
                0 => parley_app::auth::PoolSize::default().threads,
                n @ 1..=256 => n,
                _ => return Err(key_error("auth.hash_threads", "must be between 0 and 256")),
            },
            queue: match r.auth.hash_queue {
                n @ 0..=4096 => n,
                _ => return Err(key_error("auth.hash_queue", "must be between 0 and 4096")),
            },
        };
        let positive = |key: &str, n: u32| {
            if (1..=100_000).contains(&n) {
                Ok(n)
            } else {
                Err(key_error(key, "must be between 1 and 100000"))
            }
        };
        let throttle = parley_app::auth::ThrottleSettings {
            address_failures_per_minute: positive(
                "auth.failures_per_address_per_minute",
                r.auth.failures_per_address_per_minute,
            )?,
            lockout_after: positive("auth.lockout_after", r.auth.lockout_after)?,
            key_failures_per_minute: positive(
                "auth.failures_per_key_per_minute",
                r.auth.failures_per_key_per_minute,
            )?,
        };
        let trusted_proxies = r
            .server
            .trusted_proxies
            .iter()
            .enumerate()
            .map(|(i, text)| {
                text.trim().parse::<std::net::IpAddr>().map_err(|_| {
                    key_error(
                        &format!("server.trusted_proxies[{i}]"),
                        format!("{text:?} is not an IP address such as 127.0.0.1 or ::1"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if r.jobs.workers == 0 {
            return Err(key_error("jobs.workers", "must be at least 1"));
        }
        let job_lease = duration("jobs.lease", &r.jobs.lease)?;
        if job_lease < Duration::from_secs(1) {
            return Err(key_error("jobs.lease", "must be at least 1s"));
        }
        // The HTTP layer reads no upload past 4 GiB whatever is configured.
        let max_import_bytes = match r.imports.max_file_mib {
            mib @ 1..=4096 => mib * 1024 * 1024,
            _ => {
                return Err(key_error(
                    "imports.max_file_mib",
                    "must be between 1 and 4096",
                ));
            }
        };
        let webhooks = webhook_settings(&r.webhooks)?;
        Ok(Config {
            data_dir: PathBuf::from(r.data_dir),
            store_url,
            listen,
            public_url,
            secure_cookies: r.server.secure_cookies,
            shutdown_grace: duration("server.shutdown_grace", &r.server.shutdown_grace)?,
            log_json,
            log_level: r.log.level,
            master_key: Some(r.secrets.master_key).filter(|k| !k.trim().is_empty()),
            token_ttl: duration("auth.token_ttl", &r.auth.token_ttl)?,
            session_ttl: duration("auth.session_ttl", &r.auth.session_ttl)?,
            argon2,
            password_pool,
            throttle,
            trusted_proxies,
            workers: r.jobs.workers,
            job_lease,
            max_import_bytes,
            webhooks,
            allow_private_targets: r.outbound.allow_private_targets,
            bootstrap_organization: r.bootstrap.organization_name,
            bootstrap_email: r.bootstrap.owner_email,
        })
    }
}

fn webhook_settings(
    r: &raw::RawWebhooks,
) -> Result<parley_app::webhooks::WebhookSettings, ConfigError> {
    use parley_app::webhooks::{EngineSettings, WebhookSettings};
    let duration = |key: &str, text: &str| parse_duration(text).map_err(|m| key_error(key, m));
    let timeout = duration("webhooks.timeout", &r.timeout)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(60)).contains(&timeout) {
        return Err(key_error("webhooks.timeout", "must be between 1s and 60s"));
    }
    if !(1..=4096).contains(&r.concurrency) {
        return Err(key_error(
            "webhooks.concurrency",
            "must be between 1 and 4096",
        ));
    }
    if r.allow_private_targets.is_some() {
        return Err(key_error(
            "webhooks.allow_private_targets",
            "was renamed outbound.allow_private_targets (it now covers channel providers' URLs too); move it there",
        ));
    }
    if r.issuer.trim().is_empty() {
        return Err(key_error("webhooks.issuer", "must not be empty"));
    }
    let secret_overlap = duration("webhooks.secret_overlap", &r.secret_overlap)?;
    if secret_overlap > parley_app::webhooks::endpoints::MAX_SECRET_OVERLAP {
        return Err(key_error("webhooks.secret_overlap", "must be at most 7d"));
    }
    let inbox_every = duration("webhooks.inbox_every", &r.inbox_every)?;
    if !(Duration::from_secs(1)..=Duration::from_secs(24 * 3600)).contains(&inbox_every) {
        return Err(key_error(
            "webhooks.inbox_every",
            "must be between 1s and 24h",
        ));
    }
    let inbox_settle = duration("webhooks.inbox_settle", &r.inbox_settle)?;
    if inbox_settle > Duration::from_secs(600) {
        return Err(key_error("webhooks.inbox_settle", "must be at most 10m"));
    }
    let engine = EngineSettings {
        concurrency: r.concurrency,
        // A lease outlives the longest request with room to record it; a crashed node's
        // deliveries are due again when it ends.
        lease: timeout * 2 + Duration::from_secs(5),
        ..EngineSettings::default()
    };
    Ok(WebhookSettings {
        timeout,
        issuer: r.issuer.trim().to_owned(),
        secret_overlap,
        inbox_every,
        inbox_settle,
        engine,
    })
}

/// `server.public_url`: an http or https URL with no path, query or fragment, or
/// `http://<listen>` when empty.
fn public_url(text: &str, listen: SocketAddr) -> Result<String, ConfigError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(format!("http://{listen}"));
    }
    let bad = || {
        key_error(
            "server.public_url",
            "must be an http or https URL with no path, such as https://parley.example.com",
        )
    };
    let url = url::Url::parse(text).map_err(|_| bad())?;
    if !matches!(url.scheme(), "http" | "https")
        || url.host_str().is_none()
        || url.path() != "/"
        || url.query().is_some()
        || url.fragment().is_some()
        || !url.username().is_empty()
    {
        return Err(bad());
    }
    Ok(text.trim_end_matches('/').to_owned())
}

/// Loads the configuration from the defaults, `file` (or `./parley.toml` when it exists)
/// and the environment `vars`.
pub fn load(
    file: Option<&Path>,
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    Config::try_from(load_raw(file, vars)?)
}

#[cfg(test)]
mod tests;
