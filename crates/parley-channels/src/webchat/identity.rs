//! Who is at the other end of a web-chat socket.
//!
//! * **Anonymous visitors** keep a token the server signs (HS256 with a key of the
//!   server's own): `{iss: "parley-webchat", chn: channel id, sub: address, iat, exp}`.
//!   Their address is `visitor:<32 hex digits>`, random at their first visit.
//! * **Signed-in users** are vouched for by the organization's site: a JWT (HS256 with the
//!   channel's `identity_secret`) with `sub` (the site's user id) and `exp` required,
//!   `name` and `email` optional. Their address is `user:<sub>`, the same on every device.
//!
//! Decisions:
//! * only HS256 is taken, so a token cannot choose a weaker algorithm (`none`, or an
//!   asymmetric one with the secret as a public key);
//! * expiry is checked against the caller's clock, with 60 seconds of leeway for the
//!   site's clock;
//! * a visitor token naming a `user:` address is honoured only beside a valid user JWT
//!   for the same user: once the site stops vouching (the user signed out), the browser
//!   starts again as a new anonymous visitor and does not see the user's thread.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// The visitor token's issuer.
const ISSUER: &str = "parley-webchat";
/// Leeway for the site's clock.
const LEEWAY_SECONDS: i64 = 60;
/// The longest site user id.
pub const MAX_USER_ID: usize = 128;
/// The prefix of anonymous visitors' addresses.
pub const VISITOR_PREFIX: &str = "visitor:";
/// The prefix of signed-in users' addresses.
pub const USER_PREFIX: &str = "user:";

#[derive(Debug, Serialize, Deserialize)]
struct VisitorClaims {
    iss: String,
    chn: String,
    sub: String,
    iat: i64,
    exp: i64,
}

/// Signs a visitor token for `address` on `channel`, valid from `now` for `ttl_seconds`.
pub fn issue_visitor_token(
    key: &[u8],
    channel: &str,
    address: &str,
    now: i64,
    ttl_seconds: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = VisitorClaims {
        iss: ISSUER.to_owned(),
        chn: channel.to_owned(),
        sub: address.to_owned(),
        iat: now,
        exp: now.saturating_add(ttl_seconds),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(key),
    )
}

fn hs256(required: &[&str]) -> Validation {
    let mut v = Validation::new(Algorithm::HS256);
    v.validate_exp = false; // against the caller's clock, below
    v.validate_aud = false;
    v.set_required_spec_claims(required);
    v
}

/// The address a visitor token names, when it is ours, for `channel`, and unexpired at
/// `now`; `None` otherwise (the visitor is then new).
#[must_use]
pub fn read_visitor_token(key: &[u8], token: &str, channel: &str, now: i64) -> Option<String> {
    let mut validation = hs256(&["exp", "sub", "iss"]);
    validation.set_issuer(&[ISSUER]);
    let data =
        jsonwebtoken::decode::<VisitorClaims>(token, &DecodingKey::from_secret(key), &validation)
            .ok()?;
    let c = data.claims;
    (c.chn == channel && c.exp > now && address_is_ours(&c.sub)).then_some(c.sub)
}

fn address_is_ours(address: &str) -> bool {
    address
        .strip_prefix(VISITOR_PREFIX)
        .is_some_and(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()))
        || address.strip_prefix(USER_PREFIX).is_some_and(user_id_ok)
}

fn user_id_ok(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_USER_ID
        && !id.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A new anonymous visitor's address from 16 random bytes.
#[must_use]
pub fn visitor_address(random: [u8; 16]) -> String {
    format!("{VISITOR_PREFIX}{}", hex::encode(random))
}

/// A signed-in user, as the organization's site vouches for them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteUser {
    /// The site's user id (`sub`).
    pub id: String,
    /// Their name, when the site gave it.
    pub name: Option<String>,
    /// Their e-mail address, when the site gave it.
    pub email: Option<String>,
}

