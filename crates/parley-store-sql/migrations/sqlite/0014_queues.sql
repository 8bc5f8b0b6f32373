-- Queues (SPEC §5): where conversations wait for people, by key. A conversation keeps the
-- key of the queue it waits in even when the queue is removed, so there is no foreign key
-- from conversations.
CREATE TABLE queues (
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    name            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, key)
);
