//! The web application's stylesheet and modules, compiled in and served under
//! `/app/assets/{name}`. Pages link them with a hash of their content in the query, so a
//! browser may keep them a year and still never runs an old module with a new page. Also
//! the headers every page and asset carries (`strict`: the content security policy and
//! `nosniff`).

use std::sync::LazyLock;

use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use sha2::Digest;

/// The policy every page and asset is served with: nothing inline, nothing from
/// elsewhere, no framing.
pub(crate) const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     connect-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; \
     frame-ancestors 'none'";

/// Sets `content_type` with the policy and `nosniff` every page and asset carries.
pub(crate) fn strict(h: &mut http::HeaderMap, content_type: &'static str) {
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
}

/// Every asset: its name, content type and content.
const FILES: [(&str, &str, &str); 3] = [
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app/app.js"),
    ),
    (
        "icon.svg",
        "image/svg+xml",
        include_str!("../../assets/invitation/icon.svg"),
    ),
];

/// The URLs a page links its assets by.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Assets {
    /// The stylesheet.
    pub(crate) css: &'static str,
    /// The page's module.
    pub(crate) js: &'static str,
    /// The icon.
    pub(crate) icon: &'static str,
}

static URLS: LazyLock<[String; 3]> =
    LazyLock::new(|| FILES.map(|(name, _, body)| versioned(name, body)));

fn versioned(name: &str, body: &str) -> String {
    let digest = sha2::Sha256::digest(body.as_bytes());
    let hash = hex::encode(&digest[..6]);
    format!("/app/assets/{name}?v={hash}")
}

/// The assets' URLs.
pub(crate) fn urls() -> Assets {
    let urls: &'static [String; 3] = &URLS;
    Assets {
        css: &urls[0],
        js: &urls[1],
        icon: &urls[2],
    }
}

/// `GET /app/assets/{name}`.
pub(crate) async fn serve(Path(name): Path<String>) -> Response {
    let Some((_, content_type, body)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mut response = (*body).into_response();
    let h = response.headers_mut();
    strict(h, content_type);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_has_a_url_that_changes_with_its_content() {
        let urls = urls();
        for (url, (name, _, _)) in [urls.css, urls.js, urls.icon].iter().zip(FILES) {
            assert!(url.starts_with(&format!("/app/assets/{name}?v=")), "{url}");
        }
        assert_ne!(versioned("a.css", "x"), versioned("a.css", "y"));
    }
}
