//! The PostgreSQL side of row decoding and error mapping: `RowSource` over `PgRow`, and
//! `sqlx::Error` into the engine-neutral `StoreError`. PostgreSQL names the violated
//! constraint itself; the migrations give every one the stable name callers match on.

use parley_store::StoreError;
use parley_store::decode::RowSource;
use sqlx::Row;
use sqlx::error::ErrorKind;
use sqlx::postgres::PgRow;

/// A `PgRow` seen through the shared decoder (a local type, for the orphan rule).
pub(crate) struct Cols<'a>(pub(crate) &'a PgRow);

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

/// Constraint names the migrations define; anything else reports `unknown_unique`.
const KNOWN_CONSTRAINTS: &[&str] = &[
    "users_email_key",
    "organizations_pkey",
    "organizations_path_key",
    "users_pkey",
    "api_keys_pkey",
    "sessions_pkey",
    "audit_log_pkey",
    "outbox_pkey",
    "jobs_pkey",
    "jobs_dedup_key",
    "memberships_pkey",
    "idempotency_keys_pkey",
    "field_definitions_pkey",
    "contacts_pkey",
    "contacts_customer_key",
    "contact_addresses_pkey",
    "imports_pkey",
    "import_chunks_pkey",
    "webhook_endpoints_pkey",
    "webhook_deliveries_pkey",
    "conversations_pkey",
    "conversations_open_key",
    "messages_pkey",
    "messages_provider_key",
    "outcome_statuses_pkey",
    "queues_pkey",
    "canned_replies_pkey",
];

/// Maps a sqlx error: unique violations to `Conflict`, foreign-key violations to
/// `NotFound`, serialization failures, deadlocks, shutdowns and connection loss to
/// `Unavailable`.
pub(crate) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => {
                let name = db.constraint().unwrap_or_default();
                let constraint = KNOWN_CONSTRAINTS
                    .iter()
                    .find(|c| **c == name)
                    .copied()
                    .unwrap_or("unknown_unique");
                StoreError::Conflict { constraint }
            }
            ErrorKind::ForeignKeyViolation => StoreError::NotFound,
            _ if db.code().is_some_and(|c| {
                matches!(&*c, "40001" | "40P01" | "53300" | "57P01" | "57P03")
                    || c.starts_with("08")
            }) =>
            {
                StoreError::Unavailable(Box::new(e))
            }
            _ => StoreError::Other(Box::new(e)),
        },
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_) => StoreError::Unavailable(Box::new(e)),
        _ => StoreError::Other(Box::new(e)),
    }
}

/// Writes audit entry `e` inside its caller's transaction.
pub(crate) async fn insert_audit(
    conn: &mut sqlx::PgConnection,
    e: &parley_domain::NewAuditEntry,
) -> Result<(), StoreError> {
    parley_store_sql::insert_audit::<crate::Postgres>(conn, e).await
}

/// Writes outbox event `e` inside its caller's transaction.
pub(crate) async fn insert_event(
    conn: &mut sqlx::PgConnection,
    e: &parley_domain::NewEvent,
) -> Result<(), StoreError> {
    parley_store_sql::insert_event::<crate::Postgres>(conn, e).await
}
