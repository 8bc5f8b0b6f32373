//! Contacts and their addresses on SQLite's compact integer keys (migration 0004): reads,
//! creation, edits, deletion and the suppression lookups of every message (`hot_reads`, on
//! the reader connection). Field definitions, the contact list and the suppression list's
//! writes are `parley-store-sql`'s.

use chrono::{DateTime, Utc};
use parley_domain::{ChannelAddress, ChannelKind, Contact, ContactId, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ContactUpdate, StoreError, Suppression};
use sqlx::SqliteConnection;
use sqlx::sqlite::SqliteRow;

use crate::rows::{Cols, map_err};
use crate::{Sqlite, SqliteStore};
use parley_store_sql::ContactsEngine;

/// A contact row as the shared decoder reads it: the organization's public id instead of
/// its compact key (migration 0004). Use with `FROM contacts c JOIN organizations o …`.
/// A macro so that queries stay literals (`concat!`).
macro_rules! contact_columns {
    () => {
        "c.seq, c.organization_seq, c.id, o.id AS organization_id, c.customer_id, c.fields, \
         c.created_at, c.updated_at"
    };
}

mod hot_reads;

/// The addresses of the contact rows `rows` (which carry `seq`).
async fn addresses_of(
    conn: &mut SqliteConnection,
    rows: &[SqliteRow],
) -> Result<Vec<(ContactId, ChannelAddress)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let seqs: Vec<i64> = rows
        .iter()
        .map(|r| decode::int(&Cols(r), "seq"))
        .collect::<Result<_, _>>()?;
    let found = sqlx::query(
        "SELECT c.id AS contact_id, a.channel_kind, a.address \
         FROM contact_addresses a JOIN contacts c ON c.seq = a.contact_seq \
         WHERE a.contact_seq IN (SELECT value FROM json_each($1))",
    )
    .bind(serde_json::to_string(&seqs).map_err(|e| StoreError::Other(Box::new(e)))?)
    .fetch_all(conn)
    .await
    .map_err(map_err)?;
    found
        .iter()
        .map(|r| decode::contact_address(&Cols(r)))
        .collect()
}

/// A stored contact with its compact keys.
struct Stored {
    organization_seq: i64,
    seq: i64,
    contact: Contact,
}

