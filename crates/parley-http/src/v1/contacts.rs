//! `/api/v1/fields`, `/api/v1/contacts` (list, add one, read, change, delete) and
//! `/api/v1/contacts/suppressions`.

use axum::Json;
use axum::extract::{Path, Query, State};
use chrono::{DateTime, Utc};
use http::StatusCode;
use parley_app::contacts::NewField;
use parley_domain::{ChannelAddress, ChannelKind, Contact, FieldDefinition, FieldType};
use parley_store::{FieldPatch, PageRequest, Suppression};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::caller::Caller;
use crate::extract::{ApiJson, ApiQuery, PageQuery, path_id};
use crate::problem::{ApiError, ProblemResponses};

/// A field definition.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldResponse {
    /// snake_case key.
    pub key: String,
    /// What people see.
    pub label: String,
    /// `text`, `number`, `money`, `date`, `datetime`, `boolean`, `phone`, `email`, `postcode` or `url`.
    #[serde(rename = "type")]
    pub field_type: String,
    /// Personal data?
    pub pii: bool,
    /// Exists in every organization; cannot be changed.
    pub builtin: bool,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<FieldDefinition> for FieldResponse {
    fn from(f: FieldDefinition) -> Self {
        Self {
            key: f.key.to_string(),
            label: f.label,
            field_type: f.field_type.to_string(),
            pii: f.pii,
            builtin: f.builtin,
            created_at: f.created_at,
            updated_at: f.updated_at,
        }
    }
}

/// Every field of the organization.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldList {
    /// Built-ins first, then by key.
    pub data: Vec<FieldResponse>,
}

/// A field to define.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateFieldRequest {
    /// snake_case, starting with a letter, at most 64 characters.
    #[schema(pattern = "^[a-z][a-z0-9_]{0,63}$")]
    pub key: String,
    /// Defaults to the key.
    pub label: Option<String>,
    /// The type.
    #[serde(rename = "type")]
    #[schema(value_type = super::vocab::FieldTypeName)]
    pub field_type: FieldType,
    /// Personal data (default false).
    #[serde(default)]
    pub pii: bool,
}

/// Changes to a field.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateFieldRequest {
    /// New label.
    pub label: Option<String>,
    /// New type; stored values are not rewritten.
    #[serde(rename = "type")]
    #[schema(value_type = Option<super::vocab::FieldTypeName>)]
    pub field_type: Option<FieldType>,
    /// New PII flag.
    pub pii: Option<bool>,
}

/// The organization's fields.
#[utoipa::path(get, path = "/fields", tag = "contacts",
    responses((status = 200, body = FieldList), ProblemResponses))]
pub async fn list_fields(
    State(state): State<AppState>,
    Caller(access): Caller,
) -> Result<Json<FieldList>, ApiError> {
    let data = state
        .app
        .list_fields(&access)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(FieldList { data }))
}

/// Define a field.
#[utoipa::path(post, path = "/fields", tag = "contacts", request_body = CreateFieldRequest,
    responses((status = 201, body = FieldResponse), ProblemResponses))]
pub async fn create_field(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateFieldRequest>,
) -> Result<(StatusCode, Json<FieldResponse>), ApiError> {
    let field = state
        .app
        .create_field(
            &access,
            NewField {
                key: body.key,
                label: body.label,
                field_type: body.field_type,
                pii: body.pii,
            },
        )
        .await?;
    Ok((StatusCode::CREATED, Json(field.into())))
}

/// Change a field's label, type or PII flag.
#[utoipa::path(patch, path = "/fields/{key}", tag = "contacts", request_body = UpdateFieldRequest,
    params(("key" = String, Path, description = "the field key")),
    responses((status = 200, body = FieldResponse), ProblemResponses))]
pub async fn update_field(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(key): Path<String>,
    ApiJson(body): ApiJson<UpdateFieldRequest>,
) -> Result<Json<FieldResponse>, ApiError> {
    let patch = FieldPatch {
        label: body.label,
        field_type: body.field_type,
        pii: body.pii,
    };
    Ok(Json(
        state.app.update_field(&access, &key, patch).await?.into(),
    ))
}

