//! Flows as the API edits and publishes them (SPEC §4): drafts written as JSON or YAML,
//! validated against the organization's fields, and published as immutable versions.
//!
//! Decisions:
//! * a draft is saved whenever it can be read as a flow document, however many validation
//!   findings it has: an operator saves work in progress and sees what is still wrong. Text
//!   that is not a flow document at all (bad syntax, a missing or unknown field, a newer
//!   schema) is refused with the place it went wrong, and the stored draft is unchanged;
//! * drafts are stored as canonical JSON: YAML comments and key order are not kept;
//! * diagnostics are computed when asked for, against the fields the organization has
//!   then, never stored, so defining a missing field clears its `unknown_field` finding;
//! * publishing takes the stored draft; it is refused, with every error, unless
//!   validation finds none (warnings do not block). Publishing a draft identical to the
//!   latest version creates nothing and returns that version, so a deployment script can
//!   publish after every save;
//! * versions and flows have no delete: a conversation keeps the version it started with.

pub mod step_form;
pub mod trial;

use std::collections::BTreeSet;

use parley_domain::{AuditAction, FlowId, FlowRecord, FlowVersion, Permission};
use parley_flow::FlowDocument;
pub use parley_flow::{Diagnostic, DocumentError, Layout, NODE_HEIGHT, NODE_WIDTH, Rule, Severity};
use parley_store::{NewFlowVersion, Page, PageRequest};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

/// A flow with its draft's findings.
#[derive(Debug, Clone)]
pub struct CheckedFlow {
    /// The flow.
    pub flow: FlowRecord,
    /// What validation finds in the draft now.
    pub check: Check,
}

/// Validation findings of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// Findings, errors first.
    pub diagnostics: Vec<Diagnostic>,
    /// True when nothing blocks publishing.
    pub publishable: bool,
}

/// What publishing did.
#[derive(Debug, Clone)]
pub enum Published {
    /// A new version was created.
    Created(FlowVersion),
    /// The draft equals the latest version, which is returned unchanged.
    Unchanged(FlowVersion),
}

/// Reads a flow document, or the input error naming where it is not one.
fn read_document(text: &str) -> Result<FlowDocument, AppError> {
    FlowDocument::parse(text).map_err(|e| {
        let field = match &e {
            DocumentError::Shape { path, .. } => path.clone(),
            DocumentError::UnsupportedSchema { .. } => "schema".to_owned(),
            _ => "body".to_owned(),
        };
        let message = match e {
            DocumentError::Shape { message, .. } => message,
            other => other.to_string(),
        };
        AppError::Invalid(vec![FieldError::new(field, message)])
    })
}

/// A stored draft or version: written by this module after a successful read, so failing
/// to read it back is a fault, not an input error.
fn stored_document(text: &str) -> Result<FlowDocument, AppError> {
    FlowDocument::parse(text).map_err(|e| AppError::Internal(Box::new(e)))
}

/// The flow `text` describes, drawn as a graph (`None` when the text is not a flow
/// document at all; a document with mistakes is still drawn).
#[must_use]
pub fn drawing(text: &str) -> Option<parley_flow::Layout> {
    FlowDocument::parse(text)
        .ok()
        .map(|doc| parley_flow::layout(&doc))
}

/// A stored document as people edit it: indented JSON.
#[must_use]
pub fn editable(text: &str) -> String {
    FlowDocument::parse(text)
        .ok()
        .and_then(|doc| serde_json::to_string_pretty(&doc).ok())
        .unwrap_or_else(|| text.to_owned())
}

/// A name a placeholder may take, as the editor offers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceholderName {
    /// What goes between `<<` and `>>`.
    pub key: String,
    /// What it is, in words.
    pub about: String,
}

