//! What each engine writes its own way for the imports port: [`ImportsEngine`].

use super::Engine;
use crate::SqlStore;
use parley_domain::{ImportId, ImportRecord, OrgId, UserId};
use parley_store::{ImportWriter, StoreError};

/// The import operations each engine writes its own way (ADR 0003): the bulk writer of
/// batches, and creating an import with its first chunk.
#[async_trait::async_trait]
pub trait ImportsEngine: Sized {
    /// See the port's `create_import`.
    async fn create_import(
        store: &SqlStore<Self>,
        r: &ImportRecord,
        created_by: Option<UserId>,
    ) -> Result<(), StoreError>
    where
        Self: Engine;

    /// See the port's `import_writer`.
    async fn import_writer(
        store: &SqlStore<Self>,
        id: ImportId,
        organization: OrgId,
    ) -> Result<Box<dyn ImportWriter>, StoreError>
    where
        Self: Engine;
}