/// A channel address.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddressDto {
    /// `sms`, `whatsapp`, `messenger` or `webchat`.
    #[schema(value_type = String)]
    pub kind: ChannelKind,
    /// E.164 for phone channels (local numbers are read with the organization's country).
    pub address: String,
}

impl From<AddressDto> for ChannelAddress {
    fn from(a: AddressDto) -> Self {
        ChannelAddress {
            kind: a.kind,
            address: a.address,
        }
    }
}

/// A contact.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactResponse {
    /// `ct_…`
    pub id: String,
    /// The organization's reference.
    pub customer_id: Option<String>,
    /// Values by field key, in canonical form.
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Channel addresses.
    pub addresses: Vec<AddressDto>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Contact> for ContactResponse {
    fn from(c: Contact) -> Self {
        Self {
            id: c.id.to_string(),
            customer_id: c.customer_id,
            fields: c.fields,
            addresses: c
                .addresses
                .into_iter()
                .map(|a| AddressDto {
                    kind: a.kind,
                    address: a.address,
                })
                .collect(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

/// One page of contacts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactList {
    /// The contacts, by id.
    pub data: Vec<ContactResponse>,
    /// Pass as `cursor` for the next page; absent on the last one.
    pub next_cursor: Option<String>,
}

/// Filters for the contact list; any `field.<key>=<value>` parameter also filters, with
/// the value read by the field's type.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Exactly this customer id.
    pub customer_id: Option<String>,
    /// Holding this channel address (phone numbers in any local form).
    pub address: Option<String>,
}

/// List contacts, filtered by customer id, address or field values (`field.balance=12.50`).
#[utoipa::path(get, path = "/contacts", tag = "contacts", params(ContactQuery),
    responses((status = 200, body = ContactList), ProblemResponses))]
pub async fn list_contacts(
    State(state): State<AppState>,
    Caller(access): Caller,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Json<ContactList>, ApiError> {
    let mut q = ContactQuery {
        limit: None,
        cursor: None,
        customer_id: None,
        address: None,
    };
    let mut fields = Vec::new();
    for (name, value) in pairs {
        match name.as_str() {
            "limit" => {
                q.limit = Some(
                    value
                        .parse()
                        .map_err(|_| ApiError::field("limit", "must be a whole number"))?,
                )
            }
            "cursor" => q.cursor = Some(value),
            "customer_id" => q.customer_id = Some(value),
            "address" => q.address = Some(value),
            other => match other.strip_prefix("field.") {
                Some(key) => fields.push((key.to_owned(), value)),
                None => {
                    return Err(ApiError::field(
                        other,
                        "unknown parameter (filter on values with field.<key>=<value>)",
                    ));
                }
            },
        }
    }
    let page = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let found = state
        .app
        .list_contacts(&access, q.customer_id, q.address, fields, page)
        .await?;
    Ok(Json(ContactList {
        data: found.items.into_iter().map(Into::into).collect(),
        next_cursor: crate::extract::encode_cursor(found.next_cursor),
    }))
}

/// One contact.
#[utoipa::path(get, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path, description = "ct_…")),
    responses((status = 200, body = ContactResponse), ProblemResponses))]
pub async fn get_contact(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<Json<ContactResponse>, ApiError> {
    let id = path_id(&id, "contact")?;
    Ok(Json(state.app.get_contact(&access, id).await?.into()))
}

/// A contact to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateContactRequest {
    /// The organization's reference for the customer, unique among its contacts.
    #[schema(min_length = 1, max_length = 128)]
    pub customer_id: Option<String>,
    /// Values by field key, read by each field's type (define new fields first).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// At least one channel address; phone numbers may be local to the organization's
    /// country.
    #[schema(min_items = 1)]
    pub addresses: Vec<AddressDto>,
}

/// Add one contact. Every bad value is reported at once; a `customer_id` or an address
/// another contact holds answers 409 and nothing is written.
#[utoipa::path(post, path = "/contacts", tag = "contacts", request_body = CreateContactRequest,
    responses((status = 201, body = ContactResponse), ProblemResponses))]
