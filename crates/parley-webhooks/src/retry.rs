//! The retry policy of SPEC §7.2, as pure functions: after a failed attempt, retry after
//! 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h, each with jitter, then give up. A receiver's
//! `Retry-After` replaces the scheduled wait, clamped to the schedule's own bounds (5 s to
//! 10 h), so a receiver can ask for patience or a quick retry but neither stall a message
//! forever nor make Parley hammer it. It never adds attempts.

use std::time::Duration;

/// Waits after the 1st, 2nd, … failed attempt. After the last, the message is failed.
pub const RETRY_SCHEDULE: [Duration; 7] = [
    Duration::from_secs(5),
    Duration::from_secs(5 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(2 * 3600),
    Duration::from_secs(5 * 3600),
    Duration::from_secs(10 * 3600),
    Duration::from_secs(10 * 3600),
];

/// Attempts a message gets in all: the first and one per scheduled retry.
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE.len() as u32 + 1;

/// Jitter, as a fraction of the wait: each wait is moved by up to ±20 %, so endpoints that
/// failed together do not retry together.
pub const JITTER: f64 = 0.2;

/// Shortest wait a `Retry-After` may ask for.
pub const MIN_RETRY_AFTER: Duration = RETRY_SCHEDULE[0];
/// Longest wait a `Retry-After` may ask for.
pub const MAX_RETRY_AFTER: Duration = RETRY_SCHEDULE[6];

/// When to try again after `failed_attempts` attempts (1 after the first) have failed:
/// `None` once the schedule is spent. `unit` is a random number in `[0, 1)` choosing the
/// jitter; `retry_after` is the receiver's wish.
#[must_use]
pub fn next_retry(
    failed_attempts: u32,
    unit: f64,
    retry_after: Option<Duration>,
) -> Option<Duration> {
    let index = usize::try_from(failed_attempts.checked_sub(1)?).ok()?;
    let scheduled = *RETRY_SCHEDULE.get(index)?;
    if let Some(wish) = retry_after {
        return Some(wish.clamp(MIN_RETRY_AFTER, MAX_RETRY_AFTER));
    }
    let unit = if unit.is_finite() {
        unit.clamp(0.0, 1.0)
    } else {
        0.5
    };
    let factor = 1.0 + JITTER * (2.0 * unit - 1.0);
    Some(scheduled.mul_f64(factor))
}

/// Reads a `Retry-After` value: delay seconds, or an HTTP date (relative to `now`, Unix
/// seconds). Anything else, or a date in the past, is `None`.
#[must_use]
pub fn parse_retry_after(value: &str, now: i64) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    let at = at.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs();
    let ahead = i64::try_from(at).ok()?.checked_sub(now)?;
    u64::try_from(ahead)
        .ok()
        .filter(|s| *s > 0)
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn follows_the_schedule_then_gives_up() {
        let middle: Vec<Option<u64>> = (1..=8)
            .map(|n| next_retry(n, 0.5, None).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            middle,
            [
                Some(5),
                Some(300),
                Some(1800),
                Some(7200),
                Some(18_000),
                Some(36_000),
                Some(36_000),
                None
            ]
        );
        assert_eq!(next_retry(0, 0.5, None), None);
        assert_eq!(MAX_ATTEMPTS, 8);
    }

    #[test]
    fn jitter_stays_within_a_fifth() {
        assert_eq!(next_retry(2, 0.0, None), Some(Duration::from_secs(240)));
        assert_eq!(next_retry(2, 1.0, None), Some(Duration::from_secs(360)));
        assert_eq!(
            next_retry(2, f64::NAN, None),
            Some(Duration::from_secs(300))
        );
    }

    #[test]
    fn retry_after_is_honoured_within_bounds() {
        let after = |s| Some(Duration::from_secs(s));
        assert_eq!(next_retry(1, 0.5, after(60)), after(60));
        assert_eq!(next_retry(3, 0.5, after(1)), after(5));
        assert_eq!(next_retry(3, 0.5, after(86_400 * 30)), after(36_000));
        assert_eq!(next_retry(8, 0.5, after(60)), None, "never adds attempts");
    }

    #[test]
    fn reads_retry_after_in_both_forms() {
        let now = 1_445_412_480; // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            None
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    proptest! {
        #[test]
        fn every_wait_is_bounded(n in 0u32..20, unit in any::<f64>(), wish in proptest::option::of(any::<u64>())) {
            if let Some(wait) = next_retry(n, unit, wish.map(Duration::from_secs)) {
                prop_assert!(wait >= Duration::from_secs(4));
                prop_assert!(wait <= Duration::from_secs(43_200));
            }
        }

        #[test]
        fn retry_after_never_panics(text in "\\PC{0,40}", now in any::<i64>()) {
            let _ = parse_retry_after(&text, now);
        }
    }
}
