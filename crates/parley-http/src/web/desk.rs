//! `GET /app/{org}/conversations`: the agent desk's conversation list, in the page's frame
//! (organization switcher, navigation, the person's menu). Views: **Mine** (assigned to
//! me, open), **Unassigned** (waiting in a queue), **All** (open; for those who may read
//! every conversation) and **Closed**; a page of 50, newest first, with a link to the next.
//! Each row is what a person tells a conversation apart by: the contact's name (else its
//! address), the channel, the last message, its time in the organization's zone, the
//! state, the assignee and the outcome status.

use std::collections::HashMap;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::auth::Access;
use parley_domain::{ConversationId, ConversationState, Direction, OrgId, Permission, Provider};
use parley_store::{ConversationFilter, ConversationSummary, PageRequest};
use serde::Deserialize;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, encode, problem_words, render};
use super::session::{Session, Viewer, desk_of};
use super::{contact, thread};
use crate::AppState;
use crate::problem::ApiError;

/// Rows per page.
const PAGE: u32 = 50;

/// A view of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum View {
    Mine,
    Unassigned,
    All,
    Closed,
    /// The open conversations of one queue (by key).
    Queue(String),
}

impl View {
    /// The views every person has, before their queues.
    const FIXED: [View; 4] = [View::Mine, View::Unassigned, View::All, View::Closed];

    pub(crate) fn key(&self) -> String {
        match self {
            View::Mine => "mine".to_owned(),
            View::Unassigned => "unassigned".to_owned(),
            View::All => "all".to_owned(),
            View::Closed => "closed".to_owned(),
            View::Queue(key) => format!("queue:{key}"),
        }
    }

    pub(crate) fn from_key(key: &str) -> Option<Self> {
        if let Some(queue) = key.strip_prefix("queue:") {
            return Some(View::Queue(queue.to_owned()));
        }
        Self::FIXED.into_iter().find(|v| v.key() == key)
    }

    fn filter(&self, access: &Access) -> ConversationFilter {
        let mut filter = ConversationFilter::default();
        match self {
            View::Mine => {
                filter.assignee = access.principal.user();
                filter.open = true;
            }
            View::Unassigned => filter.state = Some(ConversationState::Queued),
            View::All => filter.open = true,
            View::Closed => filter.state = Some(ConversationState::Closed),
            View::Queue(key) => {
                filter.queue = Some(key.clone());
                filter.open = true;
            }
        }
        filter
    }

    /// What the list says when the view is empty.
    fn empty_words(&self) -> &'static str {
        match self {
            View::Mine => "Nothing is assigned to you. Conversations you take appear here.",
            View::Unassigned => {
                "No one is waiting. New conversations handed to a queue appear here."
            }
            View::All => "There are no open conversations.",
            View::Closed => "No conversation has been closed yet.",
            View::Queue(_) => "This queue has no open conversations.",
        }
    }
}

/// The views a person has, with their labels: Mine, Unassigned, All (for those who read
/// every conversation), each queue they work, Closed.
async fn views_of(state: &AppState, access: &Access) -> Result<Vec<(View, String)>, PageError> {
    let mut views = vec![
        (View::Mine, "Mine".to_owned()),
        (View::Unassigned, "Unassigned".to_owned()),
    ];
    if access.require(Permission::ConversationsRead).is_ok() {
        views.push((View::All, "All".to_owned()));
    }
    for queue in state.app.queues_worked(access).await? {
        views.push((View::Queue(queue.key), queue.name));
    }
    views.push((View::Closed, "Closed".to_owned()));
    Ok(views)
}

/// The list's query string.
#[derive(Debug, Deserialize)]
pub(crate) struct ListQuery {
    view: Option<String>,
    cursor: Option<String>,
    /// A search (by customer id, address or name) in place of the view.
    q: Option<String>,
}

impl ListQuery {
    /// The first page of `view`.
    pub(crate) fn of(view: &View) -> Self {
        Self {
            view: Some(view.key()),
            cursor: None,
            q: None,
        }
    }
}

