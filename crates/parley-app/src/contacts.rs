//! Field definitions, contacts and the suppression list, as the API and CLI use them.
//!
//! Values written through the API are read by the same parsers as imported ones, so a
//! contact holds the same canonical value whichever way it arrived. Suppressed addresses
//! are stored as HMAC-SHA256 under a key derived from the master key: the list can be
//! checked against an address but does not reveal it (SPEC §2, §11).

use hmac::{Hmac, Mac};
use parley_domain::{
    ChannelAddress, ChannelKind, Contact, ContactId, FieldDefinition, FieldKey, FieldType,
    Organization, Permission,
};
use parley_import::CellRef;
use parley_import::validate::{MAX_CUSTOMER_ID_CHARS, read_address};
use parley_import::values::{ValueContext, parse_value};
use parley_store::{ContactFilter, ContactUpdate, FieldPatch, Page, PageRequest, Suppression};
use serde_json::{Map, Value};
use sha2::Sha256;

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError, FieldError};

/// A field to define.
#[derive(Debug, Clone)]
pub struct NewField {
    /// The key (snake_case).
    pub key: String,
    /// What people see; the key when absent.
    pub label: Option<String>,
    /// The type.
    pub field_type: FieldType,
    /// Personal data?
    pub pii: bool,
}

/// The parsers' context for `org` (phone patterns compile once per context, so a request
/// makes one and passes it around).
pub(crate) fn value_context(org: &Organization) -> ValueContext {
    ValueContext::new(org.default_country, org.locale)
}

/// Field filter values read by their field's type (so `087…` finds `+35387…`), as the
/// contact list and a campaign's audience take them; each bad one is named `prefix` and
/// its key, in the order given.
pub(crate) fn canonical_filter(
    known: &[FieldDefinition],
    ctx: &mut ValueContext,
    fields: &[(String, String)],
    prefix: &str,
) -> Result<Vec<(FieldKey, Value)>, Vec<FieldError>> {
    let mut values = Vec::with_capacity(fields.len());
    let mut errors = Vec::new();
    for (key, raw) in fields {
        let name = format!("{prefix}{key}");
        let Some(def) = known.iter().find(|d| d.key.as_str() == key) else {
            errors.push(FieldError::new(name, "no such field"));
            continue;
        };
        match canonical_value(ctx, def.field_type, &Value::String(raw.clone())) {
            Ok(v) => values.push((def.key.clone(), v)),
            Err(e) => errors.push(FieldError::new(name, e)),
        }
    }
    if errors.is_empty() {
        Ok(values)
    } else {
        Err(errors)
    }
}

/// Reads a JSON value as a `field_type` value, canonical as an import would store it.
pub fn canonical_value(
    ctx: &mut ValueContext,
    field_type: FieldType,
    value: &Value,
) -> Result<Value, String> {
    let cell = match value {
        Value::String(s) => CellRef::Text(s),
        Value::Number(n) => CellRef::Number(n.as_f64().ok_or("number out of range")?),
        Value::Bool(b) => CellRef::Bool(*b),
        _ => return Err("must be a string, number or boolean".to_owned()),
    };
    if cell.is_empty() {
        return Err("must not be empty (send null to remove a value)".to_owned());
    }
    let parsed = parse_value(field_type, cell, ctx).map_err(|r| r.into_owned())?;
    let mut json = String::new();
    parsed.write_json(&mut json);
    serde_json::from_str(&json).map_err(|e| e.to_string())
}

fn clean_label(label: Option<&str>, key: &str) -> Result<String, AppError> {
    let label = label.map_or(key, str::trim);
    if label.is_empty() || label.chars().count() > 100 {
        return Err(AppError::invalid("label", "must be 1 to 100 characters"));
    }
    Ok(label.to_owned())
}

impl App {
    /// Every field of the organization: the built-ins, then the defined ones by key.
    pub async fn list_fields(&self, access: &Access) -> Result<Vec<FieldDefinition>, AppError> {
        access.require(Permission::ContactsRead)?;
        let mut fields = FieldDefinition::builtins(access.org_id());
        fields.extend(self.store.list_fields(access.org_id()).await?);
        Ok(fields)
    }

    /// Defines a field.
    pub async fn create_field(
        &self,
        access: &Access,
        input: NewField,
    ) -> Result<FieldDefinition, AppError> {
        access.require(Permission::ContactsWrite)?;
        let key: FieldKey = input
            .key
            .parse()
            .map_err(|e: parley_domain::ValueError| AppError::invalid("key", e.to_string()))?;
        if key.is_builtin() {
            return Err(AppError::invalid("key", "is a built-in field"));
        }
        let now = self.clock.now();
        let field = FieldDefinition {
            organization_id: access.org_id(),
            label: clean_label(input.label.as_deref(), key.as_str())?,
            key,
            field_type: input.field_type,
            pii: input.pii,
            builtin: false,
            created_at: now,
            updated_at: now,
        };
        Ok(self.store.create_field(field).await?)
    }

