-- Conversations and messages (SPEC §5). At most one open conversation per contact and
-- channel (the partial unique index); `revision` is bumped by every turn. A message's
-- provider id is unique on its channel, so a provider's repeated callback cannot add a
-- message twice. `status_times` holds every status report's time, by status name.
CREATE TABLE conversations (
    id                   TEXT    NOT NULL PRIMARY KEY,
    organization_id      TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    contact_id           TEXT    NOT NULL,
    channel_id           TEXT    NOT NULL REFERENCES channels (id),
    direction            TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    flow_id              TEXT,
    flow_version         INTEGER,
    state                TEXT    NOT NULL CHECK (state IN ('bot', 'queued', 'assigned', 'closed')),
    queue                TEXT,
    assignee             TEXT,
    status               TEXT,
    flow_state           TEXT    NOT NULL,
    revision             INTEGER NOT NULL,
    last_inbound_at      INTEGER,
    opened_at            INTEGER NOT NULL,
    first_agent_reply_at INTEGER,
    closed_at            INTEGER,
    updated_at           INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_open_key ON conversations (contact_id, channel_id)
    WHERE state <> 'closed';
CREATE INDEX conversations_organization_idx ON conversations (organization_id, state, id);

CREATE TABLE messages (
    id                  TEXT    NOT NULL PRIMARY KEY,
    organization_id     TEXT    NOT NULL,
    conversation_id     TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    channel_id          TEXT    NOT NULL,
    direction           TEXT    NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    sender              TEXT    NOT NULL,
    body                TEXT    NOT NULL,
    status              TEXT    NOT NULL,
    provider_message_id TEXT,
    error_code          TEXT,
    error_message       TEXT,
    segments            INTEGER NOT NULL,
    encoding            TEXT,
    status_times        TEXT    NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE INDEX messages_conversation_idx ON messages (conversation_id, id);
CREATE UNIQUE INDEX messages_provider_key ON messages (channel_id, provider_message_id)
    WHERE provider_message_id IS NOT NULL;
