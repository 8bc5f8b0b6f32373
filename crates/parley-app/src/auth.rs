//! Authentication and access (SPEC §1). A request carries either a JWT obtained for an API
//! key or a browser session cookie; either becomes a [`Principal`] (who, at which home
//! organization, with which permissions). [`App::access`] then turns it into an [`Access`]
//! on one organization: the home one or, via `Parley-Organization`, a descendant.

mod access;
mod passwords;
mod sessions;
mod throttle;
mod tokens;

pub use access::{Access, Principal, Subject};
pub use passwords::{
    Argon2Cost, PasswordPool, PoolSize, check_password_policy, hash_password, verify_password,
};
pub use sessions::{SignIn, SignedIn};
pub use throttle::{Locked, MAX_TRACKED, Throttle, ThrottleSettings};
pub use tokens::{IssuedToken, TokenClaims, new_api_key_secret, new_password};

use crate::MasterKey;

/// Purpose keys derived from the master key.
pub struct Keys {
    pub(crate) jwt: [u8; 32],
    pub(crate) csrf: [u8; 32],
    pub(crate) suppression: [u8; 32],
    pub(crate) webchat: [u8; 32],
    /// The master key's check value, as the store records it.
    pub(crate) check: String,
    /// Seals secrets at rest.
    pub sealed_box: crate::SealedBox,
}

impl Keys {
    /// Derives every purpose key, except the opt-out hash key when an earlier master-key
    /// rotation carried one over (see `sealing::rotation`).
    #[must_use]
    pub fn derive(master: &MasterKey, carried_suppression: Option<[u8; 32]>) -> Self {
        Self {
            jwt: master.derive("jwt-hs256"),
            csrf: master.derive("csrf"),
            suppression: carried_suppression.unwrap_or_else(|| master.derive("suppression-hash")),
            webchat: master.derive("webchat-visitor-token"),
            check: master.check_value(),
            sealed_box: crate::SealedBox::new(master),
        }
    }
}

/// Hex SHA-256 of a secret (API key secrets and session tokens are 256 random bits, so a
/// fast hash is enough; only the hash is stored).
#[must_use]
pub fn secret_hash(secret: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// A fresh 256-bit random token, base64url.
pub(crate) fn random_token() -> Result<String, crate::AppError> {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| crate::AppError::Internal(Box::new(e)))?;
    Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
