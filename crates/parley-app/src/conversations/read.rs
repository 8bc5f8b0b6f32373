//! Reading conversations: list them with filters, get one with its messages.
//!
//! Who sees what: `conversations:read` sees every conversation of the organization;
//! `conversations:read_own_queues` alone (agents) sees the conversations assigned to
//! them and those in the queues they are members of (an API key, being no person, sees
//! none). A conversation one may not see is "not found", like another organization's.

use parley_domain::ChannelKind;
use parley_domain::{Conversation, ConversationId, Message, Permission};
use parley_store::{ContactSearch, ConversationFilter, ConversationSummary, Page, PageRequest};

use crate::auth::Access;
use crate::{App, AppError};

/// What the caller may see.
enum Sees {
    Everything,
    AssignedTo(Option<parley_domain::UserId>),
}

fn sees(access: &Access) -> Result<Sees, AppError> {
    if access.require(Permission::ConversationsRead).is_ok() {
        return Ok(Sees::Everything);
    }
    access.require(Permission::ConversationsReadOwnQueues)?;
    Ok(Sees::AssignedTo(access.principal.user()))
}

/// `filter` narrowed to what the caller may see; `None` when that is nothing (an API key
/// without `conversations:read`).
fn visible(
    access: &Access,
    mut filter: ConversationFilter,
) -> Result<Option<ConversationFilter>, AppError> {
    if let Some(text) = &filter.text
        && text.chars().count() > SEARCH_LIMIT
    {
        return Err(AppError::invalid("q", "must be at most 200 characters"));
    }
    if let Sees::AssignedTo(user) = sees(access)? {
        let Some(user) = user else {
            return Ok(None);
        };
        filter.visible_to = Some(user);
    }
    Ok(Some(filter))
}

/// The longest search text taken.
const SEARCH_LIMIT: usize = 200;

/// What a person typed to find conversations by their contact, as the lists search it:
/// whole as a customer id; as an address (a phone number in any form the organization's
/// imports read, so `087 123 4567` finds `+353871234567`; other addresses as typed); and,
/// when it holds a letter, as part of the contact's name. `None` for blank text.
///
/// # Errors
///
/// `Invalid` (named `field`) for text over 200 characters.
pub fn contact_search(
    access: &Access,
    field: &'static str,
    text: &str,
) -> Result<Option<ContactSearch>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.chars().count() > SEARCH_LIMIT {
        return Err(AppError::invalid(field, "must be at most 200 characters"));
    }
    let mut ctx = crate::contacts::value_context(&access.organization);
    let address = crate::contacts::normalise_with(&mut ctx, ChannelKind::Sms, text)
        .unwrap_or_else(|_| text.to_owned());
    Ok(Some(ContactSearch {
        text: text.to_owned(),
        address: Some(address),
        in_names: text.chars().any(char::is_alphabetic),
    }))
}

impl App {
    /// A conversation of the acting organization that the caller may see.
    pub async fn get_conversation(
        &self,
        access: &Access,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        let sees = sees(access)?;
        let c = self
            .store
            .get_conversation(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound("conversation"))?;
        let Sees::AssignedTo(user) = sees else {
            return Ok(c);
        };
        let Some(user) = user else {
            return Err(AppError::NotFound("conversation"));
        };
        if c.assignee == Some(user) {
            return Ok(c);
        }
        let member = match &c.queue {
            Some(queue) => self
                .store
                .list_queue_members(access.org_id(), queue)
                .await?
                .iter()
                .any(|m| m.user_id == user),
            None => false,
        };
        if member {
            Ok(c)
        } else {
            Err(AppError::NotFound("conversation"))
        }
    }

