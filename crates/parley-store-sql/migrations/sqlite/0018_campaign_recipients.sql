-- Campaign recipients (SPEC §6, ADR 0008) and what they are made from.
--
-- * imports.seq and import_contacts: which contacts an import touched (created, updated or
--   found unchanged), so a campaign's audience can be "the contacts of this file". Integer
--   keys in a WITHOUT ROWID table cost a million-row import ~9% (text keys cost ~25%,
--   measured in session 19). A contact's seq can be taken again after the contact with the
--   highest seq is deleted, so a link counts only for a contact created before the import
--   finished (a later contact with a recycled seq is not the one the file named); no index
--   on contact_seq, no extra work when contacts are deleted.
-- * campaign_recipients: one row per audience contact, in audience order (`seq`). They are
--   the dispatcher's queue: the partial index holds only the pending ones, by when they are
--   due (`next_at`: 0 until a closed window defers them) and then in order.
-- * campaigns gain where the audience stands (the cursor into it, whether it is all
--   written, how many recipients it made) and an optional end (`end_at`): recipients whose
--   window does not open before it are skipped with `window_expired`.
-- * conversations.campaign_id: the campaign a conversation was started by.

ALTER TABLE imports ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE imports SET seq = rowid;
CREATE UNIQUE INDEX imports_seq_key ON imports (seq);

CREATE TABLE import_contacts (
    import_seq  INTEGER NOT NULL,
    contact_seq INTEGER NOT NULL,
    PRIMARY KEY (import_seq, contact_seq)
) WITHOUT ROWID;

ALTER TABLE campaigns ADD COLUMN end_at INTEGER;
ALTER TABLE campaigns ADD COLUMN audience_cursor TEXT;
ALTER TABLE campaigns ADD COLUMN audience_done INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaigns ADD COLUMN recipients_total INTEGER NOT NULL DEFAULT 0;

CREATE TABLE campaign_recipients (
    campaign_id     TEXT    NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    contact_id      TEXT    NOT NULL,
    address         TEXT,
    state           TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    reason          TEXT,
    error           TEXT,
    next_at         INTEGER NOT NULL DEFAULT 0,
    conversation_id TEXT,
    message_id      TEXT,
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, seq)
) WITHOUT ROWID;
CREATE INDEX campaign_recipients_due ON campaign_recipients (campaign_id, next_at, seq)
    WHERE state = 'pending';

ALTER TABLE conversations ADD COLUMN campaign_id TEXT;
CREATE INDEX conversations_campaign_idx ON conversations (campaign_id)
    WHERE campaign_id IS NOT NULL;
