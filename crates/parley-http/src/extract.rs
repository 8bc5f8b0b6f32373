//! Strict extractors. A body that is not JSON is a 400 naming the line and column; a body
//! or query with a wrong, missing or unknown field is a 422 naming the field's path.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::header;
use http::request::Parts;
use parley_store::PageRequest;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::problem::{ApiError, ProblemType};

/// A JSON body, deserialised with field-level errors.
#[derive(Debug, Clone)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !media_type(req.headers()).as_deref().is_some_and(is_json) {
            return Err(ApiError::new(
                ProblemType::UnsupportedMediaType,
                "set Content-Type: application/json",
            ));
        }
        parse_json(&body_bytes(req, state).await?).map(ApiJson)
    }
}

/// `Option<ApiJson<T>>`: `None` for a request with neither a body nor a `Content-Type`
/// (an action such as `rotate-secret` that takes optional settings); otherwise as
/// [`ApiJson`].
impl<S: Send + Sync, T: DeserializeOwned> axum::extract::OptionalFromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        if req.headers().contains_key(header::CONTENT_TYPE) {
            return <Self as FromRequest<S>>::from_request(req, state)
                .await
                .map(Some);
        }
        if body_bytes(req, state).await?.is_empty() {
            return Ok(None);
        }
        Err(ApiError::new(
            ProblemType::UnsupportedMediaType,
            "set Content-Type: application/json",
        ))
    }
}

/// The request's media type: `Content-Type` without parameters, lower-cased.
pub(crate) fn media_type(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

/// `application/json` or any `…+json` type (of a lower-cased media type).
pub(crate) fn is_json(media: &str) -> bool {
    media == "application/json" || media.ends_with("+json")
}

/// A route's own body limit, when it is not the general one: the handler that sets a
/// larger limit on the body records it here so a 413 quotes it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RouteLimit(pub(crate) u64);

/// The whole body, or a 413 naming the route's limit.
pub(crate) async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    let limit = req
        .extensions()
        .get::<RouteLimit>()
        .map_or(crate::BODY_LIMIT as u64, |l| l.0);
    Bytes::from_request(req, state).await.map_err(|_| {
        ApiError::new(
            ProblemType::PayloadTooLarge,
            format!(
                "this route takes bodies of at most {}",
                crate::problem::size(limit)
            ),
        )
    })
}

/// Deserialises JSON, turning serde's error into a problem naming the field.
pub(crate) fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        match inner.classify() {
            serde_json::error::Category::Data => {
                let (field, message) = field_of(&e.path().to_string(), &inner.to_string());
                ApiError::field(field, message)
            }
            _ => ApiError::new(
                ProblemType::MalformedBody,
                format!(
                    "invalid JSON at line {} column {}",
                    inner.line(),
                    inner.column()
                ),
            ),
        }
    })?;
    de.end().map_err(|e| {
        ApiError::new(
            ProblemType::MalformedBody,
            format!(
                "trailing characters at line {} column {}",
                e.line(),
                e.column()
            ),
        )
    })?;
    Ok(value)
}

/// Splits serde's message into the field it concerns and a clean message. serde reports
/// missing and unknown fields at the enclosing object's path with the name in backticks.
fn field_of(path: &str, message: &str) -> (String, String) {
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(message)
        .to_owned();
    let named = ["missing field `", "unknown field `"]
        .iter()
        .find_map(|p| message.strip_prefix(p))
        .and_then(|rest| rest.split('`').next());
    let field = match (path, named) {
        (".", Some(name)) => name.to_owned(),
        (p, Some(name)) if !p.ends_with(name) => format!("{p}.{name}"),
        (".", _) => "body".to_owned(),
        (p, _) => p.to_owned(),
    };
    let message = if message.starts_with("missing field") {
        "is required".to_owned()
    } else if message.starts_with("unknown field") {
        "is not a known field".to_owned()
    } else {
        message
    };
    (field, message)
}

/// A query string, deserialised with field-level errors.
#[derive(Debug, Clone)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded_parse(query));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let (field, message) = field_of(&e.path().to_string(), &e.inner().to_string());
                ApiError::field(field, message)
            })
    }
}

fn form_urlencoded_parse(query: &str) -> form_urlencoded::Parse<'_> {
    form_urlencoded::parse(query.as_bytes())
}

