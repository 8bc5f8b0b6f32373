//! SQL text that is the same on both engines (both take `$n` parameters), so it is written
//! once. This crate's port implementations run most of it; the engine crates run the rest
//! on their own paths (SQLite's direct connection, PostgreSQL's claims).

mod lists;
pub use lists::{Bind, ContactJoin, ConversationLists, ListKind, Statement};

/// Changes an organization's settings (`$1` id; `$2`…`$6` name, region, default
/// country, time zone and date order, each kept when NULL; `$7` the time; `$8` whether
/// the help text changes and `$9` its new value or NULL; `$10` contact hours as JSON,
/// kept when NULL).
pub const UPDATE_ORGANIZATION: &str = "UPDATE organizations SET name = COALESCE($2, name), \
     region = COALESCE($3, region), default_country = COALESCE($4, default_country), \
     timezone = COALESCE($5, timezone), locale = COALESCE($6, locale), updated_at = $7, \
     help_text = CASE WHEN $8 THEN $9 ELSE help_text END, \
     contact_hours = COALESCE($10, contact_hours) WHERE id = $1 RETURNING *";

/// An organization's contact hours as its column holds them.
#[must_use]
pub fn contact_hours_json(hours: &parley_domain::ContactHours) -> String {
    serde_json::json!({"days": hours.days, "opens": hours.opens, "closes": hours.closes})
        .to_string()
}

/// Inserts an audit entry (`$1` id, `$2` organization, `$3` actor, `$4` action, `$5`
/// subject, `$6` detail, `$7` time).
pub const INSERT_AUDIT: &str = "INSERT INTO audit_log (id, organization_id, actor, action, subject, \
     detail, at) VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// A page of an organization's audit log, newest first (`$1` organization, `$2` cursor,
/// `$3` limit, then the filter's parts, each absent as NULL: `$4` actor, `$5` action,
/// `$6` since and `$7` until in epoch milliseconds).
pub const LIST_AUDIT: &str = "SELECT * FROM audit_log WHERE organization_id = $1 \
     AND ($2 IS NULL OR id < $2) AND ($4 IS NULL OR actor = $4) AND ($5 IS NULL OR action = $5) \
     AND ($6 IS NULL OR at >= $6) AND ($7 IS NULL OR at < $7) ORDER BY id DESC LIMIT $3";

/// Inserts a channel: every column as `$1…$13` in table order.
pub const INSERT_CHANNEL: &str = "INSERT INTO channels (id, organization_id, provider, name, sender, \
     inbound_flow_id, inbound_queue, rate_per_second, settings, secret_sealed, enabled, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *";

/// Replaces a channel of its organization (`$1` id, `$2` organization; the provider and
/// creation time never change).
pub const UPDATE_CHANNEL: &str = "UPDATE channels SET name = $4, sender = $5, inbound_flow_id = $6, \
     inbound_queue = $7, rate_per_second = $8, settings = $9, secret_sealed = $10, enabled = $11, \
     updated_at = $13 WHERE id = $1 AND organization_id = $2 AND $3 IS NOT NULL AND $12 IS NOT NULL \
     RETURNING *";

/// A page of an organization's channels, archived or not (`$1` organization, `$2` cursor,
/// `$3` limit, `$4` whether archived).
pub const LIST_CHANNELS: &str = "SELECT * FROM channels WHERE organization_id = $1 \
     AND ($2 IS NULL OR id > $2) AND (archived_at IS NOT NULL) = $4 ORDER BY id LIMIT $3";

/// A channel of an organization (`$1` id, `$2` organization).
pub const FIND_CHANNEL: &str = "SELECT * FROM channels WHERE id = $1 AND organization_id = $2";

/// A channel by id alone (`$1`), for provider callbacks.
pub const FIND_CHANNEL_FOR_CALLBACK: &str = "SELECT * FROM channels WHERE id = $1";

/// Inserts an outbox event (`$1` id, `$2` organization, `$3` type, `$4` time, `$5` data,
/// `$6` the conversation it is about, if any).
pub const INSERT_EVENT: &str = "INSERT INTO outbox (id, organization_id, event_type, \
     occurred_at, data, conversation_id) VALUES ($1, $2, $3, $4, $5, $6)";

