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

/// The installation fact naming the master key a store was set up with.
const KEY_CHECK: &str = "key_check";

/// The master key for `store`: the configured one, or the key file in the data directory.
/// A key is generated (with a warning) only for a store that never had one. A store set up
/// with another key refuses to start, saying what to restore: a new key would leave its
/// sealed credentials and webhook secrets unreadable, every token invalid, and its opt-out
/// list (kept as keyed hashes) matching no one.
pub async fn master_key(config: &Config, store: &dyn Store) -> anyhow::Result<MasterKey> {
    let path = config.data_dir.join("parley.key");
    let recorded = store
        .installation_fact(KEY_CHECK)
        .await
        .context("reading the store's key check")?;
    let (key, source) = if let Some(text) = &config.master_key {
        let key = MasterKey::from_base64(text).context("configuration key `secrets.master_key`")?;
        (key, "the configured `secrets.master_key`".to_owned())
    } else if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading the key file {}", path.display()))?;
        let key = MasterKey::from_base64(&text)
            .with_context(|| format!("the key file {}", path.display()))?;
        (key, format!("the key file {}", path.display()))
    } else if recorded.is_some() {
        anyhow::bail!(
            "this store was set up with a master key that is not here: `secrets.master_key` is not set and {} does not exist. \
             Restore the key file from your backup (or set `secrets.master_key`, or PARLEY_SECRETS__MASTER_KEY, to that key). \
             Parley will not make a new key for this store: its sealed credentials and webhook secrets could not be read, \
             every token would fail, and its opt-out list would match no one",
            path.display()
        );
    } else {
        let key = MasterKey::generate()?;
        write_key_file(&path, &key)?;
        tracing::warn!(
            path = %path.display(),
            "no master key was configured: generated one. Back this file up; without it sealed secrets cannot be read and tokens become invalid"
        );
        (key, format!("the key file {}", path.display()))
    };
    let mine = key.check_value();
    let claimed = store
        .claim_installation_fact(KEY_CHECK, &mine)
        .await
        .context("recording the store's key check")?;
    if claimed != mine {
        anyhow::bail!(
            "{source} is not the master key this store was set up with (the store's key check is {claimed}, this key's is {mine}). \
             Restore the key this store was set up with from your backup; starting with another key would leave its sealed \
             credentials and webhook secrets unreadable, every token invalid, and its opt-out list matching no one"
        );
    }
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

/// The application over `store`, with the master key checked against it.
pub async fn app(config: &Config, store: Arc<dyn Store>) -> anyhow::Result<App> {
    let key = master_key(config, &*store).await?;
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
    Ok(App::new(store, Arc::new(SystemClock), &key, settings)?)
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
