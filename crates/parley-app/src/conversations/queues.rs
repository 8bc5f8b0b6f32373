//! Queues as organizations define them (SPEC §5): where conversations wait for people.
//! Anyone who reads conversations lists them; administrators define, rename and remove
//! them.
//!
//! Decisions:
//! * keys are 1 to 64 lower-case letters, digits, `_` or `-` (flows, channels and
//!   webhooks name them);
//! * `default` is Parley's own: where a channel's customers wait when nothing else is
//!   named, and where a failing flow hands its conversation over. It is always listed and
//!   cannot be defined or removed;
//! * a conversation may wait in a queue that is not defined (a flow named it); removing a
//!   queue leaves the conversations in it as they are.

use parley_domain::{AuditAction, Permission, Queue};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

/// Parley's own queue.
pub const DEFAULT_QUEUE: &str = parley_flow::DEFAULT_FALLBACK_QUEUE;

/// Checks a queue key named in `field`.
pub(crate) fn check_queue_key(field: &str, key: &str) -> Result<(), FieldError> {
    let ok = (1..=64).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(FieldError::new(
            field,
            "must be 1 to 64 lower-case letters, digits, '_' or '-'",
        ))
    }
}

fn check_own_key(key: &str) -> Result<(), AppError> {
    check_queue_key("key", key).map_err(|e| AppError::Invalid(vec![e]))?;
    if key == DEFAULT_QUEUE {
        return Err(AppError::invalid(
            "key",
            "default is Parley's own queue and cannot be changed",
        ));
    }
    Ok(())
}

fn check_name(name: &str) -> Result<String, FieldError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(FieldError::new("name", "must be 1 to 100 characters"));
    }
    Ok(name.to_owned())
}

impl App {
    /// The organization's queues by key, `default` included.
    pub async fn list_queues(&self, access: &Access) -> Result<Vec<Queue>, AppError> {
        access.require(Permission::ConversationsReadOwnQueues)?;
        let mut queues = self.store.list_queues(access.org_id()).await?;
        let builtin = Queue {
            organization_id: access.org_id(),
            key: DEFAULT_QUEUE.to_owned(),
            name: "Default".to_owned(),
            created_at: chrono::DateTime::UNIX_EPOCH,
            updated_at: chrono::DateTime::UNIX_EPOCH,
        };
        let at = queues.partition_point(|q| q.key.as_str() < DEFAULT_QUEUE);
        queues.insert(at, builtin);
        Ok(queues)
    }

    /// The queues whose conversations the caller works: every queue for those who read
    /// every conversation, else the queues they are a member of (a person's desk shows a
    /// view for each).
    pub async fn queues_worked(&self, access: &Access) -> Result<Vec<Queue>, AppError> {
        let queues = self.list_queues(access).await?;
        if access.require(Permission::ConversationsRead).is_ok() {
            return Ok(queues);
        }
        let Some(user) = access.principal.user() else {
            return Ok(Vec::new());
        };
        let mut worked = Vec::new();
        for queue in queues {
            let members = self
                .store
                .list_queue_members(access.org_id(), &queue.key)
                .await?;
            if members.iter().any(|m| m.user_id == user) {
                worked.push(queue);
            }
        }
        Ok(worked)
    }

    /// Defines a queue (`Conflict` when its key exists).
    pub async fn create_queue(
        &self,
        access: &Access,
        key: &str,
        name: &str,
    ) -> Result<Queue, AppError> {
        access.require(Permission::Administer)?;
        let mut errors = Vec::new();
        if let Err(AppError::Invalid(e)) = check_own_key(key) {
            errors.extend(e);
        }
        let name = check_name(name).map_err(|e| errors.push(e)).ok();
        let (Some(name), true) = (name, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.clock.now();
        let queue = Queue {
            organization_id: access.org_id(),
            key: key.to_owned(),
            name,
            created_at: now,
            updated_at: now,
        };
        let entry = self.queue_audit(access, &queue);
        Ok(self.store.create_queue(queue, entry).await?)
    }

    /// Renames a queue.
    pub async fn rename_queue(
        &self,
        access: &Access,
        key: &str,
        name: &str,
    ) -> Result<Queue, AppError> {
        access.require(Permission::Administer)?;
        check_own_key(key)?;
        let name = check_name(name).map_err(|e| AppError::Invalid(vec![e]))?;
        let now = self.clock.now();
        let queue = Queue {
            organization_id: access.org_id(),
            key: key.to_owned(),
            name,
            created_at: now,
            updated_at: now,
        };
        let entry = self.queue_audit(access, &queue);
        self.store
            .update_queue(queue, entry)
            .await
            .or_not_found("queue")
    }

    /// Removes a queue.
    pub async fn delete_queue(&self, access: &Access, key: &str) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        check_own_key(key)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::QueueDeleted,
            key,
            serde_json::json!({}),
        );
        self.store
            .delete_queue(access.org_id(), key, entry)
            .await
            .or_not_found("queue")
    }

    fn queue_audit(&self, access: &Access, queue: &Queue) -> parley_domain::NewAuditEntry {
        self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::QueueSet,
            &queue.key,
            serde_json::json!({"name": queue.name}),
        )
    }
}