    /// The conversations the caller may see, newest first, filtered.
    pub async fn list_conversations(
        &self,
        access: &Access,
        filter: ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<Conversation>, AppError> {
        let Some(filter) = visible(access, filter)? else {
            return Ok(Page::empty());
        };
        Ok(self
            .store
            .list_conversations(access.org_id(), &filter, page)
            .await?)
    }

    /// The same list as [`App::list_conversations`], each row with its contact, channel,
    /// assignee and last message (what a person's list shows).
    pub async fn list_conversation_summaries(
        &self,
        access: &Access,
        filter: ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<ConversationSummary>, AppError> {
        let Some(filter) = visible(access, filter)? else {
            return Ok(Page::empty());
        };
        Ok(self
            .store
            .list_conversation_summaries(access.org_id(), &filter, page)
            .await?)
    }

    /// How many conversations the caller may see match `filter`.
    pub async fn count_conversations(
        &self,
        access: &Access,
        filter: ConversationFilter,
    ) -> Result<u64, AppError> {
        let Some(filter) = visible(access, filter)? else {
            return Ok(0);
        };
        Ok(self
            .store
            .count_conversations(access.org_id(), &filter)
            .await?)
    }

    /// The name of the campaign that started a conversation the caller reads (`None` when
    /// the campaign is gone). The name is part of the conversation as its reader sees it,
    /// like its channel's, so it needs no `campaigns:read`.
    pub async fn campaign_name_of(
        &self,
        access: &Access,
        conversation: &Conversation,
    ) -> Result<Option<String>, AppError> {
        let Some(campaign) = conversation.campaign_id else {
            return Ok(None);
        };
        sees(access)?;
        Ok(self
            .store
            .get_campaign(access.org_id(), campaign)
            .await?
            .map(|c| c.name))
    }

    /// Records that the signed-in person has read `conversation` (one they were shown) up
    /// to its newest customer message; nothing for an API key, or a conversation the
    /// customer has not written in.
    pub async fn mark_conversation_read(
        &self,
        access: &Access,
        conversation: &Conversation,
    ) -> Result<(), AppError> {
        let (Some(user), Some(up_to)) = (access.principal.user(), conversation.last_inbound_at)
        else {
            return Ok(());
        };
        Ok(self
            .store
            .mark_read(access.org_id(), user, conversation.id, up_to)
            .await?)
    }

    /// Those of `conversations` (ones the person was shown) that are unread for the
    /// signed-in person: the customer wrote after the person last had the conversation in
    /// front of them (or they never opened it). None for an API key.
    pub async fn unread_of(
        &self,
        access: &Access,
        conversations: &[&Conversation],
    ) -> Result<std::collections::HashSet<ConversationId>, AppError> {
        let Some(user) = access.principal.user() else {
            return Ok(std::collections::HashSet::new());
        };
        let ids: Vec<ConversationId> = conversations.iter().map(|c| c.id).collect();
        let marks: std::collections::HashMap<ConversationId, chrono::DateTime<chrono::Utc>> = self
            .store
            .read_marks(access.org_id(), user, &ids)
            .await?
            .into_iter()
            .collect();
        Ok(conversations
            .iter()
            .filter(|c| {
                c.last_inbound_at
                    .is_some_and(|at| marks.get(&c.id).is_none_or(|read| at > *read))
            })
            .map(|c| c.id)
            .collect())
    }

    /// What happened to a conversation the caller may see (assigned, moved, tagged,
    /// closed: its events), oldest first, at most 500.
    pub async fn conversation_events(
        &self,
        access: &Access,
        id: ConversationId,
    ) -> Result<Vec<parley_domain::NewEvent>, AppError> {
        self.get_conversation(access, id).await?;
        Ok(self
            .store
            .conversation_events(access.org_id(), id, 500)
            .await?
            .into_iter()
            .map(|e| e.event)
            .collect())
    }

    /// A conversation's messages, oldest first.
    pub async fn list_conversation_messages(
        &self,
        access: &Access,
        id: ConversationId,
        page: PageRequest,
    ) -> Result<Page<Message>, AppError> {
        self.get_conversation(access, id).await?;
        Ok(self.store.list_messages(access.org_id(), id, page).await?)
    }
}
