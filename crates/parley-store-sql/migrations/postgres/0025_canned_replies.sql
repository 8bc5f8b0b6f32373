-- Canned replies: an organization's saved replies, which agents insert in the desk's
-- reply box by typing `/` and part of the key or title. The body may hold `<<field>>`
-- placeholders, filled from the contact when the reply is inserted.
CREATE TABLE canned_replies (
    organization_id TEXT    NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (organization_id, key)
);
