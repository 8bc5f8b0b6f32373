//! The contacts port: field definitions, contacts with their channel addresses, and the
//! suppression list (SPEC §2). Bulk writes from imports go through [`crate::ImportStore`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{
    ChannelAddress, ChannelKind, Contact, ContactId, FieldDefinition, FieldKey, FieldType, OrgId,
};
use serde_json::{Map, Value};

use crate::{Page, PageRequest, StoreError};

/// A change to a field definition; `None` leaves a part as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldPatch {
    /// New label.
    pub label: Option<String>,
    /// New type (existing values are not rewritten).
    pub field_type: Option<FieldType>,
    /// New PII flag.
    pub pii: Option<bool>,
}

/// Which contacts to list. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactFilter {
    /// Exactly this `customer_id`.
    pub customer_id: Option<String>,
    /// Holding this channel address (any channel kind).
    pub address: Option<String>,
    /// Field values equal to these canonical JSON values.
    pub fields: Vec<(FieldKey, Value)>,
}

/// A change to a contact, applied atomically.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContactUpdate {
    /// `Some(None)` clears the customer id; `Some(Some(x))` sets it.
    pub customer_id: Option<Option<String>>,
    /// Values to set (already canonical); `Value::Null` removes the key.
    pub fields: Map<String, Value>,
    /// Addresses to add.
    pub add_addresses: Vec<ChannelAddress>,
    /// Addresses to remove.
    pub remove_addresses: Vec<ChannelAddress>,
}

impl ContactUpdate {
    /// Applies the field part of the update to `fields`.
    pub fn apply_fields(&self, fields: &mut Map<String, Value>) {
        for (key, value) in &self.fields {
            if value.is_null() {
                fields.remove(key);
            } else {
                fields.insert(key.clone(), value.clone());
            }
        }
    }
}

/// An opted-out address: only its keyed hash is kept (it survives erasure).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// The organization.
    pub organization_id: OrgId,
    /// The channel kind.
    pub channel_kind: ChannelKind,
    /// Keyed hash of the address (hex).
    pub address_hash: String,
    /// Why (`stop_keyword`, `manual`, …).
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

/// Field definitions, contacts, addresses and suppressions.
#[async_trait]
pub trait ContactStore: Send + Sync {
    /// The organization's stored definitions (built-ins are not stored), ordered by key.
    async fn list_fields(&self, organization: OrgId) -> Result<Vec<FieldDefinition>, StoreError>;

    /// Stores a new definition (`Conflict { constraint: "field_definitions_pkey" }` when
    /// the key exists).
    async fn create_field(&self, field: FieldDefinition) -> Result<FieldDefinition, StoreError>;

    /// Changes a definition (`NotFound` when it does not exist).
    async fn update_field(
        &self,
        organization: OrgId,
        key: &FieldKey,
        patch: FieldPatch,
        at: DateTime<Utc>,
    ) -> Result<FieldDefinition, StoreError>;

    /// A contact of `organization`.
    async fn get_contact(
        &self,
        organization: OrgId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError>;

    /// Contacts of exactly `organization` matching `filter`, ordered by id.
    async fn list_contacts(
        &self,
        organization: OrgId,
        filter: &ContactFilter,
        page: PageRequest,
    ) -> Result<Page<Contact>, StoreError>;

    /// How many contacts of exactly `organization` match `filter` (a campaign's audience
    /// counted as it is chosen).
    async fn count_contacts(
        &self,
        organization: OrgId,
        filter: &ContactFilter,
    ) -> Result<u64, StoreError>;

    /// Applies `update` atomically. `Conflict` names `contacts_customer_key` or
    /// `contact_addresses_pkey` when a value belongs to another contact.
    async fn update_contact(
        &self,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError>;

    /// Creates contact `id` of `organization` with `update`'s customer id, values and
    /// addresses, all or nothing. `Conflict` names `contacts_customer_key` or
    /// `contact_addresses_pkey` when a value belongs to another contact; `NotFound` when
    /// there is no such organization.
    async fn create_contact(
        &self,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError>;

    /// The contact of `organization` holding `address`, or a new contact holding it
    /// (no customer id, no fields) when none does; `true` when it was created. Two callers
    /// racing for one new address get one contact.
    async fn contact_for_address(
        &self,
        organization: OrgId,
        address: &ChannelAddress,
        at: DateTime<Utc>,
    ) -> Result<(Contact, bool), StoreError>;

    /// Deletes a contact and its addresses (`NotFound` when absent).
    async fn delete_contact(&self, organization: OrgId, id: ContactId) -> Result<(), StoreError>;

    /// Adds an address hash to the suppression list (keeping the first entry).
    async fn add_suppression(&self, suppression: Suppression) -> Result<(), StoreError>;

    /// The suppression list, ordered by hash (the cursor).
    async fn list_suppressions(
        &self,
        organization: OrgId,
        channel_kind: Option<ChannelKind>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, StoreError>;

    /// The list's entry for the hash, if any.
    async fn find_suppression(
        &self,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hash: &str,
    ) -> Result<Option<Suppression>, StoreError>;

    /// Which of `address_hashes` are on the list (a campaign checks a batch of
    /// recipients in one read), in no particular order.
    async fn suppressed_among(
        &self,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hashes: Vec<String>,
    ) -> Result<Vec<String>, StoreError>;
}
