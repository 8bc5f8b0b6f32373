//! The web-chat channel's server side (SPEC §5, `reference/channels.md` §8): who a socket
//! speaks for, the thread it is shown, what the visitor writes, and the replies that reach
//! it. `parley-http` owns the socket; `parley_channels::webchat` the frames and tokens.
//!
//! A socket is admitted when its channel is an enabled `webchat` channel and the page's
//! `Origin` is one of the channel's `allowed_origins`. Its first frame says who the
//! visitor is (see `parley_channels::webchat::identity`); the answer is a fresh visitor
//! token (its expiry slides with each visit: 180 days) and the thread.
//!
//! Decisions:
//! * a page view writes nothing: the contact is created by the visitor's first message,
//!   so crawlers and people who never write leave no trace;
//! * the thread shown is the visitor's last three conversations on the channel (the last
//!   200 messages of them), oldest first, without outbound messages that failed (they
//!   never reached the visitor);
//! * a signed-in user whose site id is the `customer_id` of a contact of the organization
//!   (an imported customer, say) chats as that contact: their `user:` address is added to
//!   it, so the flow sees their fields; when the address already belongs to another
//!   contact it stays there;
//! * the site's `name` and `email` claims are not stored: the site is the record of its
//!   users, and the contact's fields are the organization's, written by imports and the API;
//! * what the visitor writes is an inbound message whose provider id is their address and
//!   the widget's `client_id`: a resend after a reconnection is taken once, and answered
//!   with the line already stored;
//! * replies reach a socket from the outbox (the live feed), so a visitor connected to
//!   one process gets what another process sent; the sender wakes the feed when it sends
//!   a web-chat message, so a reply reaches the page within milliseconds; one router per
//!   process hands each event to the sockets of its channel and contact;
//! * a visitor may write 5 messages at once and then one a second; beyond, a message is
//!   not taken (the widget keeps it and resends);
//! * `received` and `read` from the page move a reply to `delivered` and `read`; a socket
//!   acknowledges only replies it was shown.

use parley_channels::TokenBucket;
use parley_channels::webchat::frames::Direction as LineDirection;
/// The socket's frames (`parley_channels::webchat::frames`), for the HTTP layer.
pub use parley_channels::webchat::frames::{
    self, ClientFrame, Direction as LineWay, FrameError, Line, ServerFrame,
};
use parley_channels::webchat::identity::{self, SiteUser, UserTokenError};
use parley_domain::{
    Channel, ChannelAddress, ChannelId, ChannelKind, Contact, ContactId, Direction, EventType,
    Message, MessageStatus, Provider, StatusReport,
};
use parley_store::{ContactFilter, ContactUpdate, ConversationFilter, MessageKey, PageRequest};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;

use super::events::timestamp;
use super::turn::Inbound;
use super::turn::outbound_prefix;
use crate::{App, AppError, Conflict};

/// How long a visitor token lasts after the last visit.
const VISITOR_TTL_SECONDS: i64 = 180 * 24 * 3_600;
/// Conversations the thread shows.
const HISTORY_CONVERSATIONS: u32 = 3;
/// Messages the thread shows.
const HISTORY_MESSAGES: usize = 200;
/// What a visitor may write at once…
const MESSAGES_AT_ONCE: u32 = 5;
/// …and then each second.
const MESSAGES_PER_SECOND: u32 = 1;

/// Why a visitor was not let in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebchatRefusal {
    /// The site's user JWT was refused.
    #[error("{0}")]
    UserToken(UserTokenError),
    /// A user JWT came, but the channel has no identity secret to check it with.
    #[error("the channel has no identity_secret, so signed-in users cannot be verified")]
    NoIdentitySecret,
}

/// Who a socket speaks for.
#[derive(Debug)]
pub struct WebchatVisitor {
    /// The channel.
    pub channel: Channel,
    /// Their address (`visitor:…` or `user:…`).
    pub address: String,
    /// Their contact, once they have one.
    pub contact: Option<ContactId>,
    /// The token the page keeps.
    pub visitor_token: String,
    /// Paces what they write.
    pace: TokenBucket,
    since: std::time::Instant,
}

/// The provider id of a visitor's message.
fn inbound_key(address: &str, client_id: &str) -> String {
    format!("{address}/{client_id}")
}

