//! What each provider's channel needs (pure): its sender's form, its settings and its
//! credentials, each checked with the offending key named (`settings.account_sid`,
//! `credentials.auth_token`). Unknown keys are refused rather than stored and ignored.
//!
//! | provider | sender | settings | credentials |
//! |---|---|---|---|
//! | `sim` | anything | `delivery_delay_ms` (0–60,000, default 200), `failure_rate` (0–1, default 0) | none |
//! | `twilio` | E.164, an alphanumeric sender id (1–11), or a Messaging Service `MG…` | `account_sid` (`AC` + 32 hex, required), `base_url` | `auth_token` (required) |
//! | `whatsapp` | the phone number id (digits) | `base_url`, `template_name` and `template_language` (sent outside the 24-hour window) | `access_token`, `app_secret`, `verify_token` (all required) |
//! | `webchat` | the site's name | `allowed_origins` (required, `https://host[:port]` or `http://localhost[:port]`) | `identity_secret` (optional, ≥ 32 characters: verifies the site's user JWTs) |
//!
//! Every provider also takes `opt_out_text`, `opt_in_text` and `help_text`: the answers to
//! the keywords of SPEC §5 (1 to 1,530 characters; short defaults otherwise).

use parley_domain::Provider;
use serde_json::{Map, Value};

use crate::FieldError;

/// Longest credential value.
const MAX_CREDENTIAL_CHARS: usize = 4096;

fn is_hex(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
    })
}

/// Checks `sender` for `provider`.
pub(crate) fn sender(provider: Provider, sender: &str) -> Result<(), FieldError> {
    let bad = |why: &str| Err(FieldError::new("sender", why));
    if sender.trim().is_empty() || sender.chars().count() > 200 {
        return bad("must be 1 to 200 characters");
    }
    match provider {
        Provider::Sim | Provider::Webchat => Ok(()),
        Provider::Twilio => {
            let alphanumeric = (1..=11).contains(&sender.len())
                && sender.bytes().any(|b| b.is_ascii_alphabetic())
                && sender
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b' ');
            let service = sender.len() == 34 && sender.starts_with("MG") && is_hex(&sender[2..]);
            if e164(sender) || alphanumeric || service {
                Ok(())
            } else {
                bad(
                    "must be an E.164 number (+447700900001), an alphanumeric sender id of 1 to 11 characters, or a Messaging Service sid (MG…)",
                )
            }
        }
        Provider::Whatsapp => {
            if (5..=20).contains(&sender.len()) && sender.bytes().all(|b| b.is_ascii_digit()) {
                Ok(())
            } else {
                bad("must be the WhatsApp phone number id (digits), as Meta's dashboard shows it")
            }
        }
    }
}

/// The settings keys `provider` takes: (key, required).
pub fn setting_keys(provider: Provider) -> &'static [(&'static str, bool)] {
    match provider {
        Provider::Sim => &[
            ("delivery_delay_ms", false),
            ("failure_rate", false),
            ("opt_out_text", false),
            ("opt_in_text", false),
            ("help_text", false),
        ],
        Provider::Twilio => &[
            ("account_sid", true),
            ("base_url", false),
            ("opt_out_text", false),
            ("opt_in_text", false),
            ("help_text", false),
        ],
        Provider::Whatsapp => &[
            ("base_url", false),
            ("template_name", false),
            ("template_language", false),
            ("opt_out_text", false),
            ("opt_in_text", false),
            ("help_text", false),
        ],
        Provider::Webchat => &[
            ("allowed_origins", true),
            ("opt_out_text", false),
            ("opt_in_text", false),
            ("help_text", false),
        ],
    }
}

/// The longest keyword answer (ten SMS parts of GSM-7).
const MAX_KEYWORD_TEXT_CHARS: usize = 1_530;

/// The credential keys `provider` takes: (key, required).
pub fn credential_keys(provider: Provider) -> &'static [(&'static str, bool)] {
    match provider {
        Provider::Sim => &[],
        Provider::Twilio => &[("auth_token", true)],
        Provider::Whatsapp => &[
            ("access_token", true),
            ("app_secret", true),
            ("verify_token", true),
        ],
        Provider::Webchat => &[("identity_secret", false)],
    }
}

