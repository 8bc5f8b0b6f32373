//! Builds the application from configuration: the one place that names a storage engine,
//! reads or generates the master key, and sets up logging.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use parley_app::{App, MasterKey, Settings};
use parley_domain::SystemClock;
use parley_store::Store;

use crate::config::{Config, StoreUrl};

/// Opens the configured store, applying migrations when `migrate` is set.
pub async fn open_store(config: &Config, migrate: bool) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> = match &config.store_url {
        StoreUrl::Sqlite(url) => Arc::new(
            parley_store_sqlite::SqliteStore::connect(url, migrate)
                .await
                .with_context(|| format!("opening the SQLite store {url}"))?,
        ),
        StoreUrl::Postgres(url) => Arc::new(
            parley_store_postgres::PgStore::connect(url, migrate)
                .await
                .context("connecting to the PostgreSQL store")?,
        ),
    };
    Ok(store)
}

/// The configured master key, or the key file in the data directory, generated (with a
/// warning) when neither exists. Never silently absent.
pub fn master_key(config: &Config) -> anyhow::Result<MasterKey> {
    if let Some(text) = &config.master_key {
        return MasterKey::from_base64(text).context("configuration key `secrets.master_key`");
    }
    let path = config.data_dir.join("parley.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        return MasterKey::from_base64(&text)
            .with_context(|| format!("the key file {}", path.display()));
    }
    let key = MasterKey::generate()?;
    write_key_file(&path, &key)?;
    tracing::warn!(
        path = %path.display(),
        "no master key was configured: generated one. Back this file up; without it sealed secrets cannot be read and tokens become invalid"
    );
    Ok(key)
}

fn write_key_file(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    writeln!(file, "{}", key.to_base64())?;
    file.sync_all()?;
    Ok(())
}

/// The application over `store`.
pub fn app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let settings = Settings {
        token_ttl: config.token_ttl,
        session_ttl: config.session_ttl,
        argon2: config.argon2,
        password_pool: config.password_pool,
        throttle: config.throttle,
        max_import_bytes: config.max_import_bytes,
        webhooks: config.webhooks.clone(),
        allow_private_targets: config.allow_private_targets,
        public_url: config.public_url.clone(),
        ..Settings::default()
    };
    Ok(App::new(
        store,
        Arc::new(SystemClock),
        &master_key(config)?,
        settings,
    )?)
}

/// Installs the log subscriber (pretty or JSON, filtered by `log.level` or `RUST_LOG`).
pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if config.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