fn line_of(m: &Message, address: &str) -> Line {
    let inbound = m.direction == Direction::Inbound;
    Line {
        id: m.id.to_string(),
        direction: if inbound {
            LineDirection::Inbound
        } else {
            LineDirection::Outbound
        },
        text: m.body.clone(),
        at: timestamp(m.created_at),
        client_id: m
            .provider_message_id
            .as_deref()
            .filter(|_| inbound)
            .and_then(|p| p.strip_prefix(address))
            .and_then(|p| p.strip_prefix('/'))
            .map(str::to_owned),
    }
}

fn random_bytes() -> Result<[u8; 16], AppError> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| AppError::Internal(Box::new(e)))?;
    Ok(bytes)
}

impl App {
    /// The channel a socket asks for, when it may: an enabled `webchat` channel (else
    /// `NotFound`) whose `allowed_origins` hold `origin` (else `Forbidden`).
    pub async fn webchat_admit(&self, channel: &str, origin: &str) -> Result<Channel, AppError> {
        let id: ChannelId = channel.parse().map_err(|_| AppError::NotFound("channel"))?;
        let channel = self
            .store
            .find_channel_for_callback(id)
            .await?
            .filter(|c| c.provider == Provider::Webchat && c.enabled)
            .ok_or(AppError::NotFound("channel"))?;
        let allowed = channel
            .settings
            .get("allowed_origins")
            .and_then(Value::as_array)
            .map(|l| l.iter().filter_map(Value::as_str).collect::<Vec<_>>())
            .unwrap_or_default();
        if !identity::origin_allowed(allowed, origin) {
            return Err(AppError::Forbidden(
                "this page's origin is not one of the channel's allowed_origins",
            ));
        }
        Ok(channel)
    }

    /// Who the `hello` frame says the visitor is, and their thread so far.
    pub async fn webchat_hello(
        &self,
        channel: Channel,
        visitor_token: Option<&str>,
        user_token: Option<&str>,
    ) -> Result<Result<(WebchatVisitor, Vec<Line>), WebchatRefusal>, AppError> {
        let now = self.clock.now().timestamp();
        let channel_id = channel.id.to_string();
        let user = match user_token {
            None => None,
            Some(token) => {
                let credentials = self.channel_credentials(&channel)?;
                let Some(secret) = credentials.get("identity_secret").and_then(Value::as_str)
                else {
                    return Ok(Err(WebchatRefusal::NoIdentitySecret));
                };
                match identity::read_user_token(secret, token, now) {
                    Ok(user) => Some(user),
                    Err(e) => return Ok(Err(WebchatRefusal::UserToken(e))),
                }
            }
        };
        let kept = visitor_token
            .and_then(|t| identity::read_visitor_token(&self.keys.webchat, t, &channel_id, now));
        let address = match (&user, kept) {
            (Some(user), _) => user.address(),
            (None, Some(kept)) if kept.starts_with(identity::VISITOR_PREFIX) => kept,
            (None, _) => identity::visitor_address(random_bytes()?),
        };
        let visitor_token = identity::issue_visitor_token(
            &self.keys.webchat,
            &channel_id,
            &address,
            now,
            VISITOR_TTL_SECONDS,
        )
        .map_err(|e| AppError::Internal(Box::new(e)))?;
        let contact = match &user {
            Some(user) => self.webchat_user_contact(&channel, user).await?,
            None => self.webchat_contact(&channel, &address).await?,
        };
        let history = match &contact {
            Some(c) => self.webchat_history(&channel, c, &address).await?,
            None => Vec::new(),
        };
        Ok(Ok((
            WebchatVisitor {
                contact: contact.map(|c| c.id),
                channel,
                address,
                visitor_token,
                pace: TokenBucket::new(MESSAGES_PER_SECOND, MESSAGES_AT_ONCE, Duration::ZERO),
                since: std::time::Instant::now(),
            },
            history,
        )))
    }

    /// The contact holding `address`, without creating one.
    async fn webchat_contact(
        &self,
        channel: &Channel,
        address: &str,
    ) -> Result<Option<Contact>, AppError> {
        let filter = ContactFilter {
            address: Some(address.to_owned()),
            ..ContactFilter::default()
        };
        Ok(self
            .store
            .list_contacts(channel.organization_id, &filter, PageRequest::first(1))
            .await?
            .items
            .into_iter()
            .find(|c| {
                c.addresses
                    .iter()
                    .any(|a| a.kind == ChannelKind::Webchat && a.address == address)
            }))
    }

