//! The audit log on the direct connection (the webhook engine's transactions write their
//! entries there); every other audit write is `parley-store-sql`'s.

use parley_domain::{NewAuditEntry, to_millis};
use parley_store::StoreError;
use parley_store_sql::sql;

use crate::rows::{numbered, sql_err};

/// An audit entry written on the direct connection, inside its caller's transaction.
pub(crate) fn insert_audit_direct(
    conn: &rusqlite::Connection,
    e: &NewAuditEntry,
) -> Result<(), StoreError> {
    conn.prepare_cached(&numbered(sql::INSERT_AUDIT))
        .map_err(sql_err)?
        .execute(rusqlite::params![
            e.id.to_string(),
            e.organization_id.map(|o| o.to_string()),
            e.actor,
            e.action.as_str(),
            e.subject,
            e.detail.to_string(),
            to_millis(e.at),
        ])
        .map_err(sql_err)?;
    Ok(())
}
