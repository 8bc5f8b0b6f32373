//! Sealed values at rest, walked for a master-key rotation (see `Store::reseal_secrets`).
//! The application seals secrets before they reach the store; the store only knows which
//! columns hold them and how to page through and rewrite each one, so both engines walk the
//! same list with the same statements.

use crate::decode::{self, RowSource};
use crate::{BoxError, StoreError};

/// What a sealed value is: the application binds each kind to its row with its own
/// sealing context.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SealedKind {
    /// A webhook endpoint's signing secret (`key` is the endpoint id).
    WebhookSecret,
    /// A webhook endpoint's previous signing secret during a rotation overlap.
    WebhookPreviousSecret,
    /// An SFTP endpoint's login credential (`key` is the endpoint id).
    SftpCredential,
    /// A channel's provider credentials (`key` is the channel id).
    ChannelCredentials,
    /// An organization's custom-value endpoint secret (`key` is the organization id).
    CustomValueSecret,
    /// A kept Idempotency-Key answer (`key` is its scope, `sub_key` the client's key).
    IdempotencyAnswer,
}

impl SealedKind {
    /// Every kind, in the order a rotation walks them.
    pub const ALL: [SealedKind; 6] = [
        SealedKind::WebhookSecret,
        SealedKind::WebhookPreviousSecret,
        SealedKind::SftpCredential,
        SealedKind::ChannelCredentials,
        SealedKind::CustomValueSecret,
        SealedKind::IdempotencyAnswer,
    ];

    /// Words for people: "webhook signing secret".
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            SealedKind::WebhookSecret => "webhook signing secret",
            SealedKind::WebhookPreviousSecret => "previous webhook signing secret",
            SealedKind::SftpCredential => "SFTP credential",
            SealedKind::ChannelCredentials => "channel credentials",
            SealedKind::CustomValueSecret => "custom-value endpoint secret",
            SealedKind::IdempotencyAnswer => "kept Idempotency-Key answer",
        }
    }

    /// The statements that page through and rewrite this kind's column.
    #[must_use]
    pub fn column(self) -> &'static SealedColumn {
        &SEALED_COLUMNS[self as usize]
    }
}

/// One sealed value as found in the store.
#[derive(Debug, Clone, Copy)]
pub struct SealedRef<'a> {
    /// What it is.
    pub kind: SealedKind,
    /// Its row: an id, or an idempotency scope.
    pub key: &'a str,
    /// The second half of a two-part row key (an Idempotency-Key); empty otherwise.
    pub sub_key: &'a str,
}

/// What a rotation does with one sealed value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resealing {
    /// Write this value (sealed under the new key) in place of the old one.
    Replace(String),
    /// Leave the value as it is (it was already unreadable and the row copes with that).
    Keep,
}

/// Turns one sealed value into its replacement; an error aborts the whole rotation.
pub type Reseal<'a> = dyn Fn(SealedRef<'_>, &str) -> Result<Resealing, BoxError> + Send + Sync + 'a;

/// How many values of each kind a rotation re-sealed, and how many it left as they were.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resealed {
    /// Re-sealed values, indexed like [`SealedKind::ALL`].
    pub replaced: [u64; 6],
    /// Values left as they were, indexed like [`SealedKind::ALL`].
    pub kept: [u64; 6],
}

impl Resealed {
    /// Counts one value of `kind`.
    pub fn count(&mut self, kind: SealedKind, what: &Resealing) {
        match what {
            Resealing::Replace(_) => self.replaced[kind as usize] += 1,
            Resealing::Keep => self.kept[kind as usize] += 1,
        }
    }
}

/// Rows read per statement while walking a column.
pub const RESEAL_PAGE: i64 = 500;

/// A column of sealed values. `page` reads rows after (`$1`, `$2`) in key order, at most
/// `$3` of them, as `k1`, `k2` and `sealed`; `update` writes `$3` into the row (`$1`,
/// `$2`). One-part keys compare with an empty second part.
#[derive(Debug)]
pub struct SealedColumn {
    /// What the column holds.
    pub kind: SealedKind,
    /// Reads one page.
    pub page: &'static str,
    /// Rewrites one value.
    pub update: &'static str,
    /// Whether the column is a BLOB / BYTEA holding the sealed text's bytes.
    pub bytes: bool,
}