    /// Changes a field's label, type or PII flag (built-ins cannot change).
    pub async fn update_field(
        &self,
        access: &Access,
        key: &str,
        mut patch: FieldPatch,
    ) -> Result<FieldDefinition, AppError> {
        access.require(Permission::ContactsWrite)?;
        let key: FieldKey = key.parse().map_err(|_| AppError::NotFound("field"))?;
        if key.is_builtin() {
            return Err(AppError::invalid(
                "key",
                "built-in fields cannot be changed",
            ));
        }
        if let Some(label) = &patch.label {
            patch.label = Some(clean_label(Some(label), key.as_str())?);
        }
        self.store
            .update_field(access.org_id(), &key, patch, self.clock.now())
            .await
            .or_not_found("field")
    }

    /// Contacts of the organization matching `filter` (field values are read by their
    /// field's type first, so `?field.phone=087…` finds `+35387…`).
    pub async fn list_contacts(
        &self,
        access: &Access,
        customer_id: Option<String>,
        address: Option<String>,
        fields: Vec<(String, String)>,
        page: PageRequest,
    ) -> Result<Page<Contact>, AppError> {
        access.require(Permission::ContactsRead)?;
        let known = self.list_fields(access).await?;
        let mut ctx = value_context(&access.organization);
        let mut filter = ContactFilter {
            customer_id,
            // A phone number in any local form finds its E.164; anything else as given.
            address: address.map(|a| {
                ctx.phones
                    .normalise(CellRef::Text(&a))
                    .unwrap_or_else(|_| a.trim().to_owned())
            }),
            fields: Vec::new(),
        };
        filter.fields =
            canonical_filter(&known, &mut ctx, &fields, "field.").map_err(AppError::Invalid)?;
        Ok(self
            .store
            .list_contacts(access.org_id(), &filter, page)
            .await?)
    }

    /// One contact.
    pub async fn get_contact(&self, access: &Access, id: ContactId) -> Result<Contact, AppError> {
        access.require(Permission::ContactsRead)?;
        self.store
            .get_contact(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound("contact"))
    }

