//! Master-key rotation: every sealed value in the store re-sealed under a new key, and the
//! store's key check moved to it, in one transaction.
//!
//! What a rotation keeps and what it ends (a rotation is usually made because the old key
//! may have been seen, so nothing that key could forge outlives it):
//!
//! * Kept: channel credentials, webhook signing secrets (current and previous), SFTP
//!   credentials, custom-value secrets and kept Idempotency-Key answers, all re-sealed; and
//!   the opt-out list. Opt-outs are stored as keyed hashes of addresses Parley may no longer
//!   hold, so they cannot be re-hashed: the hash key in use is carried over, sealed under
//!   the new key (fact [`CARRIED_SUPPRESSION`]), and a later rotation carries it again.
//! * Ended: API tokens (JWTs) and the CSRF tokens of open pages, signed with keys derived
//!   from the old master key (clients exchange their API key again; pages reload), and web
//!   chat visitor tokens (a returning visitor starts a new conversation). Sessions, API keys
//!   and passwords are stored as hashes that no master key touches, and stay.

use parley_store::{BoxError, Resealed, Resealing, SealedKind, SealedRef, Store};

use super::{MasterKey, SealedBox, context};
use crate::{App, AppError, FieldError};

/// The installation fact naming the master key the store's secrets are sealed with (a
/// check value derived from the key, not the key).
pub const KEY_CHECK: &str = "key_check";

/// The installation fact holding the opt-out hash key carried over by a rotation, sealed
/// under the current master key.
const CARRIED_SUPPRESSION: &str = "suppression_key";

/// What the carried hash key is sealed to.
const CARRIED_CONTEXT: &str = "installation:suppression_key";

/// The opt-out hash key a rotation carried over, opened with the current key; `None` when
/// the store's key was never rotated (the key is then derived from the master key).
pub(crate) async fn carried_suppression_key(
    store: &dyn Store,
    sealed_box: &SealedBox,
) -> Result<Option<[u8; 32]>, AppError> {
    let Some(sealed) = store.installation_fact(CARRIED_SUPPRESSION).await? else {
        return Ok(None);
    };
    let opened = sealed_box
        .open(&sealed, CARRIED_CONTEXT)
        .map_err(|e| AppError::Internal(Box::new(e)))?;
    let key: [u8; 32] = opened
        .try_into()
        .map_err(|_| AppError::Internal("the carried opt-out hash key is not 32 bytes".into()))?;
    Ok(Some(key))
}

impl App {
    /// Re-seals every sealed value under `new` and records `new` as the store's key, in
    /// one transaction; the counts of what was re-sealed. A value that does not open with
    /// the current key stops the rotation with nothing written, naming it, except a kept
    /// Idempotency-Key answer, which is left as it is (a retry with its key is already told
    /// to use a new key). The processes running with the old key must be restarted with
    /// the new one: see [`App::master_key_is_current`].
    pub async fn rotate_master_key(&self, new: &MasterKey) -> Result<Resealed, AppError> {
        let check = new.check_value();
        if check == self.keys.check {
            return Err(AppError::Invalid(vec![FieldError::new(
                "new_key",
                "is the master key in use; a rotation needs a different key",
            )]));
        }
        let old = &self.keys.sealed_box;
        let next = SealedBox::new(new);
        let carried = next
            .seal(&self.keys.suppression, CARRIED_CONTEXT)
            .map_err(|e| AppError::Internal(Box::new(e)))?;
        let reseal = |r: SealedRef<'_>, sealed: &str| -> Result<Resealing, BoxError> {
            let context = context(r.kind, r.key, r.sub_key);
            match old.open(sealed, &context) {
                Ok(plain) => Ok(Resealing::Replace(next.seal(&plain, &context)?)),
                Err(_) if r.kind == SealedKind::IdempotencyAnswer => Ok(Resealing::Keep),
                Err(e) => Err(format!(
                    "the {} of {} does not open with the master key in use ({e}); \
                     nothing was changed",
                    r.kind.describe(),
                    r.key
                )
                .into()),
            }
        };
        let facts = [(KEY_CHECK, check.as_str()), (CARRIED_SUPPRESSION, &carried)];
        let done = self.store.reseal_secrets(&reseal, &facts).await?;
        tracing::warn!(
            resealed = done.replaced.iter().sum::<u64>(),
            "the master key was rotated: restart every Parley process with the new key"
        );
        Ok(done)
    }

    /// The check value of this process's master key (what the store records for it).
    #[must_use]
    pub fn master_key_check(&self) -> &str {
        &self.keys.check
    }

    /// Whether the store's secrets are still sealed with this process's master key: false
    /// once another process rotated it, when this one must stop (what it sealed from then
    /// on could not be opened).
    pub async fn master_key_is_current(&self) -> Result<bool, AppError> {
        let recorded = self.store.installation_fact(KEY_CHECK).await?;
        Ok(recorded.is_none_or(|c| c == self.keys.check))
    }
}
