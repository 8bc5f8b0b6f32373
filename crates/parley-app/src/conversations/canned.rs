//! Canned replies: an organization's saved replies, which people insert in the desk's
//! reply box by typing `/` and part of a key or title. Whoever replies to conversations
//! reads them, filled for the conversation's contact; supervisors and above (those who
//! both read every conversation and write to them) save, change and remove them.
//!
//! Decisions:
//! * a key is 1 to 64 lower-case letters, digits, `_` or `-` (as queue keys), a title 1 to
//!   100 characters, a body 1 to 4,096 characters (the longest reply);
//! * `<<field>>` placeholders are read when the reply is saved, so a broken one is refused
//!   with its column, and filled from the contact exactly as a flow's messages are
//!   (`customer_id`, then the contact's fields; an unknown field is left empty);
//! * every bad field of a save is named at once.

use parley_domain::{AuditAction, CannedReply, ConversationId, Permission};
use parley_flow::Template;

use super::agents::MAX_REPLY_CHARS;
use super::queues::check_queue_key;
use super::runtime::ContactFields;
use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

/// A canned reply as a person saves it.
#[derive(Debug, Clone, Default)]
pub struct NewCannedReply {
    /// Its key (fixed once saved).
    pub key: String,
    /// What the picker shows.
    pub title: String,
    /// The reply, with `<<field>>` placeholders.
    pub body: String,
}

/// A canned reply filled for one conversation's contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilledReply {
    /// The saved reply.
    pub reply: CannedReply,
    /// Its body with the placeholders filled.
    pub text: String,
}

/// Those who manage canned replies read every conversation and write to them.
fn require_manager(access: &Access) -> Result<(), AppError> {
    access.require(Permission::ConversationsRead)?;
    access.require(Permission::ConversationsWrite)
}

/// The title and body checked, every bad field named.
fn checked(title: &str, body: &str, errors: &mut Vec<FieldError>) -> Option<(String, String)> {
    let title = title.trim();
    let title_ok = (1..=100).contains(&title.chars().count());
    if !title_ok {
        errors.push(FieldError::new("title", "must be 1 to 100 characters"));
    }
    let body = body.trim();
    let mut body_ok = (1..=MAX_REPLY_CHARS).contains(&body.chars().count());
    if !body_ok {
        errors.push(FieldError::new("body", "must be 1 to 4096 characters"));
    } else if let Err(e) = Template::parse(body) {
        errors.push(FieldError::new("body", e.to_string()));
        body_ok = false;
    }
    (title_ok && body_ok).then(|| (title.to_owned(), body.to_owned()))
}

impl App {
    /// The organization's canned replies, by title.
    pub async fn list_canned_replies(&self, access: &Access) -> Result<Vec<CannedReply>, AppError> {
        access.require(Permission::ConversationsWrite)?;
        Ok(self.store.list_canned_replies(access.org_id()).await?)
    }

    /// The canned replies filled for the contact of conversation `id` (one the caller
    /// may see), by title.
    pub async fn canned_replies_for(
        &self,
        access: &Access,
        id: ConversationId,
    ) -> Result<Vec<FilledReply>, AppError> {
        let replies = self.list_canned_replies(access).await?;
        if replies.is_empty() {
            return Ok(Vec::new());
        }
        let conversation = self.get_conversation(access, id).await?;
        let contact = self
            .store
            .get_contact(access.org_id(), conversation.contact_id)
            .await?
            .ok_or(AppError::NotFound("contact"))?;
        Ok(replies
            .into_iter()
            .map(|reply| {
                // Saved bodies were read when saved; one that no longer reads is shown
                // as written rather than hidden.
                let text = Template::parse(&reply.body).map_or_else(
                    |_| reply.body.clone(),
                    |t| t.render(&ContactFields(&contact)),
                );
                FilledReply { reply, text }
            })
            .collect())
    }

    /// Saves a canned reply (`Conflict` when its key exists).
    pub async fn create_canned_reply(
        &self,
        access: &Access,
        new: NewCannedReply,
    ) -> Result<CannedReply, AppError> {
        require_manager(access)?;
        let mut errors = Vec::new();
        if let Err(e) = check_queue_key("key", &new.key) {
            errors.push(e);
        }
        let checked = checked(&new.title, &new.body, &mut errors);
        let (Some((title, body)), true) = (checked, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.clock.now();
        let reply = CannedReply {
            organization_id: access.org_id(),
            key: new.key,
            title,
            body,
            created_at: now,
            updated_at: now,
        };
        let entry = self.canned_audit(access, &reply);
        Ok(self.store.create_canned_reply(reply, entry).await?)
    }

    /// Changes a canned reply's title and body.
    pub async fn update_canned_reply(
        &self,
        access: &Access,
        key: &str,
        title: &str,
        body: &str,
    ) -> Result<CannedReply, AppError> {
        require_manager(access)?;
        let mut errors = Vec::new();
        let checked = checked(title, body, &mut errors);
        let Some((title, body)) = checked else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.clock.now();
        let reply = CannedReply {
            organization_id: access.org_id(),
            key: key.to_owned(),
            title,
            body,
            // Kept by the store; only checked there to be present.
            created_at: now,
            updated_at: now,
        };
        let entry = self.canned_audit(access, &reply);
        self.store
            .update_canned_reply(reply, entry)
            .await
            .or_not_found("canned reply")
    }

    /// Removes a canned reply.
    pub async fn delete_canned_reply(&self, access: &Access, key: &str) -> Result<(), AppError> {
        require_manager(access)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::CannedReplyDeleted,
            key,
            serde_json::json!({}),
        );
        self.store
            .delete_canned_reply(access.org_id(), key, entry)
            .await
            .or_not_found("canned reply")
    }

    fn canned_audit(&self, access: &Access, reply: &CannedReply) -> parley_domain::NewAuditEntry {
        self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::CannedReplySet,
            &reply.key,
            serde_json::json!({"title": reply.title}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_field_is_named_at_once() {
        let mut errors = Vec::new();
        assert_eq!(checked(" ", "Hi <<first_name", &mut errors), None);
        let named: Vec<String> = errors.iter().map(|e| format!("{e:?}")).collect();
        assert_eq!(errors.len(), 2, "{named:?}");
        assert!(named[0].contains("title"), "{named:?}");
        assert!(named[1].contains("column 4"), "{named:?}");
        let mut errors = Vec::new();
        assert_eq!(
            checked(" Promise ", "Thanks <<first_name>>", &mut errors),
            Some(("Promise".to_owned(), "Thanks <<first_name>>".to_owned()))
        );
        assert!(errors.is_empty());
        let mut errors = Vec::new();
        assert_eq!(checked("t", &"x".repeat(4097), &mut errors), None);
    }
}
