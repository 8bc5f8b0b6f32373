//! The one conversion between instants and the integer milliseconds both storage engines
//! keep (a portable BIGINT column, SPEC-neutral and index-friendly).

use chrono::{DateTime, TimeZone, Utc};

/// Milliseconds since the Unix epoch.
#[must_use]
pub fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// The instant `ms` milliseconds after the Unix epoch; out-of-range values clamp to the
/// representable range instead of failing, as stores only ever hold values we wrote.
#[must_use]
pub fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or(if ms < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}