    /// A signed-in user's contact: the one holding their address, else the one whose
    /// `customer_id` is their site id (their address is then added to it).
    async fn webchat_user_contact(
        &self,
        channel: &Channel,
        user: &SiteUser,
    ) -> Result<Option<Contact>, AppError> {
        let address = user.address();
        if let Some(c) = self.webchat_contact(channel, &address).await? {
            return Ok(Some(c));
        }
        let organization = channel.organization_id;
        let filter = ContactFilter {
            customer_id: Some(user.id.clone()),
            ..ContactFilter::default()
        };
        let Some(customer) = self
            .store
            .list_contacts(organization, &filter, PageRequest::first(1))
            .await?
            .items
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        let update = ContactUpdate {
            add_addresses: vec![ChannelAddress {
                kind: ChannelKind::Webchat,
                address: address.clone(),
            }],
            ..ContactUpdate::default()
        };
        match self
            .store
            .update_contact(organization, customer.id, update, self.clock.now())
            .await
        {
            Ok(c) => Ok(Some(c)),
            // Another contact took the address meanwhile: it is theirs.
            Err(parley_store::StoreError::Conflict { .. }) => {
                self.webchat_contact(channel, &address).await
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The thread: the contact's last conversations on the channel, oldest first.
    async fn webchat_history(
        &self,
        channel: &Channel,
        contact: &Contact,
        address: &str,
    ) -> Result<Vec<Line>, AppError> {
        let organization = channel.organization_id;
        let filter = ConversationFilter {
            channel: Some(channel.id),
            contact: Some(contact.id),
            ..ConversationFilter::default()
        };
        let conversations = self
            .store
            .list_conversations(
                organization,
                &filter,
                PageRequest::first(HISTORY_CONVERSATIONS),
            )
            .await?
            .items;
        let mut lines = Vec::new();
        for c in conversations.iter().rev() {
            let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
            loop {
                let messages = self.store.list_messages(organization, c.id, page).await?;
                lines.extend(
                    messages
                        .items
                        .iter()
                        .filter(|m| {
                            m.direction == Direction::Inbound || m.status != MessageStatus::Failed
                        })
                        .map(|m| line_of(m, address)),
                );
                if lines.len() > 4 * HISTORY_MESSAGES {
                    lines.drain(..lines.len() - HISTORY_MESSAGES);
                }
                match messages.next_cursor {
                    Some(next) => page = PageRequest::after(next, PageRequest::MAX_LIMIT),
                    None => break,
                }
            }
        }
        if lines.len() > HISTORY_MESSAGES {
            lines.drain(..lines.len() - HISTORY_MESSAGES);
        }
        Ok(lines)
    }

    /// The visitor writes `text`; the line as stored (the earlier one when `client_id`
    /// was taken before). `Ok(None)` when they write faster than 5 at once and then one a
    /// second: the message is not taken.
    pub async fn webchat_say(
        &self,
        visitor: &mut WebchatVisitor,
        text: &str,
        client_id: &str,
    ) -> Result<Option<Line>, AppError> {
        if visitor.pace.take(visitor.since.elapsed(), 1).is_err() {
            return Ok(None);
        }
        let key = inbound_key(&visitor.address, client_id);
        let handled = self
            .receive(Inbound {
                channel: visitor.channel.clone(),
                from: visitor.address.clone(),
                text: text.to_owned(),
                provider_message_id: Some(key.clone()),
                from_provider: false,
            })
            .await?;
        let message = match handled {
            Some(h) => {
                visitor.contact = Some(h.conversation.contact_id);
                h.messages
                    .into_iter()
                    .find(|m| m.direction == Direction::Inbound)
            }
            None => {
                self.store
                    .find_message(&MessageKey::Provider {
                        channel: visitor.channel.id,
                        provider_message_id: key,
                    })
                    .await?
            }
        };
        let message = message.ok_or(AppError::Conflict(Conflict::MESSAGE_NOT_TAKEN))?;
        if visitor.contact.is_none()
            && let Some(c) = self
                .store
                .get_conversation(visitor.channel.organization_id, message.conversation_id)
                .await?
        {
            visitor.contact = Some(c.contact_id);
        }
        Ok(Some(line_of(&message, &visitor.address)))
    }

    /// The page says a reply it was shown reached it (`read`: on a visible page).
    pub async fn webchat_seen(
        &self,
        visitor: &WebchatVisitor,
        message: &str,
        read: bool,
    ) -> Result<(), AppError> {
        let report = StatusReport {
            status: if read {
                MessageStatus::Read
            } else {
                MessageStatus::Delivered
            },
            at: self.clock.now(),
            error_code: None,
            error_message: None,
        };
        self.apply_status_report(&visitor.channel, &outbound_prefix(message), report)
            .await?;
        Ok(())
    }

    /// The lines of the visitor's thread as they are written from now on, whichever
    /// process writes them.
    #[must_use]
    pub fn webchat_follow(&self, visitor: &WebchatVisitor) -> WebchatFeed {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let mut feed = WebchatFeed {
            hub: self.webchat.clone(),
            channel: visitor.channel.id.to_string(),
            contact: None,
            tx,
            rx,
        };
        if let Some(contact) = visitor.contact {
            feed.follow_contact(contact);
        }
        feed
    }
}

/// A socket's way in the hub: its channel and contact.
type Route = (String, String);

/// The process's web-chat sockets by channel and contact: one reader of the live feed
/// hands each event to the sockets it is for, rather than every socket reading every
/// event of its organization. The reader runs only while a socket is registered, so a
/// process without visitors keeps the live feed idle.
#[derive(Debug)]
pub(crate) struct Hub {
    live: Arc<crate::live::Live>,
    routes: Mutex<Routes>,
    /// Woken when the last socket leaves, so the reader stops.
    emptied: tokio::sync::Notify,
}

#[derive(Debug, Default)]
struct Routes {
    sockets: HashMap<Route, Vec<UnboundedSender<Line>>>,
    /// Whether the reader runs.
    reading: bool,
}

impl Hub {
    /// The hub of the process whose live feed is `live`.
    pub(crate) fn new(live: Arc<crate::live::Live>) -> Self {
        Self {
            live,
            routes: Mutex::default(),
            emptied: tokio::sync::Notify::new(),
        }
    }

    /// Registers a socket for `route`, starting the reader when it is the first.
    fn join(self: &Arc<Self>, route: Route, socket: UnboundedSender<Line>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        routes.sockets.entry(route).or_default().push(socket);
        if routes.reading {
            return;
        }
        routes.reading = true;
        let mut events = self.live.subscribe_all();
        let hub = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    event = events.recv() => match event {
                        Ok(event) => hub.route(&event),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    },
                    () = hub.emptied.notified() => {}
                }
                let mut routes = hub.routes.lock().unwrap_or_else(PoisonError::into_inner);
                if routes.sockets.is_empty() {
                    routes.reading = false;
                    break;
                }
            }
        });
    }

    /// Takes `socket` out of `route`; wakes the reader to stop when none is left.
    fn leave(&self, route: &Route, socket: &UnboundedSender<Line>) {
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sockets) = routes.sockets.get_mut(route) {
            sockets.retain(|s| !s.same_channel(socket));
            if sockets.is_empty() {
                routes.sockets.remove(route);
            }
        }
        if routes.sockets.is_empty() {
            self.emptied.notify_one();
        }
    }

    /// Hands an outbox event to the sockets of its channel and contact, as a line.
    fn route(&self, event: &parley_domain::NewEvent) {
        let data = &event.data;
        let message = &data["message"];
        let (Some(channel), Some(contact)) = (
            message["channel_id"].as_str(),
            data["contact"]["id"].as_str(),
        ) else {
            return;
        };
        let mut routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        let key = (channel.to_owned(), contact.to_owned());
        let Some(sockets) = routes.sockets.get_mut(&key) else {
            return;
        };
        let Some(line) = line_from_event(event) else {
            return;
        };
        sockets.retain(|s| s.send(line.clone()).is_ok());
        if sockets.is_empty() {
            routes.sockets.remove(&key);
        }
    }
}

