-- Contacts, custom fields, channel addresses, suppressions and imports (SQLite).
-- Same conventions and constraint names as the PostgreSQL set.

-- Custom field definitions; the built-in ones are not stored.
CREATE TABLE field_definitions (
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    key             TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    pii             INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, key)
) WITHOUT ROWID;

-- Values are one JSON object per contact (TEXT here, jsonb on PostgreSQL). Clustered by
-- (organization, id): one B-tree for the rows, the per-organization listing and the
-- lookup by id, which matters for import speed (each B-tree costs every inserted row).
CREATE TABLE contacts (
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    id              TEXT    NOT NULL,
    customer_id     TEXT,
    fields          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX contacts_customer_key ON contacts (organization_id, customer_id)
    WHERE customer_id IS NOT NULL;

-- One clustered B-tree keyed by the address: the unique rule and the lookup in one. The
-- store deletes a contact's addresses with the contact (no foreign key: contacts are
-- keyed by organization and id).
CREATE TABLE contact_addresses (
    organization_id TEXT    NOT NULL,
    channel_kind    TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    contact_id      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, channel_kind, address)
) WITHOUT ROWID;
CREATE INDEX contact_addresses_contact ON contact_addresses (contact_id);

-- Opted-out addresses, as keyed hashes; no foreign key to contacts, so they outlive them.
CREATE TABLE suppressions (
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    channel_kind    TEXT    NOT NULL,
    address_hash    TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, channel_kind, address_hash)
) WITHOUT ROWID;

CREATE TABLE imports (
    id                 TEXT    NOT NULL PRIMARY KEY,
    organization_id    TEXT    NOT NULL REFERENCES organizations (id),
    status             TEXT    NOT NULL,
    format             TEXT    NOT NULL,
    file_name          TEXT,
    options            TEXT    NOT NULL,
    header             TEXT    NOT NULL DEFAULT '[]',
    warnings           TEXT    NOT NULL DEFAULT '[]',
    rows_total         INTEGER NOT NULL DEFAULT 0,
    rows_imported      INTEGER NOT NULL DEFAULT 0,
    rows_rejected      INTEGER NOT NULL DEFAULT 0,
    contacts_created   INTEGER NOT NULL DEFAULT 0,
    contacts_updated   INTEGER NOT NULL DEFAULT 0,
    contacts_unchanged INTEGER NOT NULL DEFAULT 0,
    reject_lines       INTEGER NOT NULL DEFAULT 0,
    bytes_total        INTEGER NOT NULL,
    bytes_read         INTEGER NOT NULL DEFAULT 0,
    error              TEXT,
    created_by         TEXT,
    created_at         INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    CHECK (rows_total = rows_imported + rows_rejected)
);
CREATE INDEX imports_organization ON imports (organization_id, id);

-- The uploaded file, in chunks, until the import is done.
CREATE TABLE import_chunks (
    import_id TEXT    NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB    NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- The rejects report, one line per refused value.
CREATE TABLE import_rejects (
    import_id   TEXT    NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line        INTEGER NOT NULL,
    row_number  INTEGER NOT NULL,
    column_name TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    original    TEXT    NOT NULL,
    PRIMARY KEY (import_id, line)
) WITHOUT ROWID;
