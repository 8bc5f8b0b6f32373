//! Row decoding shared by both engines. Each engine implements [`RowSource`] for its row
//! type (a few lines over `sqlx::Row::try_get`); everything that turns columns into domain
//! values lives here once, so a stored value means the same on SQLite and PostgreSQL.
//!
//! Column conventions (both migration sets follow them): ids and names are TEXT, instants
//! are BIGINT milliseconds since the epoch, JSON is TEXT, permission sets are BIGINT bits,
//! and an organization's `path` is its ancestry plus itself, each id followed by `/`.

use chrono::{DateTime, Utc};
use parley_domain::{
    ApiKey, AttemptTrigger, AuditAction, AuditEntry, Channel, ChannelAddress, Contact, ContactId,
    Conversation, ConversationState, CustomValueEndpoint, Delivery, DeliveryAttempt,
    DeliveryStatus, Direction, DisabledReason, Encoding, EventType, FieldDefinition, FlowRecord,
    FlowVersion, ImportCounters, ImportRecord, Membership, Message, MessageStatus, NewEvent, Note,
    OrgId, Organization, PermissionSet, Provider, Role, SftpAccess, SftpInbox, Subscription, User,
    WebhookEndpoint, from_millis,
};

use crate::sessions::Session;
mod campaigns;
mod jobs;
mod vocabulary;
pub use campaigns::{campaign, count_row, recipient};
pub use jobs::{claimed_job, job_record, queue_stats};
pub use vocabulary::{canned_reply, outcome_status, queue, queue_member};

use crate::{RejectLine, StoreError, StoredApiKey, StoredEvent, Suppression, UserCredentials};

/// Typed column access over one engine's row.
pub trait RowSource {
    /// A TEXT column (`None` for NULL).
    fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError>;
    /// An integer column (`None` for NULL).
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError>;
    /// A BLOB / BYTEA column (`None` for NULL).
    fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError>;
}

fn missing(column: &'static str) -> StoreError {
    StoreError::corrupt(format!("column {column} is unexpectedly NULL"))
}

/// A required TEXT column.
pub fn text(r: &impl RowSource, column: &'static str) -> Result<String, StoreError> {
    r.opt_text(column)?.ok_or_else(|| missing(column))
}

/// A required integer column.
pub fn int(r: &impl RowSource, column: &'static str) -> Result<i64, StoreError> {
    r.opt_int(column)?.ok_or_else(|| missing(column))
}

/// A required BLOB column.
pub fn bytes(r: &impl RowSource, column: &'static str) -> Result<Vec<u8>, StoreError> {
    r.opt_bytes(column)?.ok_or_else(|| missing(column))
}

/// A required instant (BIGINT milliseconds).
pub fn instant(r: &impl RowSource, column: &'static str) -> Result<DateTime<Utc>, StoreError> {
    int(r, column).map(from_millis)
}

/// An optional instant.
pub fn opt_instant(
    r: &impl RowSource,
    column: &'static str,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(r.opt_int(column)?.map(from_millis))
}

/// A required column parsed with `FromStr` (ids, roles, codes).
pub fn parsed<T: std::str::FromStr>(
    r: &impl RowSource,
    column: &'static str,
) -> Result<T, StoreError> {
    let raw = text(r, column)?;
    raw.parse()
        .map_err(|_| StoreError::corrupt(format!("column {column} holds an invalid value")))
}

/// An optional column parsed with `FromStr`.
pub fn opt_parsed<T: std::str::FromStr>(
    r: &impl RowSource,
    column: &'static str,
) -> Result<Option<T>, StoreError> {
    match r.opt_text(column)? {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| StoreError::corrupt(format!("column {column} holds an invalid value"))),
    }
}

/// A TEXT column holding JSON.
pub fn json(r: &impl RowSource, column: &'static str) -> Result<serde_json::Value, StoreError> {
    serde_json::from_str(&text(r, column)?).map_err(|e| StoreError::Other(Box::new(e)))
}