/// The line an outbox event is, when it is a reply sent or a visitor's message.
fn line_from_event(event: &parley_domain::NewEvent) -> Option<Line> {
    let message = &event.data["message"];
    let (direction, at) = match event.event_type {
        EventType::MessageSend => (LineDirection::Outbound, message["at"].as_str()?),
        EventType::InboundMessage => (LineDirection::Inbound, message["received_at"].as_str()?),
        _ => return None,
    };
    Some(Line {
        id: message["id"].as_str()?.to_owned(),
        direction,
        text: message["text"].as_str()?.to_owned(),
        at: at.to_owned(),
        client_id: None,
    })
}

/// The lines written for one visitor (see [`App::webchat_follow`]).
pub struct WebchatFeed {
    hub: Arc<Hub>,
    channel: String,
    contact: Option<String>,
    tx: UnboundedSender<Line>,
    rx: tokio::sync::mpsc::UnboundedReceiver<Line>,
}

impl WebchatFeed {
    /// Follows `contact` from now on (a new visitor has one after their first message).
    pub fn follow_contact(&mut self, contact: ContactId) {
        let contact = contact.to_string();
        if self.contact.as_ref() == Some(&contact) {
            return;
        }
        self.leave();
        self.hub
            .join((self.channel.clone(), contact.clone()), self.tx.clone());
        self.contact = Some(contact);
    }

