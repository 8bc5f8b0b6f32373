//! Reading conversations: one with its messages. Needs `conversations:read`.

use parley_domain::{Conversation, ConversationId, Message, Permission};
use parley_store::{Page, PageRequest};

use crate::auth::Access;
use crate::{App, AppError};

impl App {
    /// A conversation of the acting organization.
    pub async fn get_conversation(
        &self,
        access: &Access,
        id: ConversationId,
    ) -> Result<Conversation, AppError> {
        access.require(Permission::ConversationsRead)?;
        self.store
            .get_conversation(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound("conversation"))
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
