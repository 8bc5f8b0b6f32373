//! What identifies a delivery to its receiver (SPEC §7.2): the Standard Webhooks headers and
//! the `Authorization: Bearer` JWT.
//!
//! * `webhook-signature` is `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`; while
//!   a secret is being rotated, every current secret signs and the values are separated by
//!   spaces, so receivers holding either secret verify.
//! * The JWT is HS256 over the same key bytes as the signature (the base64 after `whsec_`
//!   decoded): `iss` (the installation), `aud` (the endpoint id), `jti` (the event id),
//!   `iat`, and `exp` five minutes later; its header's `kid` names the secret that signed
//!   it (see [`key_id`]).
//! * While a secret is being rotated, a receiver must not break at once whichever secret it
//!   holds: `Authorization` stays signed by the oldest current secret (the one every
//!   receiver had when the rotation began), and `parley-authorization-next` carries the same
//!   claims signed by the newest. When the overlap ends only the new secret is current, so
//!   `Authorization` is signed by it and the second header is no longer sent. A receiver
//!   switches to the new secret whenever it likes: it verifies `parley-authorization-next`
//!   when present, else `Authorization`.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::Secret;

/// Lifetime of a delivery's JWT, in seconds.
pub const JWT_TTL_SECONDS: i64 = 300;

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
#[must_use]
pub fn signature(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let digest = mac(secret, id, timestamp, body).finalize().into_bytes();
    format!("v1,{}", STANDARD.encode(digest))
}

fn mac(secret: &Secret, id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    #[allow(clippy::expect_used)]
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.key()).expect("HMAC takes keys of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The `webhook-signature` value: one `v1,…` per secret, separated by spaces.
#[must_use]
pub fn signature_header(secrets: &[&Secret], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| signature(s, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// True when any `v1` signature of `header` is `secret`'s (compared in constant time), as a
/// receiver checks it. Timestamps are not checked here.
#[must_use]
pub fn verify(secret: &Secret, header: &str, id: &str, timestamp: i64, body: &[u8]) -> bool {
    header.split(' ').any(|candidate| {
        let Some(encoded) = candidate.strip_prefix("v1,") else {
            return false;
        };
        let Ok(expected) = STANDARD.decode(encoded) else {
            return false;
        };
        mac(secret, id, timestamp, body)
            .verify_slice(&expected)
            .is_ok()
    })
}

/// The claims of a delivery's JWT.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryClaims {
    /// The installation that sends.
    pub iss: String,
    /// The endpoint id.
    pub aud: String,
    /// The event id.
    pub jti: String,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// Names a secret without revealing it: the first 16 hex digits of SHA-256 over its key
/// bytes. A JWT's `kid`, so a receiver holding several secrets picks the right one.
#[must_use]
pub fn key_id(secret: &Secret) -> String {
    use sha2::Digest;
    hex::encode(&Sha256::digest(secret.key())[..8])
}

/// An HS256 JWT for one delivery attempt, signed with `secret`'s key bytes.
pub fn delivery_jwt(
    secret: &Secret,
    issuer: &str,
    endpoint_id: &str,
    event_id: &str,
    now: i64,
) -> Result<String, jsonwebtoken::errors::Error> {
    let claims = DeliveryClaims {
        iss: issuer.to_owned(),
        aud: endpoint_id.to_owned(),
        jti: event_id.to_owned(),
        iat: now,
        exp: now + JWT_TTL_SECONDS,
    };
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256);
    header.kid = Some(key_id(secret));
    jsonwebtoken::encode(
        &header,
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.key()),
    )
}

/// What a delivery is signed over.
#[derive(Debug, Clone, Copy)]
pub struct Signing<'a> {
    /// Every current secret, newest first.
    pub secrets: &'a [&'a Secret],
    /// The `iss` claim.
    pub issuer: &'a str,
    /// The endpoint id (`aud`).
    pub endpoint_id: &'a str,
}

