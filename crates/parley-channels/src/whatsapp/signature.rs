//! `X-Hub-Signature-256` (`reference/channels.md` §3.5): `sha256=` and the lowercase hex of
//! HMAC-SHA256 keyed with the app secret over the raw request body, checked on the bytes
//! as received, before any JSON parsing, in constant time. Messenger signs the same way.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header value Meta sends with `body`.
#[must_use]
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(digest(app_secret, body)))
}

fn digest(app_secret: &str, body: &[u8]) -> [u8; 32] {
    // HMAC takes a key of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(app_secret.as_bytes())
        .unwrap_or_else(|_| unreachable!());
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// Whether `header` (the `X-Hub-Signature-256` value) signs `body` with `app_secret`. The
/// hex may be in either case; anything but `sha256=` and 64 hex digits fails.
#[must_use]
pub fn verify(app_secret: &str, body: &[u8], header: &str) -> bool {
    let Some(given) = header.trim().strip_prefix("sha256=") else {
        return false;
    };
    let mut bytes = [0u8; 32];
    if hex::decode_to_slice(given, &mut bytes).is_err() {
        return false;
    }
    bytes.ct_eq(&digest(app_secret, body)).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_published_vector() {
        let expected = "sha256=0329a06b62cd16b33eb6792be8c60b158d89a2ee3a876fce9a881ebb488c0914";
        assert_eq!(sign("secret", b"test"), expected);
        assert!(verify("secret", b"test", expected));
        assert!(verify(
            "secret",
            b"test",
            &expected.to_ascii_uppercase().replace("SHA256", "sha256")
        ));
    }

    #[test]
    fn forgeries_and_malformed_headers_fail() {
        let good = sign("secret", b"test");
        assert!(!verify("other", b"test", &good));
        assert!(!verify("secret", b"test ", &good));
        assert!(!verify("secret", b"test", ""));
        assert!(!verify(
            "secret",
            b"test",
            &good.replace("sha256=", "sha1=")
        ));
        assert!(!verify("secret", b"test", &good[..good.len() - 2]));
        assert!(!verify("secret", b"test", &format!("{good}00")));
        assert!(!verify("secret", b"test", &good.replace('0', "g")));
    }

    proptest! {
        #[test]
        fn a_signature_verifies_and_a_changed_body_does_not(
            secret in "[ -~]{1,40}",
            body in proptest::collection::vec(any::<u8>(), 0..200),
            flip in any::<prop::sample::Index>(),
        ) {
            let header = sign(&secret, &body);
            prop_assert!(verify(&secret, &body, &header));
            if !body.is_empty() {
                let mut changed = body.clone();
                let i = flip.index(changed.len());
                changed[i] ^= 1;
                prop_assert!(!verify(&secret, &changed, &header));
            }
        }

        #[test]
        fn any_header_text_is_an_answer_not_a_panic(header in "\\PC{0,80}") {
            let _ = verify("secret", b"body", &header);
        }
    }
}
