-- Messaging channels (SPEC §5): a provider account and sender of an organization, the flow
-- that greets customers who write first (or the queue they wait in), and its send rate.
-- Settings that are not secret are a JSON object; credentials are sealed by the app.
CREATE TABLE channels (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider        TEXT    NOT NULL CHECK (provider IN ('sim', 'twilio', 'whatsapp', 'webchat')),
    name            TEXT    NOT NULL,
    sender          TEXT    NOT NULL,
    inbound_flow_id TEXT    REFERENCES flows (id),
    inbound_queue   TEXT    NOT NULL,
    rate_per_second BIGINT  NOT NULL CHECK (rate_per_second > 0),
    settings        TEXT    NOT NULL,
    secret_sealed   TEXT,
    enabled         BIGINT  NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
CREATE INDEX channels_organization_idx ON channels (organization_id, id);
