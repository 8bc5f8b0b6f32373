//! What every page shares: its headers (through `assets::strict`), the template data of
//! the page's frame, and the error page, which shows a problem's title and detail to a
//! person (the same mapping from use-case errors the API uses, drawn as HTML instead of
//! problem+json).

use askama::Template;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderValue, StatusCode, header};
use parley_app::AppError;

use super::assets::{self, Assets, strict};
use crate::problem::ApiError;

/// An HTML page with the headers every page carries.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let h = response.headers_mut();
    strict(h, "text/html; charset=utf-8");
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Renders `page`, or the error page when the template fails (it cannot with the types
/// the templates take, but a page never answers with a panic).
pub(crate) fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(body) => html(status, body),
        Err(e) => {
            tracing::error!(error = %e, "a page could not be rendered");
            PageError::Problem(ApiError::internal()).into_response()
        }
    }
}

/// Why a page is not shown.
#[derive(Debug)]
pub(crate) enum PageError {
    /// Nobody is signed in (or the session ended): sign in, then come back to `next`.
    SignIn {
        /// The page to return to.
        next: String,
    },
    /// A problem, shown as a page.
    Problem(ApiError),
}

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        PageError::Problem(e.into())
    }
}

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError::Problem(e)
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "app/error.html")]
struct ErrorPage<'a> {
    asset: Assets,
    title: &'a str,
    detail: Option<&'a str>,
    fields: Vec<(&'a str, &'a str)>,
    status: u16,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let target = format!("/app/sign-in?next={}", encode(&next));
                Redirect::to(&target).into_response()
            }
            PageError::Problem(problem) => {
                let (status, title, detail) = problem.for_people();
                let page = ErrorPage {
                    asset: assets::urls(),
                    title,
                    detail,
                    fields: problem.field_errors().collect(),
                    status: status.as_u16(),
                };
                let mut response = match page.render() {
                    Ok(body) => html(status, body),
                    Err(_) => html(status, title.to_owned()),
                };
                if let Some(after) = problem.retry_after_value() {
                    let seconds = after.as_secs().max(1);
                    response
                        .headers_mut()
                        .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                }
                response
            }
        }
    }
}

/// `text` for a URL's query.
pub(crate) fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A problem an action met, as a page says it above the form: its status, and its
/// field errors (every one), else its detail, else its title.
pub(crate) fn problem_words(p: &ApiError) -> (StatusCode, String) {
    let (status, title, detail) = p.for_people();
    let fields: Vec<String> = p
        .field_errors()
        .map(|(field, message)| format!("{field} {message}"))
        .collect();
    let words = match (detail, fields.is_empty()) {
        (_, false) => fields.join("; "),
        (Some(detail), true) => detail.to_owned(),
        (None, true) => title.to_owned(),
    };
    (status, words)
}

/// A refused action as a page shows it: the status to answer with, the words for the
/// alert above the form, and each named field's own problem to show beside it.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) words: String,
    fields: Vec<(String, String)>,
}

impl Refusal {
    /// The refusal a use case's error makes, for the page to show with its form; an error
    /// that is not about the form (no right to it, nothing there) is the error page.
    pub(crate) fn shown(e: AppError) -> Result<Self, PageError> {
        match e {
            AppError::Forbidden(_) | AppError::NotFound(_) => Err(e.into()),
            other => Ok(Self::of(&other.into())),
        }
    }

    /// The refusal `p` makes.
    pub(crate) fn of(p: &ApiError) -> Self {
        let (status, words) = problem_words(p);
        Self {
            status,
            words,
            fields: p
                .field_errors()
                .map(|(f, m)| (f.to_owned(), m.to_owned()))
                .collect(),
        }
    }

    /// The problem with `field`, if the refusal names it.
    pub(crate) fn field(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
    }

    /// The first problem with `field` or one of its parts (`events`, `events[2]`).
    pub(crate) fn field_or_part(&self, field: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(f, _)| {
                f.strip_prefix(field)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['[', '.']))
            })
            .map(|(_, m)| m.as_str())
    }
}

/// A posted form read by name, for forms where a name repeats (one per ticked box): the
/// pairs as the browser sent them.
#[derive(Debug, Default)]
pub(crate) struct Posted(Vec<(String, String)>);

impl Posted {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }

    /// The first value of `name`, or "" when the form has none.
    pub(crate) fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, owned.
    pub(crate) fn text(&self, name: &str) -> String {
        self.get(name).to_owned()
    }

    /// Every pair, in the order sent.
    pub(crate) fn pairs(&self) -> &[(String, String)] {
        &self.0
    }

    /// Every value of `name`, in the order sent.
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
}
