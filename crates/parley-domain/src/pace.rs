//! A pace shared through storage (ADR 0008 §4): `rate` a second, at most `burst` at once,
//! kept as **one number** — the time at which the pace would be back to empty if nothing
//! more were taken (a "theoretical arrival time", as in the generic cell rate algorithm).
//! One number makes a take a single read and write of one row, so processes that share
//! a database share a pace by taking in turn under the row's lock.
//!
//! Pure: the caller passes the time in microseconds since the epoch. Arithmetic is exact
//! (`i128`); a take's cost is rounded **up** to the microsecond, so rounding never lets
//! more through than the rate allows.

use std::time::Duration;

const MICROS: i128 = 1_000_000;

/// A pace: `rate` a second, at most `burst` at once (each at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pace {
    /// How many a second.
    pub rate: u32,
    /// How many at most at once (the pace holds from the first second with a small one).
    pub burst: u32,
}

/// What one take gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Grant {
    /// How many were granted (0 to the number asked for).
    pub granted: u32,
    /// The pace's state to store (microseconds since the epoch).
    pub state: i64,
    /// With nothing granted, how long until one would be; zero otherwise.
    pub wait: Duration,
}

impl Pace {
    /// A pace of `rate` a second whose burst is a tenth of a second's worth (at least 1).
    #[must_use]
    pub fn per_second(rate: u32) -> Self {
        Self {
            rate: rate.max(1),
            burst: (rate / 10).max(1),
        }
    }

    /// Takes up to `want` at `now_us` from a pace whose stored state is `state` (a state
    /// in the past, such as 0 for a pace never taken from, is a full pace).
    #[must_use]
    pub fn take(self, state: i64, now_us: i64, want: u32) -> Grant {
        let rate = i128::from(self.rate.max(1));
        let burst = i128::from(self.burst.max(1));
        let now = i128::from(now_us);
        // A state further ahead than a full burst comes from a clock ahead of ours: it is
        // taken as it is (the pace waits for the later clock), never as a credit.
        let base = i128::from(state).max(now);
        // The room left: how far the state may move before it is a full burst ahead of now.
        let room = now * rate + burst * MICROS - base * rate;
        let fits = (room / MICROS).clamp(0, i128::from(want));
        let granted = u32::try_from(fits).unwrap_or(0);
        if granted > 0 {
            let cost = (fits * MICROS + rate - 1) / rate;
            return Grant {
                granted,
                state: clamp_i64(base + cost),
                wait: Duration::ZERO,
            };
        }
        // One more fits once the room reaches one token's worth.
        let missing = MICROS - room;
        let wait_us = (missing + rate - 1) / rate;
        Grant {
            granted: 0,
            state: clamp_i64(base),
            wait: Duration::from_micros(u64::try_from(wait_us.max(1)).unwrap_or(u64::MAX)),
        }
    }
}

fn clamp_i64(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const T0: i64 = 1_800_000_000_000_000;

    #[test]
    fn a_fresh_pace_grants_its_burst_then_refills_at_its_rate() {
        let pace = Pace {
            rate: 100,
            burst: 10,
        };
        let g = pace.take(0, T0, 50);
        assert_eq!(g.granted, 10);
        let empty = pace.take(g.state, T0, 5);
        assert_eq!(empty.granted, 0);
        assert_eq!(empty.wait, Duration::from_millis(10));
        // A quarter second later: 25 earned, but never more than the burst.
        assert_eq!(pace.take(g.state, T0 + 250_000, 50).granted, 10);
        assert_eq!(pace.take(g.state, T0 + 50_000, 50).granted, 5);
    }

    #[test]
    fn a_state_from_a_clock_ahead_waits_rather_than_grants() {
        let pace = Pace::per_second(10);
        let ahead = T0 + 5_000_000;
        let g = pace.take(ahead, T0, 1);
        assert_eq!(g.granted, 0);
        assert_eq!(g.state, ahead);
        assert!(g.wait >= Duration::from_secs(4), "{:?}", g.wait);
    }

    proptest! {
        /// However the takes are split and timed, what is granted over any span never
        /// exceeds the burst plus the rate times the span, and a caller that waits as
        /// told is granted again.
        #[test]
        fn grants_never_exceed_rate_times_time_plus_burst(
            rate in 1u32..20_000,
            burst in 1u32..2_000,
            steps in proptest::collection::vec((0i64..200_000, 1u32..3_000), 1..60),
        ) {
            let pace = Pace { rate, burst };
            let (mut state, mut now, mut total) = (0, T0, 0u64);
            let mut grants: Vec<(i64, u64)> = Vec::new();
            for (gap, want) in steps {
                now += gap;
                let g = pace.take(state, now, want);
                prop_assert!(g.granted <= want);
                total += u64::from(g.granted);
                grants.push((now, u64::from(g.granted)));
                state = g.state;
                if g.granted == 0 {
                    prop_assert!(g.wait > Duration::ZERO);
                    let later = now + i64::try_from(g.wait.as_micros()).unwrap();
                    let again = pace.take(state, later, 1);
                    prop_assert_eq!(again.granted, 1, "waited {:?}", g.wait);
                }
            }
            let span = u128::try_from(now - T0).unwrap();
            let allowed = u128::from(burst) + u128::from(rate) * span / 1_000_000;
            prop_assert!(u128::from(total) <= allowed, "{} > {}", total, allowed);
            // And in every window, not only from the start.
            for (i, (start, _)) in grants.iter().enumerate() {
                let mut sum = 0u128;
                for (at, n) in &grants[i..] {
                    sum += u128::from(*n);
                    let span = u128::try_from(at - start).unwrap();
                    let allowed = u128::from(burst) + u128::from(rate) * span / 1_000_000;
                    prop_assert!(sum <= allowed, "{} > {} over {} µs", sum, allowed, span);
                }
            }
        }
    }
}
