//! Limits on guessing credentials, kept in this process's memory.
//!
//! * **Per client address**: failed sign-ins and failed API-key exchanges are counted per
//!   address in one-minute windows; past the limit the address is answered 429 until its
//!   window ends. Only failures count, so an office behind one address can sign in all
//!   at once.
//! * **Per account** (by email, whether or not an account has it, so that a lockout tells
//!   nothing about which emails exist): after `lockout_after` failures in a row the
//!   account is locked for 1 minute, then 5, 15 and 60 minutes for each further run of
//!   failures; a successful sign-in clears the count, and so do 24 hours without a
//!   failure. Each lockout is audited once (by the caller), never each failure.
//! * **Per API key id**: failed exchanges on `/auth/token` in one-minute windows.
//!
//! An attempt is counted when it is admitted, before its password is checked, and given
//! back if it succeeds: a burst of simultaneous guesses cannot slip past the limit while
//! the first ones are still being checked. Every map is bounded
//! ([`MAX_TRACKED`] keys); when one is full, expired entries go first, then the least
//! recently touched hundredth.
//!
//! The counts are per process: with several `parley serve` processes on one PostgreSQL
//! database each keeps its own, so the limits multiply by the number of processes.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::AppError;

/// The most keys one map tracks.
pub const MAX_TRACKED: usize = 100_000;

/// How long a counting window lasts.
const WINDOW: Duration = Duration::from_secs(60);

/// After this long without a failure an account's count starts again.
const FORGET_AFTER: Duration = Duration::from_secs(24 * 3600);

/// The lockouts, in order; the last repeats.
const LOCKOUTS: [Duration; 4] = [
    Duration::from_secs(60),
    Duration::from_secs(5 * 60),
    Duration::from_secs(15 * 60),
    Duration::from_secs(60 * 60),
];

/// The limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Failed sign-ins and key exchanges per client address per minute.
    pub address_failures_per_minute: u32,
    /// Failed sign-ins in a row that lock an account.
    pub lockout_after: u32,
    /// Failed exchanges per API key id per minute.
    pub key_failures_per_minute: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            address_failures_per_minute: 30,
            lockout_after: 10,
            key_failures_per_minute: 10,
        }
    }
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

fn until(later: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    (later - now).to_std().unwrap_or(Duration::ZERO)
}

/// One key's state: failures counted, attempts being checked, and (for accounts) the lock.
#[derive(Debug, Clone)]
struct Entry {
    /// When the current window started (windows), or the last failure (accounts).
    since: DateTime<Utc>,
    failures: u32,
    in_flight: u32,
    lockouts: u32,
    locked_until: Option<DateTime<Utc>>,
    touched: DateTime<Utc>,
}

impl Entry {
    fn new(now: DateTime<Utc>) -> Self {
        Self {
            since: now,
            failures: 0,
            in_flight: 0,
            lockouts: 0,
            locked_until: None,
            touched: now,
        }
    }
}

/// How a map's entries age.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// Fixed windows of [`WINDOW`], at most `limit` failures in each.
    Window { limit: u32 },
    /// Progressive lockouts after `after` failures in a row.
    Lockout { after: u32 },
}

/// A bounded map of keys to their counts.
#[derive(Debug)]
struct Counts {
    kind: Kind,
    entries: Mutex<HashMap<String, Entry>>,
}

/// What finishing an attempt changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Locked {
    /// Until when.
    pub until: DateTime<Utc>,
    /// How many failures in a row led to it.
    pub failures: u32,
}