/// `?limit=&cursor=` for list endpoints.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// A page of a list that leaves archived items out unless asked for them.
#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Rows per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// `true` lists only the archived ones; by default they are left out.
    pub archived: Option<bool>,
}

impl ListQuery {
    /// The page request (see [`PageQuery::page`]).
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        PageQuery {
            limit: self.limit,
            cursor: self.cursor.clone(),
        }
        .page()
    }

    /// Whether the archived ones are asked for.
    #[must_use]
    pub fn archived(&self) -> bool {
        self.archived.unwrap_or(false)
    }
}

impl PageQuery {
    /// The page request; a bad `limit` and a `cursor` no list gave are 422s naming them,
    /// both at once.
    pub fn page(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(PageRequest::DEFAULT_LIMIT);
        let mut errors = Vec::new();
        if !(1..=PageRequest::MAX_LIMIT).contains(&limit) {
            errors.push(parley_app::FieldError::new(
                "limit",
                format!("must be between 1 and {}", PageRequest::MAX_LIMIT),
            ));
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(c) => match decode_cursor(c) {
                Some(raw) => Some(raw),
                None => {
                    errors.push(parley_app::FieldError::new(
                        "cursor",
                        "is not a cursor this list gave; pass a page's next_cursor as it came",
                    ));
                    None
                }
            },
        };
        if !errors.is_empty() {
            return Err(ApiError::fields(errors));
        }
        Ok(match after {
            Some(raw) => PageRequest::after(raw, limit),
            None => PageRequest::first(limit),
        })
    }
}

/// Cursors as clients see them: the store's cursor (a row's key) with a version byte
/// and a 4-byte check, base64url. Opaque, and anything a list did not give is told apart
/// from a real cursor (422) instead of quietly reading the first page.
const CURSOR_VERSION: u8 = 1;

fn cursor_check(raw: &[u8]) -> [u8; 4] {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(raw);
    [digest[0], digest[1], digest[2], digest[3]]
}

/// The client's form of a store cursor.
#[must_use]
pub fn encode_cursor(raw: Option<String>) -> Option<String> {
    use base64::Engine;
    raw.map(|raw| {
        let mut bytes = Vec::with_capacity(raw.len() + 5);
        bytes.push(CURSOR_VERSION);
        bytes.extend_from_slice(raw.as_bytes());
        bytes.extend_from_slice(&cursor_check(raw.as_bytes()));
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    })
}

/// The store cursor inside a client's cursor, or `None` for anything else.
#[must_use]
pub fn decode_cursor(text: &str) -> Option<String> {
    use base64::Engine;
    if text.len() > 1024 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text)
        .ok()?;
    let (&version, rest) = bytes.split_first()?;
    if version != CURSOR_VERSION || rest.len() < 4 {
        return None;
    }
    let (raw, check) = rest.split_at(rest.len() - 4);
    if check != cursor_check(raw) {
        return None;
    }
    String::from_utf8(raw.to_vec()).ok()
}

/// Parses an id from the path; a malformed id cannot exist, so it is a 404.
pub(crate) fn path_id<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse()
        .map_err(|_| ApiError::new(ProblemType::NotFound, format!("no such {what}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        nested: Option<Inner>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    fn problem(bytes: &str) -> (String, Option<String>) {
        let e = parse_json::<Body>(bytes.as_bytes()).unwrap_err();
        let fmt = format!("{e:?}");
        (fmt, None)
    }

    #[test]
    fn names_missing_unknown_and_mistyped_fields() {
        assert_eq!(
            field_of(".", "missing field `name` at line 1 column 2"),
            ("name".into(), "is required".into())
        );
        assert_eq!(
            field_of(".", "unknown field `nmae`, expected one of `name`"),
            ("nmae".into(), "is not a known field".into())
        );
        assert_eq!(
            field_of("nested", "unknown field `cnt`, expected `count`"),
            ("nested.cnt".into(), "is not a known field".into())
        );
        assert_eq!(
            field_of(
                "nested.count",
                "invalid type: string \"x\", expected u32 at line 1 column 30"
            )
            .0,
            "nested.count"
        );
        assert!(problem(r#"{"name": 5}"#).0.contains("name"));
        assert!(problem("{not json").0.contains("MalformedBody"));
        assert!(
            problem(r#"{"name":"a"} trailing"#)
                .0
                .contains("MalformedBody")
        );
    }
}