/// The flow's own names in `text` (each `ask`'s `save_as`, each `set` value, each fetched
/// field) and the engine's built-in names, for the editor to complete placeholders with
/// beside the organization's fields. Text that is not a flow gives the built-ins only.
#[must_use]
pub fn flow_placeholders(text: &str) -> Vec<PlaceholderName> {
    let name = |key: &str, about: String| PlaceholderName {
        key: key.to_owned(),
        about,
    };
    let mut out: Vec<PlaceholderName> = parley_flow::BUILTIN_NAMES
        .iter()
        .map(|k| name(k, "built in".to_owned()))
        .collect();
    if let Ok(doc) = FlowDocument::parse(text) {
        for (step, s) in &doc.steps {
            match s {
                parley_flow::Step::Ask(a) => {
                    out.push(name(&a.save_as, format!("the reply to {step}")))
                }
                parley_flow::Step::Set(v) => {
                    out.extend(v.values.keys().map(|k| name(k, format!("set by {step}"))))
                }
                parley_flow::Step::Fetch(f) => out.extend(
                    f.fields
                        .iter()
                        .map(|k| name(k, format!("fetched by {step}"))),
                ),
                _ => {}
            }
        }
    }
    let mut seen = BTreeSet::new();
    out.retain(|p| seen.insert(p.key.clone()));
    out
}

/// Where in `text` (1-based line and column) a finding about `step`'s `field` is: the
/// line naming the step, then, part by part of the field's path (`rules[0].when`), the
/// first line after it naming that part. `None` when the text names no such step.
#[must_use]
pub fn line_of(text: &str, step: Option<&str>, field: Option<&str>) -> Option<(usize, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let names = |line: &str, key: &str| {
        line.contains(&format!("\"{key}\"")) || line.trim_start().starts_with(&format!("{key}:"))
    };
    let indent = |l: &str| l.len() - l.trim_start().len() + 1;
    let mut at = match step {
        Some(step) => lines.iter().position(|l| {
            let t = l.trim_start();
            t.starts_with(&format!("\"{step}\"")) || t.starts_with(&format!("{step}:"))
        })?,
        None => 0,
    };
    for key in field.into_iter().flat_map(|f| f.split('.')) {
        let key = key.split('[').next().unwrap_or(key);
        if key.is_empty() {
            continue;
        }
        match lines[at..].iter().position(|l| names(l, key)) {
            Some(i) => at += i,
            None => break,
        }
    }
    lines.get(at).map(|l| (at + 1, indent(l)))
}

/// The JSON path of a diagnostic inside the document (`steps.check_dob.rules[0].when`).
#[must_use]
pub fn diagnostic_path(d: &Diagnostic) -> String {
    match (&d.step, &d.field) {
        (Some(step), Some(field)) => format!("steps.{step}.{field}"),
        (Some(step), None) => format!("steps.{step}"),
        (None, Some(field)) => field.clone(),
        (None, None) => "document".to_owned(),
    }
}

/// Every error of a validation as input errors, one per diagnostic.
fn publish_errors(check: &Check) -> Vec<FieldError> {
    check
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| {
            let column = d
                .column
                .map(|c| format!(" (column {c})"))
                .unwrap_or_default();
            FieldError::new(
                diagnostic_path(d),
                format!("{}{column}: {}", d.rule.as_str(), d.message),
            )
        })
        .collect()
}

impl App {
    /// Keys of the organization's defined fields (the built-ins are known to validation).
    async fn field_keys(&self, access: &Access) -> Result<BTreeSet<String>, AppError> {
        Ok(self
            .store
            .list_fields(access.org_id())
            .await?
            .into_iter()
            .map(|f| f.key.as_str().to_owned())
            .collect())
    }

    /// Validates a document against the organization: its fields, queues and outcome
    /// statuses (a flow naming one the organization lacks cannot be published).
    async fn check(&self, access: &Access, doc: &FlowDocument) -> Result<Check, AppError> {
        let fields = self.field_keys(access).await?;
        let org = access.org_id();
        let names = parley_flow::Names {
            queues: self
                .store
                .list_queues(org)
                .await?
                .into_iter()
                .map(|q| q.key)
                .collect(),
            statuses: self
                .store
                .list_outcome_statuses(org)
                .await?
                .into_iter()
                .map(|s| s.key)
                .collect(),
        };
        let validation = parley_flow::validate(doc, Some(&fields));
        let unknown = parley_flow::check_names(doc, &names);
        let publishable = validation.is_publishable() && unknown.is_empty();
        let mut diagnostics = validation.diagnostics;
        diagnostics.extend(unknown);
        diagnostics
            .sort_by(|a, b| (a.severity, &a.step, &a.field).cmp(&(b.severity, &b.step, &b.field)));
        Ok(Check {
            publishable,
            diagnostics,
        })
    }