impl Counts {
    fn new(kind: Kind) -> Self {
        Self {
            kind,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `entry` has nothing left to remember at `now`.
    fn expired(&self, entry: &Entry, now: DateTime<Utc>) -> bool {
        if entry.in_flight > 0 {
            return false;
        }
        match self.kind {
            Kind::Window { .. } => now - entry.since >= to_chrono(WINDOW),
            Kind::Lockout { .. } => {
                entry.locked_until.is_none_or(|u| u <= now)
                    && now - entry.since >= to_chrono(FORGET_AFTER)
            }
        }
    }

    /// Admits one attempt for `key`, or says how long to wait.
    fn admit(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if !entries.contains_key(key) && entries.len() >= MAX_TRACKED {
            entries.retain(|_, e| !self.expired(e, now));
            if entries.len() >= MAX_TRACKED {
                // Still full: the least recently touched hundredth goes.
                let mut idle: Vec<(DateTime<Utc>, String)> = entries
                    .iter()
                    .filter(|(_, e)| e.in_flight == 0)
                    .map(|(k, e)| (e.touched, k.clone()))
                    .collect();
                let evict = (MAX_TRACKED / 100).min(idle.len());
                if evict > 0 {
                    idle.select_nth_unstable(evict - 1);
                    for (_, k) in idle.into_iter().take(evict) {
                        entries.remove(&k);
                    }
                }
            }
        }
        let entry = entries
            .entry(key.to_owned())
            .or_insert_with(|| Entry::new(now));
        if self.expired(entry, now) {
            *entry = Entry::new(now);
        }
        entry.touched = now;
        match self.kind {
            Kind::Window { limit } => {
                if entry.failures + entry.in_flight >= limit {
                    return Err(
                        until(entry.since + to_chrono(WINDOW), now).max(Duration::from_secs(1))
                    );
                }
            }
            Kind::Lockout { after } => {
                if let Some(locked) = entry.locked_until.filter(|u| *u > now) {
                    return Err(until(locked, now));
                }
                if entry.failures + entry.in_flight >= after {
                    // The rest of this run is being checked now; its answer decides.
                    return Err(Duration::from_secs(1));
                }
            }
        }
        entry.in_flight += 1;
        Ok(())
    }

    /// Ends an admitted attempt: a success gives it back (and clears an account's run), a
    /// failure counts; the lockout it starts, if any.
    fn finish(&self, key: &str, succeeded: bool, now: DateTime<Utc>) -> Option<Locked> {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.get_mut(key)?;
        entry.in_flight = entry.in_flight.saturating_sub(1);
        entry.touched = now;
        match (self.kind, succeeded) {
            (Kind::Window { .. }, true) => None,
            (Kind::Window { .. }, false) => {
                entry.failures += 1;
                None
            }
            (Kind::Lockout { .. }, true) => {
                entry.failures = 0;
                entry.lockouts = 0;
                entry.locked_until = None;
                None
            }
            (Kind::Lockout { after }, false) => {
                entry.failures += 1;
                entry.since = now;
                if entry.failures < after {
                    return None;
                }
                let step = LOCKOUTS[(entry.lockouts as usize).min(LOCKOUTS.len() - 1)];
                entry.lockouts += 1;
                entry.failures = 0;
                let locked_until = now + to_chrono(step);
                entry.locked_until = Some(locked_until);
                Some(Locked {
                    until: locked_until,
                    failures: after * entry.lockouts,
                })
            }
        }
    }

    /// Gives back an attempt that ended without an answer (the caller went away).
    fn abandon(&self, key: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = entries.get_mut(key) {
            entry.in_flight = entry.in_flight.saturating_sub(1);
        }
    }
}

/// The process's guessing limits.
#[derive(Debug)]
pub struct Throttle {
    addresses: Counts,
    accounts: Counts,
    keys: Counts,
}

impl Throttle {
    /// Limits as `settings` say.
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            addresses: Counts::new(Kind::Window {
                limit: settings.address_failures_per_minute.max(1),
            }),
            accounts: Counts::new(Kind::Lockout {
                after: settings.lockout_after.max(1),
            }),
            keys: Counts::new(Kind::Window {
                limit: settings.key_failures_per_minute.max(1),
            }),
        }
    }

    /// Admits a sign-in from `client` for `email` (lower-cased), or refuses it with 429.
    pub(crate) fn admit_sign_in<'t>(
        &'t self,
        client: &str,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt<'t>, AppError> {
        self.admit(
            &[
                (&self.addresses, client, ADDRESS),
                (&self.accounts, email, ACCOUNT),
            ],
            now,
        )
    }

    /// Admits an API-key exchange from `client` for `key_id`, or refuses it with 429.
    pub(crate) fn admit_key<'t>(
        &'t self,
        client: &str,
        key_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt<'t>, AppError> {
        self.admit(
            &[
                (&self.addresses, client, ADDRESS),
                (
                    &self.keys,
                    key_id,
                    "too many failed attempts with this API key id",
                ),
            ],
            now,
        )
    }

    /// Admits a use of a one-time token (an invitation) from `client`.
    pub(crate) fn admit_token<'t>(
        &'t self,
        client: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt<'t>, AppError> {
        self.admit(&[(&self.addresses, client, ADDRESS)], now)
    }

    /// Admits a password check for the account of `email` (its lockout only).
    pub(crate) fn admit_account<'t>(
        &'t self,
        email: &str,
        now: DateTime<Utc>,
    ) -> Result<Attempt<'t>, AppError> {
        self.admit(&[(&self.accounts, email, ACCOUNT)], now)
    }

    /// Admits one attempt in every map, or none (what was admitted is given back).
    fn admit<'t>(
        &'t self,
        parts: &[(&'t Counts, &str, &'static str)],
        now: DateTime<Utc>,
    ) -> Result<Attempt<'t>, AppError> {
        let mut attempt = Attempt {
            parts: Vec::with_capacity(parts.len()),
            finished: false,
        };
        for (counts, key, why) in parts {
            counts
                .admit(key, now)
                .map_err(|after| limited(after, why))?;
            attempt.parts.push((*counts, (*key).to_owned()));
        }
        Ok(attempt)
    }
}

const ADDRESS: &str = "too many failed attempts from this address";
const ACCOUNT: &str = "this account is locked for a while after repeated failed sign-ins";

fn limited(retry_after: Duration, why: &'static str) -> AppError {
    AppError::RateLimited { retry_after, why }
}