fn base_url(value: &Value) -> Result<(), &'static str> {
    let text = value.as_str().ok_or("must be a URL")?;
    let url = url::Url::parse(text).map_err(|_| "must be an http or https URL")?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("must be an http or https URL");
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment");
    }
    Ok(())
}

fn setting(provider: Provider, key: &str, value: &Value) -> Result<(), String> {
    match (provider, key) {
        (Provider::Sim, "delivery_delay_ms") => match value.as_u64() {
            Some(ms) if ms <= 60_000 => Ok(()),
            _ => Err("must be a whole number of milliseconds from 0 to 60000".to_owned()),
        },
        (Provider::Sim, "failure_rate") => match value.as_f64() {
            Some(r) if (0.0..=1.0).contains(&r) => Ok(()),
            _ => Err("must be a number from 0 to 1".to_owned()),
        },
        (Provider::Twilio, "account_sid") => match value.as_str() {
            Some(s) if s.len() == 34 && s.starts_with("AC") && is_hex(&s[2..]) => Ok(()),
            _ => Err("must be a Twilio account sid: AC and 32 hexadecimal digits".to_owned()),
        },
        (_, "opt_out_text" | "opt_in_text" | "help_text") => match value.as_str() {
            Some(t) if !t.trim().is_empty() && t.chars().count() <= MAX_KEYWORD_TEXT_CHARS => {
                Ok(())
            }
            _ => Err(format!(
                "must be text of 1 to {MAX_KEYWORD_TEXT_CHARS} characters"
            )),
        },
        (Provider::Whatsapp, "template_name") => match value.as_str() {
            Some(t)
                if (1..=512).contains(&t.len())
                    && t.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') =>
            {
                Ok(())
            }
            _ => Err(
                "must be an approved template's name (lowercase letters, digits and _)".to_owned(),
            ),
        },
        (Provider::Whatsapp, "template_language") => match value.as_str() {
            Some(t)
                if (2..=10).contains(&t.len())
                    && t.bytes().all(|b| b.is_ascii_alphabetic() || b == b'_') =>
            {
                Ok(())
            }
            _ => Err("must be a language code such as en or en_US".to_owned()),
        },
        (Provider::Twilio | Provider::Whatsapp, "base_url") => {
            base_url(value).map_err(str::to_owned)
        }
        (Provider::Webchat, "allowed_origins") => {
            let Some(list) = value.as_array().filter(|l| !l.is_empty() && l.len() <= 50) else {
                return Err("must list 1 to 50 origins".to_owned());
            };
            match list.iter().position(|o| {
                !o.as_str()
                    .is_some_and(parley_channels::webchat::identity::is_origin)
            }) {
                None => Ok(()),
                Some(i) => Err(format!(
                    "entry {i} must be an origin such as https://www.example.com (https, or http on localhost; no path)"
                )),
            }
        }
        _ => Err("is not a setting of this provider".to_owned()),
    }
}

/// Checks `settings` for `provider`; every problem, each naming its key.
pub(crate) fn settings(provider: Provider, settings: &Map<String, Value>) -> Vec<FieldError> {
    let keys = setting_keys(provider);
    let mut errors: Vec<FieldError> = settings
        .iter()
        .filter_map(|(key, value)| {
            let known = keys.iter().any(|(k, _)| k == key);
            let why = if known {
                setting(provider, key, value).err()?
            } else {
                format!(
                    "is not a setting of a {provider} channel; it takes {}",
                    names(keys)
                )
            };
            Some(FieldError::new(format!("settings.{key}"), why))
        })
        .collect();
    errors.extend(missing("settings", keys, |k| settings.contains_key(k)));
    errors
}

/// Checks `credentials` for `provider`.
pub(crate) fn credentials(provider: Provider, credentials: &Map<String, Value>) -> Vec<FieldError> {
    let keys = credential_keys(provider);
    let mut errors: Vec<FieldError> = credentials
        .iter()
        .filter_map(|(key, value)| {
            let why = if !keys.iter().any(|(k, _)| k == key) {
                if keys.is_empty() {
                    format!("a {provider} channel takes no credentials")
                } else {
                    format!(
                        "is not a credential of a {provider} channel; it takes {}",
                        names(keys)
                    )
                }
            } else {
                let text = value.as_str().unwrap_or_default();
                let least = if key == "identity_secret" { 32 } else { 1 };
                if text.chars().count() < least || text.chars().count() > MAX_CREDENTIAL_CHARS {
                    format!("must be text of {least} to {MAX_CREDENTIAL_CHARS} characters")
                } else {
                    return None;
                }
            };
            Some(FieldError::new(format!("credentials.{key}"), why))
        })
        .collect();
    errors.extend(missing("credentials", keys, |k| {
        credentials.contains_key(k)
    }));
    errors
}

