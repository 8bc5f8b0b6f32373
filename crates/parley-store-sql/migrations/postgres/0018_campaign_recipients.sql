-- Campaign recipients (SPEC §6, ADR 0008) and what they are made from (PostgreSQL).
--
-- * import_contacts: which contacts an import touched (created, updated or found
--   unchanged), so a campaign's audience can be "the contacts of this file"; a link goes
--   with its contact.
-- * campaign_recipients: one row per audience contact, in audience order (`seq`): the
--   dispatcher's queue; the partial index holds only the pending ones, by when they are
--   due (`next_at`: 0 until a closed window defers them) and then in order.
-- * campaigns gain where the audience stands (the cursor into it, whether it is all
--   written, how many recipients it made) and an optional end (`end_at`).
-- * conversations.campaign_id: the campaign a conversation was started by.

CREATE TABLE import_contacts (
    import_id  TEXT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (import_id, contact_id)
);
CREATE INDEX import_contacts_contact ON import_contacts (contact_id);

ALTER TABLE campaigns ADD COLUMN end_at BIGINT;
ALTER TABLE campaigns ADD COLUMN audience_cursor TEXT;
ALTER TABLE campaigns ADD COLUMN audience_done BIGINT NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN recipients_total BIGINT NOT NULL DEFAULT 0;

CREATE TABLE campaign_recipients (
    campaign_id     TEXT    NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq             BIGINT  NOT NULL,
    contact_id      TEXT    NOT NULL,
    address         TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    reason          TEXT,
    error           TEXT,
    next_at         BIGINT  NOT NULL DEFAULT 0,
    conversation_id TEXT,
    message_id      TEXT,
    updated_at      BIGINT  NOT NULL,
    PRIMARY KEY (campaign_id, seq)
);
CREATE INDEX campaign_recipients_due ON campaign_recipients (campaign_id, next_at, seq)
    WHERE state = 'pending';

ALTER TABLE conversations ADD COLUMN campaign_id TEXT;
CREATE INDEX conversations_campaign_idx ON conversations (campaign_id)
    WHERE campaign_id IS NOT NULL;