/// Every column that holds sealed values, indexed like [`SealedKind::ALL`].
pub const SEALED_COLUMNS: [SealedColumn; 6] = [
    SealedColumn {
        kind: SealedKind::WebhookSecret,
        page: "SELECT id AS k1, '' AS k2, secret_sealed AS sealed FROM webhook_endpoints \
               WHERE id > $1 AND $2 = '' ORDER BY id LIMIT $3",
        update: "UPDATE webhook_endpoints SET secret_sealed = $3 WHERE id = $1 AND $2 = ''",
        bytes: false,
    },
    SealedColumn {
        kind: SealedKind::WebhookPreviousSecret,
        page: "SELECT id AS k1, '' AS k2, previous_secret_sealed AS sealed \
               FROM webhook_endpoints WHERE previous_secret_sealed IS NOT NULL \
               AND id > $1 AND $2 = '' ORDER BY id LIMIT $3",
        update: "UPDATE webhook_endpoints SET previous_secret_sealed = $3 \
                 WHERE id = $1 AND $2 = ''",
        bytes: false,
    },
    SealedColumn {
        kind: SealedKind::SftpCredential,
        page: "SELECT id AS k1, '' AS k2, sftp_credential_sealed AS sealed \
               FROM webhook_endpoints WHERE sftp_credential_sealed IS NOT NULL \
               AND id > $1 AND $2 = '' ORDER BY id LIMIT $3",
        update: "UPDATE webhook_endpoints SET sftp_credential_sealed = $3 \
                 WHERE id = $1 AND $2 = ''",
        bytes: false,
    },
    SealedColumn {
        kind: SealedKind::ChannelCredentials,
        page: "SELECT id AS k1, '' AS k2, secret_sealed AS sealed FROM channels \
               WHERE secret_sealed IS NOT NULL AND id > $1 AND $2 = '' ORDER BY id LIMIT $3",
        update: "UPDATE channels SET secret_sealed = $3 WHERE id = $1 AND $2 = ''",
        bytes: false,
    },
    SealedColumn {
        kind: SealedKind::CustomValueSecret,
        page: "SELECT organization_id AS k1, '' AS k2, secret_sealed AS sealed \
               FROM custom_value_endpoints WHERE organization_id > $1 AND $2 = '' \
               ORDER BY organization_id LIMIT $3",
        update: "UPDATE custom_value_endpoints SET secret_sealed = $3 \
                 WHERE organization_id = $1 AND $2 = ''",
        bytes: false,
    },
    SealedColumn {
        kind: SealedKind::IdempotencyAnswer,
        page: "SELECT scope AS k1, key AS k2, body AS sealed FROM idempotency_keys \
               WHERE body IS NOT NULL AND (scope > $1 OR (scope = $1 AND key > $2)) \
               ORDER BY scope, key LIMIT $3",
        update: "UPDATE idempotency_keys SET body = $3 WHERE scope = $1 AND key = $2",
        bytes: true,
    },
];

/// One page row, decided: its key, and the value to write in place of the old one (none
/// when it stays as it is).
#[derive(Debug)]
pub struct ResealedRow {
    /// The row's key (`$1` of the column's `update`).
    pub k1: String,
    /// The second part of the row's key (`$2`).
    pub k2: String,
    /// The new sealed value (`$3`), written as text or as its bytes per the column.
    pub replacement: Option<String>,
}

/// Reads one row of `column`'s page, asks `reseal` what becomes of its value and counts
/// it: the part of a rotation both engines share.
pub fn reseal_row(
    r: &impl RowSource,
    column: &SealedColumn,
    reseal: &Reseal<'_>,
    counts: &mut Resealed,
) -> Result<ResealedRow, StoreError> {
    let k1 = decode::text(r, "k1")?;
    let k2 = decode::text(r, "k2")?;
    let sealed = if column.bytes {
        // A body that is not text cannot be a sealed value; `reseal` sees it and refuses.
        String::from_utf8_lossy(&decode::bytes(r, "sealed")?).into_owned()
    } else {
        decode::text(r, "sealed")?
    };
    let what = reseal(
        SealedRef {
            kind: column.kind,
            key: &k1,
            sub_key: &k2,
        },
        &sealed,
    )
    .map_err(StoreError::Other)?;
    counts.count(column.kind, &what);
    let replacement = match what {
        Resealing::Replace(value) => Some(value),
        Resealing::Keep => None,
    };
    Ok(ResealedRow {
        k1,
        k2,
        replacement,
    })
}

/// Records an installation fact, replacing any recorded value (`$1` name, `$2` value).
pub const SET_INSTALLATION_FACT: &str = "INSERT INTO installation (name, value) VALUES ($1, $2) \
     ON CONFLICT (name) DO UPDATE SET value = excluded.value";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_line_up_with_their_kinds() {
        for kind in SealedKind::ALL {
            assert_eq!(kind.column().kind, kind);
        }
    }
}
