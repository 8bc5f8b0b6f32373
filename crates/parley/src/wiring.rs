//! Builds the application from configuration: the one place that names a storage engine,
//! takes the master key (see `master_key`), and sets up logging.

use std::sync::Arc;

use anyhow::Context;
use parley_app::{App, Settings};
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

/// The application over `store`, with the master key checked against it.
pub async fn app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let key = crate::master_key::load(config, &*store).await?;
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
    Ok(App::new(store, Arc::new(SystemClock), &key, settings).await?)
}

/// Installs the log subscriber (pretty or JSON, filtered by `log.level` or `RUST_LOG`).
pub fn init_logging(config: &Config) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    // Colour codes only for a person at a terminal, never into a file or a pipe.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if config.log_json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