/// A conversation's events, oldest first (`$1` organization, `$2` conversation, `$3`
/// limit).
pub const CONVERSATION_EVENTS: &str = "SELECT * FROM outbox WHERE conversation_id = $2 \
     AND organization_id = $1 ORDER BY id LIMIT $3";

/// Queues a job unless one with its queue and de-duplication key is pending or running
/// (`$1` id, `$2` queue, `$3` kind, `$4` payload, `$5` key, `$6` attempts, `$7` run at,
/// `$8` created at, `$9` lane).
pub const INSERT_JOB: &str = "INSERT INTO jobs (id, queue, kind, payload, dedup_key, state, attempts, \
     max_attempts, run_at, created_at, lane) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $7, $8, $9) \
     ON CONFLICT DO NOTHING";

/// The condition on a candidate job `jobs` of a claim: no earlier job of its queue and lane
/// is pending or running (a lane runs one job at a time, in id order).
pub const LANE_IS_FREE: &str = "(jobs.lane IS NULL OR NOT EXISTS (SELECT 1 FROM jobs AS earlier \
     WHERE earlier.queue = jobs.queue AND earlier.lane = jobs.lane \
     AND earlier.state IN ('pending', 'running') AND earlier.id < jobs.id))";

/// The first pending or running job of queue `$1` in lane `$2`.
pub const FIRST_IN_LANE: &str = "SELECT id FROM jobs WHERE queue = $1 AND lane = $2 \
     AND state IN ('pending', 'running') ORDER BY id LIMIT 1";

/// Inserts a conversation: every column as `$1…$18` in table order, then `$19` its campaign.
pub const INSERT_CONVERSATION: &str = "INSERT INTO conversations (id, organization_id, contact_id, \
     channel_id, direction, flow_id, flow_version, state, queue, assignee, status, flow_state, revision, \
     last_inbound_at, opened_at, first_agent_reply_at, closed_at, updated_at, campaign_id) VALUES ($1, \
     $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING *";

/// Writes a conversation's changeable columns (same numbering as the insert; the campaign
/// never changes) when its revision is still `$20`.
pub const UPDATE_CONVERSATION: &str = "UPDATE conversations SET flow_id = $6, flow_version = $7, \
     state = $8, queue = $9, assignee = $10, status = $11, flow_state = $12, revision = $13, \
     last_inbound_at = $14, first_agent_reply_at = $16, closed_at = $17, updated_at = $18, \
     campaign_id = COALESCE(campaign_id, $19) \
     WHERE id = $1 AND organization_id = $2 AND revision = $20 \
     AND $3 IS NOT NULL AND $4 IS NOT NULL AND $5 IS NOT NULL AND $15 IS NOT NULL RETURNING *";

/// Inserts a message: every column as `$1…$16` in table order.
pub const INSERT_MESSAGE: &str = "INSERT INTO messages (id, organization_id, conversation_id, \
     channel_id, direction, sender, body, status, provider_message_id, error_code, error_message, \
     segments, encoding, status_times, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, \
     $8, $9, $10, $11, $12, $13, $14, $15, $16) RETURNING *";

/// Writes a message's changeable columns (same numbering as the insert).
pub const UPDATE_MESSAGE: &str = "UPDATE messages SET status = $8, provider_message_id = $9, \
     error_code = $10, error_message = $11, segments = $12, encoding = $13, status_times = $14, \
     updated_at = $16 WHERE id = $1 AND organization_id = $2 AND $3 IS NOT NULL \
     AND $4 IS NOT NULL AND $5 IS NOT NULL AND $6 IS NOT NULL AND $7 IS NOT NULL \
     AND $15 IS NOT NULL RETURNING *";

/// The open conversation of a contact on a channel (`$1` organization, `$2` contact,
/// `$3` channel).
pub const OPEN_CONVERSATION: &str = "SELECT * FROM conversations WHERE organization_id = $1 \
     AND contact_id = $2 AND channel_id = $3 AND state <> 'closed'";

/// A conversation of an organization (`$1` id, `$2` organization).
pub const FIND_CONVERSATION: &str =
    "SELECT * FROM conversations WHERE id = $1 AND organization_id = $2";

