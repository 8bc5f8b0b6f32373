//! A channel's pace: a token bucket of `rate` tokens a second holding at most `burst`,
//! where a message costs its segments (Twilio releases one segment a second on a long
//! code, `reference/channels.md` §1.8). Pure: the caller passes the time, as a duration
//! since any fixed instant, so the send queue and its tests share one clock.

use std::time::Duration;

/// The bucket.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenBucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last: Duration,
}

impl TokenBucket {
    /// A full bucket refilling `rate` tokens a second up to `burst` (each at least 1).
    #[must_use]
    pub fn new(rate: u32, burst: u32, now: Duration) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: f64::from(rate.max(1)),
            burst,
            tokens: burst,
            last: now,
        }
    }

    fn refill(&mut self, now: Duration) {
        if now > self.last {
            let earned = (now - self.last).as_secs_f64() * self.rate;
            self.tokens = (self.tokens + earned).min(self.burst);
            self.last = now;
        }
    }

    /// Sets the pace from `now` on (a channel's rate may have been edited): what was
    /// earned at the old rate is kept, up to the new burst, and refills go at the new
    /// rate. The same pace changes nothing.
    pub fn retune(&mut self, rate: u32, burst: u32, now: Duration) {
        self.refill(now);
        self.rate = f64::from(rate.max(1));
        self.burst = f64::from(burst.max(1));
        self.tokens = self.tokens.min(self.burst);
    }

    /// Takes `cost` tokens at `now` (a cost above the burst is taken as the burst, so a
    /// long message is never refused for good), or says how long until it could.
    pub fn take(&mut self, now: Duration, cost: u32) -> Result<(), Duration> {
        self.refill(now);
        let cost = f64::from(cost.max(1)).min(self.burst);
        if self.tokens + 1e-9 >= cost {
            self.tokens -= cost;
            return Ok(());
        }
        let missing = cost - self.tokens;
        Err(Duration::from_secs_f64(missing / self.rate))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_long_code_releases_one_segment_a_second() {
        let mut b = TokenBucket::new(1, 1, Duration::ZERO);
        assert_eq!(b.take(Duration::ZERO, 1), Ok(()));
        assert_eq!(b.take(Duration::ZERO, 1), Err(S));
        assert_eq!(b.take(S / 2, 1), Err(S / 2));
        assert_eq!(b.take(S, 1), Ok(()));
        // A three-segment message waits for three tokens, but never more than the burst.
        let mut b = TokenBucket::new(1, 3, Duration::ZERO);
        assert_eq!(b.take(Duration::ZERO, 3), Ok(()));
        assert_eq!(b.take(Duration::ZERO, 3), Err(3 * S));
        assert_eq!(
            b.take(3 * S, 5),
            Ok(()),
            "a cost above the burst takes the burst"
        );
    }

    #[test]
    fn a_new_rate_applies_from_the_change_on() {
        let mut b = TokenBucket::new(1, 1, Duration::ZERO);
        assert_eq!(b.take(Duration::ZERO, 1), Ok(()));
        // Retuned to the same pace, nothing changes.
        b.retune(1, 1, S / 4);
        assert_eq!(b.take(S / 4, 1), Err(S * 3 / 4));
        // Raised to 10 a second half a second later: half a token earned at the old rate,
        // then ten a second.
        b.retune(10, 10, S / 2);
        assert!(b.take(S / 2, 1).is_err());
        assert_eq!(b.take(S / 2 + S / 20, 1), Ok(()));
        for _ in 0..9 {
            assert!(b.take(2 * S, 1).is_ok());
        }
        // Lowered to 1 a second: the tokens above the new burst are gone.
        b.retune(1, 1, 10 * S);
        assert_eq!(b.take(10 * S, 1), Ok(()));
        assert_eq!(b.take(10 * S, 1), Err(S));
    }

    proptest! {
        #[test]
        fn never_more_than_the_burst_plus_the_rate_over_any_window(
            rate in 1u32..50,
            burst in 1u32..20,
            steps in proptest::collection::vec((0u64..400, 1u32..4), 1..200),
        ) {
            let mut b = TokenBucket::new(rate, burst, Duration::ZERO);
            let mut now = Duration::ZERO;
            let mut taken: Vec<(Duration, f64)> = Vec::new();
            for (gap_ms, cost) in steps {
                now += Duration::from_millis(gap_ms);
                match b.take(now, cost) {
                    Ok(()) => taken.push((now, f64::from(cost.min(burst)))),
                    Err(wait) => {
                        // Waiting as told is enough (nothing else took tokens meanwhile).
                        let mut again = b.clone();
                        prop_assert!(again.take(now + wait + Duration::from_micros(1), cost).is_ok());
                    }
                }
            }
            for (i, (start, _)) in taken.iter().enumerate() {
                let mut sum = 0.0;
                for (at, cost) in &taken[i..] {
                    sum += cost;
                    let window = (*at - *start).as_secs_f64();
                    prop_assert!(sum <= f64::from(burst) + f64::from(rate) * window + 1e-6);
                }
            }
        }
    }
}