async fn load_contact(
    conn: &mut SqliteConnection,
    organization: OrgId,
    id: ContactId,
) -> Result<Option<Stored>, StoreError> {
    let row = sqlx::query(concat!(
        "SELECT ",
        contact_columns!(),
        " FROM organizations o \
         JOIN contacts c ON c.organization_seq = o.seq AND c.id = $1 WHERE o.id = $2"
    ))
    .bind(id.to_string())
    .bind(organization.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(map_err)?;
    let Some(row) = row else { return Ok(None) };
    let addresses = addresses_of(conn, std::slice::from_ref(&row)).await?;
    let cols = Cols(&row);
    let (organization_seq, seq) = (
        decode::int(&cols, "organization_seq")?,
        decode::int(&cols, "seq")?,
    );
    let contact = decode::contacts_with_addresses(&[cols], addresses)?
        .pop()
        .ok_or_else(|| StoreError::corrupt("a loaded contact row decoded to nothing"))?;
    Ok(Some(Stored {
        organization_seq,
        seq,
        contact,
    }))
}

/// The compact key (`seq`) of a contact, if it exists.
async fn contact_seq(
    conn: &mut SqliteConnection,
    organization: OrgId,
    id: ContactId,
) -> Result<Option<i64>, StoreError> {
    sqlx::query_scalar(
        "SELECT c.seq FROM organizations o \
         JOIN contacts c ON c.organization_seq = o.seq AND c.id = $1 WHERE o.id = $2",
    )
    .bind(id.to_string())
    .bind(organization.to_string())
    .fetch_optional(conn)
    .await
    .map_err(map_err)
}

#[async_trait::async_trait]
impl ContactsEngine for Sqlite {
    const LIST_CONTACTS: &'static str = concat!(
        "SELECT ",
        contact_columns!(),
        " FROM organizations o JOIN contacts c ON c.organization_seq = o.seq \
             WHERE o.id = $1 AND ($2 IS NULL OR c.id > $2) \
             AND ($3 IS NULL OR c.customer_id = $3) \
             AND ($4 IS NULL OR c.seq IN (SELECT contact_seq FROM contact_addresses a WHERE a.address = $4 AND a.organization_seq = o.seq)) \
             AND NOT EXISTS (SELECT 1 FROM json_each($5) f \
                 WHERE json_extract(c.fields, '$.' || (f.value ->> '$[0]')) IS NOT (f.value ->> '$[1]')) \
             ORDER BY c.id LIMIT $6",
    );

    const COUNT_CONTACTS: &'static str = "SELECT COUNT(*) FROM organizations o JOIN contacts c ON c.organization_seq = o.seq \
             WHERE o.id = $1 AND ($2 IS NULL OR c.customer_id = $2) \
             AND ($3 IS NULL OR c.seq IN (SELECT contact_seq FROM contact_addresses a WHERE a.address = $3 AND a.organization_seq = o.seq)) \
             AND NOT EXISTS (SELECT 1 FROM json_each($4) f \
                 WHERE json_extract(c.fields, '$.' || (f.value ->> '$[0]')) IS NOT (f.value ->> '$[1]'))";

    async fn addresses_of(
        conn: &mut SqliteConnection,
        rows: &[SqliteRow],
    ) -> Result<Vec<(ContactId, ChannelAddress)>, StoreError> {
        addresses_of(conn, rows).await
    }

    async fn get_contact(
        store: &SqliteStore,
        organization: OrgId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError> {
        store
            .engine()
            .reads
            .run(move |c| hot_reads::contact_by_id(c, organization, id))
            .await
    }

    async fn update_contact(
        store: &SqliteStore,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        let mut tx = store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let updated = update_in(&mut tx, organization, id, update, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(updated)
    }

    async fn create_contact(
        store: &SqliteStore,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        let mut tx = store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let inserted = sqlx::query(
            "INSERT INTO contacts (organization_seq, id, customer_id, fields, created_at, updated_at) \
             SELECT seq, $2, NULL, '{}', $3, $3 FROM organizations WHERE id = $1",
        )
        .bind(organization.to_string())
        .bind(id.to_string())
        .bind(to_millis(at))
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if inserted.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        // Dropped on an error, the transaction leaves nothing behind.
        let created = update_in(&mut tx, organization, id, update, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(created)
    }

    async fn contact_for_address(
        store: &SqliteStore,
        organization: OrgId,
        address: &ChannelAddress,
        at: DateTime<Utc>,
    ) -> Result<(Contact, bool), StoreError> {
        // Most messages come from known addresses: the reader connection finds them in
        // one round trip, without taking the write lock.
        let wanted = address.clone();
        if let Some(found) = store
            .engine()
            .reads
            .run(move |c| hot_reads::held_contact(c, organization, &wanted))
            .await?
        {
            return Ok((found, false));
        }
        // Under the write lock, the lookup and the insert cannot race another caller.
        let mut tx = store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let org_seq: i64 = sqlx::query_scalar("SELECT seq FROM organizations WHERE id = $1")
            .bind(organization.to_string())
            .fetch_optional(&mut *tx)
            .await
            .map_err(map_err)?
            .ok_or(StoreError::NotFound)?;
        let held: Option<String> = sqlx::query_scalar(
            "SELECT c.id FROM contact_addresses a JOIN contacts c ON c.seq = a.contact_seq \
             WHERE a.address = $1 AND a.channel_kind = $2 AND a.organization_seq = $3",
        )
        .bind(&address.address)
        .bind(address.kind.as_str())
        .bind(org_seq)
        .fetch_optional(&mut *tx)
        .await
        .map_err(map_err)?;
        let (id, created) = match held {
            Some(id) => (
                id.parse::<ContactId>()
                    .map_err(|_| StoreError::corrupt("contacts.id holds an invalid id"))?,
                false,
            ),
            None => {
                let id = ContactId::generate();
                let seq: i64 = sqlx::query_scalar(
                    "INSERT INTO contacts (organization_seq, id, customer_id, fields, created_at, updated_at) \
                     VALUES ($1, $2, NULL, '{}', $3, $3) RETURNING seq",
                )
                .bind(org_seq)
                .bind(id.to_string())
                .bind(to_millis(at))
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
                sqlx::query(
                    "INSERT INTO contact_addresses (address, channel_kind, organization_seq, contact_seq) \
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(&address.address)
                .bind(address.kind.as_str())
                .bind(org_seq)
                .bind(seq)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                (id, true)
            }
        };
        let contact = load_contact(&mut tx, organization, id)
            .await?
            .ok_or_else(|| StoreError::corrupt("a contact vanished under its lookup"))?
            .contact;
        tx.commit().await.map_err(map_err)?;
        Ok((contact, created))
    }

    async fn delete_contact(
        store: &SqliteStore,
        organization: OrgId,
        id: ContactId,
    ) -> Result<(), StoreError> {
        let mut tx = store
            .pool()
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(map_err)?;
        let seq = contact_seq(&mut tx, organization, id)
            .await?
            .ok_or(StoreError::NotFound)?;
        sqlx::query("DELETE FROM contact_addresses WHERE contact_seq = $1")
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        sqlx::query("DELETE FROM contacts WHERE seq = $1")
            .bind(seq)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)
    }

    async fn suppressed_among(
        store: &SqliteStore,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hashes: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        store
            .engine()
            .reads
            .run(move |c| {
                hot_reads::suppressed_among(c, organization, channel_kind, &address_hashes)
            })
            .await
    }

    async fn find_suppression(
        store: &SqliteStore,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hash: &str,
    ) -> Result<Option<Suppression>, StoreError> {
        let hash = address_hash.to_owned();
        store
            .engine()
            .reads
            .run(move |c| hot_reads::find_suppression(c, organization, channel_kind, &hash))
            .await
    }
}

/// Applies `update` to contact `id` inside `tx` (the write lock held): see
/// `ContactStore::update_contact`.
async fn update_in(
    tx: &mut SqliteConnection,
    organization: OrgId,
    id: ContactId,
    update: ContactUpdate,
    at: DateTime<Utc>,
) -> Result<Contact, StoreError> {
    let Stored {
        organization_seq,
        seq,
        mut contact,
    } = load_contact(tx, organization, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    update.apply_fields(&mut contact.fields);
    if let Some(customer_id) = update.customer_id {
        contact.customer_id = customer_id;
    }
    sqlx::query(
        "UPDATE contacts SET customer_id = $2, fields = $3, updated_at = $4 WHERE seq = $1",
    )
    .bind(seq)
    .bind(contact.customer_id.as_deref())
    .bind(serde_json::Value::Object(contact.fields.clone()).to_string())
    .bind(to_millis(at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    for a in &update.remove_addresses {
        sqlx::query(
            "DELETE FROM contact_addresses WHERE address = $1 AND channel_kind = $2 \
                 AND organization_seq = $3 AND contact_seq = $4",
        )
        .bind(&a.address)
        .bind(a.kind.as_str())
        .bind(organization_seq)
        .bind(seq)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
    }
    for a in &update.add_addresses {
        // Claims the address unless it is taken; then it must be this contact's.
        let owner: i64 = sqlx::query_scalar(
            "INSERT INTO contact_addresses (address, channel_kind, organization_seq, contact_seq) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO UPDATE SET contact_seq = contact_seq RETURNING contact_seq",
        )
        .bind(&a.address)
        .bind(a.kind.as_str())
        .bind(organization_seq)
        .bind(seq)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        if owner != seq {
            return Err(StoreError::Conflict {
                constraint: "contact_addresses_pkey",
            });
        }
    }
    let updated = load_contact(tx, organization, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    Ok(updated.contact)
}
