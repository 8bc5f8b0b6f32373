//! The API keys port. Secrets are never stored, only their SHA-256.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use parley_domain::{ApiKey, ApiKeyId, NewApiKey, NewAuditEntry, OrgId};

use crate::{Page, PageRequest, StoreError};

/// A key with the hash its secret must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredApiKey {
    /// The key.
    pub key: ApiKey,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
}

/// API keys.
#[async_trait]
pub trait ApiKeyStore: Send + Sync {
    /// Stores a new key and its audit entry in one transaction.
    async fn create_api_key(
        &self,
        new: NewApiKey,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError>;

    /// A key with its secret hash, revoked or not.
    async fn find_api_key(&self, id: ApiKeyId) -> Result<Option<StoredApiKey>, StoreError>;

    /// Keys of exactly `organization`, ordered by id.
    async fn list_api_keys(
        &self,
        organization: OrgId,
        page: PageRequest,
    ) -> Result<Page<ApiKey>, StoreError>;

    /// Revokes a key of `organization` (`NotFound` otherwise). Revoking twice keeps the
    /// first revocation time.
    async fn revoke_api_key(
        &self,
        organization: OrgId,
        id: ApiKeyId,
        at: DateTime<Utc>,
        audit: NewAuditEntry,
    ) -> Result<ApiKey, StoreError>;
}
