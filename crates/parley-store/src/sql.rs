//! SQL text that is the same on both engines (both take `$n` parameters), so it is written
//! once; each engine binds the parameters with its own types. Engine-specific statements
//! (locking, upserts that differ, pragmas) stay in the engines.

/// Inserts a channel: every column as `$1…$13` in table order.
pub const INSERT_CHANNEL: &str = "INSERT INTO channels (id, organization_id, provider, name, sender, \
     inbound_flow_id, inbound_queue, rate_per_second, settings, secret_sealed, enabled, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *";

/// Replaces a channel of its organization (`$1` id, `$2` organization; the provider and
/// creation time never change).
pub const UPDATE_CHANNEL: &str = "UPDATE channels SET name = $4, sender = $5, inbound_flow_id = $6, \
     inbound_queue = $7, rate_per_second = $8, settings = $9, secret_sealed = $10, enabled = $11, \
     updated_at = $13 WHERE id = $1 AND organization_id = $2 AND $3 IS NOT NULL AND $12 IS NOT NULL \
     RETURNING *";

/// A page of an organization's channels (`$1` organization, `$2` cursor, `$3` limit).
pub const LIST_CHANNELS: &str = "SELECT * FROM channels WHERE organization_id = $1 \
     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3";

/// A channel of an organization (`$1` id, `$2` organization).
pub const FIND_CHANNEL: &str = "SELECT * FROM channels WHERE id = $1 AND organization_id = $2";

/// A channel by id alone (`$1`), for provider callbacks.
pub const FIND_CHANNEL_FOR_CALLBACK: &str = "SELECT * FROM channels WHERE id = $1";
