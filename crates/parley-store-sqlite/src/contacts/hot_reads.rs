//! The contact reads of every inbound message and every send, on the store's reader
//! connection (`Direct::reader`): the contact holding an address or by id, and whether an
//! address opted out. Through the sqlx pool each statement is a round trip to a worker thread and
//! a futex wake-up; here a whole read is one, with its statements prepared once.

use parley_domain::{ChannelAddress, ChannelKind, Contact, ContactId, OrgId};
use parley_store::{StoreError, Suppression, decode};
use rusqlite::Connection;

use crate::rows::{RCols, numbered_sql, one, sql_err};

numbered_sql! {
    HELD_BY = "SELECT a.contact_seq FROM contact_addresses a \
               JOIN organizations o ON o.seq = a.organization_seq \
               WHERE a.address = $1 AND a.channel_kind = $2 AND o.id = $3";
    CONTACT_BY_SEQ = concat!(
        "SELECT ",
        contact_columns!(),
        " FROM contacts c JOIN organizations o ON o.seq = c.organization_seq WHERE c.seq = $1"
    );
    SEQ_BY_ID = "SELECT c.seq FROM contacts c JOIN organizations o ON o.seq = c.organization_seq \
                 WHERE c.id = $1 AND o.id = $2";
    ADDRESSES_BY_SEQ = "SELECT channel_kind, address FROM contact_addresses WHERE contact_seq = $1";
    FIND_SUPPRESSION = "SELECT * FROM suppressions \
                        WHERE organization_id = $1 AND channel_kind = $2 AND address_hash = $3";
}

/// The contact of `organization` holding `address`, with all its addresses.
pub(crate) fn held_contact(
    conn: &Connection,
    organization: OrgId,
    address: &ChannelAddress,
) -> Result<Option<Contact>, StoreError> {
    let org = organization.to_string();
    match one(
        conn,
        &HELD_BY,
        &[&address.address, &address.kind.as_str(), &org],
        |r| decode::int(r, "contact_seq"),
    )? {
        Some(seq) => contact_at(conn, seq),
        None => Ok(None),
    }
}

/// A contact of `organization` by id, with all its addresses.
pub(crate) fn contact_by_id(
    conn: &Connection,
    organization: OrgId,
    id: ContactId,
) -> Result<Option<Contact>, StoreError> {
    match one(
        conn,
        &SEQ_BY_ID,
        &[&id.to_string(), &organization.to_string()],
        |r| decode::int(r, "seq"),
    )? {
        Some(seq) => contact_at(conn, seq),
        None => Ok(None),
    }
}

/// The contact row `seq`, with all its addresses.
fn contact_at(conn: &Connection, seq: i64) -> Result<Option<Contact>, StoreError> {
    let mut addresses = Vec::new();
    {
        let mut statement = conn.prepare_cached(&ADDRESSES_BY_SEQ).map_err(sql_err)?;
        let mut rows = statement.query([seq]).map_err(sql_err)?;
        while let Some(row) = rows.next().map_err(sql_err)? {
            let r = RCols::new(row);
            addresses.push(ChannelAddress {
                kind: decode::parsed(&r, "channel_kind")?,
                address: decode::text(&r, "address")?,
            });
        }
    }
    addresses.sort();
    one(conn, &CONTACT_BY_SEQ, &[&seq], |r| {
        decode::contact(r, addresses.clone())
    })
}

/// Which of `hashes` are suppressed on `channel_kind`.
pub(crate) fn suppressed_among(
    conn: &Connection,
    organization: OrgId,
    channel_kind: ChannelKind,
    hashes: &[String],
) -> Result<Vec<String>, StoreError> {
    let hashes = serde_json::to_string(hashes).map_err(|e| StoreError::Other(Box::new(e)))?;
    let mut statement = conn
        .prepare_cached(
            "SELECT address_hash FROM suppressions WHERE organization_id = ?1 \
             AND channel_kind = ?2 AND address_hash IN (SELECT value FROM json_each(?3))",
        )
        .map_err(sql_err)?;
    let rows = statement
        .query_map(
            rusqlite::params![organization.to_string(), channel_kind.as_str(), hashes],
            |r| r.get::<_, String>(0),
        )
        .map_err(sql_err)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(sql_err)
}

/// The suppression of `address_hash` on `channel_kind`, when the address opted out.
pub(crate) fn find_suppression(
    conn: &Connection,
    organization: OrgId,
    channel_kind: ChannelKind,
    address_hash: &str,
) -> Result<Option<Suppression>, StoreError> {
    one(
        conn,
        &FIND_SUPPRESSION,
        &[
            &organization.to_string(),
            &channel_kind.as_str(),
            &address_hash,
        ],
        |r| decode::suppression(r),
    )
}
