//! Field definitions, contacts, addresses and suppressions. Field definitions and
//! suppressions are written here; contacts and their addresses are each engine's own
//! ([`ContactsEngine`]).

use crate::{Cols, Engine, SqlStore, query};
use chrono::{DateTime, Utc};
use parley_domain::{
    ChannelAddress, ChannelKind, Contact, ContactId, FieldDefinition, FieldKey, OrgId, to_millis,
};
use parley_store::decode;
use parley_store::{
    ContactFilter, ContactStore, ContactUpdate, FieldPatch, Page, PageRequest, StoreError,
    Suppression,
};

/// Field filters as a JSON array of `[key, value]` pairs. Keys are `FieldKey`s
/// (snake_case), so they are safe inside a JSON path.
pub fn filters_json(filter: &ContactFilter) -> String {
    serde_json::Value::Array(
        filter
            .fields
            .iter()
            .map(|(k, v)| serde_json::json!([k.as_str(), v]))
            .collect(),
    )
    .to_string()
}

#[async_trait::async_trait]
impl<E: Engine> ContactStore for SqlStore<E> {
    async fn list_fields(&self, organization: OrgId) -> Result<Vec<FieldDefinition>, StoreError> {
        let rows =
            query::<E>("SELECT * FROM field_definitions WHERE organization_id = $1 ORDER BY key")
                .bind(organization.to_string())
                .fetch_all(&mut *self.conn().await?)
                .await?;
        rows.iter()
            .map(|r| decode::field_definition(&Cols::<E>(r)))
            .collect()
    }

    async fn create_field(&self, field: FieldDefinition) -> Result<FieldDefinition, StoreError> {
        query::<E>(
            "INSERT INTO field_definitions (organization_id, key, label, type, pii, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(field.organization_id.to_string())
        .bind(field.key.as_str())
        .bind(&field.label)
        .bind(field.field_type.as_str())
        .bind(i64::from(field.pii))
        .bind(to_millis(field.created_at))
        .bind(to_millis(field.updated_at))
        .execute(&mut *self.conn().await?).await?;
        Ok(field)
    }

    async fn update_field(
        &self,
        organization: OrgId,
        key: &FieldKey,
        patch: FieldPatch,
        at: DateTime<Utc>,
    ) -> Result<FieldDefinition, StoreError> {
        let row = query::<E>(
            "UPDATE field_definitions SET label = COALESCE($3, label), type = COALESCE($4, type), \
             pii = COALESCE($5, pii), updated_at = $6 WHERE organization_id = $1 AND key = $2 RETURNING *",
        )
        .bind(organization.to_string())
        .bind(key.as_str())
        .bind(patch.label)
        .bind(patch.field_type.map(|t| t.as_str()))
        .bind(patch.pii.map(i64::from))
        .bind(to_millis(at))
        .fetch_optional(&mut *self.conn().await?).await?
        .ok_or(StoreError::NotFound)?;
        decode::field_definition(&Cols::<E>(&row))
    }

    async fn get_contact(
        &self,
        organization: OrgId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError> {
        E::get_contact(self, organization, id).await
    }

    async fn list_contacts(
        &self,
        organization: OrgId,
        filter: &ContactFilter,
        page: PageRequest,
    ) -> Result<Page<Contact>, StoreError> {
        let mut conn = self.conn().await?;
        let rows = query::<E>(E::LIST_CONTACTS)
            .bind(organization.to_string())
            .bind(page.after.as_deref())
            .bind(filter.customer_id.as_deref())
            .bind(filter.address.as_deref())
            .bind(filters_json(filter))
            .bind(page.fetch_limit())
            .fetch_all(&mut conn)
            .await?;
        let addresses = E::addresses_of(&mut conn, &rows).await?;
        let cols: Vec<Cols<'_, E>> = rows.iter().map(Cols).collect();
        let items = decode::contacts_with_addresses(&cols, addresses)?;
        Ok(page.finish(items, |c| c.id.to_string()))
    }

    async fn count_contacts(
        &self,
        organization: OrgId,
        filter: &ContactFilter,
    ) -> Result<u64, StoreError> {
        let n = query::<E>(E::COUNT_CONTACTS)
            .bind(organization.to_string())
            .bind(filter.customer_id.as_deref())
            .bind(filter.address.as_deref())
            .bind(filters_json(filter))
            .fetch_int(&mut *self.conn().await?)
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn update_contact(
        &self,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        E::update_contact(self, organization, id, update, at).await
    }

    async fn create_contact(
        &self,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError> {
        E::create_contact(self, organization, id, update, at).await
    }

    async fn contact_for_address(
        &self,
        organization: OrgId,
        address: &ChannelAddress,
        at: DateTime<Utc>,
    ) -> Result<(Contact, bool), StoreError> {
        E::contact_for_address(self, organization, address, at).await
    }

    async fn delete_contact(&self, organization: OrgId, id: ContactId) -> Result<(), StoreError> {
        E::delete_contact(self, organization, id).await
    }

    async fn add_suppression(&self, s: Suppression) -> Result<(), StoreError> {
        query::<E>(crate::sql::INSERT_SUPPRESSION)
            .bind(s.organization_id.to_string())
            .bind(s.channel_kind.as_str())
            .bind(&s.address_hash)
            .bind(&s.reason)
            .bind(to_millis(s.created_at))
            .execute(&mut *self.conn().await?)
            .await?;
        Ok(())
    }

    async fn list_suppressions(
        &self,
        organization: OrgId,
        channel_kind: Option<ChannelKind>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, StoreError> {
        let items = query::<E>(
            "SELECT * FROM suppressions WHERE organization_id = $1 AND ($2 IS NULL OR channel_kind = $2) \
             AND ($3 IS NULL OR address_hash > $3) ORDER BY address_hash LIMIT $4",
        )
        .bind(organization.to_string())
        .bind(channel_kind.map(ChannelKind::as_str))
        .bind(page.after.as_deref())
        .bind(page.fetch_limit())
        .fetch_all_as(&mut *self.conn().await?, |r| decode::suppression(r))
        .await?;
        Ok(page.finish(items, |s| s.address_hash.clone()))
    }

    async fn suppressed_among(
        &self,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hashes: Vec<String>,
    ) -> Result<Vec<String>, StoreError> {
        E::suppressed_among(self, organization, channel_kind, address_hashes).await
    }

    async fn find_suppression(
        &self,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hash: &str,
    ) -> Result<Option<Suppression>, StoreError> {
        E::find_suppression(self, organization, channel_kind, address_hash).await
    }
}
