-- How far each person has read each conversation: the time of the newest customer message
-- they had in front of them. The desk marks a conversation unread for a person while the
-- customer wrote after that.
CREATE TABLE conversation_reads (
    user_id         TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id TEXT    NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    organization_id TEXT    NOT NULL,
    read_up_to      BIGINT  NOT NULL,
    PRIMARY KEY (user_id, conversation_id)
);
CREATE INDEX conversation_reads_conversation ON conversation_reads (conversation_id);
