-- The desk's views, each read newest first a page at a time and counted on every page:
-- open conversations (All), open ones of a person (Mine) and open ones of a queue (a
-- queue's view). Partial indexes hold only open conversations, so each view is read in
-- index order and stops at its page, and each count is a range of one index, however
-- many closed conversations pile up (Closed reads conversations_organization_idx). A
-- contact's conversations (the contact panel, a search by customer id, number or name)
-- are read from conversations_contact.
CREATE INDEX conversations_open ON conversations (organization_id, id)
    WHERE state <> 'closed';
CREATE INDEX conversations_open_by_assignee ON conversations (organization_id, assignee, id)
    WHERE state <> 'closed' AND assignee IS NOT NULL;
CREATE INDEX conversations_open_by_queue ON conversations (organization_id, queue, id)
    WHERE state <> 'closed';
CREATE INDEX conversations_contact ON conversations (organization_id, contact_id, id);