/// A page of a conversation's messages, oldest first (`$1` organization, `$2`
/// conversation, `$3` cursor, `$4` limit).
pub const LIST_MESSAGES: &str = "SELECT * FROM messages WHERE organization_id = $1 \
     AND conversation_id = $2 AND ($3 IS NULL OR id > $3) ORDER BY id LIMIT $4";

/// A message by id within an organization (`$1` id, `$2` organization).
pub const FIND_MESSAGE: &str = "SELECT * FROM messages WHERE id = $1 AND organization_id = $2";

/// A message by the provider's id on a channel (`$1` channel, `$2` provider id).
pub const FIND_PROVIDER_MESSAGE: &str =
    "SELECT * FROM messages WHERE channel_id = $1 AND provider_message_id = $2";

/// Defines an outcome status (`$1` organization, `$2` key, `$3` label, `$4` category,
/// `$5` closes, `$6` created at, `$7` updated at).
pub const INSERT_OUTCOME_STATUS: &str = "INSERT INTO outcome_statuses (organization_id, key, label, \
     category, closes, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *";

/// Replaces an outcome status (same numbering; the creation time is kept).
pub const UPDATE_OUTCOME_STATUS: &str = "UPDATE outcome_statuses SET label = $3, category = $4, \
     closes = $5, updated_at = $7 WHERE organization_id = $1 AND key = $2 AND $6 IS NOT NULL \
     RETURNING *";

/// An organization's outcome statuses by key (`$1` organization).
pub const LIST_OUTCOME_STATUSES: &str =
    "SELECT * FROM outcome_statuses WHERE organization_id = $1 ORDER BY key";

/// Removes an outcome status (`$1` organization, `$2` key).
pub const DELETE_OUTCOME_STATUS: &str =
    "DELETE FROM outcome_statuses WHERE organization_id = $1 AND key = $2";

/// Inserts a webhook endpoint: every column as `$1…$15` in table order.
pub const INSERT_WEBHOOK: &str = "INSERT INTO webhook_endpoints (id, organization_id, url, \
     description, events, enabled, disabled_reason, secret_sealed, previous_secret_sealed, \
     previous_secret_until, failing_since, created_at, updated_at, sftp_host_key, \
     sftp_credential_sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
     $15) RETURNING *";

/// Replaces a webhook endpoint of its organization (same numbering; the id, organization
/// and creation time never change).
pub const UPDATE_WEBHOOK: &str = "UPDATE webhook_endpoints SET url = $3, description = $4, \
     events = $5, enabled = $6, disabled_reason = $7, secret_sealed = $8, \
     previous_secret_sealed = $9, previous_secret_until = $10, failing_since = $11, \
     updated_at = $13, sftp_host_key = $14, sftp_credential_sealed = $15 \
     WHERE id = $1 AND organization_id = $2 AND $12 IS NOT NULL RETURNING *";

/// Defines a queue (`$1` organization, `$2` key, `$3` name, `$4` created at, `$5` updated
/// at).
pub const INSERT_QUEUE: &str = "INSERT INTO queues (organization_id, key, name, created_at, \
     updated_at) VALUES ($1, $2, $3, $4, $5) RETURNING *";

/// Renames a queue (same numbering; the creation time is kept).
pub const UPDATE_QUEUE: &str = "UPDATE queues SET name = $3, updated_at = $5 \
     WHERE organization_id = $1 AND key = $2 AND $4 IS NOT NULL RETURNING *";

/// Saves a canned reply (`$1` organization, `$2` key, `$3` title, `$4` body, `$5` created
/// at, `$6` updated at).
pub const INSERT_CANNED_REPLY: &str = "INSERT INTO canned_replies (organization_id, key, title, \
     body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING *";

/// Changes a canned reply (same numbering; the creation time is kept).
pub const UPDATE_CANNED_REPLY: &str = "UPDATE canned_replies SET title = $3, body = $4, \
     updated_at = $6 WHERE organization_id = $1 AND key = $2 AND $5 IS NOT NULL RETURNING *";

/// An organization's canned replies by title, then key (`$1` organization).
pub const LIST_CANNED_REPLIES: &str =
    "SELECT * FROM canned_replies WHERE organization_id = $1 ORDER BY LOWER(title), key";

