//! Any sequence of sends through a channel's token bucket: what it lets through in any
//! window is at most the burst plus the rate over the window, and a wait it names is
//! enough.
#![no_main]

use std::time::Duration;

use libfuzzer_sys::fuzz_target;
use parley_channels::TokenBucket;

fuzz_target!(|data: &[u8]| {
    let (Some(&rate), Some(&burst)) = (data.first(), data.get(1)) else {
        return;
    };
    let (rate, burst) = (u32::from(rate.max(1)), u32::from(burst.max(1)));
    let mut bucket = TokenBucket::new(rate, burst, Duration::ZERO);
    let mut now = Duration::ZERO;
    let mut taken: Vec<(Duration, f64)> = Vec::new();
    for pair in data[2..].chunks_exact(2) {
        now += Duration::from_millis(u64::from(pair[0]) * 4);
        let cost = u32::from(pair[1] % 8).max(1);
        match bucket.take(now, cost) {
            Ok(()) => taken.push((now, f64::from(cost.min(burst)))),
            Err(wait) => {
                let mut again = bucket.clone();
                assert!(again.take(now + wait + Duration::from_micros(1), cost).is_ok());
            }
        }
    }
    for (i, (start, _)) in taken.iter().enumerate() {
        let mut sum = 0.0;
        for (at, cost) in &taken[i..] {
            sum += cost;
            assert!(sum <= f64::from(burst) + f64::from(rate) * (*at - *start).as_secs_f64() + 1e-6);
        }
    }
});