pub async fn create_contact(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiJson(body): ApiJson<CreateContactRequest>,
) -> Result<(StatusCode, Json<ContactResponse>), ApiError> {
    let contact = state
        .app
        .create_contact(
            &access,
            body.customer_id,
            body.fields,
            body.addresses.into_iter().map(Into::into).collect(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(contact.into())))
}

/// Changes to a contact.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateContactRequest {
    /// A new customer id, or `null` to clear it; absent leaves it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub customer_id: Option<Option<String>>,
    /// Values to set, read by each field's type; `null` removes a value.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: Map<String, Value>,
    /// Addresses to add.
    #[serde(default)]
    pub add_addresses: Vec<AddressDto>,
    /// Addresses to remove.
    #[serde(default)]
    pub remove_addresses: Vec<AddressDto>,
}

fn double_option<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// Change a contact.
#[utoipa::path(patch, path = "/contacts/{id}", tag = "contacts", request_body = UpdateContactRequest,
    params(("id" = String, Path, description = "ct_…")),
    responses((status = 200, body = ContactResponse), ProblemResponses))]
pub async fn update_contact(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<UpdateContactRequest>,
) -> Result<Json<ContactResponse>, ApiError> {
    let id = path_id(&id, "contact")?;
    let contact = state
        .app
        .update_contact(
            &access,
            id,
            body.customer_id,
            body.fields,
            body.add_addresses.into_iter().map(Into::into).collect(),
            body.remove_addresses.into_iter().map(Into::into).collect(),
        )
        .await?;
    Ok(Json(contact.into()))
}

/// Delete a contact and its addresses (its suppression entries stay).
#[utoipa::path(delete, path = "/contacts/{id}", tag = "contacts", params(("id" = String, Path, description = "ct_…")),
    responses((status = 204), ProblemResponses))]
pub async fn delete_contact(
    State(state): State<AppState>,
    Caller(access): Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = path_id(&id, "contact")?;
    state.app.delete_contact(&access, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An opted-out address (only its keyed hash is kept).
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionResponse {
    /// The channel kind.
    pub channel_kind: String,
    /// HMAC-SHA256 of the address (hex).
    pub address_hash: String,
    /// Why.
    pub reason: String,
    /// When.
    pub created_at: DateTime<Utc>,
}

impl From<Suppression> for SuppressionResponse {
    fn from(s: Suppression) -> Self {
        Self {
            channel_kind: s.channel_kind.to_string(),
            address_hash: s.address_hash,
            reason: s.reason,
            created_at: s.created_at,
        }
    }
}

/// One page of the suppression list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SuppressionList {
    /// Entries, by hash.
    pub data: Vec<SuppressionResponse>,
    /// Pass as `cursor` for the next page.
    pub next_cursor: Option<String>,
}

/// Suppression-list filters.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SuppressionQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this channel kind.
    #[param(value_type = Option<String>)]
    pub channel_kind: Option<ChannelKind>,
    /// Check one address: the page holds its entry, or nothing.
    pub address: Option<String>,
}

/// The suppression list (read-only), or whether one address is on it.
#[utoipa::path(get, path = "/contacts/suppressions", tag = "contacts", params(SuppressionQuery),
    responses((status = 200, body = SuppressionList), ProblemResponses))]
pub async fn list_suppressions(
    State(state): State<AppState>,
    Caller(access): Caller,
    ApiQuery(q): ApiQuery<SuppressionQuery>,
) -> Result<Json<SuppressionList>, ApiError> {
    let page: PageRequest = PageQuery {
        limit: q.limit,
        cursor: q.cursor,
    }
    .page()?;
    let found = state
        .app
        .list_suppressions(&access, q.channel_kind, q.address, page)
        .await?;
    Ok(Json(SuppressionList {
        data: found.items.into_iter().map(Into::into).collect(),
        next_cursor: crate::extract::encode_cursor(found.next_cursor),
    }))
}
