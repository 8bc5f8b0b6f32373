-- People's notes on conversations (SPEC §5): author, text, time. Never sent to the
-- customer; removed with their conversation.
CREATE TABLE conversation_notes (
    id              TEXT    PRIMARY KEY,
    organization_id TEXT    NOT NULL,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author          TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX conversation_notes_by_conversation ON conversation_notes (conversation_id, id);