    /// The next line: a reply sent to the visitor's contact on the channel, or their own
    /// message written from another tab; `None` once the feed has stopped.
    pub async fn next(&mut self) -> Option<Line> {
        self.rx.recv().await
    }

    /// Takes this feed out of the hub.
    fn leave(&mut self) {
        if let Some(contact) = self.contact.take() {
            self.hub.leave(&(self.channel.clone(), contact), &self.tx);
        }
    }
}

impl Drop for WebchatFeed {
    fn drop(&mut self) {
        self.leave();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_domain::{EventId, NewEvent, OrgId};
    use serde_json::json;

    fn feed(hub: &Arc<Hub>, channel: &str) -> WebchatFeed {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        WebchatFeed {
            hub: hub.clone(),
            channel: channel.to_owned(),
            contact: None,
            tx,
            rx,
        }
    }

    fn sent(channel: &str, contact: &str, id: &str) -> NewEvent {
        NewEvent {
            id: EventId::generate(),
            organization_id: OrgId::generate(),
            event_type: EventType::MessageSend,
            timestamp: chrono::Utc::now(),
            data: json!({"message": {"id": id, "channel_id": channel, "text": "Hello",
                "at": "2026-12-05T10:00:00.000Z"}, "contact": {"id": contact}}),
        }
    }

    #[tokio::test]
    async fn the_hub_hands_each_line_to_the_sockets_of_its_channel_and_contact_only() {
        let hub = Arc::new(Hub::new(Arc::default()));
        let ada = ContactId::generate();
        let bob = ContactId::generate();
        let (mut laptop, mut phone, mut other) = (
            feed(&hub, "chn_a"),
            feed(&hub, "chn_a"),
            feed(&hub, "chn_a"),
        );
        laptop.follow_contact(ada);
        phone.follow_contact(ada);
        other.follow_contact(bob);
        hub.route(&sent("chn_a", &ada.to_string(), "msg_1"));
        hub.route(&sent("chn_b", &ada.to_string(), "msg_2"));
        assert_eq!(laptop.next().await.map(|l| l.id), Some("msg_1".to_owned()));
        assert_eq!(phone.next().await.map(|l| l.id), Some("msg_1".to_owned()));
        assert!(other.rx.try_recv().is_err(), "another contact's line");
        assert!(laptop.rx.try_recv().is_err(), "another channel's line");
        // A closed socket leaves the hub; the last one takes its route with it.
        drop(laptop);
        let sockets_of = |contact: ContactId| {
            hub.routes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .sockets
                .get(&("chn_a".to_owned(), contact.to_string()))
                .map_or(0, Vec::len)
        };
        assert_eq!(sockets_of(ada), 1);
        drop(phone);
        drop(other);
        assert!(
            hub.routes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .sockets
                .is_empty()
        );
        // With no socket left the reader stops, and a new socket starts it again.
        let reading = || {
            hub.routes
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .reading
        };
        for _ in 0..100 {
            if !reading() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(!reading(), "the reader stopped");
        let mut again = feed(&hub, "chn_a");
        again.follow_contact(ada);
        assert!(reading());
    }
}