/// Removes a canned reply (`$1` organization, `$2` key).
pub const DELETE_CANNED_REPLY: &str =
    "DELETE FROM canned_replies WHERE organization_id = $1 AND key = $2";

/// Moves a person's read mark on a conversation forward (`$1` organization, `$2` user,
/// `$3` conversation, `$4` up to); nothing for a conversation not the organization's.
pub const MARK_READ: &str = "INSERT INTO conversation_reads (user_id, conversation_id, \
     organization_id, read_up_to) SELECT $2, $3, $1, $4 WHERE EXISTS (SELECT 1 FROM \
     conversations WHERE id = $3 AND organization_id = $1) \
     ON CONFLICT (user_id, conversation_id) DO UPDATE SET read_up_to = excluded.read_up_to \
     WHERE excluded.read_up_to > conversation_reads.read_up_to";

/// An organization's queues by key (`$1` organization).
pub const LIST_QUEUES: &str = "SELECT * FROM queues WHERE organization_id = $1 ORDER BY key";

/// Removes a queue (`$1` organization, `$2` key).
pub const DELETE_QUEUE: &str = "DELETE FROM queues WHERE organization_id = $1 AND key = $2";

/// Adds an address to the suppression list (kept when it is there already).
pub const INSERT_SUPPRESSION: &str = "INSERT INTO suppressions (organization_id, channel_kind, \
     address_hash, reason, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

/// Lifts an address's suppression.
pub const DELETE_SUPPRESSION: &str = "DELETE FROM suppressions WHERE organization_id = $1 \
     AND channel_kind = $2 AND address_hash = $3";

/// Marks a pending job done without running it (`$1` id, `$2` time): its work was done
/// in the same transaction by someone else.
pub const FINISH_PENDING_JOB: &str =
    "UPDATE jobs SET state = 'done', finished_at = $2 WHERE id = $1 AND state = 'pending'";

/// Adds a note to a conversation of the same organization (`$1…$6` in table order); no
/// row when the conversation is not the organization's.
pub const INSERT_NOTE: &str = "INSERT INTO conversation_notes (id, organization_id, \
     conversation_id, author, body, created_at) SELECT $1, $2, $3, $4, $5, $6 \
     WHERE EXISTS (SELECT 1 FROM conversations WHERE id = $3 AND organization_id = $2) \
     RETURNING *";

/// A conversation's notes, oldest first (`$1` organization, `$2` conversation).
pub const LIST_NOTES: &str = "SELECT * FROM conversation_notes WHERE organization_id = $1 \
     AND conversation_id = $2 ORDER BY id LIMIT 1000";

/// Outbox events above an id, oldest first (`$1` id, `$2` limit).
pub const EVENTS_AFTER: &str = "SELECT * FROM outbox WHERE id > $1 ORDER BY id LIMIT $2";

/// Adds or changes a queue member (`$1…$7` in table order); the queue must exist.
pub const PUT_QUEUE_MEMBER: &str = "INSERT INTO queue_members (organization_id, queue, user_id, \
     capacity, available, last_assigned_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (organization_id, queue, user_id) DO UPDATE SET capacity = $4, \
     available = $5, updated_at = $7 RETURNING *";

/// A queue's members by user (`$1` organization, `$2` queue).
pub const LIST_QUEUE_MEMBERS: &str =
    "SELECT * FROM queue_members WHERE organization_id = $1 AND queue = $2 ORDER BY user_id";

/// Removes a queue member (`$1` organization, `$2` queue, `$3` user).
pub const DELETE_QUEUE_MEMBER: &str =
    "DELETE FROM queue_members WHERE organization_id = $1 AND queue = $2 AND user_id = $3";

/// Records that a member was given a conversation (`$1…$3` as above, `$4` time).
pub const MARK_MEMBER_ASSIGNED: &str = "UPDATE queue_members SET last_assigned_at = $4 \
     WHERE organization_id = $1 AND queue = $2 AND user_id = $3";

/// Open conversations assigned, per person (`$1` organization).
pub const ASSIGNED_LOADS: &str = "SELECT assignee, COUNT(*) AS load FROM conversations \
     WHERE organization_id = $1 AND state = 'assigned' AND assignee IS NOT NULL GROUP BY assignee";