    /// Changes a contact: `fields` values are read by their field's type (`null` removes
    /// one); addresses are normalised for their channel.
    pub async fn update_contact(
        &self,
        access: &Access,
        id: ContactId,
        customer_id: Option<Option<String>>,
        fields: Map<String, Value>,
        add_addresses: Vec<ChannelAddress>,
        remove_addresses: Vec<ChannelAddress>,
    ) -> Result<Contact, AppError> {
        access.require(Permission::ContactsWrite)?;
        let mut errors = Vec::new();
        let mut update = self
            .checked_update(
                access,
                customer_id,
                fields,
                add_addresses,
                "add_addresses",
                &mut errors,
            )
            .await?;
        let mut ctx = value_context(&access.organization);
        for a in remove_addresses {
            update
                .remove_addresses
                .push(normalise_address(&mut ctx, &a).unwrap_or(a));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.store
            .update_contact(access.org_id(), id, update, self.clock.now())
            .await
            .or_not_found("contact")
    }

    /// Adds one contact: at least one channel address, an optional customer id and values
    /// read by their field's type. Every bad part is reported at once; a customer id or an
    /// address another contact holds is a conflict, and nothing is written.
    pub async fn create_contact(
        &self,
        access: &Access,
        customer_id: Option<String>,
        fields: Map<String, Value>,
        addresses: Vec<ChannelAddress>,
    ) -> Result<Contact, AppError> {
        access.require(Permission::ContactsWrite)?;
        let mut errors = Vec::new();
        if addresses.is_empty() {
            errors.push(FieldError::new(
                "addresses",
                "give at least one channel address (a phone number for sms and whatsapp)",
            ));
        }
        let update = self
            .checked_update(
                access,
                customer_id.map(Some),
                fields,
                addresses,
                "addresses",
                &mut errors,
            )
            .await?;
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        self.store
            .create_contact(
                access.org_id(),
                ContactId::generate(),
                update,
                self.clock.now(),
            )
            .await
            .map_err(AppError::from)
    }

    /// A contact change with every value read by its field's type and every address
    /// normalised; each problem is pushed to `errors` (named as the request names it:
    /// `customer_id`, `fields.<key>`, `<addresses>[i].address`).
    async fn checked_update(
        &self,
        access: &Access,
        customer_id: Option<Option<String>>,
        fields: Map<String, Value>,
        addresses: Vec<ChannelAddress>,
        addresses_name: &str,
        errors: &mut Vec<FieldError>,
    ) -> Result<ContactUpdate, AppError> {
        let known = self.list_fields(access).await?;
        let mut ctx = value_context(&access.organization);
        let mut update = ContactUpdate::default();
        if let Some(Some(c)) = &customer_id {
            let c = c.trim();
            if c.is_empty() || c.chars().count() > MAX_CUSTOMER_ID_CHARS {
                errors.push(FieldError::new(
                    "customer_id",
                    format!("must be 1 to {MAX_CUSTOMER_ID_CHARS} characters"),
                ));
            }
            update.customer_id = Some(Some(c.to_owned()));
        } else {
            update.customer_id = customer_id;
        }
        for (key, value) in fields {
            let name = format!("fields.{key}");
            let Some(def) = known.iter().find(|d| d.key.as_str() == key) else {
                errors.push(FieldError::new(name, "no such field; define it first"));
                continue;
            };
            if def.key.as_str() == "customer_id" {
                errors.push(FieldError::new(name, "set customer_id at the top level"));
                continue;
            }
            if value.is_null() {
                update.fields.insert(key, Value::Null);
                continue;
            }
            match canonical_value(&mut ctx, def.field_type, &value) {
                Ok(v) => {
                    update.fields.insert(key, v);
                }
                Err(e) => errors.push(FieldError::new(name, e)),
            }
        }
        for (i, a) in addresses.into_iter().enumerate() {
            match normalise_address(&mut ctx, &a) {
                Ok(n) => update.add_addresses.push(n),
                Err(e) => errors.push(FieldError::new(format!("{addresses_name}[{i}].address"), e)),
            }
        }
        Ok(update)
    }

    fn normalise_address_of(
        &self,
        access: &Access,
        a: &ChannelAddress,
    ) -> Result<ChannelAddress, String> {
        normalise_address(&mut value_context(&access.organization), a)
    }

    /// Deletes a contact and its addresses (its suppression entries stay).
    pub async fn delete_contact(&self, access: &Access, id: ContactId) -> Result<(), AppError> {
        access.require(Permission::ContactsWrite)?;
        self.store
            .delete_contact(access.org_id(), id)
            .await
            .or_not_found("contact")
    }

    /// The keyed hash a suppressed address is stored under.
    #[must_use]
    pub fn suppression_hash(
        &self,
        organization: parley_domain::OrgId,
        kind: ChannelKind,
        address: &str,
    ) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.keys.suppression)
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(organization.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(kind.as_str().as_bytes());
        mac.update(b"\0");
        mac.update(address.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Adds an address to the suppression list by hand (a customer who asked another way
    /// not to be messaged); keyword opt-outs are written by the conversation runtime.
    pub async fn suppress(
        &self,
        access: &Access,
        address: &ChannelAddress,
        reason: &str,
    ) -> Result<(), AppError> {
        access.require(Permission::ContactsWrite)?;
        let a = self
            .normalise_address_of(access, address)
            .map_err(|e| AppError::invalid("address", e))?;
        self.store
            .add_suppression(Suppression {
                organization_id: access.org_id(),
                channel_kind: a.kind,
                address_hash: self.suppression_hash(access.org_id(), a.kind, &a.address),
                reason: reason.to_owned(),
                created_at: self.clock.now(),
            })
            .await?;
        Ok(())
    }

    /// The suppression list, or — with `address` — whether that address is on it (the
    /// page then holds its entry or nothing).
    pub async fn list_suppressions(
        &self,
        access: &Access,
        kind: Option<ChannelKind>,
        address: Option<String>,
        page: PageRequest,
    ) -> Result<Page<Suppression>, AppError> {
        access.require(Permission::ContactsRead)?;
        if let Some(address) = address {
            let kind = kind.unwrap_or(ChannelKind::Sms);
            let a = self
                .normalise_address_of(access, &ChannelAddress { kind, address })
                .map_err(|e| AppError::invalid("address", e))?;
            let hash = self.suppression_hash(access.org_id(), kind, &a.address);
            let found = self
                .store
                .find_suppression(access.org_id(), kind, &hash)
                .await?;
            return Ok(Page {
                items: found.into_iter().collect(),
                next_cursor: None,
            });
        }
        Ok(self
            .store
            .list_suppressions(access.org_id(), kind, page)
            .await?)
    }
}

/// `address` of `kind` as an import would store it (E.164 for phones) with the parsers
/// `ctx`, or why it is not one: how a provider's sender is matched to a contact.
pub(crate) fn normalise_with(
    ctx: &mut ValueContext,
    kind: ChannelKind,
    address: &str,
) -> Result<String, String> {
    normalise_address(
        ctx,
        &ChannelAddress {
            kind,
            address: address.to_owned(),
        },
    )
    .map(|a| a.address)
}

/// An address as an import would store it.
fn normalise_address(ctx: &mut ValueContext, a: &ChannelAddress) -> Result<ChannelAddress, String> {
    read_address(a.kind, CellRef::Text(&a.address), ctx).map(|address| ChannelAddress {
        kind: a.kind,
        address,
    })
}
