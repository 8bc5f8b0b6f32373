-- Contacts, custom fields, channel addresses, suppressions and imports (PostgreSQL).
-- Same conventions and constraint names as the PostgreSQL set.

-- Custom field definitions; the built-in ones are not stored.
CREATE TABLE field_definitions (
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    key             TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    type            TEXT    NOT NULL,
    pii             BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (organization_id, key)
);

-- Values are one JSON object per contact (jsonb here, TEXT on SQLite).
CREATE TABLE contacts (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    customer_id     TEXT,
    fields          JSONB   NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE UNIQUE INDEX contacts_customer_key ON contacts (organization_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX contacts_organization ON contacts (organization_id, id);

-- The primary key is the unique rule and the lookup in one.
CREATE TABLE contact_addresses (
    organization_id TEXT    NOT NULL,
    channel_kind    TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    contact_id      TEXT    NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (organization_id, channel_kind, address)
);
CREATE INDEX contact_addresses_contact ON contact_addresses (contact_id);

-- Opted-out addresses, as keyed hashes; no foreign key to contacts, so they outlive them.
CREATE TABLE suppressions (
    organization_id TEXT    NOT NULL REFERENCES organizations (id),
    channel_kind    TEXT    NOT NULL,
    address_hash    TEXT    NOT NULL,
    reason          TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    PRIMARY KEY (organization_id, channel_kind, address_hash)
);

CREATE TABLE imports (
    id                 TEXT    NOT NULL PRIMARY KEY,
    organization_id    TEXT    NOT NULL REFERENCES organizations (id),
    status             TEXT    NOT NULL,
    format             TEXT    NOT NULL,
    file_name          TEXT,
    options            TEXT    NOT NULL,
    header             TEXT    NOT NULL DEFAULT '[]',
    warnings           TEXT    NOT NULL DEFAULT '[]',
    rows_total         BIGINT  NOT NULL DEFAULT 0,
    rows_imported      BIGINT  NOT NULL DEFAULT 0,
    rows_rejected      BIGINT  NOT NULL DEFAULT 0,
    contacts_created   BIGINT  NOT NULL DEFAULT 0,
    contacts_updated   BIGINT  NOT NULL DEFAULT 0,
    contacts_unchanged BIGINT  NOT NULL DEFAULT 0,
    reject_lines       BIGINT  NOT NULL DEFAULT 0,
    bytes_total        BIGINT  NOT NULL,
    bytes_read         BIGINT  NOT NULL DEFAULT 0,
    error              TEXT,
    created_by         TEXT,
    created_at         BIGINT  NOT NULL,
    started_at         BIGINT ,
    finished_at        BIGINT ,
    CHECK (rows_total = rows_imported + rows_rejected)
);
CREATE INDEX imports_organization ON imports (organization_id, id);

-- The uploaded file, in chunks, until the import is done.
CREATE TABLE import_chunks (
    import_id TEXT    NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       BIGINT  NOT NULL,
    data      BYTEA   NOT NULL,
    PRIMARY KEY (import_id, seq)
);

-- The rejects report, one line per refused value.
CREATE TABLE import_rejects (
    import_id   TEXT    NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    line        BIGINT  NOT NULL,
    row_number  BIGINT  NOT NULL,
    column_name TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    original    TEXT    NOT NULL,
    PRIMARY KEY (import_id, line)
);
