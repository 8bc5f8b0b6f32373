-- The address key leads with the address itself. Every key in the table starts with the
-- same organization id in a one-organization database, so with the organization first
-- each comparison walked ~35 equal bytes before reaching the part that differs; imports
-- spend most of their time descending this B-tree (addresses arrive in no order).
-- Lookups are by the whole key, so the column order changes no query.
CREATE TABLE contact_addresses_new (
    organization_id TEXT    NOT NULL,
    channel_kind    TEXT    NOT NULL,
    address         TEXT    NOT NULL,
    contact_id      TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (address, channel_kind, organization_id)
) WITHOUT ROWID;
INSERT INTO contact_addresses_new (organization_id, channel_kind, address, contact_id, created_at)
    SELECT organization_id, channel_kind, address, contact_id, created_at FROM contact_addresses;
DROP TABLE contact_addresses;
ALTER TABLE contact_addresses_new RENAME TO contact_addresses;
CREATE INDEX contact_addresses_contact ON contact_addresses (contact_id);
