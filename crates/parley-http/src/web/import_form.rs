//! The import form as the imports page and its preview send it: a multipart body whose
//! `csrf` comes first, then the options, then `file` last, so the file can stream into the
//! store (or the preview) as it arrives. The options are `default_country`, `date_order`,
//! `sheet`, and the mapping the preview lets a person change: for column N, `header.N`
//! (its header as the file has it) and `column.N` — `@address` (the channel address),
//! `@ignore`, `customer_id` or a field key (an existing field, or a new one). Every bad
//! option is named at once; text parts are bounded so a form cannot hold the server's
//! memory.

use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use http::HeaderMap;
use parley_app::{AppError, FieldError};
use parley_domain::{CountryCode, DateOrder, ImportOptions};

use super::pages::Posted;
use super::session::{Session, check_form};
use crate::AppState;

/// The most bytes one text part of the form may hold (a header cell is at most 32,767
/// characters), and all of them together.
const PART_BYTES: usize = 256 * 1024;
const FORM_BYTES: usize = 4 * 1024 * 1024;

/// What a column of the preview's mapping may be set to besides a field key.
pub(crate) const ADDRESS: &str = "@address";
pub(crate) const IGNORE: &str = "@ignore";

/// Why the form was not read: before the token was checked, nothing is said beyond the
/// status; after it, the problem is shown with the form.
pub(crate) enum FormError {
    /// The token is missing or stale (nothing was read past it).
    Unchecked(AppError),
    /// A part could not be read.
    Checked(AppError),
}

fn cut_short(_: impl std::fmt::Display) -> AppError {
    AppError::invalid("file", "the upload was cut short; choose the file again")
}

/// Reads `part` as text of at most [`PART_BYTES`].
async fn text(mut part: Field<'_>, spent: &mut usize) -> Result<String, AppError> {
    let name = part.name().unwrap_or_default().to_owned();
    let mut bytes = Vec::new();
    while let Some(chunk) = part.chunk().await.map_err(cut_short)? {
        bytes.extend_from_slice(&chunk);
        *spent += chunk.len();
        if bytes.len() > PART_BYTES || *spent > FORM_BYTES {
            return Err(AppError::invalid(name, "is longer than the form accepts"));
        }
    }
    String::from_utf8(bytes).map_err(|_| AppError::invalid(name, "is not UTF-8 text"))
}

/// Reads `request`'s multipart form up to its `file` part, checking its `csrf` token
/// (which must come first) against `session`, then hands the text parts before the file
/// and the file part (when the form has one; nothing after it is read) to `then`.
pub(crate) async fn read<R>(
    state: &AppState,
    headers: &HeaderMap,
    session: &Session,
    request: Request,
    then: impl for<'m> AsyncFnOnce(Posted, Option<Field<'m>>) -> R,
) -> Result<R, FormError> {
    let mut multipart = Multipart::from_request(request, state).await.map_err(|_| {
        FormError::Unchecked(AppError::invalid(
            "file",
            "send the form as multipart/form-data",
        ))
    })?;
    let mut pairs = Vec::new();
    let mut checked = false;
    let mut spent = 0;
    let stale = || FormError::Unchecked(AppError::Forbidden("the form is stale; reload the page"));
    loop {
        let part = match multipart.next_field().await {
            Ok(Some(part)) => part,
            Ok(None) if checked => break,
            Ok(None) => return Err(stale()),
            Err(e) if checked => return Err(FormError::Checked(cut_short(e))),
            Err(e) => return Err(FormError::Unchecked(cut_short(e))),
        };
        let name = part.name().unwrap_or_default().to_owned();
        if !checked {
            if name != "csrf" {
                return Err(stale());
            }
            let token = text(part, &mut spent).await.map_err(|_| stale())?;
            check_form(state, headers, Some(session), &token).map_err(|_| stale())?;
            checked = true;
        } else if name == "file" {
            return Ok(then(Posted::new(pairs), Some(part)).await);
        } else {
            let value = text(part, &mut spent).await.map_err(FormError::Checked)?;
            pairs.push((name, value));
        }
    }
    Ok(then(Posted::new(pairs), None).await)
}

/// The options the form asks for: every problem at once, each named as its box.
pub(crate) fn options(posted: &Posted) -> Result<ImportOptions, AppError> {
    let mut errors = Vec::new();
    let mut options = ImportOptions::default();
    match posted.get("default_country").trim() {
        "" => {}
        c => match c.to_ascii_uppercase().parse::<CountryCode>() {
            Ok(c) => options.default_country = Some(c),
            Err(e) => errors.push(FieldError::new(
                "default_country",
                format!("must be {}", e.expected),
            )),
        },
    }
    match posted.get("date_order") {
        "" => {}
        o => match o.parse::<DateOrder>() {
            Ok(d) => options.date_order = Some(d),
            Err(_) => errors.push(FieldError::new("date_order", "must be dmy or mdy")),
        },
    }
    let sheet = posted.get("sheet").trim();
    if !sheet.is_empty() {
        options.sheet = Some(sheet.to_owned());
    }
    let headers: std::collections::HashMap<&str, &str> = posted
        .pairs()
        .iter()
        .filter_map(|(name, value)| Some((name.strip_prefix("header.")?, value.as_str())))
        .collect();
    for (name, target) in posted.pairs() {
        let Some(n) = name.strip_prefix("column.") else {
            continue;
        };
        let Some(header) = headers.get(n).map(|h| (*h).to_owned()) else {
            errors.push(FieldError::new(name.clone(), "names no column of the file"));
            continue;
        };
        match target.as_str() {
            ADDRESS if options.address_column.is_some() => errors.push(FieldError::new(
                name.clone(),
                "another column is already the channel address; choose one",
            )),
            ADDRESS => options.address_column = Some(header),
            IGNORE => {
                options.mapping.insert(header, None);
            }
            "" => {}
            key => {
                options.mapping.insert(header, Some(key.to_owned()));
            }
        }
    }
    if errors.is_empty() {
        Ok(options)
    } else {
        Err(AppError::Invalid(errors))
    }
}
