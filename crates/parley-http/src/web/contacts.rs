//! `/app/{org}/contacts` and `/app/{org}/contacts/{id}`: the organization's contacts for
//! the people who see beyond their own queues (viewers, supervisors, administrators;
//! agents meet contacts in their conversations). The list is found by customer id, by an
//! address (a phone number in any local form), or by a field's value read by its type,
//! 50 a page with "More contacts" after them. A contact's page shows its fields as
//! people read them, its addresses with whether each opted out, its conversations and
//! the campaigns that wrote to it; those who may change contacts edit it there (every
//! bad value named beside its field) and delete it after ticking that they mean it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::auth::Access;
use parley_domain::{Contact, ContactId, OrgId, Permission};
use parley_store::PageRequest;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::assets::{self, Assets};
use super::contact::{self, Panel};
use super::desk::contact_name;
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, encode, render};
use super::session::{Session, Viewer, check_form, desk_of};
use crate::AppState;

/// Contacts a page.
const PAGE: u32 = 50;

/// Refuses those who do not see the contact list (and so neither its fields, its
/// suppression list nor imports).
pub(crate) fn require(access: &Access) -> Result<(), AppError> {
    if super::frame::sees_contacts(access) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "contacts and imports are for supervisors, viewers and administrators",
        ))
    }
}

/// The list's search as the form sends it.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ContactsQuery {
    #[serde(default)]
    customer_id: String,
    #[serde(default)]
    address: String,
    #[serde(default)]
    field: String,
    #[serde(default)]
    value: String,
    cursor: Option<String>,
}

impl ContactsQuery {
    fn href(&self, base: &str, cursor: &str) -> String {
        format!(
            "{base}?customer_id={}&address={}&field={}&value={}&cursor={}",
            encode(&self.customer_id),
            encode(&self.address),
            encode(&self.field),
            encode(&self.value),
            encode(cursor)
        )
    }
}

struct Row {
    href: String,
    name: String,
    customer_id: String,
    addresses: String,
}

/// The list page.
#[derive(Template)]
#[template(path = "app/contacts.html")]
struct ContactsPage {
    asset: Assets,
    frame: Frame,
    here: String,
    fields_href: String,
    q: ContactsQuery,
    /// The name the use case gives a problem with the filter's value.
    value_field: String,
    /// Each field to filter by: (key, label, chosen).
    fields: Vec<(String, String, bool)>,
    rows: Vec<Row>,
    more: Option<String>,
    refused: Option<Refusal>,
}

/// `GET /app/{org}/contacts`.
pub(crate) async fn list(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<ContactsQuery>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    require(access)?;
    let definitions = app.list_fields(access).await?;
    let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
    let filter: Vec<(String, String)> = match (given(&q.field), given(&q.value)) {
        (Some(f), Some(v)) => vec![(f, v)],
        _ => Vec::new(),
    };
    let request = match &q.cursor {
        Some(c) => PageRequest::after(c.clone(), PAGE),
        None => PageRequest::first(PAGE),
    };
    let base = format!("/app/{org}/contacts");
    let found = app
        .list_contacts(
            access,
            given(&q.customer_id),
            given(&q.address),
            filter,
            request,
        )
        .await;
    let (status, rows, more, refused) = match found {
        Ok(page) => {
            let more = page.next_cursor.as_deref().map(|c| q.href(&base, c));
            let rows = page.items.iter().map(|c| row(&base, c)).collect();
            (http::StatusCode::OK, rows, more, None)
        }
        Err(e) => {
            let r = Refusal::of(&e.into());
            (r.status, Vec::new(), None, Some(r))
        }
    };
    let page = ContactsPage {
        asset: assets::urls(),
        frame: Frame::new(&state, &session, &viewer, Section::Contacts, base.clone()).await?,
        fields_href: format!("{base}/fields"),
        fields: definitions
            .iter()
            .map(|d| {
                (
                    d.key.as_str().to_owned(),
                    d.label.clone(),
                    d.key.as_str() == q.field,
                )
            })
            .collect(),
        here: base,
        value_field: format!("field.{}", q.field.trim()),
        q,
        rows,
        more,
        refused,
    };
    Ok(render(status, &page))
}

