//! Contacts and their addresses on PostgreSQL (keyed by their ids): reads, creation,
//! edits, deletion and suppression lookups. Field definitions, the contact list and the
//! suppression list's writes are `parley-store-sql`'s.

use chrono::{DateTime, Utc};
use parley_domain::{ChannelAddress, ChannelKind, Contact, ContactId, OrgId, to_millis};
use parley_store::decode;
use parley_store::{ContactUpdate, StoreError, Suppression};
use sqlx::PgConnection;
use sqlx::postgres::PgRow;

use crate::rows::{Cols, map_err};
use crate::{PgStore, Postgres};
use parley_store_sql::ContactsEngine;

async fn addresses_of(
    conn: &mut PgConnection,
    rows: &[PgRow],
) -> Result<Vec<(ContactId, ChannelAddress)>, StoreError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = rows
        .iter()
        .map(|r| decode::text(&Cols(r), "id"))
        .collect::<Result<_, _>>()?;
    let found = sqlx::query(
        "SELECT contact_id, channel_kind, address FROM contact_addresses \
         WHERE contact_id IN (SELECT json_array_elements_text($1::json))",
    )
    .bind(serde_json::to_string(&ids).map_err(|e| StoreError::Other(Box::new(e)))?)
    .fetch_all(conn)
    .await
    .map_err(map_err)?;
    found
        .iter()
        .map(|r| decode::contact_address(&Cols(r)))
        .collect()
}

