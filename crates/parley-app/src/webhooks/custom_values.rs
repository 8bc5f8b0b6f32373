//! The custom value request (SPEC §7.3): one endpoint per organization, and the signed GET a
//! flow's `fetch` step sends there for live values (a balance, the next payment date).
//!
//! Decisions:
//! * the request is `GET <url>?customerId=…&channelId=…&fields=a,b` with the headers of a
//!   webhook (JWT and Standard Webhooks signature over an empty body); `webhook-id` is a
//!   fresh `evt_…` per request and the JWT's `aud` is the organization id;
//! * `PUT` sets the URL and timeout (100 ms to 30 s, 5 s by default). A secret is generated
//!   on the first `PUT` unless one is supplied; a later `PUT` without one keeps it. The
//!   secret is returned only by the call that set it;
//! * the answer must be `2xx` with a JSON object holding every field asked for. `null`
//!   means "no value" and is left out of the result; a missing field, or a value its field
//!   definition does not accept, makes the whole answer a bad body naming the field (a
//!   flow should not go on with half the values it asked for). Values are returned
//!   canonical, as an import would store them. A field the organization has not defined is
//!   returned as sent;
//! * failures are distinct ([`FetchFailure`]) so a flow's `on_failure` and the timeline can
//!   say what happened: not configured, timeout, non-2xx, bad body, or unreachable.

use std::time::Duration;

use chrono::{DateTime, Utc};
use parley_domain::{AuditAction, CustomValueEndpoint, EventId, FieldType, OrgId, Permission};
use parley_webhooks::client::DeliveryError;
use parley_webhooks::{Secret, Url};
use serde_json::{Map, Value};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::{App, AppError};

const WHAT: &str = "custom value endpoint";
/// The timeout when a `PUT` names none (SPEC §7.3).
pub const DEFAULT_TIMEOUT_MS: u32 = 5000;
/// The shortest timeout allowed.
pub const MIN_TIMEOUT_MS: u32 = 100;
/// The longest timeout allowed (a conversation waits for the answer).
pub const MAX_TIMEOUT_MS: u32 = 30_000;
/// The largest answer read, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A `PUT` of the custom value endpoint.
#[derive(Debug, Clone, Default)]
pub struct PutCustomValueEndpoint {
    /// Where the GET goes.
    pub url: String,
    /// A `whsec_…` secret; kept (or generated the first time) when `None`.
    pub secret: Option<String>,
    /// Milliseconds an answer may take; 5,000 when `None`.
    pub timeout_ms: Option<u32>,
}

/// The endpoint after a `PUT`, with the secret when this call set it.
#[derive(Debug, Clone)]
pub struct CustomValueEndpointSet {
    /// The endpoint.
    pub endpoint: CustomValueEndpoint,
    /// The `whsec_…` secret, when generated or supplied by this call.
    pub secret: Option<String>,
}

/// What a fetch asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueRequest {
    /// The contact's customer id, when it has one.
    pub customer_id: Option<String>,
    /// The channel address of the conversation (`+447700900123`).
    pub channel_id: String,
    /// Field keys.
    pub fields: Vec<String>,
}

/// Values fetched.
#[derive(Debug, Clone, PartialEq)]
pub struct FetchedValues {
    /// Field key → canonical value (fields answered `null` are left out).
    pub values: Map<String, Value>,
    /// From sending to the end of the answer.
    pub latency: Duration,
}

/// Why a fetch did not produce values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FetchFailure {
    /// The organization has no custom value endpoint.
    #[error("no custom value endpoint is configured")]
    NotConfigured,
    /// No complete answer in time.
    #[error("no answer within {} ms", .0.as_millis())]
    Timeout(Duration),
    /// The endpoint answered, but not with a 2xx.
    #[error("the endpoint answered {0}")]
    Status(u16),
    /// The answer is not a JSON object of the fields asked for.
    #[error("the answer is not usable: {0}")]
    BadBody(String),
    /// The endpoint could not be reached (connection, TLS, refused address).
    #[error("the endpoint could not be reached: {0}")]
    Unreachable(String),
}

/// The sealing context of an organization's custom value secret.
fn secret_context(org: OrgId) -> String {
    crate::sealing::context(
        parley_store::SealedKind::CustomValueSecret,
        &org.to_string(),
        "",
    )
}

/// The request URL: `base` with `customerId`, `channelId` and `fields` added to its query.
pub(crate) fn request_url(base: &str, request: &ValueRequest) -> Result<Url, AppError> {
    let mut url = parley_webhooks::target::parse_target(base)
        .map_err(|e| AppError::invalid("url", e.to_string()))?;
    url.query_pairs_mut()
        .append_pair("customerId", request.customer_id.as_deref().unwrap_or(""))
        .append_pair("channelId", &request.channel_id)
        .append_pair("fields", &request.fields.join(","));
    Ok(url)
}