impl SiteUser {
    /// Their web-chat address.
    #[must_use]
    pub fn address(&self) -> String {
        format!("{USER_PREFIX}{}", self.id)
    }
}

#[derive(Debug, Deserialize)]
struct SiteClaims {
    sub: String,
    exp: i64,
    name: Option<String>,
    email: Option<String>,
}

/// Why a site's user JWT was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserTokenError {
    /// Not an HS256 JWT signed with the channel's identity secret, or without `sub`/`exp`.
    #[error(
        "the user token is not an HS256 JWT signed with the channel's identity secret, with sub and exp"
    )]
    Invalid,
    /// Its `exp` has passed.
    #[error("the user token has expired")]
    Expired,
    /// `sub` is empty, longer than 128 bytes, or holds spaces or control characters.
    #[error("the user token's sub must be 1 to 128 bytes without spaces or control characters")]
    BadSubject,
}

/// Reads a site's user JWT with the channel's identity secret, at `now`.
pub fn read_user_token(secret: &str, token: &str, now: i64) -> Result<SiteUser, UserTokenError> {
    let data = jsonwebtoken::decode::<SiteClaims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &hs256(&["exp", "sub"]),
    )
    .map_err(|_| UserTokenError::Invalid)?;
    let c = data.claims;
    if c.exp.saturating_add(LEEWAY_SECONDS) <= now {
        return Err(UserTokenError::Expired);
    }
    if !user_id_ok(&c.sub) {
        return Err(UserTokenError::BadSubject);
    }
    Ok(SiteUser {
        id: c.sub,
        name: c.name.filter(|n| !n.trim().is_empty()),
        email: c.email.filter(|e| !e.trim().is_empty()),
    })
}

/// Whether `text` is an origin a channel may allow: `https://host[:port]`, or `http` on
/// `localhost` or `127.0.0.1`; no path, query or credentials.
#[must_use]
pub fn is_origin(text: &str) -> bool {
    let Ok(url) = url::Url::parse(text) else {
        return false;
    };
    let local = matches!(url.host_str(), Some("localhost" | "127.0.0.1"));
    (url.scheme() == "https" || (url.scheme() == "http" && local))
        && url.host_str().is_some()
        && url.path() == "/"
        && !text.ends_with('/')
        && url.query().is_none()
        && url.fragment().is_none()
        && url.username().is_empty()
        && url.password().is_none()
}