/// A queue's waiting conversations, oldest first (`$1` organization, `$2` queue, `$3` limit).
pub const WAITING_CONVERSATIONS: &str = "SELECT id FROM conversations WHERE organization_id = $1 \
     AND queue = $2 AND state = 'queued' AND assignee IS NULL ORDER BY id LIMIT $3";

/// Inserts a campaign (`$1…$14` in table order, `$15` its end).
pub const INSERT_CAMPAIGN: &str = "INSERT INTO campaigns (id, organization_id, name, audience, \
     flow_id, flow_version, channel_id, start_at, send_window, rate_per_second, status, created_at, \
     updated_at, revision, end_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, \
     $14, $15) RETURNING *";

/// A campaign of an organization (`$1` id, `$2` organization).
pub const FIND_CAMPAIGN: &str = "SELECT * FROM campaigns WHERE id = $1 AND organization_id = $2";

/// An organization's campaigns by id, archived or not (`$1` organization, `$2` after, `$3`
/// limit, `$4` whether archived).
pub const LIST_CAMPAIGNS: &str = "SELECT * FROM campaigns WHERE organization_id = $1 \
     AND ($2 IS NULL OR id > $2) AND (archived_at IS NOT NULL) = $4 ORDER BY id LIMIT $3";

/// Claims a pending campaign recipient for the turn that sends its first message (`$1`
/// campaign, `$2` seq, `$3` conversation, `$4` message, `$5` at).
pub const CLAIM_RECIPIENT: &str = "UPDATE campaign_recipients SET state = 'sent', reason = NULL, \
     conversation_id = $3, message_id = $4, next_at = 0, updated_at = $5 \
     WHERE campaign_id = $1 AND seq = $2 AND state = 'pending'";

/// Due pending recipients of a campaign in a share (`$1` campaign, `$2` now, `$3` the
/// share's number of holders, `$4` its index, `$5` limit).
pub const DUE_RECIPIENTS: &str = "SELECT * FROM campaign_recipients WHERE campaign_id = $1 \
     AND state = 'pending' AND next_at <= $2 AND seq % $3 = $4 ORDER BY next_at, seq LIMIT $5";

/// Marks a campaign's holder (`$1` campaign, `$2` holder, `$3` until).
pub const HOLD_CAMPAIGN: &str = "INSERT INTO campaign_holders (campaign_id, holder, until) \
     VALUES ($1, $2, $3) ON CONFLICT (campaign_id, holder) DO UPDATE SET until = excluded.until";

/// Forgets a campaign's holders whose mark ran out (`$1` campaign, `$2` now).
pub const EXPIRE_HOLDERS: &str =
    "DELETE FROM campaign_holders WHERE campaign_id = $1 AND until < $2";

/// A campaign's holders by name (`$1` campaign).
pub const CAMPAIGN_HOLDERS: &str =
    "SELECT holder FROM campaign_holders WHERE campaign_id = $1 ORDER BY holder";

/// Forgets one holder (`$1` campaign, `$2` holder).
pub const RELEASE_CAMPAIGN: &str =
    "DELETE FROM campaign_holders WHERE campaign_id = $1 AND holder = $2";

/// A campaign's pace state, its row made when missing (`$1` campaign): a new pace is full
/// (its state, 0, is long past). The no-op update holds the row until the transaction
/// ends on PostgreSQL, so processes take from the pace in turn.
pub const PACE_STATE: &str = "INSERT INTO campaign_pace (campaign_id, state) VALUES ($1, 0) \
     ON CONFLICT (campaign_id) DO UPDATE SET state = campaign_pace.state RETURNING state";

/// Writes a campaign's pace (`$1` campaign, `$2` state).
pub const SET_PACE: &str = "UPDATE campaign_pace SET state = $2 WHERE campaign_id = $1";

/// Settles a pending recipient (`$1` campaign, `$2` seq, `$3` state, `$4` reason, `$5`
/// error, `$6` next at, `$7` at).
pub const SETTLE_RECIPIENT: &str = "UPDATE campaign_recipients SET state = $3, reason = $4, \
     error = $5, next_at = $6, updated_at = $7 \
     WHERE campaign_id = $1 AND seq = $2 AND state = 'pending'";