/// An admitted attempt; finish it with its outcome. Dropped unfinished (the request went
/// away while its password was checked), it counts for nothing.
#[derive(Debug)]
pub(crate) struct Attempt<'t> {
    parts: Vec<(&'t Counts, String)>,
    finished: bool,
}

impl Attempt<'_> {
    /// Records the outcome; the account lockout it started, if any.
    pub(crate) fn finish(mut self, succeeded: bool, now: DateTime<Utc>) -> Option<Locked> {
        self.finished = true;
        let mut locked = None;
        for (counts, key) in &self.parts {
            locked = locked.or(counts.finish(key, succeeded, now));
        }
        locked
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if !self.finished {
            for (counts, key) in &self.parts {
                counts.abandon(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap_or_default()
    }

    fn settings() -> ThrottleSettings {
        ThrottleSettings {
            address_failures_per_minute: 100,
            lockout_after: 10,
            key_failures_per_minute: 10,
        }
    }

    fn sign_in(
        t: &Throttle,
        email: &str,
        ok: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Locked>, AppError> {
        Ok(t.admit_sign_in("198.51.100.7", email, now)?.finish(ok, now))
    }

    #[test]
    fn the_eleventh_wrong_password_in_a_minute_is_refused_and_lockouts_grow() {
        let t = Throttle::new(settings());
        for i in 0..9 {
            assert_eq!(sign_in(&t, "ann@example.com", false, at(i)).unwrap(), None);
        }
        let locked = sign_in(&t, "ann@example.com", false, at(9)).unwrap();
        assert_eq!(
            locked,
            Some(Locked {
                until: at(69),
                failures: 10
            })
        );
        // The 11th, even with the right password, waits; another account does not.
        let refused = sign_in(&t, "ann@example.com", true, at(10)).unwrap_err();
        assert!(
            matches!(refused, AppError::RateLimited { retry_after, .. } if retry_after == Duration::from_secs(59))
        );
        assert_eq!(sign_in(&t, "bob@example.com", false, at(10)).unwrap(), None);
        // After the lock the next run of ten locks for five minutes.
        for i in 0..9 {
            assert_eq!(
                sign_in(&t, "ann@example.com", false, at(70 + i)).unwrap(),
                None
            );
        }
        let second = sign_in(&t, "ann@example.com", false, at(79)).unwrap();
        assert_eq!(second.map(|l| l.until), Some(at(79 + 300)));
        // The right password after the lock clears everything.
        assert_eq!(sign_in(&t, "ann@example.com", true, at(380)).unwrap(), None);
        for i in 0..9 {
            assert_eq!(
                sign_in(&t, "ann@example.com", false, at(381 + i)).unwrap(),
                None
            );
        }
    }

    #[test]
    fn simultaneous_guesses_cannot_pass_the_limit_while_being_checked() {
        let t = Throttle::new(settings());
        let admitted: Vec<_> = (0..50)
            .filter_map(|_| {
                t.admit_sign_in("198.51.100.7", "ann@example.com", at(0))
                    .ok()
            })
            .collect();
        assert_eq!(admitted.len(), 10, "only a run's worth is checked at once");
        let locks: Vec<_> = admitted
            .into_iter()
            .filter_map(|a| a.finish(false, at(1)))
            .collect();
        assert_eq!(locks.len(), 1, "one lockout, audited once");
    }

    #[test]
    fn an_address_is_limited_by_its_failures_in_a_window_and_abandoned_attempts_count_nothing() {
        let t = Throttle::new(ThrottleSettings {
            address_failures_per_minute: 3,
            ..settings()
        });
        for (i, email) in ["a@x.com", "b@x.com", "c@x.com"].iter().enumerate() {
            sign_in(&t, email, false, at(i as i64)).unwrap();
        }
        assert!(matches!(
            sign_in(&t, "d@x.com", false, at(5)),
            Err(AppError::RateLimited { retry_after, .. }) if retry_after == Duration::from_secs(55)
        ));
        // Another address is not limited, and successes never count.
        let ok = t.admit_sign_in("203.0.113.9", "e@x.com", at(5)).unwrap();
        assert_eq!(ok.finish(true, at(5)), None);
        drop(t.admit_sign_in("203.0.113.9", "e@x.com", at(5)).unwrap());
        for i in 0..3 {
            let a = t
                .admit_sign_in("203.0.113.9", &format!("{i}@x.com"), at(6))
                .unwrap();
            a.finish(false, at(6));
        }
        // The window ends.
        assert!(sign_in(&t, "d@x.com", false, at(61)).is_ok());
    }

    #[test]
    fn maps_stay_bounded() {
        let t = Throttle::new(settings());
        for i in 0..(MAX_TRACKED + 500) {
            let a = t.admit_key(&format!("addr{i}"), "key_1", at(0));
            if let Ok(a) = a {
                a.finish(true, at(0));
            }
        }
        let size = t
            .addresses
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        assert!(size <= MAX_TRACKED, "{size}");
    }
}
