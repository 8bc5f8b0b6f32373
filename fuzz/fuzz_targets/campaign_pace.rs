//! Any sequence of takes from a campaign's shared pace (`parley_domain::Pace`), as
//! processes would make them one after another on the stored state: what it grants in
//! any window is at most the burst plus the rate over the window, it never grants more
//! than asked, and a wait it names is enough for one more.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_domain::Pace;

fuzz_target!(|data: &[u8]| {
    let (Some(&rate), Some(&burst)) = (data.first(), data.get(1)) else {
        return;
    };
    let pace = Pace {
        rate: u32::from(rate.max(1)) * 40,
        burst: u32::from(burst.max(1)),
    };
    let mut state = 0;
    let mut now: i64 = 1_800_000_000_000_000;
    let mut granted: Vec<(i64, u64)> = Vec::new();
    for pair in data[2..].chunks_exact(2) {
        now += i64::from(pair[0]) * 1_000;
        let want = u32::from(pair[1]) * 3;
        let grant = pace.take(state, now, want);
        assert!(grant.granted <= want);
        state = grant.state;
        if grant.granted > 0 {
            granted.push((now, u64::from(grant.granted)));
        } else if want > 0 {
            let wait = i64::try_from(grant.wait.as_micros()).unwrap_or(i64::MAX);
            assert_eq!(pace.take(state, now + wait, 1).granted, 1);
        }
    }
    for (i, (start, _)) in granted.iter().enumerate() {
        let mut sum = 0u128;
        for (at, n) in &granted[i..] {
            sum += u128::from(*n);
            let span = u128::try_from(at - start).unwrap_or(0);
            assert!(sum <= u128::from(pace.burst) + u128::from(pace.rate) * span / 1_000_000);
        }
    }
});
