//! Outcome statuses as organizations define them (SPEC §5): read by anyone who reads
//! conversations (agents tag with them), defined and removed by administrators.
//!
//! Decisions:
//! * keys are lower-case letters, digits and `_`, starting with a letter, at most 64
//!   (they appear in flows, webhooks and reports);
//! * `opted_out` is Parley's own (an opt-out closes a conversation with it, SPEC §5): it is
//!   always listed (negative, closes) and cannot be redefined or removed;
//! * removing a status leaves conversations tagged with it as they are.

use parley_domain::{AuditAction, OutcomeStatus, Permission, StatusCategory};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

/// The status an opt-out closes a conversation with.
pub const OPTED_OUT: &str = "opted_out";

/// A status to define.
#[derive(Debug, Clone)]
pub struct NewOutcome {
    /// The key flows and agents name.
    pub key: String,
    /// What people read.
    pub label: String,
    /// `positive`, `neutral` or `negative`.
    pub category: String,
    /// Whether tagging it closes the conversation.
    pub closes: bool,
}

/// Changes to a status; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct OutcomePatch {
    /// A new label.
    pub label: Option<String>,
    /// A new category.
    pub category: Option<String>,
    /// Whether tagging it closes the conversation.
    pub closes: Option<bool>,
}

fn check_label(label: &str) -> Result<String, FieldError> {
    let label = label.trim();
    if label.is_empty() || label.chars().count() > 100 {
        return Err(FieldError::new("label", "must be 1 to 100 characters"));
    }
    Ok(label.to_owned())
}

fn check_category(name: &str) -> Result<StatusCategory, FieldError> {
    StatusCategory::from_name(name)
        .ok_or_else(|| FieldError::new("category", "must be positive, neutral or negative"))
}

fn check_key(key: &str) -> Result<(), AppError> {
    let ok = (1..=64).contains(&key.len())
        && key.as_bytes()[0].is_ascii_lowercase()
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(AppError::invalid(
            "key",
            "must be 1 to 64 lower-case letters, digits or '_', starting with a letter",
        ));
    }
    if key == OPTED_OUT {
        return Err(AppError::invalid(
            "key",
            "opted_out is Parley's own status (an opt-out closes with it) and cannot be changed",
        ));
    }
    Ok(())
}

/// An organization's own statuses (by key) with Parley's `opted_out` in its place: the
/// list people read and the one the runtime tags and closes by.
pub(crate) fn with_opted_out(
    organization: parley_domain::OrgId,
    mut statuses: Vec<OutcomeStatus>,
) -> Vec<OutcomeStatus> {
    let builtin = OutcomeStatus {
        organization_id: organization,
        key: OPTED_OUT.to_owned(),
        label: "Opted out".to_owned(),
        category: StatusCategory::Negative,
        closes: true,
        created_at: chrono::DateTime::UNIX_EPOCH,
        updated_at: chrono::DateTime::UNIX_EPOCH,
    };
    let at = statuses.partition_point(|s| s.key.as_str() < OPTED_OUT);
    statuses.insert(at, builtin);
    statuses
}

impl App {
    /// The organization's outcome statuses by key, `opted_out` included.
    pub async fn list_outcome_statuses(
        &self,
        access: &Access,
    ) -> Result<Vec<OutcomeStatus>, AppError> {
        access.require(Permission::ConversationsReadOwnQueues)?;
        let statuses = self.store.list_outcome_statuses(access.org_id()).await?;
        Ok(with_opted_out(access.org_id(), statuses))
    }

    /// Defines a status (`Conflict` when its key exists).
    pub async fn create_outcome_status(
        &self,
        access: &Access,
        new: NewOutcome,
    ) -> Result<OutcomeStatus, AppError> {
        access.require(Permission::Administer)?;
        let mut errors = Vec::new();
        if let Err(AppError::Invalid(e)) = check_key(&new.key) {
            errors.extend(e);
        }
        let label = check_label(&new.label).map_err(|e| errors.push(e)).ok();
        let category = check_category(&new.category)
            .map_err(|e| errors.push(e))
            .ok();
        let (Some(label), Some(category), true) = (label, category, errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        let now = self.clock.now();
        let status = OutcomeStatus {
            organization_id: access.org_id(),
            key: new.key,
            label,
            category,
            closes: new.closes,
            created_at: now,
            updated_at: now,
        };
        let entry = self.outcome_audit(access, &status);
        Ok(self.store.create_outcome_status(status, entry).await?)
    }

    /// Changes a status.
    pub async fn update_outcome_status(
        &self,
        access: &Access,
        key: &str,
        patch: OutcomePatch,
    ) -> Result<OutcomeStatus, AppError> {
        access.require(Permission::Administer)?;
        check_key(key)?;
        let mut status = self
            .store
            .list_outcome_statuses(access.org_id())
            .await?
            .into_iter()
            .find(|s| s.key == key)
            .ok_or(AppError::NotFound("outcome status"))?;
        let mut errors = Vec::new();
        if let Some(label) = &patch.label {
            match check_label(label) {
                Ok(l) => status.label = l,
                Err(e) => errors.push(e),
            }
        }
        if let Some(category) = &patch.category {
            match check_category(category) {
                Ok(c) => status.category = c,
                Err(e) => errors.push(e),
            }
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        if let Some(closes) = patch.closes {
            status.closes = closes;
        }
        status.updated_at = self.clock.now();
        let entry = self.outcome_audit(access, &status);
        self.store
            .update_outcome_status(status, entry)
            .await
            .or_not_found("outcome status")
    }

    fn outcome_audit(
        &self,
        access: &Access,
        status: &OutcomeStatus,
    ) -> parley_domain::NewAuditEntry {
        self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::OutcomeStatusSet,
            &status.key,
            serde_json::json!({
                "label": status.label,
                "category": status.category.as_str(),
                "closes": status.closes,
            }),
        )
    }

    /// Removes a status.
    pub async fn delete_outcome_status(&self, access: &Access, key: &str) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        check_key(key)?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::OutcomeStatusDeleted,
            key,
            serde_json::json!({}),
        );
        self.store
            .delete_outcome_status(access.org_id(), key, entry)
            .await
            .or_not_found("outcome status")
    }
}
