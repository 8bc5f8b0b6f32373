-- Each event names the conversation it is about (when it is about one), so a
-- conversation's thread can show what happened to it (assigned, moved, tagged, closed)
-- among its messages. Existing events are filled in from their data.
ALTER TABLE outbox ADD COLUMN conversation_id TEXT;
UPDATE outbox SET conversation_id = data::jsonb ->> 'conversation_id';
CREATE INDEX outbox_conversation ON outbox (conversation_id, id) WHERE conversation_id IS NOT NULL;
