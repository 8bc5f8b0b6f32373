//! Reading conversations: list them with filters, get one with its messages.
//!
//! Who sees what: `conversations:read` sees every conversation of the organization;
//! `conversations:read_own_queues` alone (agents) sees the conversations assigned to
//! them — queue membership, which widens it to their queues, comes with the agent pages.
//! A conversation one may not see is "not found", like another organization's.

use parley_domain::{Conversation, ConversationId, Message, Permission};
use parley_store::{ConversationFilter, Page, PageRequest};

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
        match sees {
            Sees::AssignedTo(user) if user.is_none() || c.assignee != user => {
                Err(AppError::NotFound("conversation"))
            }
            _ => Ok(c),
        }
    }

    /// The conversations the caller may see, newest first, filtered.
    pub async fn list_conversations(
        &self,
        access: &Access,
        mut filter: ConversationFilter,
        page: PageRequest,
    ) -> Result<Page<Conversation>, AppError> {
        if let Some(text) = &filter.text
            && text.chars().count() > 200
        {
            return Err(AppError::invalid("q", "must be at most 200 characters"));
        }
        if let Sees::AssignedTo(user) = sees(access)? {
            match (user, filter.assignee) {
                (Some(me), None) => filter.assignee = Some(me),
                (Some(me), Some(asked)) if asked == me => {}
                _ => {
                    return Ok(Page {
                        items: Vec::new(),
                        next_cursor: None,
                    });
                }
            }
        }
        Ok(self
            .store
            .list_conversations(access.org_id(), &filter, page)
            .await?)
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