/// A campaign's recipients in order (`$1` campaign, `$2` state or null, `$3` after seq or
/// null, `$4` limit).
pub const LIST_RECIPIENTS: &str = "SELECT * FROM campaign_recipients WHERE campaign_id = $1 \
     AND ($2 IS NULL OR state = $2) AND ($3 IS NULL OR seq > $3) ORDER BY seq LIMIT $4";

/// A campaign's counters, grouped (`$1` campaign): see `CountRow`.
pub const COUNT_RECIPIENTS: &str = "SELECT r.state, r.reason, m.status AS message_status, \
     CAST(CASE WHEN c.state = 'closed' THEN 1 ELSE 0 END AS BIGINT) AS closed, \
     c.status AS outcome, \
     CAST(CASE WHEN c.last_inbound_at IS NOT NULL THEN 1 ELSE 0 END AS BIGINT) AS replied, \
     COUNT(*) AS n \
     FROM campaign_recipients r LEFT JOIN messages m ON m.id = r.message_id \
     LEFT JOIN conversations c ON c.id = r.conversation_id WHERE r.campaign_id = $1 \
     GROUP BY r.state, r.reason, m.status, closed, c.status, replied";

/// A campaign's counters by recipient state and reason only (`$1` campaign): the rows of
/// `COUNT_RECIPIENTS` without their messages and conversations, a range read of the
/// campaign's recipients and cheap enough to follow a running campaign closely.
pub const COUNT_RECIPIENT_STATES: &str = "SELECT r.state, r.reason, \
     CAST(NULL AS TEXT) AS message_status, CAST(0 AS BIGINT) AS closed, \
     CAST(NULL AS TEXT) AS outcome, CAST(0 AS BIGINT) AS replied, COUNT(*) AS n \
     FROM campaign_recipients r WHERE r.campaign_id = $1 GROUP BY r.state, r.reason";

/// Moves a running campaign to `completed` when its audience is written and nothing is
/// pending (`$1` at, `$2` id, `$3` organization).
pub const COMPLETE_CAMPAIGN: &str = "UPDATE campaigns SET status = 'completed', updated_at = $1, \
     revision = revision + 1 WHERE id = $2 AND organization_id = $3 AND status = 'running' \
     AND audience_done = 1 AND NOT EXISTS (SELECT 1 FROM campaign_recipients r \
     WHERE r.campaign_id = campaigns.id AND r.state = 'pending') RETURNING *";

/// Campaigns with dispatch work (`$1` now, `$2` limit): running, due to start, or
/// cancelled with recipients still pending (a cancel cut short by a crash).
pub const CAMPAIGNS_TO_DISPATCH: &str = "SELECT * FROM campaigns WHERE status = 'running' \
     OR (status = 'scheduled' AND start_at <= $1) \
     OR (status = 'cancelled' AND EXISTS (SELECT 1 FROM campaign_recipients r \
         WHERE r.campaign_id = campaigns.id AND r.state = 'pending')) ORDER BY id LIMIT $2";

/// Skips pending recipients of a campaign (`$1` campaign, `$2` reason, `$3` limit, `$4` at).
pub const SKIP_PENDING: &str = "UPDATE campaign_recipients SET state = 'skipped', reason = $2, \
     updated_at = $4 WHERE campaign_id = $1 AND seq IN (SELECT seq FROM campaign_recipients \
     WHERE campaign_id = $1 AND state = 'pending' ORDER BY seq LIMIT $3) AND state = 'pending'";

/// Invitations (both engines). A new invitation replaces the pending ones of its email.
pub const REVOKE_PENDING_INVITATIONS: &str = "UPDATE invitations SET revoked_at = $3 \
     WHERE organization_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL";
/// Inserts an invitation.
pub const INSERT_INVITATION: &str = "INSERT INTO invitations (id, organization_id, email, role, \
     token_hash, invited_by, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
/// The invitation of a token hash.
pub const FIND_INVITATION_BY_TOKEN: &str = "SELECT * FROM invitations WHERE token_hash = $1";
/// A page of an organization's invitations.
pub const LIST_INVITATIONS: &str = "SELECT * FROM invitations WHERE organization_id = $1 \
     AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3";
/// One invitation of an organization.
pub const FIND_INVITATION: &str =
    "SELECT * FROM invitations WHERE id = $1 AND organization_id = $2";
