-- Archiving: a flow, channel or campaign that is no longer used is archived rather than
-- deleted, so its conversations, messages and recipients keep what they refer to.
-- Lists leave archived ones out unless asked for them; `archived_at` is when (ms).
ALTER TABLE flows ADD COLUMN archived_at INTEGER;
ALTER TABLE channels ADD COLUMN archived_at INTEGER;
ALTER TABLE campaigns ADD COLUMN archived_at INTEGER;
