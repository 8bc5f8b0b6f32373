-- Outcome statuses (SPEC §5): the organization's list that flows and agents tag
-- conversations with. A conversation keeps the key it was tagged with even when the
-- status is removed, so there is no foreign key from conversations.
CREATE TABLE outcome_statuses (
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    label           TEXT    NOT NULL,
    category        TEXT    NOT NULL CHECK (category IN ('positive', 'neutral', 'negative')),
    closes          INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (organization_id, key)
);
