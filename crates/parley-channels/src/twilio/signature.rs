//! `X-Twilio-Signature` (`reference/channels.md` §1.6): HMAC-SHA1 with the account's auth
//! token over the URL Twilio requested followed by the form parameters, sorted by name
//! (a repeated name's distinct values sorted too), each name then value with nothing
//! between; base64. Callbacks are checked against the URL both with and without the
//! scheme's default port, as Twilio's own validators do. JSON callbacks carry
//! `bodySHA256` in the query instead, and the URL alone is signed.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The signature of a request to `url` carrying form `params`.
#[must_use]
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (name, value) in params {
        sorted.entry(name).or_default().insert(value);
    }
    let mut mac = hmac(auth_token);
    mac.update(url.as_bytes());
    for (name, values) in sorted {
        for value in values {
            mac.update(name.as_bytes());
            mac.update(value.as_bytes());
        }
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn hmac(key: &str) -> Hmac<Sha1> {
    // HMAC takes a key of any length; this cannot fail.
    <Hmac<Sha1> as Mac>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| unreachable!())
}

/// Whether `signature` is Twilio's for a form request to `url` with `params`, with or
/// without the default port in the URL.
#[must_use]
pub fn verify_form(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    url_forms(url)
        .iter()
        .any(|u| equal(&sign(auth_token, u, params), signature))
}

/// Whether `signature` is Twilio's for a JSON request to `url` (whose query holds
/// `bodySHA256`, the hex SHA-256 of `body`), with or without the default port.
#[must_use]
pub fn verify_json(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let Some(claimed) = query_value(url, "bodySHA256") else {
        return false;
    };
    let actual = hex::encode(Sha256::digest(body));
    equal(&actual, &claimed.to_ascii_lowercase()) && verify_form(auth_token, url, &[], signature)
}

fn equal(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

/// The first value of `name` in `url`'s query, as written (Twilio's hash is hex, which
/// needs no decoding).
fn query_value<'u>(url: &'u str, name: &str) -> Option<&'u str> {
    let query = url.split_once('?')?.1;
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// `url` as given, and with the scheme's default port added (or removed when given):
/// Twilio signs one or the other.
fn url_forms(url: &str) -> Vec<String> {
    let mut forms = vec![url.to_owned()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return forms;
    };
    let default = match scheme.to_ascii_lowercase().as_str() {
        "https" => "443",
        "http" => "80",
        _ => return forms,
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    // The host is after any user info; a port follows the last `:` outside brackets.
    let host_at = authority.rfind('@').map_or(0, |i| i + 1);
    let host_port = &authority[host_at..];
    let port_at = match host_port.rfind(':') {
        Some(i) if !host_port[i..].contains(']') => Some(host_at + i),
        _ => None,
    };
    match port_at {
        Some(i) if &authority[i + 1..] == default => {
            forms.push(format!("{scheme}://{}{tail}", &authority[..i]));
        }
        Some(_) => {}
        None => forms.push(format!("{scheme}://{authority}:{default}{tail}")),
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn call() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    #[test]
    fn the_published_form_vectors() {
        assert_eq!(sign("12345", URL, &call()), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
        assert_eq!(
            sign(
                "12345",
                "https://mycompany.com:443/myapp.php?foo=1&bar=2",
                &call()
            ),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        );
        // Parameter order does not matter.
        let mut shuffled = call();
        shuffled.reverse();
        assert!(verify_form(
            "12345",
            URL,
            &shuffled,
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // Signed with the port, checked without it, and the other way round.
        assert!(verify_form(
            "12345",
            URL,
            &call(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        assert!(verify_form(
            "12345",
            "https://mycompany.com:443/myapp.php?foo=1&bar=2",
            &call(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn the_published_duplicate_keys_vector() {
        let dup = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
            ("Digits", "1234"),
        ]);
        assert_eq!(sign("12345", URL, &dup), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn the_published_json_vector() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(hex::encode(Sha256::digest(body)), hash);
        let url = format!("{URL}&bodySHA256={hash}");
        assert_eq!(sign("12345", &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
        assert!(verify_json(
            "12345",
            &url,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        // A body that is not the one hashed fails, whatever the signature.
        assert!(!verify_json(
            "12345",
            &url,
            b"{}",
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!verify_json(
            "12345",
            URL,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn forgeries_fail() {
        let good = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!verify_form("54321", URL, &call(), good), "wrong token");
        assert!(!verify_form("12345", URL, &[], good), "params dropped");
        let mut changed = call();
        changed[2].1 = "9999".to_owned();
        assert!(
            !verify_form("12345", URL, &changed, good),
            "a value changed"
        );
        assert!(!verify_form(
            "12345",
            "https://mycompany.com/other.php",
            &call(),
            good
        ));
        assert!(!verify_form("12345", URL, &call(), ""), "unsigned");
        assert!(!verify_form(
            "12345",
            URL,
            &call(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8"
        ));
    }

    #[test]
    fn url_forms_add_or_remove_only_the_default_port() {
        assert_eq!(
            url_forms("https://a.example/x?y=1"),
            ["https://a.example/x?y=1", "https://a.example:443/x?y=1"]
        );
        assert_eq!(
            url_forms("http://u:p@a.example:80"),
            ["http://u:p@a.example:80", "http://u:p@a.example"]
        );
        assert_eq!(
            url_forms("https://a.example:8443/x"),
            ["https://a.example:8443/x"]
        );
        assert_eq!(
            url_forms("https://[::1]/hook"),
            ["https://[::1]/hook", "https://[::1]:443/hook"]
        );
        assert_eq!(url_forms("ftp://a.example/x"), ["ftp://a.example/x"]);
        assert_eq!(url_forms("not a url"), ["not a url"]);
    }

    proptest! {
        #[test]
        fn a_signature_verifies_and_any_change_breaks_it(
            token in "[A-Za-z0-9]{1,32}",
            path in "[a-z/]{0,20}",
            pairs in proptest::collection::vec(("[A-Za-z]{1,8}", "\\PC{0,12}"), 0..6),
            extra in "[a-z]{1,4}",
        ) {
            let url = format!("https://hooks.example/{path}");
            let params: Vec<(String, String)> = pairs;
            let signature = sign(&token, &url, &params);
            prop_assert!(verify_form(&token, &url, &params, &signature));
            let mut more = params.clone();
            more.push(("Zz9".to_owned(), extra));
            prop_assert!(!verify_form(&token, &url, &more, &signature));
            let other = format!("{token}x");
            prop_assert!(!verify_form(&other, &url, &params, &signature));
        }
    }
}
