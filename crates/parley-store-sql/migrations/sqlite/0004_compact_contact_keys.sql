-- Compact contact keys (SQLite). An import spends most of its time in the B-tree that
-- addresses reach in no order; with two 30-byte text ids in every entry, a million-row
-- address tree (~140 MB) could not stay in the writer's page cache and every insert read
-- and rewrote pages (BENCHMARKS.md, issue 3). Here every index entry carries integers
-- instead: organizations and contacts gain an integer `seq`, which the tables reference;
-- the public ids stay what they were and are still looked up by an index.
--
-- * organizations.seq: a small integer per organization, set when it is created.
-- * contacts: a rowid table keyed by `seq`; `(organization_seq, id)` and
--   `(organization_seq, customer_id)` are unique indexes (ids are time-ordered, so both
--   grow at their right edge during an import).
-- * contact_addresses: `(address, channel_kind, organization_seq) -> contact_seq`, about
--   25 bytes an entry; the index on contact_seq finds a contact's addresses. The address
--   row has no created_at of its own any more (nothing read it).
--
-- PostgreSQL keeps its schema (0004 there is empty): its import path is a different one.

ALTER TABLE organizations ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE organizations SET seq = rowid;
CREATE UNIQUE INDEX organizations_seq_key ON organizations (seq);

CREATE TABLE contacts_new (
    seq              INTEGER PRIMARY KEY,
    organization_seq INTEGER NOT NULL REFERENCES organizations (seq),
    id               TEXT    NOT NULL,
    customer_id      TEXT,
    fields           TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);
INSERT INTO contacts_new (organization_seq, id, customer_id, fields, created_at, updated_at)
    SELECT o.seq, c.id, c.customer_id, c.fields, c.created_at, c.updated_at
    FROM contacts c JOIN organizations o ON o.id = c.organization_id
    ORDER BY c.organization_id, c.id;
CREATE UNIQUE INDEX contacts_id_key ON contacts_new (organization_seq, id);

CREATE TABLE contact_addresses_new (
    address          TEXT    NOT NULL,
    channel_kind     TEXT    NOT NULL,
    organization_seq INTEGER NOT NULL,
    contact_seq      INTEGER NOT NULL,
    PRIMARY KEY (address, channel_kind, organization_seq)
) WITHOUT ROWID;
INSERT INTO contact_addresses_new (address, channel_kind, organization_seq, contact_seq)
    SELECT a.address, a.channel_kind, c.organization_seq, c.seq
    FROM contact_addresses a
    JOIN organizations o ON o.id = a.organization_id
    JOIN contacts_new c ON c.organization_seq = o.seq AND c.id = a.contact_id;

DROP TABLE contact_addresses;
DROP TABLE contacts;
ALTER TABLE contacts_new RENAME TO contacts;
ALTER TABLE contact_addresses_new RENAME TO contact_addresses;
CREATE UNIQUE INDEX contacts_customer_key ON contacts (organization_seq, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE INDEX contact_addresses_contact ON contact_addresses (contact_seq);