fn row(base: &str, c: &Contact) -> Row {
    Row {
        href: format!("{base}/{}", c.id),
        name: contact_name(&c.fields).unwrap_or_else(|| "No name".to_owned()),
        customer_id: c.customer_id.clone().unwrap_or_default(),
        addresses: c
            .addresses
            .iter()
            .map(|a| a.address.clone())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// One box of the edit form.
struct EditField {
    key: String,
    label: String,
    value: String,
}

/// A contact's page.
#[derive(Template)]
#[template(path = "app/contact_page.html")]
struct ContactPage {
    asset: Assets,
    frame: Frame,
    here: String,
    list_href: String,
    name: String,
    panel: Panel,
    /// The edit form, for those who change contacts: the customer id and each field.
    editable: bool,
    customer_id: String,
    edit: Vec<EditField>,
    refused: Option<(&'static str, Refusal)>,
}

/// `GET /app/{org}/contacts/{id}`.
pub(crate) async fn one(
    State(state): State<AppState>,
    session: Session,
    Path((org, id)): Path<(OrgId, ContactId)>,
) -> Result<Response, PageError> {
    show(&state, &session, org, id, None).await
}

/// `POST /app/{org}/contacts/{id}`: `action` is `update` or `delete` (with `confirm`).
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path((org, id)): Path<(OrgId, ContactId)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let posted = Posted::new(pairs);
    check_form(&state, &headers, Some(&session), posted.get("csrf"))?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    require(access)?;
    let action = posted.text("action");
    let done: Result<(), AppError> = async {
        match action.as_str() {
            "update" => {
                let stored = app.get_contact(access, id).await?;
                let mut fields = Map::new();
                for d in app.list_fields(access).await? {
                    let key = d.key.as_str();
                    if key == "customer_id" {
                        continue;
                    }
                    let typed = posted.get(&format!("fields.{key}")).trim();
                    let had = stored.fields.get(key).map(stored_text).unwrap_or_default();
                    if typed == had {
                        continue;
                    }
                    let value = if typed.is_empty() {
                        Value::Null
                    } else {
                        Value::String(typed.to_owned())
                    };
                    fields.insert(key.to_owned(), value);
                }
                let customer = posted.get("customer_id").trim();
                let customer_id = (stored.customer_id.as_deref().unwrap_or("") != customer)
                    .then(|| Some(customer.to_owned()).filter(|c| !c.is_empty()));
                app.update_contact(access, id, customer_id, fields, Vec::new(), Vec::new())
                    .await
                    .map(drop)
            }
            "delete" => {
                if posted.get("confirm") != "1" {
                    return Err(AppError::invalid(
                        "confirm",
                        "tick the box to say you mean it",
                    ));
                }
                app.delete_contact(access, id).await
            }
            _ => Err(AppError::invalid("action", "is not one this page knows")),
        }
    }
    .await;
    match done {
        Ok(()) if action == "delete" => {
            Ok(Redirect::to(&format!("/app/{org}/contacts")).into_response())
        }
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/contacts/{id}")).into_response()),
        Err(e) => {
            let panel = if action == "delete" { "delete" } else { "edit" };
            let refusal = Refusal::of(&e.into());
            show(&state, &session, org, id, Some((panel, refusal, posted))).await
        }
    }
}

/// A stored value as its box shows it.
fn stored_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    id: ContactId,
    refused: Option<(&'static str, Refusal, Posted)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    require(access)?;
    let stored = app.get_contact(access, id).await?;
    let panel = contact::read(state, access, &desk_of(org), id, None).await?;
    let typed = refused
        .as_ref()
        .filter(|(p, _, _)| *p == "edit")
        .map(|(_, _, posted)| posted);
    let edit = app
        .list_fields(access)
        .await?
        .into_iter()
        .filter(|d| d.key.as_str() != "customer_id")
        .map(|d| {
            let key = d.key.as_str().to_owned();
            let value = typed.map_or_else(
                || stored.fields.get(&key).map(stored_text).unwrap_or_default(),
                |p| p.text(&format!("fields.{key}")),
            );
            EditField {
                label: d.label,
                value,
                key,
            }
        })
        .collect();
    let status = refused
        .as_ref()
        .map_or(http::StatusCode::OK, |(_, r, _)| r.status);
    let here = format!("/app/{org}/contacts/{id}");
    let page = ContactPage {
        asset: assets::urls(),
        frame: Frame::new(state, session, &viewer, Section::Contacts, here.clone()).await?,
        list_href: format!("/app/{org}/contacts"),
        name: contact_name(&stored.fields).unwrap_or_else(|| "No name".to_owned()),
        panel,
        editable: access.require(Permission::ContactsWrite).is_ok(),
        customer_id: typed.map_or_else(
            || stored.customer_id.clone().unwrap_or_default(),
            |p| p.text("customer_id"),
        ),
        edit,
        refused: refused.map(|(p, r, _)| (p, r)),
        here,
    };
    Ok(render(status, &page))
}
