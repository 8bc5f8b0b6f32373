-- The installation's own facts, one row each. `key_check` identifies the master key the
-- store's sealed secrets, tokens and opt-out hashes were made with (a value derived from
-- the key, not the key), so a start with another key is refused instead of silently
-- writing secrets no one can read and forgetting who opted out.
CREATE TABLE installation (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