/// The `path` of an organization: its ancestors' and its own id, each followed by `/`.
#[must_use]
pub fn org_path(ancestors: &[OrgId], id: OrgId) -> String {
    ancestors
        .iter()
        .chain(std::iter::once(&id))
        .map(|o| format!("{o}/"))
        .collect()
}

/// `organizations.*`
pub fn organization(r: &impl RowSource) -> Result<Organization, StoreError> {
    let id: OrgId = parsed(r, "id")?;
    let path = text(r, "path")?;
    let mut ancestors = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<OrgId>()
                .map_err(|_| StoreError::corrupt("organization path holds an invalid id"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ancestors.pop() != Some(id) {
        return Err(StoreError::corrupt(
            "organization path does not end with its own id",
        ));
    }
    Ok(Organization {
        id,
        name: text(r, "name")?,
        parent_id: opt_parsed(r, "parent_id")?,
        ancestors,
        region: text(r, "region")?,
        default_country: parsed(r, "default_country")?,
        timezone: parsed(r, "timezone")?,
        locale: parsed(r, "locale")?,
        help_text: r.opt_text("help_text")?,
        contact_hours: serde_json::from_value(json(r, "contact_hours")?)
            .map_err(|_| StoreError::corrupt("organization contact hours are not readable"))?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `users.*`, with the creation time read from `created_column` (joins rename it).
pub fn user(r: &impl RowSource, created_column: &'static str) -> Result<User, StoreError> {
    Ok(User {
        id: parsed(r, "id")?,
        email: text(r, "email")?,
        name: text(r, "name")?,
        created_at: instant(r, created_column)?,
    })
}

/// `users.*` including `password_hash`.
pub fn credentials(r: &impl RowSource) -> Result<UserCredentials, StoreError> {
    Ok(UserCredentials {
        user: user(r, "created_at")?,
        password_hash: text(r, "password_hash")?,
    })
}

/// `memberships.*`
pub fn membership(r: &impl RowSource) -> Result<Membership, StoreError> {
    Ok(Membership {
        user_id: parsed(r, "user_id")?,
        organization_id: parsed(r, "organization_id")?,
        role: parsed::<Role>(r, "role")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `api_keys.*` without the hash.
pub fn api_key(r: &impl RowSource) -> Result<ApiKey, StoreError> {
    Ok(ApiKey {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        name: text(r, "name")?,
        permissions: PermissionSet::from_bits(int(r, "permissions")?),
        created_by: opt_parsed(r, "created_by")?,
        created_at: instant(r, "created_at")?,
        revoked_at: opt_instant(r, "revoked_at")?,
    })
}

/// `api_keys.*` with the hash.
pub fn stored_api_key(r: &impl RowSource) -> Result<StoredApiKey, StoreError> {
    Ok(StoredApiKey {
        key: api_key(r)?,
        secret_hash: text(r, "secret_hash")?,
    })
}

/// An optional version number column (1 and up).
fn opt_version(r: &impl RowSource, column: &'static str) -> Result<Option<u32>, StoreError> {
    r.opt_int(column)?
        .map(|n| {
            u32::try_from(n)
                .map_err(|_| StoreError::corrupt(format!("column {column} holds an invalid value")))
        })
        .transpose()
}

/// A required version number column.
fn version(r: &impl RowSource, column: &'static str) -> Result<u32, StoreError> {
    opt_version(r, column)?.ok_or_else(|| missing(column))
}

/// `flows.*`
pub fn flow(r: &impl RowSource) -> Result<FlowRecord, StoreError> {
    Ok(FlowRecord {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        name: text(r, "name")?,
        draft: text(r, "draft")?,
        latest_version: opt_version(r, "latest_version")?,
        created_by: opt_parsed(r, "created_by")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
        archived_at: opt_instant(r, "archived_at")?,
    })
}

/// `flow_versions.*`
pub fn flow_version(r: &impl RowSource) -> Result<FlowVersion, StoreError> {
    Ok(FlowVersion {
        flow_id: parsed(r, "flow_id")?,
        organization_id: parsed(r, "organization_id")?,
        version: version(r, "version")?,
        name: text(r, "name")?,
        document: text(r, "document")?,
        published_by: opt_parsed(r, "published_by")?,
        published_at: instant(r, "published_at")?,
    })
}

/// `sessions.*`
pub fn session(r: &impl RowSource) -> Result<Session, StoreError> {
    Ok(Session {
        id: parsed(r, "id")?,
        token_hash: text(r, "token_hash")?,
        user_id: parsed(r, "user_id")?,
        organization_id: parsed(r, "organization_id")?,
        created_at: instant(r, "created_at")?,
        expires_at: instant(r, "expires_at")?,
    })
}

/// `audit_log.*`
pub fn audit_entry(r: &impl RowSource) -> Result<AuditEntry, StoreError> {
    let action = text(r, "action")?;
    Ok(AuditEntry {
        id: parsed(r, "id")?,
        organization_id: opt_parsed(r, "organization_id")?,
        actor: text(r, "actor")?,
        action: AuditAction::from_name(&action)
            .ok_or_else(|| StoreError::corrupt(format!("unknown audit action {action}")))?,
        subject: text(r, "subject")?,
        detail: json(r, "detail")?,
        at: instant(r, "at")?,
    })
}

/// `outbox.*`
pub fn stored_event(r: &impl RowSource) -> Result<StoredEvent, StoreError> {
    let event_type = text(r, "event_type")?;
    Ok(StoredEvent {
        event: NewEvent {
            id: parsed(r, "id")?,
            organization_id: parsed(r, "organization_id")?,
            event_type: EventType::from_wire(&event_type)
                .ok_or_else(|| StoreError::corrupt(format!("unknown event type {event_type}")))?,
            timestamp: instant(r, "occurred_at")?,
            data: json(r, "data")?,
        },
        dispatched_at: opt_instant(r, "dispatched_at")?,
    })
}

fn count(r: &impl RowSource, column: &'static str) -> Result<u32, StoreError> {
    u32::try_from(int(r, column)?)
        .map_err(|_| StoreError::corrupt(format!("column {column} out of range")))
}

/// `field_definitions.*`
pub fn field_definition(r: &impl RowSource) -> Result<FieldDefinition, StoreError> {
    Ok(FieldDefinition {
        organization_id: parsed(r, "organization_id")?,
        key: parsed(r, "key")?,
        label: text(r, "label")?,
        field_type: parsed(r, "type")?,
        pii: int(r, "pii")? != 0,
        builtin: false,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `contacts.*` (with `fields` as JSON text) and the contact's addresses.
pub fn contact(r: &impl RowSource, addresses: Vec<ChannelAddress>) -> Result<Contact, StoreError> {
    let serde_json::Value::Object(fields) = json(r, "fields")? else {
        return Err(StoreError::corrupt("contact fields are not a JSON object"));
    };
    Ok(Contact {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        customer_id: r.opt_text("customer_id")?,
        fields,
        addresses,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `contact_addresses.(contact_id, channel_kind, address)`
pub fn contact_address(r: &impl RowSource) -> Result<(ContactId, ChannelAddress), StoreError> {
    Ok((
        parsed(r, "contact_id")?,
        ChannelAddress {
            kind: parsed(r, "channel_kind")?,
            address: text(r, "address")?,
        },
    ))
}

/// Attaches addresses (as `contact_address` rows) to contact rows.
pub fn contacts_with_addresses<R: RowSource>(
    rows: &[R],
    addresses: Vec<(ContactId, ChannelAddress)>,
) -> Result<Vec<Contact>, StoreError> {
    let mut by_contact: std::collections::HashMap<ContactId, Vec<ChannelAddress>> =
        std::collections::HashMap::new();
    for (id, a) in addresses {
        by_contact.entry(id).or_default().push(a);
    }
    rows.iter()
        .map(|r| {
            let id: ContactId = parsed(r, "id")?;
            let mut list = by_contact.remove(&id).unwrap_or_default();
            list.sort();
            contact(r, list)
        })
        .collect()
}

fn count64(r: &impl RowSource, column: &'static str) -> Result<u64, StoreError> {
    u64::try_from(int(r, column)?).map_err(|_| StoreError::corrupt(format!("{column} is negative")))
}

fn string_list(r: &impl RowSource, column: &'static str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(&text(r, column)?).map_err(|e| StoreError::Other(Box::new(e)))
}

/// `imports.*`
pub fn import_record(r: &impl RowSource) -> Result<ImportRecord, StoreError> {
    Ok(ImportRecord {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        status: parsed(r, "status")?,
        format: parsed(r, "format")?,
        file_name: r.opt_text("file_name")?,
        options: serde_json::from_str(&text(r, "options")?)
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        counters: ImportCounters {
            rows_total: count64(r, "rows_total")?,
            rows_imported: count64(r, "rows_imported")?,
            rows_rejected: count64(r, "rows_rejected")?,
            contacts_created: count64(r, "contacts_created")?,
            contacts_updated: count64(r, "contacts_updated")?,
            contacts_unchanged: count64(r, "contacts_unchanged")?,
        },
        bytes_total: count64(r, "bytes_total")?,
        bytes_read: count64(r, "bytes_read")?,
        rows_through: count64(r, "rows_through")?,
        error: r.opt_text("error")?,
        warnings: string_list(r, "warnings")?,
        created_at: instant(r, "created_at")?,
        started_at: opt_instant(r, "started_at")?,
        finished_at: opt_instant(r, "finished_at")?,
    })
}

/// `imports.header`
pub fn import_header(r: &impl RowSource) -> Result<Vec<String>, StoreError> {
    string_list(r, "header")
}

/// `import_rejects.*` with its line number.
pub fn reject_line(r: &impl RowSource) -> Result<(u64, RejectLine), StoreError> {
    Ok((
        count64(r, "line")?,
        RejectLine {
            row_number: count64(r, "row_number")?,
            column: text(r, "column_name")?,
            value: text(r, "value")?,
            reason: text(r, "reason")?,
            original: string_list(r, "original")?,
        },
    ))
}

/// `suppressions.*`
pub fn suppression(r: &impl RowSource) -> Result<Suppression, StoreError> {
    Ok(Suppression {
        organization_id: parsed(r, "organization_id")?,
        channel_kind: parsed(r, "channel_kind")?,
        address_hash: text(r, "address_hash")?,
        reason: text(r, "reason")?,
        created_at: instant(r, "created_at")?,
    })
}

fn named<T>(
    r: &impl RowSource,
    column: &'static str,
    read: impl Fn(&str) -> Option<T>,
) -> Result<T, StoreError> {
    let name = text(r, column)?;
    read(&name).ok_or_else(|| StoreError::corrupt(format!("unknown {column} {name}")))
}

/// `custom_value_endpoints.*`
pub fn custom_value_endpoint(r: &impl RowSource) -> Result<CustomValueEndpoint, StoreError> {
    Ok(CustomValueEndpoint {
        organization_id: parsed(r, "organization_id")?,
        url: text(r, "url")?,
        secret_sealed: text(r, "secret_sealed")?,
        timeout_ms: u32::try_from(int(r, "timeout_ms")?)
            .map_err(|_| StoreError::corrupt("timeout_ms out of range"))?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `sftp_inboxes.*`
pub fn sftp_inbox(r: &impl RowSource) -> Result<SftpInbox, StoreError> {
    Ok(SftpInbox {
        endpoint_id: parsed(r, "endpoint_id")?,
        organization_id: parsed(r, "organization_id")?,
        folder: text(r, "folder")?,
        options: serde_json::from_str(&text(r, "options")?)
            .map_err(|e| StoreError::Other(Box::new(e)))?,
        enabled: int(r, "enabled")? != 0,
        last_polled_at: opt_instant(r, "last_polled_at")?,
        last_error: r.opt_text("last_error")?,
        last_import_id: opt_parsed(r, "last_import_id")?,
        current_import_id: opt_parsed(r, "current_import_id")?,
        files_processed: count64(r, "files_processed")?,
        files_failed: count64(r, "files_failed")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `webhook_endpoints.*`
pub fn webhook_endpoint(r: &impl RowSource) -> Result<WebhookEndpoint, StoreError> {
    let events = r.opt_text("events")?;
    let previous = match (
        r.opt_text("previous_secret_sealed")?,
        opt_instant(r, "previous_secret_until")?,
    ) {
        (Some(sealed), Some(until)) => Some((sealed, until)),
        _ => None,
    };
    Ok(WebhookEndpoint {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        url: text(r, "url")?,
        description: text(r, "description")?,
        events: Subscription::from_stored(events.as_deref())
            .ok_or_else(|| StoreError::corrupt(format!("unknown events {events:?}")))?,
        enabled: int(r, "enabled")? != 0,
        disabled_reason: r
            .opt_text("disabled_reason")?
            .map(|n| {
                DisabledReason::from_name(&n)
                    .ok_or_else(|| StoreError::corrupt(format!("unknown disabled_reason {n}")))
            })
            .transpose()?,
        secret_sealed: text(r, "secret_sealed")?,
        previous_secret: previous,
        failing_since: opt_instant(r, "failing_since")?,
        sftp: match (
            r.opt_text("sftp_host_key")?,
            r.opt_text("sftp_credential_sealed")?,
        ) {
            (Some(host_key), Some(credential_sealed)) => Some(SftpAccess {
                host_key,
                credential_sealed,
            }),
            _ => None,
        },
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `channels.*`
pub fn channel(r: &impl RowSource) -> Result<Channel, StoreError> {
    let serde_json::Value::Object(settings) = json(r, "settings")? else {
        return Err(StoreError::corrupt(
            "channel settings are not a JSON object",
        ));
    };
    Ok(Channel {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        provider: named(r, "provider", Provider::from_name)?,
        name: text(r, "name")?,
        sender: text(r, "sender")?,
        inbound_flow: opt_parsed(r, "inbound_flow_id")?,
        inbound_queue: text(r, "inbound_queue")?,
        rate_per_second: count(r, "rate_per_second")?,
        settings,
        secret_sealed: r.opt_text("secret_sealed")?,
        enabled: int(r, "enabled")? != 0,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
        archived_at: opt_instant(r, "archived_at")?,
    })
}

/// `conversations.*`
pub fn conversation(r: &impl RowSource) -> Result<Conversation, StoreError> {
    Ok(Conversation {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        contact_id: parsed(r, "contact_id")?,
        channel_id: parsed(r, "channel_id")?,
        direction: named(r, "direction", Direction::from_name)?,
        campaign_id: opt_parsed(r, "campaign_id")?,
        flow_id: opt_parsed(r, "flow_id")?,
        flow_version: opt_version(r, "flow_version")?,
        state: named(r, "state", ConversationState::from_name)?,
        queue: r.opt_text("queue")?,
        assignee: opt_parsed(r, "assignee")?,
        status: r.opt_text("status")?,
        flow_state: text(r, "flow_state")?,
        revision: u64::try_from(int(r, "revision")?)
            .map_err(|_| StoreError::corrupt("revision out of range"))?,
        last_inbound_at: opt_instant(r, "last_inbound_at")?,
        opened_at: instant(r, "opened_at")?,
        first_agent_reply_at: opt_instant(r, "first_agent_reply_at")?,
        closed_at: opt_instant(r, "closed_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// A row of `sql::LIST_CONVERSATION_SUMMARIES`.
pub fn conversation_summary(r: &impl RowSource) -> Result<crate::ConversationSummary, StoreError> {
    let serde_json::Value::Object(contact_fields) = json(r, "contact_fields")? else {
        return Err(StoreError::corrupt("a contact's fields are not an object"));
    };
    let last_message = match r.opt_text("last_direction")? {
        None => None,
        Some(direction) => Some(crate::LastMessage {
            direction: Direction::from_name(&direction)
                .ok_or_else(|| StoreError::corrupt("unknown message direction"))?,
            sender: text(r, "last_sender")?,
            excerpt: text(r, "last_body")?,
            at: instant(r, "last_at")?,
        }),
    };
    Ok(crate::ConversationSummary {
        conversation: conversation(r)?,
        customer_id: r.opt_text("contact_customer_id")?,
        contact_fields,
        address: r.opt_text("contact_address")?,
        provider: named(r, "channel_provider", parley_domain::Provider::from_name)?,
        channel_name: text(r, "channel_name")?,
        assignee_name: r.opt_text("assignee_name")?,
        last_message,
    })
}

/// `conversation_notes.*`
pub fn note(r: &impl RowSource) -> Result<Note, StoreError> {
    Ok(Note {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        conversation_id: parsed(r, "conversation_id")?,
        author: text(r, "author")?,
        body: text(r, "body")?,
        created_at: instant(r, "created_at")?,
    })
}

/// `messages.*`
pub fn message(r: &impl RowSource) -> Result<Message, StoreError> {
    let serde_json::Value::Object(times) = json(r, "status_times")? else {
        return Err(StoreError::corrupt("status_times is not a JSON object"));
    };
    let status_times = times
        .into_iter()
        .map(|(status, at)| {
            at.as_i64()
                .map(|ms| (status, from_millis(ms)))
                .ok_or_else(|| StoreError::corrupt("a status time is not milliseconds"))
        })
        .collect::<Result<_, _>>()?;
    Ok(Message {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        conversation_id: parsed(r, "conversation_id")?,
        channel_id: parsed(r, "channel_id")?,
        direction: named(r, "direction", Direction::from_name)?,
        sender: text(r, "sender")?,
        body: text(r, "body")?,
        status: named(r, "status", MessageStatus::from_name)?,
        provider_message_id: r.opt_text("provider_message_id")?,
        error_code: r.opt_text("error_code")?,
        error_message: r.opt_text("error_message")?,
        segments: count(r, "segments")?,
        encoding: r
            .opt_text("encoding")?
            .map(|e| {
                Encoding::from_name(&e)
                    .ok_or_else(|| StoreError::corrupt(format!("unknown encoding {e}")))
            })
            .transpose()?,
        status_times,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// The JSON a message's `status_times` is stored as: milliseconds by status name.
#[must_use]
pub fn status_times_json(message: &Message) -> String {
    let map: serde_json::Map<String, serde_json::Value> = message
        .status_times
        .iter()
        .map(|(status, at)| (status.clone(), parley_domain::to_millis(*at).into()))
        .collect();
    serde_json::Value::Object(map).to_string()
}

/// `webhook_deliveries.*`
pub fn delivery(r: &impl RowSource) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        endpoint_id: parsed(r, "endpoint_id")?,
        event_id: parsed(r, "event_id")?,
        organization_id: parsed(r, "organization_id")?,
        event_type: named(r, "event_type", EventType::from_wire)?,
        status: named(r, "status", DeliveryStatus::from_name)?,
        attempts: count(r, "attempts")?,
        next_attempt_at: opt_instant(r, "next_attempt_at")?,
        created_at: instant(r, "created_at")?,
        updated_at: instant(r, "updated_at")?,
    })
}

/// `webhook_attempts.*`
pub fn delivery_attempt(r: &impl RowSource) -> Result<DeliveryAttempt, StoreError> {
    Ok(DeliveryAttempt {
        endpoint_id: parsed(r, "endpoint_id")?,
        event_id: parsed(r, "event_id")?,
        organization_id: parsed(r, "organization_id")?,
        at: instant(r, "at")?,
        status_code: r
            .opt_int("status_code")?
            .map(|c| u16::try_from(c).map_err(|_| StoreError::corrupt("status_code out of range")))
            .transpose()?,
        latency_ms: count(r, "latency_ms")?,
        response_excerpt: text(r, "response_excerpt")?,
        error: r.opt_text("error")?,
        trigger: named(r, "attempt_trigger", AttemptTrigger::from_name)?,
    })
}

/// A claimed delivery: `webhook_deliveries.*`, the endpoint's columns aliased as in
/// [`ENDPOINT_ALIASES`] and the event's time and data as `o_…` (see [`due_delivery_columns`]).
pub fn due_delivery(r: &impl RowSource) -> Result<crate::DueDelivery, StoreError> {
    let delivery = delivery(r)?;
    let endpoint = webhook_endpoint(&EndpointAliased(r))?;
    let event = NewEvent {
        id: delivery.event_id,
        organization_id: delivery.organization_id,
        event_type: delivery.event_type,
        timestamp: instant(r, "o_occurred_at")?,
        data: json(r, "o_data")?,
    };
    Ok(crate::DueDelivery {
        replayed: text(r, "round_trigger")? == AttemptTrigger::Replay.as_str(),
        delivery,
        endpoint,
        event,
    })
}

/// Every `webhook_endpoints` column and the alias a claim selects it as (one list, so the
/// select list and the decoding cannot drift apart).
const ENDPOINT_ALIASES: [(&str, &str); 15] = [
    ("id", "e_id"),
    ("organization_id", "e_organization_id"),
    ("url", "e_url"),
    ("description", "e_description"),
    ("events", "e_events"),
    ("enabled", "e_enabled"),
    ("disabled_reason", "e_disabled_reason"),
    ("secret_sealed", "e_secret_sealed"),
    ("previous_secret_sealed", "e_previous_secret_sealed"),
    ("previous_secret_until", "e_previous_secret_until"),
    ("failing_since", "e_failing_since"),
    ("created_at", "e_created_at"),
    ("updated_at", "e_updated_at"),
    ("sftp_host_key", "e_sftp_host_key"),
    ("sftp_credential_sealed", "e_sftp_credential_sealed"),
];

/// Reads endpoint columns under their claim aliases.
struct EndpointAliased<'a, R>(&'a R);

impl<R: RowSource> EndpointAliased<'_, R> {
    fn alias(column: &'static str) -> &'static str {
        ENDPOINT_ALIASES
            .iter()
            .find(|(c, _)| *c == column)
            .map_or(column, |(_, aliased)| aliased)
    }
}

impl<R: RowSource> RowSource for EndpointAliased<'_, R> {
    fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        self.0.opt_text(Self::alias(column))
    }
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        self.0.opt_int(Self::alias(column))
    }
    fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        self.0.opt_bytes(Self::alias(column))
    }
}

/// The select list of a claim over `webhook_deliveries d`, `webhook_endpoints e` and
/// `outbox o`: the delivery, the endpoint's aliased columns, the event's time and data.
/// The same text on both engines.
#[must_use]
pub fn due_delivery_columns() -> &'static str {
    static COLUMNS: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let endpoint: Vec<String> = ENDPOINT_ALIASES
            .iter()
            .map(|(column, alias)| format!("e.{column} AS {alias}"))
            .collect();
        format!(
            "d.*, {}, o.occurred_at AS o_occurred_at, o.data AS o_data",
            endpoint.join(", ")
        )
    });
    &COLUMNS
}

/// `invitations.*`
pub fn invitation(r: &impl RowSource) -> Result<parley_domain::Invitation, StoreError> {
    Ok(parley_domain::Invitation {
        id: parsed(r, "id")?,
        organization_id: parsed(r, "organization_id")?,
        email: text(r, "email")?,
        role: parsed::<Role>(r, "role")?,
        invited_by: text(r, "invited_by")?,
        created_at: instant(r, "created_at")?,
        expires_at: instant(r, "expires_at")?,
        accepted_at: opt_instant(r, "accepted_at")?,
        accepted_by: opt_parsed(r, "accepted_by")?,
        revoked_at: opt_instant(r, "revoked_at")?,
    })
}
