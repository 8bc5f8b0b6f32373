//! The thread pane of the desk: a conversation's messages, notes and events (assigned,
//! moved to a queue, outcome status set, closed) in time order, each with who did it (the
//! customer, the bot, an agent by name, Parley itself) and its time in the organization's
//! zone, a day heading where the date changes, and each outbound message's delivery
//! status (a failure with the provider's code and words). Customer
//! text is text: the template escapes it, and the stylesheet keeps long lines and
//! right-to-left overrides inside their bubble.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use parley_app::auth::Access;
use parley_domain::{
    ConversationId, Direction, EventType, Message, MessageStatus, NewEvent, Note, UserId,
};
use parley_store::PageRequest;

use super::pages::PageError;
use crate::AppState;

/// Messages shown when a conversation opens.
const SHOWN: u32 = 500;

/// One entry of the thread.
pub(crate) struct Entry {
    /// A date heading before it ("Monday 7 December"), when the day changes.
    pub(crate) day: Option<String>,
    /// `in`, `out` or `note`: how it is drawn.
    pub(crate) class: &'static str,
    /// Who wrote it.
    pub(crate) who: String,
    /// Its text.
    pub(crate) body: String,
    /// Its time ("14:05").
    pub(crate) time: String,
    /// Its time as RFC 3339, for `<time datetime>`.
    pub(crate) datetime: String,
    /// Its delivery status, for outbound messages ("Delivered", "Failed: 30007 …").
    pub(crate) status: Option<String>,
    /// Whether the status is a failure.
    pub(crate) failed: bool,
    /// The message's or note's id (the page draws each once).
    pub(crate) id: String,
}

/// The thread of a conversation, as the pane shows it.
pub(crate) struct Thread {
    /// Its entries, oldest first.
    pub(crate) entries: Vec<Entry>,
    /// Whether older messages exist than those shown.
    pub(crate) truncated: bool,
}

/// Reads the thread of `id` as `access` may see it.
pub(crate) async fn read(
    state: &AppState,
    access: &Access,
    id: ConversationId,
) -> Result<Thread, PageError> {
    let app = &state.app;
    let messages = app
        .list_conversation_messages(access, id, PageRequest::first(SHOWN))
        .await?;
    let notes = app.list_notes(access, id).await?;
    let events = app.conversation_events(access, id).await?;
    let queues: HashMap<String, String> = app
        .list_queues(access)
        .await?
        .into_iter()
        .map(|q| (q.key, q.name))
        .collect();
    let people: Vec<UserId> = messages
        .items
        .iter()
        .filter_map(|m| person(&m.sender))
        .chain(notes.iter().filter_map(|n| n.author.parse().ok()))
        .chain(events.iter().flat_map(event_people))
        .collect();
    let names = app.names_of_people(access, people).await?;
    // In time order; at the same millisecond, in the order they were made (ids are
    // time-ordered UUIDs, whatever their prefix).
    let mut timed: Vec<(DateTime<Utc>, uuid::Uuid, Entry)> = messages
        .items
        .iter()
        .map(|m| (m.created_at, m.id.uuid(), message(m, &names)))
        .chain(
            notes
                .iter()
                .map(|n| (n.created_at, n.id.uuid(), note(n, &names))),
        )
        .chain(events.iter().filter_map(|e| {
            event(e, &names, &queues).map(|entry| (e.timestamp, e.id.uuid(), entry))
        }))
        .collect();
    timed.sort_by_key(|(at, id, _)| (*at, *id));
    let zone = &access.organization.timezone;
    let mut day: Option<NaiveDate> = None;
    let entries = timed
        .into_iter()
        .map(|(at, _, mut entry)| {
            let local = zone.local(at);
            if day != Some(local.date()) {
                day = Some(local.date());
                entry.day = Some(local.format("%A %-d %B %Y").to_string());
            }
            entry.time = local.format("%H:%M").to_string();
            entry.datetime = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            entry
        })
        .collect();
    Ok(Thread {
        entries,
        truncated: messages.next_cursor.is_some(),
    })
}

/// The person behind a message's sender (`agent:usr_…`), if it is one.
fn person(sender: &str) -> Option<UserId> {
    sender.strip_prefix("agent:")?.parse().ok()
}

fn blank(class: &'static str, who: String, body: String, id: String) -> Entry {
    Entry {
        day: None,
        class,
        who,
        body,
        time: String::new(),
        datetime: String::new(),
        status: None,
        failed: false,
        id,
    }
}

