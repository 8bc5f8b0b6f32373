-- Campaigns (SPEC §6): one first message to each contact of an audience, through a
-- channel, at a pace, inside a send window in each contact's local time. The audience and
-- the window are the documents the API took (JSON), checked by the application.
CREATE TABLE campaigns (
    id              TEXT    NOT NULL PRIMARY KEY,
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            TEXT    NOT NULL,
    audience        TEXT    NOT NULL,
    flow_id         TEXT    NOT NULL REFERENCES flows (id),
    flow_version    INTEGER NOT NULL,
    channel_id      TEXT    NOT NULL REFERENCES channels (id),
    start_at        INTEGER,
    send_window     TEXT    NOT NULL,
    rate_per_second INTEGER NOT NULL CHECK (rate_per_second > 0),
    status          TEXT    NOT NULL CHECK (status IN
                        ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    revision        INTEGER NOT NULL
);
CREATE INDEX campaigns_organization_idx ON campaigns (organization_id, id);