/// A link in the view navigation.
struct ViewLink {
    label: String,
    href: String,
    current: bool,
    /// How many conversations it holds (not counted for Closed).
    count: Option<u64>,
}

/// One row of the list.
struct Row {
    href: String,
    current: bool,
    title: String,
    address: Option<String>,
    channel: String,
    excerpt: String,
    time: String,
    datetime: String,
    state: &'static str,
    state_class: &'static str,
    assignee: Option<String>,
    status: Option<String>,
    /// The customer wrote since the person last had it open.
    unread: bool,
}

/// The desk page.
#[derive(Template)]
#[template(path = "app/desk.html")]
struct DeskPage {
    asset: Assets,
    frame: Frame,
    views: Vec<ViewLink>,
    view_label: String,
    /// The search shown in the search box (empty for none).
    search: String,
    /// The view the search was made from, without the search.
    clear_href: String,
    rows: Vec<Row>,
    empty: String,
    next_href: Option<String>,
    /// On a phone, the way back from an open conversation to its list.
    list_href: Option<String>,
    view_key: String,
    /// Where the page hears of changes.
    live_href: String,
    /// What the last action met, in words.
    problem: Option<String>,
    open: Option<Open>,
}

/// The conversation open in the pane.
struct Open {
    row: Row,
    thread: thread::Thread,
    contact: contact::Panel,
    /// Where its forms post.
    act_href: String,
    /// Whether the person may act on it (and it is open).
    can_act: bool,
    /// Whether it is assigned to the person.
    mine: bool,
    queues: Vec<Choice>,
    statuses: Vec<Choice>,
    /// Who it may be given to (its queue's members).
    people: Vec<Choice>,
    /// Its bot's name and the steps it may be handed back to.
    hand_back: Option<(String, Vec<Choice>)>,
    /// Whether it has an outcome status already.
    has_status: bool,
    /// Whether replies go as SMS (the counter then counts parts).
    sms: bool,
    /// Where the reply counter asks.
    counter_href: String,
    /// What the counter says of an empty reply.
    counter_start: String,
    /// A WhatsApp conversation outside its 24-hour window says so above the reply box.
    window_warning: bool,
    /// The organization's canned replies, filled for this contact.
    canned: Vec<Canned>,
    /// What the reply box holds: the text of a reply or note that was refused.
    draft: String,
}

/// A canned reply the reply box offers after `/`.
struct Canned {
    key: String,
    title: String,
    /// The reply filled for the contact.
    text: String,
    /// What typing after `/` matches: the key and title in lower case.
    matches: String,
}

/// An option of a choice (a queue, an outcome status).
struct Choice {
    key: String,
    label: String,
    current: bool,
}

/// `GET /app/{org}/conversations`: the list, no conversation open.
pub(crate) async fn conversations(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    desk(&state, &session, org, query, None, None).await
}

/// `GET /app/{org}/conversations/{id}`: the list with one conversation open.
pub(crate) async fn conversation(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, ConversationId)>,
    Query(query): Query<ListQuery>,
) -> Result<Response, PageError> {
    desk(&state, &session, org, query, Some(id), None).await
}