fn names(keys: &[(&str, bool)]) -> String {
    keys.iter().map(|(k, _)| *k).collect::<Vec<_>>().join(", ")
}

fn missing<'k>(
    prefix: &'k str,
    keys: &'k [(&'static str, bool)],
    present: impl Fn(&str) -> bool + 'k,
) -> impl Iterator<Item = FieldError> + 'k {
    keys.iter()
        .filter(move |(k, required)| *required && !present(k))
        .map(move |(k, _)| FieldError::new(format!("{prefix}.{k}"), "is required"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<String> {
        errors.iter().map(|e| e.field.clone()).collect()
    }

    #[test]
    fn senders_per_provider() {
        assert!(sender(Provider::Twilio, "+447700900001").is_ok());
        assert!(sender(Provider::Twilio, "Parley").is_ok());
        assert!(sender(Provider::Twilio, "MG0123456789abcdef0123456789abcdef").is_ok());
        assert!(sender(Provider::Twilio, "07700900001").is_err());
        assert!(sender(Provider::Twilio, "TwelveLetters").is_err());
        assert!(
            sender(Provider::Twilio, "12345").is_err(),
            "digits alone are no sender id"
        );
        assert!(sender(Provider::Whatsapp, "106540352242922").is_ok());
        assert!(sender(Provider::Whatsapp, "+15550783881").is_err());
        assert!(sender(Provider::Sim, "demo").is_ok());
        assert!(sender(Provider::Sim, "  ").is_err());
    }

    #[test]
    fn settings_name_each_bad_key() {
        let twilio = map(json!({"account_sid": "AC0123456789abcdef0123456789abcdef"}));
        assert!(settings(Provider::Twilio, &twilio).is_empty());
        let bad = map(json!({"account_sid": "AC1", "base_url": "ftp://x", "region": "ie1"}));
        let mut got = fields(&settings(Provider::Twilio, &bad));
        got.sort();
        assert_eq!(
            got,
            [
                "settings.account_sid",
                "settings.base_url",
                "settings.region"
            ]
        );
        assert_eq!(
            fields(&settings(Provider::Twilio, &Map::new())),
            ["settings.account_sid"]
        );
        let sim = map(json!({"delivery_delay_ms": 60001, "failure_rate": 1.5}));
        assert_eq!(settings(Provider::Sim, &sim).len(), 2);
        assert!(settings(Provider::Sim, &map(json!({"failure_rate": 0.25}))).is_empty());
        let web =
            map(json!({"allowed_origins": ["https://www.example.com", "http://localhost:3000"]}));
        assert!(settings(Provider::Webchat, &web).is_empty());
        for bad in [
            json!([]),
            json!(["https://x.example/path"]),
            json!(["http://x.example"]),
            json!("https://x.example"),
        ] {
            let s = map(json!({"allowed_origins": bad}));
            assert_eq!(
                fields(&settings(Provider::Webchat, &s)),
                ["settings.allowed_origins"],
                "{s:?}"
            );
        }
    }

    #[test]
    fn credentials_are_required_and_known() {
        let ok = map(json!({"access_token": "t", "app_secret": "s", "verify_token": "v"}));
        assert!(credentials(Provider::Whatsapp, &ok).is_empty());
        let mut got = fields(&credentials(
            Provider::Whatsapp,
            &map(json!({"access_token": ""})),
        ));
        got.sort();
        assert_eq!(
            got,
            [
                "credentials.access_token",
                "credentials.app_secret",
                "credentials.verify_token"
            ]
        );
        assert_eq!(
            fields(&credentials(Provider::Sim, &map(json!({"token": "x"})))),
            ["credentials.token"]
        );
        assert_eq!(
            fields(&credentials(
                Provider::Webchat,
                &map(json!({"identity_secret": "short"}))
            )),
            ["credentials.identity_secret"]
        );
        assert!(credentials(Provider::Webchat, &Map::new()).is_empty());
    }
}