async fn load_contact(
    conn: &mut PgConnection,
    organization: OrgId,
    id: ContactId,
) -> Result<Option<Contact>, StoreError> {
    let row = sqlx::query(
        "SELECT c.id, c.organization_id, c.customer_id, c.fields::text AS fields, c.created_at, c.updated_at FROM contacts c WHERE c.id = $1 AND c.organization_id = $2 FOR UPDATE",
    )
        .bind(id.to_string())
        .bind(organization.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(map_err)?;
    let Some(row) = row else { return Ok(None) };
    let addresses = addresses_of(conn, std::slice::from_ref(&row)).await?;
    let rows = [Cols(&row)];
    Ok(decode::contacts_with_addresses(&rows, addresses)?.pop())
}

#[async_trait::async_trait]
impl ContactsEngine for Postgres {
    const LIST_CONTACTS: &'static str = "SELECT c.id, c.organization_id, c.customer_id, c.fields::text AS fields, c.created_at, c.updated_at FROM contacts c WHERE c.organization_id = $1 AND ($2 IS NULL OR c.id > $2) \
             AND ($3 IS NULL OR c.customer_id = $3) \
             AND ($4 IS NULL OR c.id IN (SELECT contact_id FROM contact_addresses a WHERE a.organization_id = $1 AND a.address = $4)) \
             AND NOT EXISTS (SELECT 1 FROM json_array_elements($5::json) f \
                 WHERE (c.fields -> (f ->> 0)) IS DISTINCT FROM (f -> 1)::jsonb) \
             ORDER BY c.id LIMIT $6";

    const COUNT_CONTACTS: &'static str = "SELECT COUNT(*) FROM contacts c WHERE c.organization_id = $1 \
             AND ($2 IS NULL OR c.customer_id = $2) \
             AND ($3 IS NULL OR c.id IN (SELECT contact_id FROM contact_addresses a WHERE a.organization_id = $1 AND a.address = $3)) \
             AND NOT EXISTS (SELECT 1 FROM json_array_elements($4::json) f \
                 WHERE (c.fields -> (f ->> 0)) IS DISTINCT FROM (f -> 1)::jsonb)";

    async fn addresses_of(
        conn: &mut PgConnection,
        rows: &[PgRow],
    ) -> Result<Vec<(ContactId, ChannelAddress)>, StoreError> {
        addresses_of(conn, rows).await
    }

    async fn get_contact(
        store: &PgStore,
        organization: OrgId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError> {
        let mut conn = store.pool().acquire().await.map_err(map_err)?;
        load_contact(&mut conn, organization, id).await
    }

    async fn update_contact(
        store: &PgStore,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let updated = update_in(&mut tx, organization, id, update, at).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(updated)
    }

    async fn create_contact(
        store: &PgStore,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        let inserted = sqlx::query(
            "INSERT INTO contacts (id, organization_id, customer_id, fields, created_at, updated_at) \
             SELECT $2, id, NULL, '{}'::jsonb, $3, $3 FROM organizations WHERE id = $1",
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
        store: &PgStore,
        organization: OrgId,
        address: &ChannelAddress,
        at: DateTime<Utc>,
    ) -> Result<(Contact, bool), StoreError> {
        let mut tx = store.pool().begin().await.map_err(map_err)?;
        // Callers racing for one new address wait here, then find the first one's contact.
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind(format!(
                "address/{organization}/{}/{}",
                address.kind.as_str(),
                address.address
            ))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let held: Option<String> = sqlx::query_scalar(
            "SELECT contact_id FROM contact_addresses \
             WHERE organization_id = $1 AND channel_kind = $2 AND address = $3",
        )
        .bind(organization.to_string())
        .bind(address.kind.as_str())
        .bind(&address.address)
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
                sqlx::query(
                    "INSERT INTO contacts (id, organization_id, customer_id, fields, created_at, updated_at) \
                     VALUES ($1, $2, NULL, '{}'::jsonb, $3, $3)",
                )
                .bind(id.to_string())
                .bind(organization.to_string())
                .bind(to_millis(at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                sqlx::query(
                    "INSERT INTO contact_addresses (organization_id, channel_kind, address, contact_id, created_at) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(organization.to_string())
                .bind(address.kind.as_str())
                .bind(&address.address)
                .bind(id.to_string())
                .bind(to_millis(at))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
                (id, true)
            }
        };
        let contact = load_contact(&mut tx, organization, id)
            .await?
            .ok_or_else(|| StoreError::corrupt("a contact vanished under its lookup"))?;
        tx.commit().await.map_err(map_err)?;
        Ok((contact, created))
    }

    async fn delete_contact(
        store: &PgStore,
        organization: OrgId,
        id: ContactId,
    ) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM contacts WHERE id = $1 AND organization_id = $2")
            .bind(id.to_string())
            .bind(organization.to_string())
            .execute(store.pool())
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn suppressed_among(
        store: &PgStore,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hashes: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT address_hash FROM suppressions WHERE organization_id = $1 \
             AND channel_kind = $2 AND address_hash = ANY($3)",
        )
        .bind(organization.to_string())
        .bind(channel_kind.as_str())
        .bind(&address_hashes)
        .fetch_all(store.pool())
        .await
        .map_err(map_err)?;
        rows.iter()
            .map(|r| decode::text(&Cols(r), "address_hash"))
            .collect()
    }

    async fn find_suppression(
        store: &PgStore,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hash: &str,
    ) -> Result<Option<Suppression>, StoreError> {
        let row = sqlx::query(
            "SELECT * FROM suppressions WHERE organization_id = $1 AND channel_kind = $2 AND address_hash = $3",
        )
        .bind(organization.to_string())
        .bind(channel_kind.as_str())
        .bind(address_hash)
        .fetch_optional(store.pool())
        .await
        .map_err(map_err)?;
        row.map(|r| decode::suppression(&Cols(&r))).transpose()
    }
}

/// Applies `update` to contact `id` inside `tx`: see `ContactStore::update_contact`.
async fn update_in(
    tx: &mut PgConnection,
    organization: OrgId,
    id: ContactId,
    update: ContactUpdate,
    at: DateTime<Utc>,
) -> Result<Contact, StoreError> {
    let mut contact = load_contact(tx, organization, id)
        .await?
        .ok_or(StoreError::NotFound)?;
    update.apply_fields(&mut contact.fields);
    if let Some(customer_id) = update.customer_id {
        contact.customer_id = customer_id;
    }
    sqlx::query(
        "UPDATE contacts SET customer_id = $2, fields = $3::jsonb, updated_at = $4 WHERE id = $1",
    )
    .bind(id.to_string())
    .bind(contact.customer_id.as_deref())
    .bind(serde_json::Value::Object(contact.fields.clone()).to_string())
    .bind(to_millis(at))
    .execute(&mut *tx)
    .await
    .map_err(map_err)?;
    for a in &update.remove_addresses {
        sqlx::query(
                "DELETE FROM contact_addresses WHERE organization_id = $1 AND channel_kind = $2 AND address = $3 AND contact_id = $4",
            )
            .bind(organization.to_string())
            .bind(a.kind.as_str())
            .bind(&a.address)
            .bind(id.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
    }
    for a in &update.add_addresses {
        sqlx::query(
                "INSERT INTO contact_addresses (organization_id, channel_kind, address, contact_id, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
            )
            .bind(organization.to_string())
            .bind(a.kind.as_str())
            .bind(&a.address)
            .bind(id.to_string())
            .bind(to_millis(at))
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        let owner = sqlx::query(
                "SELECT contact_id FROM contact_addresses WHERE organization_id = $1 AND channel_kind = $2 AND address = $3",
            )
            .bind(organization.to_string())
            .bind(a.kind.as_str())
            .bind(&a.address)
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        if decode::text(&Cols(&owner), "contact_id")? != id.to_string() {
            return Err(StoreError::Conflict {
                constraint: "contact_addresses_pkey",
            });
        }
    }
    load_contact(tx, organization, id)
        .await?
        .ok_or(StoreError::NotFound)
}
