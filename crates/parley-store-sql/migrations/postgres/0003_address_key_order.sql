-- The address key leads with the address itself (as on SQLite): in a one-organization
-- database every key starts with the same organization id, so comparisons reach the part
-- that differs sooner. Lookups are by the whole key, so no query changes.
ALTER TABLE contact_addresses
    DROP CONSTRAINT contact_addresses_pkey,
    ADD CONSTRAINT contact_addresses_pkey PRIMARY KEY (address, channel_kind, organization_id);
