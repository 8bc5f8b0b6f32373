//! Flows as the platform stores them (SPEC §4): a draft an operator edits, and the
//! immutable versions published from it. The document itself is `parley-flow`'s business;
//! here it is canonical JSON text, so storage never depends on the flow language.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::{FlowId, OrgId, UserId};

/// A flow and its current draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowRecord {
    /// Its id.
    pub id: FlowId,
    /// The organization that owns it.
    pub organization_id: OrgId,
    /// The document's name.
    pub name: String,
    /// The draft document as canonical JSON.
    pub draft: String,
    /// The newest published version, if any.
    pub latest_version: Option<u32>,
    /// Who created it.
    pub created_by: Option<UserId>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the draft last changed.
    pub updated_at: DateTime<Utc>,
    /// When it was archived: left out of lists and of new uses, its versions kept.
    pub archived_at: Option<DateTime<Utc>>,
}

/// A published version: never changed and never deleted, so a conversation can always
/// run the version it started with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlowVersion {
    /// The flow.
    pub flow_id: FlowId,
    /// Its organization.
    pub organization_id: OrgId,
    /// 1, 2, … per flow.
    pub version: u32,
    /// The document's name at publication.
    pub name: String,
    /// The document as canonical JSON.
    pub document: String,
    /// Who published it.
    pub published_by: Option<UserId>,
    /// When.
    pub published_at: DateTime<Utc>,
}
