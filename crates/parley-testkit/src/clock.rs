//! A clock tests move by hand.

use std::sync::Mutex;

use chrono::{DateTime, Duration, TimeZone, Utc};
use parley_domain::Clock;

/// A `Clock` that stands still until told to move.
#[derive(Debug)]
pub struct FakeClock(Mutex<DateTime<Utc>>);

impl FakeClock {
    /// A clock at `at`.
    #[must_use]
    pub fn at(at: DateTime<Utc>) -> Self {
        Self(Mutex::new(at))
    }

    /// A clock at 2026-11-21 10:00:00 UTC.
    #[must_use]
    pub fn new() -> Self {
        Self::at(
            Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
                .single()
                .unwrap(),
        )
    }

    /// Sets the clock to `at`.
    pub fn set(&self, at: DateTime<Utc>) {
        *self.0.lock().unwrap() = at;
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

impl Default for FakeClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for FakeClock {
    fn now(&self) -> DateTime<Utc> {
        *self.0.lock().unwrap()
    }
}
