-- Queue members (SPEC §5): the people who take a queue's conversations, each up to a
-- capacity, while available; `last_assigned_at` orders the round-robin. `queue` is a key,
-- not a reference: Parley's own `default` queue has no row, and conversations keep the
-- key of a removed queue, as its members do.
CREATE TABLE queue_members (
    organization_id  TEXT    NOT NULL,
    queue            TEXT    NOT NULL,
    user_id          TEXT    NOT NULL,
    capacity         BIGINT  NOT NULL,
    available        BIGINT  NOT NULL,
    last_assigned_at BIGINT,
    updated_at       BIGINT  NOT NULL,
    PRIMARY KEY (organization_id, queue, user_id),
    FOREIGN KEY (organization_id) REFERENCES organizations (id) ON DELETE CASCADE
);
-- Waiting conversations of a queue, oldest first.
CREATE INDEX conversations_waiting ON conversations (organization_id, queue, id)
    WHERE state = 'queued' AND assignee IS NULL;
