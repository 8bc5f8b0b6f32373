//! Endpoint secrets as Standard Webhooks spells them: `whsec_` followed by the base64 of the
//! key bytes. Parley generates 32 random bytes; a supplied secret must decode to 24 to 64
//! bytes, the range Standard Webhooks libraries accept.

use std::fmt;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The prefix every secret carries.
pub const SECRET_PREFIX: &str = "whsec_";
/// Shortest key a secret may decode to, in bytes.
pub const MIN_SECRET_BYTES: usize = 24;
/// Longest key a secret may decode to, in bytes.
pub const MAX_SECRET_BYTES: usize = 64;
/// Bytes of a generated key.
pub const GENERATED_SECRET_BYTES: usize = 32;

/// Why a supplied secret was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SecretError {
    /// No `whsec_` prefix.
    #[error("must start with `whsec_`")]
    Prefix,
    /// The rest is not standard base64.
    #[error("the part after `whsec_` must be standard base64")]
    Base64,
    /// The key is too short or too long.
    #[error("must decode to {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes, not {0}")]
    Length(usize),
    /// The system's random source failed.
    #[error("no randomness available")]
    Random,
}

/// An endpoint's signing key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret {
    key: Vec<u8>,
}

impl Secret {
    /// A new random secret.
    pub fn generate() -> Result<Self, SecretError> {
        let mut key = vec![0u8; GENERATED_SECRET_BYTES];
        getrandom::fill(&mut key).map_err(|_| SecretError::Random)?;
        Ok(Self { key })
    }

    /// Reads `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::Base64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&key.len()) {
            return Err(SecretError::Length(key.len()));
        }
        Ok(Self { key })
    }

    /// The key bytes that sign (the decoded base64).
    #[must_use]
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// `whsec_<base64>`, to show once and to store sealed.
    #[must_use]
    pub fn expose(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(whsec_…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_round_trip_and_differ() {
        let a = Secret::generate().unwrap();
        let b = Secret::generate().unwrap();
        assert_ne!(a, b);
        assert_eq!(a.key().len(), GENERATED_SECRET_BYTES);
        assert!(a.expose().starts_with("whsec_"));
        assert_eq!(Secret::parse(&a.expose()).unwrap(), a);
        assert_eq!(format!("{a:?}"), "Secret(whsec_…)");
    }

    #[test]
    fn supplied_secrets_are_checked() {
        // The Standard Webhooks specification's example secret (24 bytes).
        let s = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(s.key().len(), 24);
        assert_eq!(
            Secret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::Prefix)
        );
        assert_eq!(Secret::parse("whsec_not base64!"), Err(SecretError::Base64));
        assert_eq!(Secret::parse("whsec_c2hvcnQ="), Err(SecretError::Length(5)));
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(Secret::parse(&long), Err(SecretError::Length(65)));
    }
}
