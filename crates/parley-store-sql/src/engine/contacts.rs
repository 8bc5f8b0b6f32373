//! What each engine writes its own way for the contacts port: [`ContactsEngine`].

use super::{Conn, Engine, SqlRow};
use crate::SqlStore;
use chrono::{DateTime, Utc};
use parley_domain::{ChannelAddress, ChannelKind, Contact, ContactId, OrgId};
use parley_store::{ContactUpdate, StoreError, Suppression};

/// The contact operations each engine writes its own way: SQLite keeps contacts and
/// addresses on compact integer keys (its migration 0004), PostgreSQL on their ids.
#[async_trait::async_trait]
pub trait ContactsEngine: Sized {
    /// See the port's `get_contact`.
    async fn get_contact(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ContactId,
    ) -> Result<Option<Contact>, StoreError>
    where
        Self: Engine;

    /// A page of an organization's contacts as the shared decoder reads them (`$1`
    /// organization, `$2` cursor, `$3` customer id, `$4` address, `$5` field filters as
    /// [`filters_json`](crate::filters_json), `$6` limit; each filter NULL when unset).
    const LIST_CONTACTS: &'static str;

    /// How many of an organization's contacts match (`$1` organization, `$2` customer id,
    /// `$3` address, `$4` field filters).
    const COUNT_CONTACTS: &'static str;

    /// The addresses of contact rows `rows` (as `LIST_CONTACTS` returns them).
    async fn addresses_of(
        conn: &mut Conn<Self>,
        rows: &[SqlRow<Self>],
    ) -> Result<Vec<(ContactId, ChannelAddress)>, StoreError>
    where
        Self: Engine;

    /// See the port's `create_contact`.
    async fn create_contact(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError>
    where
        Self: Engine;

    /// See the port's `contact_for_address`.
    async fn contact_for_address(
        store: &SqlStore<Self>,
        organization: OrgId,
        address: &ChannelAddress,
        at: DateTime<Utc>,
    ) -> Result<(Contact, bool), StoreError>
    where
        Self: Engine;

    /// See the port's `delete_contact`.
    async fn delete_contact(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ContactId,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See the port's `suppressed_among`.
    async fn suppressed_among(
        store: &SqlStore<Self>,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hashes: Vec<String>,
    ) -> Result<Vec<String>, StoreError>
    where
        Self: Engine;

    /// See the port's `find_suppression`.
    async fn find_suppression(
        store: &SqlStore<Self>,
        organization: OrgId,
        channel_kind: ChannelKind,
        address_hash: &str,
    ) -> Result<Option<Suppression>, StoreError>
    where
        Self: Engine;

    /// See the port's `update_contact`.
    async fn update_contact(
        store: &SqlStore<Self>,
        organization: OrgId,
        id: ContactId,
        update: ContactUpdate,
        at: DateTime<Utc>,
    ) -> Result<Contact, StoreError>
    where
        Self: Engine;
}
