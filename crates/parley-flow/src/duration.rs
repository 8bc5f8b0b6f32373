//! Durations as flows write them: whole numbers with a unit, optionally several
//! (`90s`, `30m`, `24h`, `2d`, `1h30m`, `1w`). Bare numbers are refused, because `30` could be
//! seconds or minutes.

use std::time::Duration;

/// Longest duration a flow may wait: 90 days.
pub const MAX_DURATION: Duration = Duration::from_secs(90 * 86_400);

/// Why a duration could not be read: the 1-based column and a message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct DurationError {
    /// Where, 1-based, in characters.
    pub column: usize,
    /// What is wrong.
    pub message: &'static str,
}

/// Reads a duration such as `1h30m`.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let err = |column, message| DurationError { column, message };
    if text.trim().is_empty() {
        return Err(err(1, "empty; write a number and a unit, like 30m or 24h"));
    }
    let mut total: u64 = 0;
    let mut number: Option<u64> = None;
    for (i, c) in text.chars().enumerate() {
        let column = i + 1;
        match c {
            '0'..='9' => {
                let digit = u64::from(c as u8 - b'0');
                let n = number
                    .unwrap_or(0)
                    .checked_mul(10)
                    .and_then(|n| n.checked_add(digit))
                    .ok_or_else(|| err(column, "number too large"))?;
                number = Some(n);
            }
            's' | 'm' | 'h' | 'd' | 'w' => {
                let n = number
                    .take()
                    .ok_or_else(|| err(column, "a unit needs a number before it"))?;
                let unit = match c {
                    's' => 1,
                    'm' => 60,
                    'h' => 3_600,
                    'd' => 86_400,
                    _ => 604_800,
                };
                total = n
                    .checked_mul(unit)
                    .and_then(|s| total.checked_add(s))
                    .ok_or_else(|| err(column, "duration too long"))?;
            }
            ' ' => {}
            _ => {
                return Err(err(
                    column,
                    "unexpected character; units are s, m, h, d and w",
                ));
            }
        }
    }
    if number.is_some() {
        return Err(err(
            text.chars().count(),
            "a number needs a unit (s, m, h, d or w)",
        ));
    }
    let duration = Duration::from_secs(total);
    if duration.is_zero() {
        return Err(err(1, "must be longer than zero"));
    }
    if duration > MAX_DURATION {
        return Err(err(1, "longer than 90 days"));
    }
    Ok(duration)
}

/// A duration in the largest units that write it exactly (`1h30m`).
#[must_use]
pub fn format_duration(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    if secs == 0 {
        return "0s".to_owned();
    }
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_sums() {
        for (text, secs) in [
            ("90s", 90),
            ("30m", 1_800),
            ("24h", 86_400),
            ("2d", 172_800),
            ("1h30m", 5_400),
            ("1w", 604_800),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(secs)),
                "{text}"
            );
            assert_eq!(
                parse_duration(&format_duration(Duration::from_secs(secs))),
                Ok(Duration::from_secs(secs))
            );
        }
    }

    #[test]
    fn refusals_point_at_the_problem() {
        assert_eq!(
            parse_duration("30").unwrap_err().to_string(),
            "column 2: a number needs a unit (s, m, h, d or w)"
        );
        assert_eq!(
            parse_duration("3x").unwrap_err().to_string(),
            "column 2: unexpected character; units are s, m, h, d and w"
        );
        assert_eq!(parse_duration("h").unwrap_err().column, 1);
        assert!(parse_duration("100d").is_err());
        assert!(parse_duration("0m").is_err());
        assert!(parse_duration("99999999999999999999d").is_err());
    }
}