/// The desk page: the list of `query`, the conversation `open` in the pane, and the
/// `problem` an action just met, shown above it (with its status), with the text that
/// action wrote back in the reply box so nothing typed is lost.
pub(crate) async fn desk(
    state: &AppState,
    session: &Session,
    org: OrgId,
    query: ListQuery,
    open: Option<ConversationId>,
    problem: Option<(ApiError, String)>,
) -> Result<Response, PageError> {
    let (problem, draft) = match problem {
        Some((p, text)) => (Some(p), text),
        None => (None, String::new()),
    };
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    let views = views_of(state, access).await?;
    let view = query
        .view
        .as_deref()
        .and_then(View::from_key)
        .filter(|v| views.iter().any(|(w, _)| w == v))
        .unwrap_or(View::Mine);
    let search_text = query.q.as_deref().map(str::trim).unwrap_or_default();
    let search = parley_app::conversations::contact_search(access, "q", search_text)?;
    let mut view_label = views
        .iter()
        .find(|(v, _)| *v == view)
        .map(|(_, label)| label.clone())
        .unwrap_or_default();
    let base = desk_of(org);
    let clear_href = format!("{base}?view={}", encode(&view.key()));
    let mut query_tail = format!("?view={}", encode(&view.key()));
    // A search looks through every conversation the person may see, open or closed.
    let filter = match search {
        None => view.filter(access),
        Some(search) => {
            view_label = format!("Results for “{search_text}”");
            query_tail = format!("{query_tail}&q={}", encode(search_text));
            ConversationFilter {
                search: Some(search),
                ..ConversationFilter::default()
            }
        }
    };
    let page = crate::extract::PageQuery {
        limit: Some(PAGE),
        cursor: query.cursor,
    }
    .page()?;
    let found = state
        .app
        .list_conversation_summaries(access, filter, page)
        .await?;
    let statuses: HashMap<String, String> = state
        .app
        .list_outcome_statuses(access)
        .await?
        .into_iter()
        .map(|s| (s.key, s.label))
        .collect();
    let now = state.app.clock.now();
    // The open conversation is read now: mark it so before the list says what is unread.
    let open_summary = match open {
        None => None,
        Some(id) => {
            let summary = summary_of(state, access, id, &found.items).await?;
            state
                .app
                .mark_conversation_read(access, &summary.conversation)
                .await?;
            Some(summary)
        }
    };
    let listed: Vec<&parley_domain::Conversation> =
        found.items.iter().map(|s| &s.conversation).collect();
    let unread = state.app.unread_of(access, &listed).await?;
    let rows = found
        .items
        .iter()
        .map(|summary| {
            let mut r = row(access, &base, &query_tail, summary, &statuses, now, open);
            r.unread = unread.contains(&summary.conversation.id);
            r
        })
        .collect();
    let open = match open_summary {
        None => None,
        Some(summary) => {
            let id = summary.conversation.id;
            let c = &summary.conversation;
            let can_write = access.require(Permission::ConversationsWrite).is_ok();
            let closed = c.state == ConversationState::Closed;
            let queues = if can_write && !closed {
                state
                    .app
                    .list_queues(access)
                    .await?
                    .into_iter()
                    .map(|q| Choice {
                        current: c.queue.as_deref() == Some(q.key.as_str()),
                        key: q.key,
                        label: q.name,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let people = if can_write && !closed {
                state
                    .app
                    .assignable_people(access, id)
                    .await?
                    .into_iter()
                    .map(|(user, name)| Choice {
                        current: c.assignee == Some(user),
                        key: user.to_string(),
                        label: name,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let hand_back = if can_write && !closed {
                state
                    .app
                    .hand_back_steps(access, id)
                    .await?
                    .map(|(name, steps)| {
                        let choices = steps
                            .into_iter()
                            .map(|step| Choice {
                                label: step.clone(),
                                key: step,
                                current: false,
                            })
                            .collect();
                        (name, choices)
                    })
            } else {
                None
            };
            let status_choices = statuses
                .iter()
                .map(|(key, label)| Choice {
                    current: c.status.as_deref() == Some(key.as_str()),
                    key: key.clone(),
                    label: label.clone(),
                })
                .collect();
            let canned = if can_write && !closed {
                state
                    .app
                    .canned_replies_for(access, id)
                    .await?
                    .into_iter()
                    .map(|f| Canned {
                        matches: format!("{} {}", f.reply.key, f.reply.title.to_lowercase()),
                        key: f.reply.key,
                        title: f.reply.title,
                        text: f.text,
                    })
                    .collect()
            } else {
                Vec::new()
            };
            Some(Open {
                canned,
                draft: draft.clone(),
                act_href: format!("{base}/{id}/act"),
                can_act: can_write && !closed,
                mine: c.assignee.is_some() && c.assignee == access.principal.user(),
                has_status: c.status.is_some(),
                sms: summary.provider.address_kind() == parley_domain::ChannelKind::Sms,
                counter_href: format!("/app/{org}/counter"),
                counter_start: super::counter::counter_words(
                    "",
                    summary.provider.address_kind() == parley_domain::ChannelKind::Sms,
                ),
                window_warning: summary.provider == Provider::Whatsapp
                    && !parley_app::conversations::send::within_whatsapp_window(
                        c.last_inbound_at,
                        now,
                    ),
                queues,
                people,
                hand_back,
                statuses: status_choices,
                row: row(access, &base, &query_tail, &summary, &statuses, now, None),
                thread: thread::read(state, access, id).await?,
                contact: contact::read(state, access, &base, c.contact_id, Some(id)).await?,
            })
        }
    };
    let (status, problem) = match &problem {
        None => (StatusCode::OK, None),
        Some(p) => {
            let (status, words) = problem_words(p);
            (status, Some(words))
        }
    };
    let next_href = crate::extract::encode_cursor(found.next_cursor)
        .map(|c| format!("{base}{query_tail}&cursor={}", encode(&c)));
    let list_href = open.as_ref().map(|_| format!("{base}{query_tail}"));
    let here = match &open {
        Some(o) => o.row.href.clone(),
        None => format!("{base}{query_tail}"),
    };
    let page = DeskPage {
        asset: assets::urls(),
        frame: Frame::new(state, session, &viewer, Section::Conversations, here).await?,
        views: view_links(
            state,
            access,
            &base,
            views,
            (search_text.is_empty()).then_some(&view),
        )
        .await?,
        empty: if search_text.is_empty() {
            view.empty_words().to_owned()
        } else {
            format!(
                "No conversation matches “{search_text}”. Search finds a whole customer id or \
                 phone number, or part of a name."
            )
        },
        view_label,
        search: search_text.to_owned(),
        clear_href,
        rows,
        next_href,
        list_href,
        view_key: view.key(),
        live_href: format!("/app/{org}/live"),
        problem,
        open,
    };
    Ok(render(status, &page))
}

/// The summary of an open conversation: from the page of the list when it is there, else
/// read on its own (it may belong to another view).
async fn summary_of(
    state: &AppState,
    access: &Access,
    id: ConversationId,
    listed: &[ConversationSummary],
) -> Result<ConversationSummary, PageError> {
    if let Some(found) = listed.iter().find(|s| s.conversation.id == id) {
        return Ok(found.clone());
    }
    let conversation = state.app.get_conversation(access, id).await?;
    let filter = ConversationFilter {
        contact: Some(conversation.contact_id),
        channel: Some(conversation.channel_id),
        ..ConversationFilter::default()
    };
    let mut page = PageRequest::first(PAGE);
    loop {
        let found = state
            .app
            .list_conversation_summaries(access, filter.clone(), page)
            .await?;
        if let Some(s) = found.items.into_iter().find(|s| s.conversation.id == id) {
            return Ok(s);
        }
        match found.next_cursor {
            Some(after) => {
                page = PageRequest {
                    after: Some(after),
                    limit: PAGE,
                }
            }
            None => return Err(parley_app::AppError::NotFound("conversation").into()),
        }
    }
}

/// The view navigation: each view's link and, but for Closed, how many it holds.
async fn view_links(
    state: &AppState,
    access: &Access,
    base: &str,
    views: Vec<(View, String)>,
    current: Option<&View>,
) -> Result<Vec<ViewLink>, PageError> {
    let mut links = Vec::with_capacity(views.len());
    for (view, label) in views {
        let count = match view {
            View::Closed => None,
            _ => Some(
                state
                    .app
                    .count_conversations(access, view.filter(access))
                    .await?,
            ),
        };
        links.push(ViewLink {
            href: format!("{base}?view={}", encode(&view.key())),
            current: current == Some(&view),
            label,
            count,
        });
    }
    Ok(links)
}

fn row(
    access: &Access,
    base: &str,
    query_tail: &str,
    s: &ConversationSummary,
    statuses: &HashMap<String, String>,
    now: DateTime<Utc>,
    open: Option<ConversationId>,
) -> Row {
    let c = &s.conversation;
    let name = contact_name(&s.contact_fields);
    let (title, address) = match (name, &s.address, &s.customer_id) {
        (Some(name), address, _) => (name, address.clone()),
        (None, Some(address), _) => (address.clone(), None),
        (None, None, Some(customer)) => (format!("Customer {customer}"), None),
        (None, None, None) => ("Unknown contact".to_owned(), None),
    };
    let at = s.last_message.as_ref().map_or(c.opened_at, |m| m.at);
    let excerpt = match &s.last_message {
        None => "No messages yet".to_owned(),
        Some(m) => {
            let who = match (m.direction, m.sender.as_str()) {
                (Direction::Inbound, _) => "",
                (Direction::Outbound, "bot") => "Bot: ",
                (Direction::Outbound, "system") => "Parley: ",
                (Direction::Outbound, _) => "Agent: ",
            };
            format!("{who}{}", one_line(&m.excerpt))
        }
    };
    let (state, state_class) = match c.state {
        ConversationState::Bot => ("Bot", "bot"),
        ConversationState::Queued => ("Waiting", "waiting"),
        ConversationState::Assigned => ("Assigned", "assigned"),
        ConversationState::Closed => ("Closed", "closed"),
    };
    let zone = &access.organization.timezone;
    let local = zone.local(at);
    let time = if local.date() == zone.today(now) {
        local.format("%H:%M").to_string()
    } else {
        local.format("%-d %b").to_string()
    };
    Row {
        href: format!("{base}/{}{query_tail}", c.id),
        current: open == Some(c.id),
        unread: false,
        title,
        address,
        channel: channel_words(s.provider, &s.channel_name),
        excerpt,
        time,
        datetime: at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        state,
        state_class,
        assignee: s.assignee_name.clone(),
        status: c
            .status
            .as_ref()
            .map(|k| statuses.get(k).cloned().unwrap_or_else(|| k.clone())),
    }
}

/// The channel as a row names it: its name, and the kind of channel when the name does
/// not say it ("Collections · SMS", "Simulator").
fn channel_words(provider: Provider, name: &str) -> String {
    let label = provider_label(provider);
    if name.to_lowercase().contains(&label.to_lowercase()) {
        name.to_owned()
    } else {
        format!("{name} · {label}")
    }
}

/// "SMS", "WhatsApp", "Web chat", "Simulator".
fn provider_label(p: Provider) -> &'static str {
    match p {
        Provider::Sim => "Simulator",
        Provider::Twilio => "SMS",
        Provider::Whatsapp => "WhatsApp",
        Provider::Webchat => "Web chat",
    }
}

/// The contact's name from its fields: `first_name` and `last_name`, else `name`.
pub(crate) fn contact_name(fields: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let text = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|t| !t.is_empty())
    };
    let joined: Vec<&str> = [text("first_name"), text("last_name")]
        .into_iter()
        .flatten()
        .collect();
    if joined.is_empty() {
        text("name").map(str::to_owned)
    } else {
        Some(joined.join(" "))
    }
}

/// Text on one line: runs of white space (new lines included) become one space, and
/// characters that reorder text (bidirectional overrides) are dropped, so an excerpt
/// cannot scramble its row.
fn one_line(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .filter(|c| !matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
        .collect();
    cleaned.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_first_and_last_name_else_name() {
        let fields = |v: serde_json::Value| v.as_object().unwrap().clone();
        assert_eq!(
            contact_name(&fields(
                serde_json::json!({"first_name": "Ada", "last_name": "Byron"})
            )),
            Some("Ada Byron".to_owned())
        );
        assert_eq!(
            contact_name(&fields(
                serde_json::json!({"name": "Grace Hopper", "first_name": " "})
            )),
            Some("Grace Hopper".to_owned())
        );
        assert_eq!(
            contact_name(&fields(serde_json::json!({"balance": "1"}))),
            None
        );
    }

    #[test]
    fn excerpts_are_one_line_and_cannot_reorder_their_row() {
        assert_eq!(one_line("Pay\n\n  now\t please"), "Pay now please");
        assert_eq!(one_line("abc\u{202E}fed\u{2066}x"), "abcfedx");
    }
}
