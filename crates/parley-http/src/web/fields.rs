//! `/app/{org}/contacts/fields`: the organization's field definitions and its
//! suppression list, for the people who see the contact list. Fields (key, label, type,
//! whether the value is personal data) are added and changed by those who may change
//! contacts; Parley's built-in fields are listed without controls. The suppression list
//! holds keyed hashes, never the addresses themselves: it is listed by channel kind,
//! reason and date, an address can be checked against it, and an address can be added
//! (a customer who asked by phone not to be messaged).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::contacts::NewField;
use parley_domain::{ChannelAddress, ChannelKind, FieldType, OrgId, Permission};
use parley_store::{FieldPatch, PageRequest};
use serde::Deserialize;

use super::assets::{self, Assets};
use super::contacts;
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Kinds an address is suppressed on: (value, words).
const KINDS: [(&str, &str); 4] = [
    ("sms", "SMS"),
    ("whatsapp", "WhatsApp"),
    ("messenger", "Messenger"),
    ("webchat", "Web chat"),
];

/// The suppression list's filter: a kind and an address to check.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct FieldsQuery {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    address: String,
}

struct FieldRow {
    key: String,
    label: String,
    field_type: &'static str,
    pii: bool,
    builtin: bool,
}

struct SuppressionRow {
    kind: &'static str,
    reason: String,
    when: String,
    hash: String,
}

/// The page.
#[derive(Template)]
#[template(path = "app/fields.html")]
struct FieldsPage {
    asset: Assets,
    frame: Frame,
    here: String,
    contacts_href: String,
    editable: bool,
    fields: Vec<FieldRow>,
    types: Vec<&'static str>,
    kinds: Vec<(&'static str, &'static str, bool)>,
    q: FieldsQuery,
    suppressions: Vec<SuppressionRow>,
    /// The refused form's panel (`fields`, `add-field`, `suppress`), its words, and what
    /// was typed.
    refused: Option<(&'static str, Refusal)>,
    draft: Posted,
}

/// `GET /app/{org}/contacts/fields`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<FieldsQuery>,
) -> Result<Response, PageError> {
    show(&state, &session, org, q, None, Posted::default()).await
}

/// `POST /app/{org}/contacts/fields`: `action` is `create-field`, `update-field` or
/// `suppress`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let action = posted.text("action");
    let field_type = || {
        posted
            .get("type")
            .parse::<FieldType>()
            .map_err(|e| AppError::invalid("type", format!("must be {}", e.expected)))
    };
    let done: Result<(), AppError> = async {
        match action.as_str() {
            "create-field" => app
                .create_field(
                    access,
                    NewField {
                        key: posted.get("key").trim().to_owned(),
                        label: Some(posted.text("label")).filter(|l| !l.trim().is_empty()),
                        field_type: field_type()?,
                        pii: posted.get("pii") == "1",
                    },
                )
                .await
                .map(drop),
            "update-field" => app
                .update_field(
                    access,
                    posted.get("key"),
                    FieldPatch {
                        label: Some(posted.text("label")),
                        field_type: Some(field_type()?),
                        pii: Some(posted.get("pii") == "1"),
                    },
                )
                .await
                .map(drop),
            "suppress" => {
                let kind = posted
                    .get("kind")
                    .parse::<ChannelKind>()
                    .map_err(|_| AppError::invalid("kind", "choose a channel kind"))?;
                let address = ChannelAddress {
                    kind,
                    address: posted.get("address").trim().to_owned(),
                };
                let reason = Some(posted.get("reason").trim())
                    .filter(|r| !r.is_empty())
                    .unwrap_or("added by hand");
                app.suppress(access, &address, reason).await
            }
            _ => Err(AppError::invalid("action", "is not one this page knows")),
        }
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/contacts/fields")).into_response()),
        Err(e) => {
            let panel = match action.as_str() {
                "create-field" => "add-field",
                "suppress" => "suppress",
                _ => "fields",
            };
            let refusal = Refusal::of(&e.into());
            show(
                &state,
                &session,
                org,
                FieldsQuery::default(),
                Some((panel, refusal)),
                posted,
            )
            .await
        }
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    q: FieldsQuery,
    refused: Option<(&'static str, Refusal)>,
    draft: Posted,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    contacts::require(access)?;
    let fields = app
        .list_fields(access)
        .await?
        .into_iter()
        .map(|d| FieldRow {
            key: d.key.as_str().to_owned(),
            label: d.label,
            field_type: d.field_type.as_str(),
            pii: d.pii,
            builtin: d.builtin,
        })
        .collect();
    let kind = q.kind.parse::<ChannelKind>().ok();
    let address = Some(q.address.trim().to_owned()).filter(|a| !a.is_empty());
    let zone = &access.organization.timezone;
    let (mut status, mut refused) = (
        refused
            .as_ref()
            .map_or(http::StatusCode::OK, |(_, r)| r.status),
        refused,
    );
    let suppressions = match app
        .list_suppressions(access, kind, address, PageRequest::first(100))
        .await
    {
        Ok(page) => page
            .items
            .into_iter()
            .map(|s| SuppressionRow {
                kind: KINDS
                    .iter()
                    .find(|(v, _)| *v == s.channel_kind.as_str())
                    .map_or("Address", |(_, w)| w),
                reason: s.reason,
                when: zone
                    .local(s.created_at)
                    .format("%-d %b %Y, %H:%M")
                    .to_string(),
                hash: s.address_hash.chars().take(12).collect(),
            })
            .collect(),
        Err(e) => {
            let r = Refusal::of(&e.into());
            status = r.status;
            refused = Some(("check", r));
            Vec::new()
        }
    };
    let here = format!("/app/{org}/contacts/fields");
    let page = FieldsPage {
        asset: assets::urls(),
        frame: Frame::new(state, session, &viewer, Section::Contacts, here.clone()).await?,
        contacts_href: format!("/app/{org}/contacts"),
        editable: access.require(Permission::ContactsWrite).is_ok(),
        fields,
        types: FieldType::ALL.iter().map(|t| t.as_str()).collect(),
        kinds: KINDS.iter().map(|(v, w)| (*v, *w, q.kind == *v)).collect(),
        q,
        suppressions,
        refused,
        draft,
        here,
    };
    Ok(render(status, &page))
}