/// Reads the answer's body against the fields asked for and their types.
fn read_values(
    body: &[u8],
    asked: &[String],
    types: &dyn Fn(&str) -> Option<FieldType>,
    typed: &mut dyn FnMut(FieldType, &Value) -> Result<Value, String>,
) -> Result<Map<String, Value>, FetchFailure> {
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| FetchFailure::BadBody(format!("not JSON ({e})")))?;
    let Value::Object(object) = value else {
        return Err(FetchFailure::BadBody("not a JSON object".to_owned()));
    };
    let mut values = Map::new();
    for key in asked {
        let Some(raw) = object.get(key) else {
            return Err(FetchFailure::BadBody(format!(
                "field {key} is missing (send null for no value)"
            )));
        };
        if raw.is_null() {
            continue;
        }
        let value = match types(key) {
            Some(field_type) => typed(field_type, raw)
                .map_err(|why| FetchFailure::BadBody(format!("field {key}: {why}")))?,
            None => raw.clone(),
        };
        values.insert(key.clone(), value);
    }
    Ok(values)
}

impl App {
    /// Sets the organization's custom value endpoint.
    pub async fn put_custom_value_endpoint(
        &self,
        access: &Access,
        put: PutCustomValueEndpoint,
    ) -> Result<CustomValueEndpointSet, AppError> {
        access.require(Permission::Administer)?;
        let org = access.org_id();
        let url = self.checked_target("url", &put.url).await?;
        let timeout_ms = put.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS);
        if !(MIN_TIMEOUT_MS..=MAX_TIMEOUT_MS).contains(&timeout_ms) {
            return Err(AppError::invalid(
                "timeout_ms",
                format!("must be between {MIN_TIMEOUT_MS} and {MAX_TIMEOUT_MS}"),
            ));
        }
        let existing = self.store.find_custom_value_endpoint(org).await?;
        let context = secret_context(org);
        let (secret_sealed, shown) = match (put.secret.as_deref(), &existing) {
            (Some(text), _) => {
                let secret =
                    Secret::parse(text).map_err(|e| AppError::invalid("secret", e.to_string()))?;
                (self.seal_secret(&context, &secret)?, Some(secret.expose()))
            }
            (None, Some(current)) => (current.secret_sealed.clone(), None),
            (None, None) => {
                let secret = super::endpoints::generated_secret()?;
                (self.seal_secret(&context, &secret)?, Some(secret.expose()))
            }
        };
        let now = self.clock.now();
        let endpoint = CustomValueEndpoint {
            organization_id: org,
            url,
            secret_sealed,
            timeout_ms,
            created_at: existing.as_ref().map_or(now, |e| e.created_at),
            updated_at: now,
        };
        let entry = self.audit(
            Some(org),
            &access.principal.actor(),
            AuditAction::CustomValueEndpointSet,
            &org.to_string(),
            serde_json::json!({
                "url": endpoint.url,
                "timeout_ms": timeout_ms,
                "secret_changed": shown.is_some(),
            }),
        );
        let endpoint = self
            .store
            .put_custom_value_endpoint(endpoint, entry)
            .await?;
        Ok(CustomValueEndpointSet {
            endpoint,
            secret: shown,
        })
    }

    /// The organization's custom value endpoint.
    pub async fn get_custom_value_endpoint(
        &self,
        access: &Access,
    ) -> Result<CustomValueEndpoint, AppError> {
        access.require(Permission::Administer)?;
        self.store
            .find_custom_value_endpoint(access.org_id())
            .await?
            .ok_or(AppError::NotFound(WHAT))
    }

    /// Removes the organization's custom value endpoint.
    pub async fn delete_custom_value_endpoint(&self, access: &Access) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        let org = access.org_id();
        let entry = self.audit(
            Some(org),
            &access.principal.actor(),
            AuditAction::CustomValueEndpointDeleted,
            &org.to_string(),
            serde_json::json!({}),
        );
        self.store
            .delete_custom_value_endpoint(org, entry)
            .await
            .or_not_found(WHAT)
    }

    /// Signs the custom value GET of `org`'s endpoint at `at`.
    fn custom_value_request(
        &self,
        endpoint: &CustomValueEndpoint,
        request: &ValueRequest,
        at: DateTime<Utc>,
    ) -> Result<(Url, super::Headers), AppError> {
        let url = request_url(&endpoint.url, request)?;
        let secret = self.open_secret(
            &secret_context(endpoint.organization_id),
            &endpoint.secret_sealed,
        )?;
        let mut headers = self.sign(
            &[secret],
            &endpoint.organization_id.to_string(),
            &EventId::generate().to_string(),
            at,
            b"",
        )?;
        headers.retain(|(name, _)| *name != "content-type");
        Ok((url, headers))
    }

    /// Fetches live values for a flow's `fetch` step (the conversation runtime calls it).
    /// `Err(AppError)` is a fault of ours (the store, the master key); a [`FetchFailure`]
    /// is the endpoint's, for the step's `on_failure`.
    pub async fn fetch_custom_values(
        &self,
        org: OrgId,
        request: &ValueRequest,
    ) -> Result<Result<FetchedValues, FetchFailure>, AppError> {
        let Some(endpoint) = self.store.find_custom_value_endpoint(org).await? else {
            return Ok(Err(FetchFailure::NotConfigured));
        };
        let at = self.clock.now();
        let (url, headers) = self.custom_value_request(&endpoint, request, at)?;
        let client = self
            .webhook_client
            .with_timeout(Duration::from_millis(u64::from(endpoint.timeout_ms)));
        let exchange = client
            .send(
                http::Method::GET,
                &url,
                &headers,
                None,
                MAX_BODY_BYTES,
                at.timestamp(),
            )
            .await;
        let failure = match exchange.outcome {
            Ok(()) => None,
            Err(DeliveryError::Timeout(d)) => Some(FetchFailure::Timeout(d)),
            Err(DeliveryError::Status { status, .. } | DeliveryError::Redirect { status, .. }) => {
                Some(FetchFailure::Status(status))
            }
            Err(DeliveryError::Gone) => Some(FetchFailure::Status(410)),
            Err(other) => Some(FetchFailure::Unreachable(other.to_string())),
        };
        if let Some(failure) = failure {
            return Ok(Err(failure));
        }
        if exchange.body.len() >= MAX_BODY_BYTES {
            return Ok(Err(FetchFailure::BadBody(format!(
                "larger than {MAX_BODY_BYTES} bytes"
            ))));
        }
        let organization = self
            .store
            .get_organization(org)
            .await
            .or_not_found("organization")?;
        let definitions = self.store.list_fields(org).await?;
        let types = |key: &str| {
            definitions
                .iter()
                .find(|d| d.key.as_str() == key)
                .map(|d| d.field_type)
        };
        let mut ctx = crate::contacts::value_context(&organization);
        let mut typed = |t: FieldType, v: &Value| crate::contacts::canonical_value(&mut ctx, t, v);
        Ok(
            read_values(&exchange.body, &request.fields, &types, &mut typed).map(|values| {
                FetchedValues {
                    values,
                    latency: exchange.latency,
                }
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(body: &str, asked: &[&str]) -> Result<Map<String, Value>, FetchFailure> {
        let asked: Vec<String> = asked.iter().map(|s| (*s).to_owned()).collect();
        let types = |key: &str| match key {
            "balance" => Some(FieldType::Money),
            "flag" => Some(FieldType::Boolean),
            _ => None,
        };
        let mut typed = |t: FieldType, v: &Value| match (t, v) {
            (FieldType::Money, Value::String(s)) => parley_domain::values::parse_money_text(s)
                .map(|d| Value::String(d.to_string()))
                .map_err(|r| r.into_owned()),
            (FieldType::Boolean, v) => v.as_bool().map(Value::Bool).ok_or("not a boolean".into()),
            _ => Err("unexpected".to_owned()),
        };
        read_values(body.as_bytes(), &asked, &types, &mut typed)
    }

    #[test]
    fn answers_are_read_by_field_and_refused_with_the_reason() {
        let ok = read(
            r#"{"balance": "123.45", "note": "x", "flag": null, "extra": 1}"#,
            &["balance", "note", "flag"],
        )
        .unwrap();
        assert_eq!(ok.get("balance"), Some(&Value::from("123.45")));
        assert_eq!(
            ok.get("note"),
            Some(&Value::from("x")),
            "undefined fields as sent"
        );
        assert!(!ok.contains_key("flag"), "null is no value");
        assert!(!ok.contains_key("extra"), "only what was asked for");
        let bad = |body: &str| match read(body, &["balance"]) {
            Err(FetchFailure::BadBody(why)) => why,
            other => panic!("{body}: {other:?}"),
        };
        assert!(bad("not json").starts_with("not JSON"));
        assert_eq!(bad("[1, 2]"), "not a JSON object");
        assert!(bad("{}").contains("balance is missing"));
        assert!(bad(r#"{"balance": "lots"}"#).starts_with("field balance:"));
    }
}
