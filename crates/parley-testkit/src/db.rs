//! Temporary, migrated stores for tests: a SQLite file in a temporary folder, or a fresh
//! PostgreSQL database (created per test, dropped with `WITH (FORCE)` afterwards).

use std::ops::Deref;
use std::sync::Arc;

use parley_store::Store;
use parley_store_postgres::PgStore;
use parley_store_sqlite::SqliteStore;
use sqlx::Connection;

/// The variable that enables PostgreSQL tests.
pub const POSTGRES_ENV: &str = "PARLEY_TEST_POSTGRES_URL";

/// A store on a temporary SQLite file.
pub struct TempSqlite {
    pub store: Arc<SqliteStore>,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl Deref for TempSqlite {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

/// A migrated store on a fresh SQLite file.
pub async fn temp_sqlite() -> TempSqlite {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("parley.db").display());
    let store = Arc::new(SqliteStore::connect(&url, true).await.unwrap());
    TempSqlite { store, url, dir }
}

/// The configured PostgreSQL server URL, or `None` after printing that `what` is skipped.
#[must_use]
pub fn postgres_url(what: &str) -> Option<String> {
    match std::env::var(POSTGRES_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {what} needs PostgreSQL; set {POSTGRES_ENV} to run it");
            None
        }
    }
}

/// A store on a database created for this test.
pub struct TempPostgres {
    pub store: Arc<PgStore>,
    pub url: String,
    name: String,
    server_url: String,
}

impl Deref for TempPostgres {
    type Target = dyn Store;
    fn deref(&self) -> &(dyn Store + 'static) {
        &*self.store
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

/// A migrated store on a fresh PostgreSQL database, or `None` (printed) when
/// `PARLEY_TEST_POSTGRES_URL` is not set.
pub async fn temp_postgres() -> Option<TempPostgres> {
    let server_url = postgres_url("this PostgreSQL test")?;
    let name = format!("parley_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::PgConnection::connect(&server_url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let url = with_database(&server_url, &name);
    let store = Arc::new(PgStore::connect(&url, true).await.unwrap());
    Some(TempPostgres {
        store,
        url,
        name,
        server_url,
    })
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        let (server_url, name) = (self.server_url.clone(), self.name.clone());
        // Dropping runs inside the test's runtime; a separate thread with its own runtime
        // can block on the DROP without stalling it.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = sqlx::PgConnection::connect(&server_url).await {
                    let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(drop))
                        .execute(&mut admin)
                        .await;
                }
            });
        });
        let _ = done.join();
    }
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn replaces_only_the_database_name() {
        assert_eq!(
            with_database("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            with_database("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
