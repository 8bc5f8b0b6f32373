//! Secrets at rest (SPEC §11): a sealed box over XChaCha20-Poly1305. The master key comes
//! from configuration (or a key file the binary generates on first start); purpose keys are
//! derived from it with HKDF-SHA256, so one configured secret serves token signing, CSRF
//! and sealing without any two sharing a key.
//!
//! A sealed value is `v1.` + base64url(24-byte nonce ‖ ciphertext ‖ tag). The caller's
//! associated data (for example `webhook_endpoint:<id>:secret`) binds a ciphertext to its
//! row and column, so a sealed value copied elsewhere does not open.

mod rotation;

pub use rotation::KEY_CHECK;
pub(crate) use rotation::carried_suppression_key;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use parley_store::SealedKind;
use sha2::Sha256;

const VERSION: &str = "v1.";
const NONCE_LEN: usize = 24;

/// Why a key or a sealed value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The master key is not 32 bytes of standard or URL-safe base64.
    #[error("the master key must be 32 bytes, base64-encoded (44 characters)")]
    BadKey,
    /// The value is not in the sealed format.
    #[error("not a sealed value")]
    Malformed,
    /// Wrong key, wrong associated data, or tampered ciphertext.
    #[error("the sealed value does not open with this key")]
    Rejected,
    /// The system's random source failed.
    #[error("no randomness available")]
    NoRandomness,
}

/// The installation's master secret.
#[derive(Clone)]
pub struct MasterKey([u8; 32]);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, SealError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|_| SealError::NoRandomness)?;
        Ok(Self(key))
    }

    /// Reads a base64 key (standard or URL-safe, padded or not); surrounding space ignored.
    pub fn from_base64(text: &str) -> Result<Self, SealError> {
        let t = text.trim();
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(t)
            .or_else(|_| URL_SAFE_NO_PAD.decode(t.trim_end_matches('=')))
            .map_err(|_| SealError::BadKey)?;
        let key: [u8; 32] = bytes.try_into().map_err(|_| SealError::BadKey)?;
        Ok(Self(key))
    }

    /// The key as standard base64, for writing the key file.
    #[must_use]
    pub fn to_base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// A short value that names this key without revealing it (16 hex digits of a key
    /// derived for this purpose only): stored with the data the key protects, so a start
    /// with another key can be refused.
    #[must_use]
    pub fn check_value(&self) -> String {
        hex::encode(&self.derive("master key check")[..8])
    }

    /// A 32-byte key for one purpose, derived with HKDF-SHA256.
    #[must_use]
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let hk = Hkdf::<Sha256>::new(Some(b"parley/v1"), &self.0);
        let mut out = [0u8; 32];
        // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so expand cannot fail.
        if hk.expand(purpose.as_bytes(), &mut out).is_err() {
            out = [0u8; 32];
        }
        out
    }
}

/// The associated data a sealed value of `kind` is bound to: its row (`key`, and `sub_key`
/// for a two-part key) and its column. Every place that seals or opens a stored secret
/// names it through here, and so does a master-key rotation.
#[must_use]
pub fn context(kind: SealedKind, key: &str, sub_key: &str) -> String {
    match kind {
        // A previous secret is the secret it was, moved aside: same binding.
        SealedKind::WebhookSecret | SealedKind::WebhookPreviousSecret => {
            format!("webhook_endpoint:{key}:secret")
        }
        SealedKind::SftpCredential => format!("webhook_endpoint:{key}:sftp"),
        SealedKind::ChannelCredentials => format!("channel:{key}"),
        SealedKind::CustomValueSecret => format!("custom_value_endpoint:{key}:secret"),
        SealedKind::IdempotencyAnswer => format!("idempotency:{key}:{sub_key}"),
    }
}

/// Seals and opens secrets with a key derived from the master key.
#[derive(Clone)]
pub struct SealedBox {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for SealedBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealedBox")
    }
}

impl SealedBox {
    /// The sealed box of this installation.
    #[must_use]
    pub fn new(master: &MasterKey) -> Self {
        let key = master.derive("sealed-box");
        Self {
            cipher: XChaCha20Poly1305::new((&key).into()),
        }
    }

    /// Encrypts `plaintext`, bound to `context` (associated data).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|_| SealError::NoRandomness)?;
        let sealed = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Rejected)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(out)))
    }

    /// Decrypts a value sealed with the same key and `context`.
    pub fn open(&self, sealed: &str, context: &str) -> Result<Vec<u8>, SealError> {
        let body = sealed.strip_prefix(VERSION).ok_or(SealError::Malformed)?;
        let bytes = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| SealError::Malformed)?;
        if bytes.len() < NONCE_LEN + 16 {
            return Err(SealError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        self.cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| SealError::Rejected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_context() {
        let key = MasterKey::generate().unwrap();
        let bx = SealedBox::new(&key);
        let sealed = bx.seal(b"whsec_abc", "webhook:1:secret").unwrap();
        assert!(sealed.starts_with("v1."));
        assert!(!sealed.contains("whsec_abc"));
        assert_eq!(bx.open(&sealed, "webhook:1:secret").unwrap(), b"whsec_abc");
        assert_eq!(
            bx.open(&sealed, "webhook:2:secret"),
            Err(SealError::Rejected)
        );
        let other = SealedBox::new(&MasterKey::generate().unwrap());
        assert_eq!(
            other.open(&sealed, "webhook:1:secret"),
            Err(SealError::Rejected)
        );
        assert_ne!(
            bx.seal(b"x", "c").unwrap(),
            bx.seal(b"x", "c").unwrap(),
            "fresh nonce each time"
        );
        let mut tampered = sealed.into_bytes();
        let last = tampered.len() - 2;
        tampered[last] = if tampered[last] == b'A' { b'B' } else { b'A' };
        assert!(
            bx.open(std::str::from_utf8(&tampered).unwrap(), "webhook:1:secret")
                .is_err()
        );
        assert_eq!(bx.open("v2.xxx", "c"), Err(SealError::Malformed));
    }

    #[test]
    fn keys_round_trip_and_bad_keys_are_named() {
        let key = MasterKey::generate().unwrap();
        let again = MasterKey::from_base64(&key.to_base64()).unwrap();
        assert_eq!(key.derive("a"), again.derive("a"));
        assert_ne!(
            key.derive("a"),
            key.derive("b"),
            "purposes never share a key"
        );
        assert_eq!(
            MasterKey::from_base64("c2hvcnQ=").unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(
            MasterKey::from_base64("not base64!").unwrap_err(),
            SealError::BadKey
        );
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    proptest! {
        #[test]
        fn opening_arbitrary_text_never_panics(text in ".{0,80}") {
            let bx = SealedBox::new(&MasterKey::from_base64(&"A".repeat(43)).unwrap());
            let _ = bx.open(&text, "ctx");
            let _ = bx.open(&format!("v1.{text}"), "ctx");
        }

        #[test]
        fn round_trips_any_bytes(data in proptest::collection::vec(any::<u8>(), 0..256)) {
            let bx = SealedBox::new(&MasterKey::generate().unwrap());
            prop_assert_eq!(bx.open(&bx.seal(&data, "c").unwrap(), "c").unwrap(), data);
        }
    }
}