/// Whether the browser's `Origin` header names one of `allowed` (compared as origins:
/// scheme, host and port, the default port written or not, the host's case ignored).
#[must_use]
pub fn origin_allowed<'a>(allowed: impl IntoIterator<Item = &'a str>, origin: &str) -> bool {
    let Ok(theirs) = url::Url::parse(origin) else {
        return false;
    };
    let theirs = theirs.origin();
    theirs.is_tuple()
        && allowed
            .into_iter()
            .filter_map(|a| url::Url::parse(a).ok())
            .any(|a| a.origin() == theirs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
    const SITE: &str = "a site secret of at least thirty-two characters";
    const NOW: i64 = 1_800_000_000;

    fn site_token(secret: &str, claims: &serde_json::Value, alg: Algorithm) -> String {
        jsonwebtoken::encode(
            &Header::new(alg),
            claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_visitor_token_names_its_visitor_on_its_channel_until_it_expires() {
        let address = visitor_address([7; 16]);
        let token = issue_visitor_token(KEY, "chn_a", &address, NOW, 3_600).unwrap();
        assert_eq!(
            read_visitor_token(KEY, &token, "chn_a", NOW + 10),
            Some(address)
        );
        assert_eq!(read_visitor_token(KEY, &token, "chn_b", NOW), None);
        assert_eq!(read_visitor_token(KEY, &token, "chn_a", NOW + 3_600), None);
        assert_eq!(
            read_visitor_token(b"another key, also 32 bytes long!", &token, "chn_a", NOW),
            None
        );
        let mut forged = token.clone();
        forged.pop();
        assert_eq!(read_visitor_token(KEY, &forged, "chn_a", NOW), None);
        // A token of another shape signed with the same key (an API token, say) is not one.
        let other = site_token(
            std::str::from_utf8(KEY).unwrap(),
            &serde_json::json!({"iss": "parley", "sub": "key_1", "exp": NOW + 60, "chn": "chn_a"}),
            Algorithm::HS256,
        );
        assert_eq!(read_visitor_token(KEY, &other, "chn_a", NOW), None);
    }

    #[test]
    fn a_site_user_token_is_checked_for_signature_algorithm_expiry_and_subject() {
        let good = site_token(
            SITE,
            &serde_json::json!({"sub": "42", "exp": NOW + 300, "name": "Ada", "email": "ada@example.com"}),
            Algorithm::HS256,
        );
        let user = read_user_token(SITE, &good, NOW).unwrap();
        assert_eq!(user.address(), "user:42");
        assert_eq!(user.name.as_deref(), Some("Ada"));
        assert_eq!(
            read_user_token("another secret", &good, NOW),
            Err(UserTokenError::Invalid)
        );
        assert_eq!(
            read_user_token(SITE, &good, NOW + 300 + LEEWAY_SECONDS),
            Err(UserTokenError::Expired)
        );
        assert!(read_user_token(SITE, &good, NOW + 300 + LEEWAY_SECONDS - 1).is_ok());
        let hs512 = site_token(
            SITE,
            &serde_json::json!({"sub": "42", "exp": NOW + 300}),
            Algorithm::HS512,
        );
        assert_eq!(
            read_user_token(SITE, &hs512, NOW),
            Err(UserTokenError::Invalid)
        );
        let no_exp = site_token(SITE, &serde_json::json!({"sub": "42"}), Algorithm::HS256);
        assert_eq!(
            read_user_token(SITE, &no_exp, NOW),
            Err(UserTokenError::Invalid)
        );
        let spaced = site_token(
            SITE,
            &serde_json::json!({"sub": "4 2", "exp": NOW + 300}),
            Algorithm::HS256,
        );
        assert_eq!(
            read_user_token(SITE, &spaced, NOW),
            Err(UserTokenError::BadSubject)
        );
        // alg "none": header and claims with an empty signature.
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none = format!(
            "{}.{}.",
            b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
            b64.encode(format!(r#"{{"sub":"42","exp":{}}}"#, NOW + 300))
        );
        assert_eq!(
            read_user_token(SITE, &none, NOW),
            Err(UserTokenError::Invalid)
        );
    }

    #[test]
    fn origins_compare_as_origins() {
        let allowed = ["https://www.example.com", "http://localhost:3000"];
        for yes in [
            "https://www.example.com",
            "https://WWW.example.com",
            "https://www.example.com:443",
            "http://localhost:3000",
        ] {
            assert!(origin_allowed(allowed, yes), "{yes}");
        }
        for no in [
            "http://www.example.com",
            "https://example.com",
            "https://www.example.com.evil.test",
            "http://localhost:3001",
            "null",
            "",
        ] {
            assert!(!origin_allowed(allowed, no), "{no}");
        }
        assert!(is_origin("https://shop.example.com:8443"));
        assert!(is_origin("http://localhost:5173"));
        for bad in [
            "http://example.com",
            "https://example.com/",
            "https://example.com/chat",
            "ftp://localhost",
            "https://u@example.com",
        ] {
            assert!(!is_origin(bad), "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_text_as_a_token_is_refused_without_panic(token in ".{0,300}") {
            prop_assert_eq!(read_visitor_token(KEY, &token, "chn_a", NOW), None);
            prop_assert!(read_user_token(SITE, &token, NOW).is_err());
            let _ = origin_allowed(["https://www.example.com"], &token);
        }
    }
}