/// Withdraws a pending invitation.
pub const REVOKE_INVITATION: &str = "UPDATE invitations SET revoked_at = $3 WHERE id = $1 \
     AND organization_id = $2 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $3";
/// Uses up a pending, unexpired invitation.
pub const ACCEPT_INVITATION: &str = "UPDATE invitations SET accepted_at = $2, accepted_by = $3 \
     WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $2";
/// A membership from an invitation: an existing one keeps its role.
pub const INSERT_MEMBERSHIP_KEEPING_ROLE: &str = "INSERT INTO memberships (user_id, \
     organization_id, role, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
     ON CONFLICT (user_id, organization_id) DO NOTHING";
/// One membership.
pub const FIND_MEMBERSHIP: &str =
    "SELECT * FROM memberships WHERE user_id = $1 AND organization_id = $2";

/// Webhook and SFTP deliveries still waiting (for `Store::work_counts`).
pub const COUNT_PENDING_DELIVERIES: &str =
    "SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'pending'";

/// Campaign recipients per state, across every campaign (for `Store::work_counts`).
pub const COUNT_RECIPIENTS_BY_STATE: &str =
    "SELECT state, COUNT(*) FROM campaign_recipients GROUP BY state ORDER BY state";

/// Jobs per queue and state, with each group's earliest `run_at` (for `job_stats`).
pub const JOB_STATS: &str = "SELECT queue, state, COUNT(*) AS n, MIN(run_at) AS oldest FROM jobs \
     GROUP BY queue, state ORDER BY queue, state";

/// An installation fact (`$1` name).
pub const INSTALLATION_FACT: &str = "SELECT value FROM installation WHERE name = $1";

/// Records an installation fact unless one is recorded, giving the recorded value (`$1`
/// name, `$2` value).
pub const CLAIM_INSTALLATION_FACT: &str = "INSERT INTO installation (name, value) VALUES ($1, $2) \
     ON CONFLICT (name) DO UPDATE SET value = installation.value RETURNING value";

/// Creates a field definition unless its organization has one by that key (`$1`
/// organization, `$2` key, `$3` label, `$4` type, `$5` pii as 0 or 1, `$6` time).
pub const INSERT_FIELD_IF_MISSING: &str = "INSERT INTO field_definitions (organization_id, key, \
     label, type, pii, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) \
     ON CONFLICT (organization_id, key) DO NOTHING";

/// The statement that archives or restores `what` (`$1` id, `$2` organization, `$3` the
/// time or null).
#[must_use]
pub fn archive(what: parley_store::Archivable) -> &'static str {
    match what {
        parley_store::Archivable::Flow(_) => ARCHIVE_FLOW,
        parley_store::Archivable::Channel(_) => ARCHIVE_CHANNEL,
        parley_store::Archivable::Campaign(_) => ARCHIVE_CAMPAIGN,
    }
}

/// Archives (`$3` a time) or restores (`$3` null) a flow (`$1` id, `$2` organization).
pub const ARCHIVE_FLOW: &str =
    "UPDATE flows SET archived_at = $3 WHERE id = $1 AND organization_id = $2";

/// Archives or restores a channel; archiving disables it (`$1` id, `$2` organization, `$3`
/// the time or null).
pub const ARCHIVE_CHANNEL: &str = "UPDATE channels SET archived_at = $3, \
     enabled = CASE WHEN $3 IS NULL THEN enabled ELSE 0 END \
     WHERE id = $1 AND organization_id = $2";

/// Archives or restores a campaign that is not under way (`$1` id, `$2` organization,
/// `$3` the time or null).
pub const ARCHIVE_CAMPAIGN: &str = "UPDATE campaigns SET archived_at = $3 \
     WHERE id = $1 AND organization_id = $2 \
     AND ($3 IS NULL OR status IN ('draft', 'completed', 'cancelled'))";

/// A page of an organization's flows, archived or not (`$1` organization, `$2` cursor,
/// `$3` limit, `$4` whether archived).
pub const LIST_FLOWS: &str = "SELECT * FROM flows WHERE organization_id = $1 \
     AND ($2 IS NULL OR id > $2) AND (archived_at IS NOT NULL) = $4 ORDER BY id LIMIT $3";
