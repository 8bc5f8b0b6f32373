//! The SQLite side of row decoding and error mapping: `RowSource` over sqlx's `SqliteRow`
//! and rusqlite's `Row`, and both libraries' errors into the engine-neutral `StoreError`
//! (sqlx's naming constraints as the migrations do).

use parley_store::StoreError;
use parley_store::decode::RowSource;
use sqlx::Row;
use sqlx::error::ErrorKind;
use sqlx::sqlite::SqliteRow;

/// A `SqliteRow` seen through the shared decoder (a local type, for the orphan rule).
pub(crate) struct Cols<'a>(pub(crate) &'a SqliteRow);

impl RowSource for Cols<'_> {
    fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.0.try_get(column).map_err(map_err)
    }
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.0.try_get(column).map_err(map_err)
    }
    fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.try_get(column).map_err(map_err)
    }
}

/// A rusqlite row (the direct connection's) seen through the shared decoder. Columns are
/// found by name in a list of the statement's column names read once per row (rusqlite's
/// own lookup asks SQLite for every name and measures it again on each call, which was a
/// fifth of the writer thread's time when turns decode their rows).
pub(crate) struct RCols<'a, 'r> {
    row: &'a rusqlite::Row<'r>,
    names: std::cell::OnceCell<Vec<&'a str>>,
}

impl<'a, 'r> RCols<'a, 'r> {
    /// The row, its column names not read yet.
    pub(crate) fn new(row: &'a rusqlite::Row<'r>) -> Self {
        Self {
            row,
            names: std::cell::OnceCell::new(),
        }
    }

    fn index(&self, column: &'static str) -> Result<usize, StoreError> {
        let names = self.names.get_or_init(|| self.row.as_ref().column_names());
        names
            .iter()
            .position(|n| n.eq_ignore_ascii_case(column))
            .ok_or_else(|| StoreError::corrupt(format!("no column {column}")))
    }
}

impl RowSource for RCols<'_, '_> {
    fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.row.get(self.index(column)?).map_err(sql_err)
    }
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.row.get(self.index(column)?).map_err(sql_err)
    }
    fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.row.get(self.index(column)?).map_err(sql_err)
    }
}

/// Maps a rusqlite error as [`map_err`] maps sqlx's: unique violations to `Conflict`
/// naming the index, a busy or locked database to `Unavailable`, anything else to
/// `Other`.
pub(crate) fn sql_err(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, message) = &e {
        match f.code {
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                return StoreError::Unavailable(Box::new(e));
            }
            // SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY.
            rusqlite::ErrorCode::ConstraintViolation if matches!(f.extended_code, 2067 | 1555) => {
                let columns = message
                    .as_deref()
                    .and_then(|m| m.rsplit(": ").next())
                    .unwrap_or_default();
                return StoreError::Conflict {
                    constraint: unique_name(columns),
                };
            }
            _ => {}
        }
    }
    StoreError::Other(Box::new(e))
}

/// The index name for the columns SQLite names in a unique violation.
fn unique_name(columns: &str) -> &'static str {
    UNIQUE_NAMES
        .iter()
        .find(|(cols, _)| *cols == columns)
        .map_or("unknown_unique", |(_, name)| *name)
}

/// SQLite reports unique violations as `UNIQUE constraint failed: table.col, …`; this maps
/// the column list to the index name the PostgreSQL engine reports.
const UNIQUE_NAMES: &[(&str, &str)] = &[
    ("users.email", "users_email_key"),
    ("organizations.id", "organizations_pkey"),
    ("organizations.path", "organizations_path_key"),
    ("organizations.seq", "organizations_seq_key"),
    ("users.id", "users_pkey"),
    ("api_keys.id", "api_keys_pkey"),
    ("sessions.token_hash", "sessions_pkey"),
    ("audit_log.id", "audit_log_pkey"),
    ("outbox.id", "outbox_pkey"),
    ("jobs.id", "jobs_pkey"),
    ("jobs.queue, jobs.dedup_key", "jobs_dedup_key"),
    (
        "memberships.user_id, memberships.organization_id",
        "memberships_pkey",
    ),
    (
        "idempotency_keys.scope, idempotency_keys.key",
        "idempotency_keys_pkey",
    ),
    (
        "field_definitions.organization_id, field_definitions.key",
        "field_definitions_pkey",
    ),
    ("contacts.organization_seq, contacts.id", "contacts_pkey"),
    (
        "contacts.organization_seq, contacts.customer_id",
        "contacts_customer_key",
    ),
    (
        "contact_addresses.address, contact_addresses.channel_kind, contact_addresses.organization_seq",
        "contact_addresses_pkey",
    ),
    ("imports.id", "imports_pkey"),
    ("conversations.id", "conversations_pkey"),
    (
        "conversations.contact_id, conversations.channel_id",
        "conversations_open_key",
    ),
    ("messages.id", "messages_pkey"),
    (
        "outcome_statuses.organization_id, outcome_statuses.key",
        "outcome_statuses_pkey",
    ),
    ("queues.organization_id, queues.key", "queues_pkey"),
    (
        "canned_replies.organization_id, canned_replies.key",
        "canned_replies_pkey",
    ),
    (
        "messages.channel_id, messages.provider_message_id",
        "messages_provider_key",
    ),
    (
        "import_chunks.import_id, import_chunks.seq",
        "import_chunks_pkey",
    ),
];

/// Maps a sqlx error: unique violations to `Conflict`, foreign-key violations to
/// `NotFound` (a referenced row is missing), lock timeouts and I/O to `Unavailable`.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => {
                let message = db.message();
                let columns = message.rsplit(": ").next().unwrap_or_default();
                StoreError::Conflict {
                    constraint: unique_name(columns),
                }
            }
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            // SQLITE_BUSY (5) and SQLITE_LOCKED (6), including extended codes.
            _ if db
                .code()
                .and_then(|c| c.parse::<i32>().ok())
                .is_some_and(|c| matches!(c & 0xff, 5 | 6)) =>
            {
                StoreError::Unavailable(Box::new(e))
            }
            _ => StoreError::Other(Box::new(e)),
        },
        sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
            StoreError::Unavailable(Box::new(e))
        }
        _ => StoreError::Other(Box::new(e)),
    }
}

/// The shared SQL with SQLite's numbered parameters (`?N`): rusqlite numbers `$N`
/// parameters by first appearance, not by their number.
pub(crate) fn numbered(text: &str) -> String {
    text.replace('$', "?")
}

/// Statics holding shared SQL rewritten for rusqlite by [`numbered`], once.
macro_rules! numbered_sql {
    ($($name:ident = $sql:expr;)*) => {$(
        static $name: std::sync::LazyLock<String> =
            std::sync::LazyLock::new(|| $crate::rows::numbered($sql));
    )*};
}
pub(crate) use numbered_sql;

/// The one row (or none) a cached statement returns on a plain connection, decoded.
pub(crate) fn one<T>(
    conn: &rusqlite::Connection,
    sql: &str,
    params: &[&dyn rusqlite::ToSql],
    decode: impl Fn(&RCols<'_, '_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    use rusqlite::OptionalExtension;
    conn.prepare_cached(sql)
        .map_err(sql_err)?
        .query_row(params, |row| Ok(decode(&RCols::new(row))))
        .optional()
        .map_err(sql_err)?
        .transpose()
}