    /// Creates a flow from a JSON or YAML document.
    pub async fn create_flow(&self, access: &Access, text: &str) -> Result<CheckedFlow, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let doc = read_document(text)?;
        let check = self.check(access, &doc).await?;
        let now = self.clock.now();
        let flow = FlowRecord {
            id: FlowId::generate(),
            organization_id: access.org_id(),
            name: doc.name.clone(),
            draft: doc.to_json(),
            latest_version: None,
            created_by: access.principal.user(),
            created_at: now,
            updated_at: now,
            archived_at: None,
        };
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::FlowSaved,
            &flow.id.to_string(),
            serde_json::json!({"name": flow.name, "created": true}),
        );
        let flow = self.store.create_flow(flow, entry).await?;
        Ok(CheckedFlow { flow, check })
    }

    /// Replaces a flow's draft.
    pub async fn update_flow(
        &self,
        access: &Access,
        id: FlowId,
        text: &str,
    ) -> Result<CheckedFlow, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let doc = read_document(text)?;
        let check = self.check(access, &doc).await?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::FlowSaved,
            &id.to_string(),
            serde_json::json!({"name": doc.name, "created": false}),
        );
        let flow = self
            .store
            .update_flow_draft(
                access.org_id(),
                id,
                &doc.name,
                &doc.to_json(),
                self.clock.now(),
                entry,
            )
            .await
            .or_not_found("flow")?;
        Ok(CheckedFlow { flow, check })
    }

    async fn find_flow(&self, access: &Access, id: FlowId) -> Result<FlowRecord, AppError> {
        self.store
            .find_flow(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound("flow"))
    }

    /// A flow with its draft's findings now.
    pub async fn get_flow(&self, access: &Access, id: FlowId) -> Result<CheckedFlow, AppError> {
        access.require(Permission::CampaignsRead)?;
        let flow = self.find_flow(access, id).await?;
        let check = self.check(access, &stored_document(&flow.draft)?).await?;
        Ok(CheckedFlow { flow, check })
    }

    /// The organization's flows.
    pub async fn list_flows(
        &self,
        access: &Access,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<FlowRecord>, AppError> {
        access.require(Permission::CampaignsRead)?;
        Ok(self
            .store
            .list_flows(access.org_id(), archived, page)
            .await?)
    }

    /// What `<<` completes to in the editor for the draft `text`: the organization's
    /// fields (by label), then the flow's own names and the built-in ones not among them.
    pub async fn placeholder_names(
        &self,
        access: &Access,
        text: &str,
    ) -> Result<Vec<PlaceholderName>, AppError> {
        let mut out: Vec<PlaceholderName> = self
            .list_fields(access)
            .await?
            .into_iter()
            .map(|f| PlaceholderName {
                key: f.key.to_string(),
                about: format!("{} (contact field)", f.label),
            })
            .collect();
        for p in flow_placeholders(text) {
            if !out.iter().any(|o| o.key == p.key) {
                out.push(p);
            }
        }
        Ok(out)
    }

    /// Validates `text` when given, else the flow's stored draft, without saving anything.
    pub async fn validate_flow(
        &self,
        access: &Access,
        id: FlowId,
        text: Option<&str>,
    ) -> Result<Check, AppError> {
        access.require(Permission::CampaignsRead)?;
        let flow = self.find_flow(access, id).await?;
        let doc = match text {
            Some(text) => read_document(text)?,
            None => stored_document(&flow.draft)?,
        };
        self.check(access, &doc).await
    }

    /// Publishes the flow's draft as its next version.
    pub async fn publish_flow(&self, access: &Access, id: FlowId) -> Result<Published, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let flow = self.find_flow(access, id).await?;
        let check = self.check(access, &stored_document(&flow.draft)?).await?;
        if !check.publishable {
            return Err(AppError::Invalid(publish_errors(&check)));
        }
        if let Some(latest) = flow.latest_version {
            let version = self
                .store
                .find_flow_version(access.org_id(), id, latest)
                .await?
                .ok_or(AppError::NotFound("flow version"))?;
            if version.document == flow.draft {
                return Ok(Published::Unchanged(version));
            }
        }
        let now = self.clock.now();
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::FlowPublished,
            &id.to_string(),
            serde_json::json!({
                "name": flow.name,
                "warnings": check.diagnostics.len(),
            }),
        );
        let version = self
            .store
            .publish_flow_version(
                NewFlowVersion {
                    flow_id: id,
                    organization_id: access.org_id(),
                    name: flow.name,
                    document: flow.draft,
                    published_by: access.principal.user(),
                    published_at: now,
                },
                entry,
            )
            .await
            .or_not_found("flow")?;
        Ok(Published::Created(version))
    }

    /// A flow's versions, newest first.
    pub async fn list_flow_versions(
        &self,
        access: &Access,
        id: FlowId,
        page: PageRequest,
    ) -> Result<Page<FlowVersion>, AppError> {
        access.require(Permission::CampaignsRead)?;
        self.find_flow(access, id).await?;
        Ok(self
            .store
            .list_flow_versions(access.org_id(), id, page)
            .await?)
    }

    /// One version of a flow.
    pub async fn get_flow_version(
        &self,
        access: &Access,
        id: FlowId,
        version: u32,
    ) -> Result<FlowVersion, AppError> {
        access.require(Permission::CampaignsRead)?;
        self.store
            .find_flow_version(access.org_id(), id, version)
            .await?
            .ok_or(AppError::NotFound("flow version"))
    }
}

