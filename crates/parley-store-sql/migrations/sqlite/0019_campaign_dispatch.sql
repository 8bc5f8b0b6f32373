-- What processes that share a database share while they run a campaign (ADR 0008 §4).
--
-- * campaign_holders: each process working on a campaign marks itself here until a time
--   it renews every few seconds; the live holders, ordered by name, split the due
--   recipients among themselves by `seq` modulo their number, so no two processes write
--   the same recipient's first message (were they to, the claim in the turn keeps it to
--   one). A process that stops removes its mark; one that dies is forgotten when its
--   mark runs out.
-- * campaign_pace: the campaign's one pace for all processes, kept as the time at which
--   it would be empty again (microseconds since the epoch; parley_domain::Pace). A take
--   reads and writes this row in one transaction.

CREATE TABLE campaign_holders (
    campaign_id TEXT    NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
    holder      TEXT    NOT NULL,
    until       INTEGER NOT NULL,
    PRIMARY KEY (campaign_id, holder)
) WITHOUT ROWID;

CREATE TABLE campaign_pace (
    campaign_id TEXT    NOT NULL PRIMARY KEY REFERENCES campaigns (id) ON DELETE CASCADE,
    state       INTEGER NOT NULL
) WITHOUT ROWID;
