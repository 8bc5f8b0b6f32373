//! The retry schedule for generic jobs: exponential from 5 s, doubling per attempt, capped
//! at one hour, with up to 20 % jitter derived from the job id so retries of many jobs that
//! failed together spread out, yet a given job's schedule is reproducible in tests.

use std::time::Duration;

use parley_domain::JobId;

const BASE: Duration = Duration::from_secs(5);
const CAP: Duration = Duration::from_secs(3600);

/// The delay before retrying `job` after its `attempt`-th attempt failed (attempt ≥ 1).
#[must_use]
pub fn backoff(job: JobId, attempt: u32) -> Duration {
    let exp = attempt.saturating_sub(1).min(20);
    let raw = BASE.saturating_mul(1u32 << exp).min(CAP);
    // A cheap, stable mix of the id and the attempt (splitmix64's finaliser).
    let mut x =
        (job.uuid().as_u128() as u64) ^ u64::from(attempt).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    let jitter_permille = x % 201; // 0..=200 → 0 %..20 %
    raw + raw.mul_f64(jitter_permille as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn grows_then_caps() {
        let id = JobId::generate();
        let first = backoff(id, 1);
        assert!(first >= Duration::from_secs(5) && first <= Duration::from_secs(6));
        let third = backoff(id, 3);
        assert!(third >= Duration::from_secs(20) && third <= Duration::from_secs(24));
        let late = backoff(id, 40);
        assert!(late >= CAP && late <= CAP.mul_f64(1.2));
    }

    proptest! {
        #[test]
        fn stays_within_jitter_band_and_is_reproducible(bits in any::<u128>(), attempt in 1u32..50) {
            let id = JobId::from_uuid(uuid_from(bits));
            let d = backoff(id, attempt);
            let raw = BASE.saturating_mul(1u32 << attempt.saturating_sub(1).min(20)).min(CAP);
            prop_assert!(d >= raw && d <= raw.mul_f64(1.2));
            prop_assert_eq!(d, backoff(id, attempt));
        }
    }

    fn uuid_from(bits: u128) -> uuid::Uuid {
        uuid::Uuid::from_u128(bits)
    }
}
