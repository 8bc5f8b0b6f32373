//! What the shared statements need of a sqlx driver, named once: binding a value of each
//! column kind Parley stores (text, integer, flag, bytes), running a statement on a
//! connection, and reading a column. sqlx states these as bounds on each value type, which
//! generic code would have to repeat on every function; here they are methods of the
//! driver instead, written by one macro for SQLite and PostgreSQL.

use std::future::Future;
use std::pin::Pin;

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::query::Query;
use sqlx::{Database, Pool, Row};

/// A statement with its values bound so far.
pub type Statement<D> = Query<'static, D, <D as Database>::Arguments>;

/// A future a driver returns, borrowing its connection.
pub type Running<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

/// A sqlx driver as the shared statements use it.
pub trait Dialect: Database {
    /// Binds text (NULL when `None`).
    fn bind_text(q: Statement<Self>, value: Option<&str>) -> Statement<Self>;
    /// Binds an integer (NULL when `None`).
    fn bind_int(q: Statement<Self>, value: Option<i64>) -> Statement<Self>;
    /// Binds a flag (NULL when `None`).
    fn bind_flag(q: Statement<Self>, value: Option<bool>) -> Statement<Self>;
    /// Binds bytes (NULL when `None`).
    fn bind_bytes(q: Statement<Self>, value: Option<&[u8]>) -> Statement<Self>;
    /// Every row the statement returns.
    fn fetch_all(c: &mut Self::Connection, q: Statement<Self>) -> Running<'_, Vec<Self::Row>>;
    /// The first row, if any.
    fn fetch_optional(
        c: &mut Self::Connection,
        q: Statement<Self>,
    ) -> Running<'_, Option<Self::Row>>;
    /// How many rows the statement changed.
    fn execute(c: &mut Self::Connection, q: Statement<Self>) -> Running<'_, u64>;
    /// Text column `column`, by name.
    fn text(row: &Self::Row, column: &str) -> Result<Option<String>, sqlx::Error>;
    /// Integer column `column`.
    fn int(row: &Self::Row, column: &str) -> Result<Option<i64>, sqlx::Error>;
    /// Bytes column `column`.
    fn bytes(row: &Self::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error>;
    /// Flag column `column`.
    fn flag(row: &Self::Row, column: &str) -> Result<Option<bool>, sqlx::Error>;
    /// The text in column `index` (for statements whose columns have no useful name).
    fn text_at(row: &Self::Row, index: usize) -> Result<Option<String>, sqlx::Error>;
    /// The integer in column `index`.
    fn int_at(row: &Self::Row, index: usize) -> Result<Option<i64>, sqlx::Error>;
    /// Of a text written in both dialects, this one's (a migration step's SQL).
    fn pick(sqlite: &'static str, postgres: &'static str) -> &'static str;
    /// Applies `migrator`'s pending steps on `pool`.
    fn migrate(
        pool: &Pool<Self>,
        migrator: Migrator,
    ) -> Pin<Box<dyn Future<Output = Result<(), MigrateError>> + Send + '_>>;
}

macro_rules! dialect {
    ($db:ty, $which:literal) => {
        impl Dialect for $db {
            fn bind_text(q: Statement<Self>, value: Option<&str>) -> Statement<Self> {
                q.bind(value)
            }
            fn bind_int(q: Statement<Self>, value: Option<i64>) -> Statement<Self> {
                q.bind(value)
            }
            fn bind_flag(q: Statement<Self>, value: Option<bool>) -> Statement<Self> {
                q.bind(value)
            }
            fn bind_bytes(q: Statement<Self>, value: Option<&[u8]>) -> Statement<Self> {
                q.bind(value)
            }
            fn fetch_all(
                c: &mut Self::Connection,
                q: Statement<Self>,
            ) -> Running<'_, Vec<Self::Row>> {
                Box::pin(q.fetch_all(c))
            }
            fn fetch_optional(
                c: &mut Self::Connection,
                q: Statement<Self>,
            ) -> Running<'_, Option<Self::Row>> {
                Box::pin(q.fetch_optional(c))
            }
            fn execute(c: &mut Self::Connection, q: Statement<Self>) -> Running<'_, u64> {
                Box::pin(async move { Ok(q.execute(c).await?.rows_affected()) })
            }
            fn text(row: &Self::Row, column: &str) -> Result<Option<String>, sqlx::Error> {
                row.try_get(column)
            }
            fn int(row: &Self::Row, column: &str) -> Result<Option<i64>, sqlx::Error> {
                row.try_get(column)
            }
            fn bytes(row: &Self::Row, column: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
                row.try_get(column)
            }
            fn flag(row: &Self::Row, column: &str) -> Result<Option<bool>, sqlx::Error> {
                row.try_get(column)
            }
            fn text_at(row: &Self::Row, index: usize) -> Result<Option<String>, sqlx::Error> {
                row.try_get(index)
            }
            fn int_at(row: &Self::Row, index: usize) -> Result<Option<i64>, sqlx::Error> {
                row.try_get(index)
            }
            fn pick(sqlite: &'static str, postgres: &'static str) -> &'static str {
                [sqlite, postgres][$which]
            }
            fn migrate(
                pool: &Pool<Self>,
                migrator: Migrator,
            ) -> Pin<Box<dyn Future<Output = Result<(), MigrateError>> + Send + '_>> {
                Box::pin(async move { migrator.run(pool).await })
            }
        }
    };
}

dialect!(sqlx::Sqlite, 0);
dialect!(sqlx::Postgres, 1);