fn message(m: &Message, names: &HashMap<UserId, String>) -> Entry {
    let who = match (m.direction, m.sender.as_str()) {
        (Direction::Inbound, _) => "Customer".to_owned(),
        (Direction::Outbound, "bot") => "Bot".to_owned(),
        (Direction::Outbound, "system") => "Parley".to_owned(),
        (Direction::Outbound, sender) => person(sender)
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "Agent".to_owned()),
    };
    let class = match m.direction {
        Direction::Inbound => "in",
        Direction::Outbound => "out",
    };
    let mut entry = blank(class, who, m.body.clone(), m.id.to_string());
    if m.direction == Direction::Outbound {
        let (words, failed) = status_words(m);
        entry.status = Some(words);
        entry.failed = failed;
    }
    entry
}

/// "Sent", "Delivered", "Failed: 30007 Carrier violation".
fn status_words(m: &Message) -> (String, bool) {
    let word = match m.status {
        MessageStatus::Received => "Received",
        MessageStatus::Pending => "Sending…",
        MessageStatus::Sent => "Sent",
        MessageStatus::Delivered => "Delivered",
        MessageStatus::Read => "Read",
        MessageStatus::Undelivered => "Not delivered",
        MessageStatus::Failed => "Failed",
    };
    let failed = matches!(m.status, MessageStatus::Failed | MessageStatus::Undelivered);
    if !failed {
        return (word.to_owned(), false);
    }
    let why: Vec<&str> = [m.error_code.as_deref(), m.error_message.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    if why.is_empty() {
        (word.to_owned(), true)
    } else {
        (format!("{word}: {}", why.join(" ")), true)
    }
}

/// Who did what an event says, from its `…_by` actor: a person by name, the bot, Parley,
/// an API client.
fn actor_words(actor: &serde_json::Value, names: &HashMap<UserId, String>) -> String {
    match actor["type"].as_str() {
        Some("bot") => "Bot".to_owned(),
        Some("system") => "Parley".to_owned(),
        Some("agent") => actor["id"]
            .as_str()
            .and_then(|id| id.parse::<UserId>().ok())
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "A person".to_owned()),
        _ => "An API client".to_owned(),
    }
}

/// The people an event names (who acted, who was given the conversation).
fn event_people(e: &NewEvent) -> Vec<UserId> {
    let d = &e.data;
    [
        &d["assigned_by"]["id"],
        &d["moved_by"]["id"],
        &d["set_by"]["id"],
        &d["closed_by"]["id"],
        &d["assignee"],
    ]
    .into_iter()
    .filter_map(|v| v.as_str()?.parse().ok())
    .collect()
}

/// An event as the thread shows it, for those that change the conversation (messages
/// and delivery reports are shown as messages already).
fn event(
    e: &NewEvent,
    names: &HashMap<UserId, String>,
    queues: &HashMap<String, String>,
) -> Option<Entry> {
    let d = &e.data;
    let (by, words) = match e.event_type {
        EventType::ConversationAssignment => (
            &d["assigned_by"],
            match d["assignee"]
                .as_str()
                .and_then(|u| u.parse::<UserId>().ok())
            {
                Some(user) => format!(
                    "Assigned to {}",
                    names.get(&user).map_or("a person", String::as_str)
                ),
                None => "Unassigned".to_owned(),
            },
        ),
        EventType::MoveToQueue => {
            let key = d["queue"].as_str().unwrap_or_default();
            let queue = queues.get(key).map_or(key, String::as_str);
            (&d["moved_by"], format!("Moved to {queue}"))
        }
        EventType::SetStatus => (
            &d["set_by"],
            format!(
                "Outcome status set to {}",
                d["status"]["label"].as_str().unwrap_or_default()
            ),
        ),
        EventType::ConversationClosed => (&d["closed_by"], "Closed the conversation".to_owned()),
        _ => return None,
    };
    Some(blank(
        "event",
        actor_words(by, names),
        words,
        e.id.to_string(),
    ))
}

fn note(n: &Note, names: &HashMap<UserId, String>) -> Entry {
    let who = match n.author.as_str() {
        "system" => "Parley".to_owned(),
        author => author
            .parse::<UserId>()
            .ok()
            .and_then(|id| names.get(&id).cloned())
            .unwrap_or_else(|| "An API client".to_owned()),
    };
    blank(
        "note",
        format!("Note by {who}"),
        n.body.clone(),
        n.id.to_string(),
    )
}