#[cfg(test)]
mod tests {
    use super::{flow_placeholders, line_of};

    #[test]
    fn placeholders_offer_the_flows_own_names_once_and_the_built_ins() {
        let text = include_str!("../../../examples/flows/promise_to_pay.json");
        let keys: Vec<String> = flow_placeholders(text).into_iter().map(|p| p.key).collect();
        for key in [
            "today",
            "portal_url",
            "promise_date",
            "promise_amount",
            "confirmed",
        ] {
            assert!(keys.contains(&key.to_owned()), "{key} in {keys:?}");
        }
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len(), "each once");
        assert_eq!(
            flow_placeholders("not a flow").len(),
            parley_flow::BUILTIN_NAMES.len()
        );
    }

    #[test]
    fn a_finding_is_placed_at_the_line_of_its_step_and_field() {
        let json = "{\n  \"steps\": {\n    \"ask\": {\n      \"text\": \"Hi\",\n      \"next\": \"check\"\n    },\n    \"check\": {\n      \"rules\": [\n        {\n          \"next\": \"x\",\n          \"when\": \"<<a>> ==\"\n        }\n      ]\n    }\n  }\n}";
        assert_eq!(
            line_of(json, Some("check"), Some("rules[0].when")),
            Some((11, 11))
        );
        assert_eq!(line_of(json, Some("ask"), Some("next")), Some((5, 7)));
        assert_eq!(line_of(json, Some("ask"), None), Some((3, 5)));
        let yaml =
            "name: x\nstart: ask\nsteps:\n  ask:\n    type: ask\n    text: Hi\n    next: gone\n";
        assert_eq!(line_of(yaml, Some("ask"), Some("next")), Some((7, 5)));
        assert_eq!(line_of(yaml, None, Some("start")), Some((2, 1)));
        assert_eq!(line_of(yaml, Some("missing"), Some("next")), None);
        let compact = r#"{"steps": {"ask": {"type": "message", "text": "Hi", "next": "x"}}}"#;
        assert_eq!(line_of(compact, None, Some("steps")), Some((1, 1)));
    }
}