impl Signing<'_> {
    /// Headers for delivering `body` as event `event_id` at `timestamp` (Unix seconds):
    /// `(name, value)` pairs with lower-case names, in sending order.
    pub fn headers(
        &self,
        event_id: &str,
        timestamp: i64,
        body: &[u8],
    ) -> Result<Vec<(&'static str, String)>, jsonwebtoken::errors::Error> {
        let (Some(newest), Some(oldest)) = (self.secrets.first(), self.secrets.last()) else {
            return Err(jsonwebtoken::errors::ErrorKind::InvalidKeyFormat.into());
        };
        let jwt = |secret: &Secret| {
            delivery_jwt(secret, self.issuer, self.endpoint_id, event_id, timestamp)
                .map(|token| format!("Bearer {token}"))
        };
        let mut headers = vec![
            ("content-type", "application/json".to_owned()),
            ("authorization", jwt(oldest)?),
        ];
        if self.secrets.len() > 1 {
            headers.push(("parley-authorization-next", jwt(newest)?));
        }
        headers.extend([
            ("webhook-id", event_id.to_owned()),
            ("webhook-timestamp", timestamp.to_string()),
            (
                "webhook-signature",
                signature_header(self.secrets, event_id, timestamp, body),
            ),
        ]);
        Ok(headers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (and of its reference libraries'
    /// tests).
    const SPEC_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const SPEC_ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const SPEC_TIMESTAMP: i64 = 1_614_265_330;
    const SPEC_BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SPEC_SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn signs_the_standard_webhooks_test_vector() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        assert_eq!(
            signature(&secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY),
            SPEC_SIGNATURE
        );
        assert!(verify(
            &secret,
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
    }

    #[test]
    fn verification_fails_on_any_change() {
        let secret = Secret::parse(SPEC_SECRET).unwrap();
        let other = Secret::generate().unwrap();
        assert!(!verify(
            &other,
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
        assert!(!verify(
            &secret,
            SPEC_SIGNATURE,
            "msg_other",
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
        assert!(!verify(
            &secret,
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP + 1,
            SPEC_BODY
        ));
        assert!(!verify(
            &secret,
            SPEC_SIGNATURE,
            SPEC_ID,
            SPEC_TIMESTAMP,
            b"{}"
        ));
        assert!(!verify(
            &secret,
            "v2,abc",
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
        assert!(!verify(
            &secret,
            "v1,***",
            SPEC_ID,
            SPEC_TIMESTAMP,
            SPEC_BODY
        ));
    }

    #[test]
    fn during_rotation_both_secrets_sign() {
        let old = Secret::generate().unwrap();
        let new = Secret::generate().unwrap();
        let header = signature_header(&[&new, &old], "evt_1", 1_700_000_000, b"{}");
        assert_eq!(header.split(' ').count(), 2);
        assert!(verify(&old, &header, "evt_1", 1_700_000_000, b"{}"));
        assert!(verify(&new, &header, "evt_1", 1_700_000_000, b"{}"));
        assert!(!verify(
            &Secret::generate().unwrap(),
            &header,
            "evt_1",
            1_700_000_000,
            b"{}"
        ));
    }

    #[test]
    fn the_jwt_verifies_with_the_endpoint_secret_and_carries_the_claims() {
        let secret = Secret::generate().unwrap();
        let signing = Signing {
            secrets: &[&secret],
            issuer: "parley",
            endpoint_id: "whe_1",
        };
        let headers = signing.headers("evt_9", 1_700_000_000, b"{}").unwrap();
        let names: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "content-type",
                "authorization",
                "webhook-id",
                "webhook-timestamp",
                "webhook-signature"
            ]
        );
        let token = headers[1].1.strip_prefix("Bearer ").unwrap();
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&["whe_1"]);
        validation.set_issuer(&["parley"]);
        validation.validate_exp = false;
        let claims = jsonwebtoken::decode::<DeliveryClaims>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(secret.key()),
            &validation,
        )
        .unwrap()
        .claims;
        assert_eq!(
            claims,
            DeliveryClaims {
                iss: "parley".into(),
                aud: "whe_1".into(),
                jti: "evt_9".into(),
                iat: 1_700_000_000,
                exp: 1_700_000_300,
            }
        );
        let wrong = Secret::generate().unwrap();
        assert!(
            jsonwebtoken::decode::<DeliveryClaims>(
                token,
                &jsonwebtoken::DecodingKey::from_secret(wrong.key()),
                &validation,
            )
            .is_err()
        );
    }

    /// During a rotation the `Authorization` JWT still verifies with the old secret (so no
    /// receiver breaks at once) and `parley-authorization-next` with the new one; each
    /// names its secret in `kid`.
    #[test]
    fn during_a_rotation_both_secrets_verify_a_jwt() {
        let old = Secret::generate().unwrap();
        let new = Secret::generate().unwrap();
        let signing = Signing {
            secrets: &[&new, &old],
            issuer: "parley",
            endpoint_id: "whe_1",
        };
        let headers = signing.headers("evt_9", 1_700_000_000, b"{}").unwrap();
        let find = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, v)| v.strip_prefix("Bearer "))
                .unwrap()
                .to_owned()
        };
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
        validation.set_audience(&["whe_1"]);
        validation.validate_exp = false;
        let verifies = |token: &str, secret: &Secret| {
            jsonwebtoken::decode::<DeliveryClaims>(
                token,
                &jsonwebtoken::DecodingKey::from_secret(secret.key()),
                &validation,
            )
            .is_ok()
        };
        let current = find("authorization");
        let next = find("parley-authorization-next");
        assert!(verifies(&current, &old) && !verifies(&current, &new));
        assert!(verifies(&next, &new) && !verifies(&next, &old));
        let kid = |token: &str| jsonwebtoken::decode_header(token).unwrap().kid.unwrap();
        assert_eq!(kid(&current), key_id(&old));
        assert_eq!(kid(&next), key_id(&new));
        // One secret: no second header.
        let single = Signing {
            secrets: &[&new],
            ..signing
        };
        let headers = single.headers("evt_9", 1_700_000_000, b"{}").unwrap();
        assert!(
            headers
                .iter()
                .all(|(n, _)| *n != "parley-authorization-next")
        );
    }
}
