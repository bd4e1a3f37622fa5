//! Sign-in throttling, in two parts:
//! - an account locks after [`LOCK_AFTER`] failed sign-ins in a row, for a minute that doubles
//!   with each further failure up to an hour ([`lock_until`]; stored with the person, so every
//!   instance sees it);
//! - each client address has a bucket of [`BURST`] attempts on the sign-in routes, refilled by
//!   one every [`REFILL`] ([`AddressLimiter`]; in memory, per instance).
//!
//! Both are answered 429 with `Retry-After` and a message that says how long to wait.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failed sign-ins in a row after which an account locks.
pub const LOCK_AFTER: u32 = 5;

/// The first lock's length; each further failure doubles it.
pub const FIRST_LOCK_MS: i64 = 60_000;

/// The longest lock.
pub const LONGEST_LOCK_MS: i64 = 60 * 60_000;

/// Until when an account that has failed `failures` sign-ins in a row is locked, from `now_ms`
/// (none below [`LOCK_AFTER`]).
pub fn lock_until(failures: u32, now_ms: i64) -> Option<i64> {
    let beyond = failures.checked_sub(LOCK_AFTER)?;
    let length = FIRST_LOCK_MS
        .saturating_mul(1i64 << beyond.min(20))
        .min(LONGEST_LOCK_MS);
    Some(now_ms.saturating_add(length))
}

/// The attempts an address may make at once.
pub const BURST: f64 = 10.0;

/// How long an address waits for one more attempt.
pub const REFILL: Duration = Duration::from_secs(6);

/// The most addresses remembered; when full, the ones whose bucket has refilled are dropped.
const CAPACITY: usize = 100_000;

/// Each address's bucket of sign-in attempts: (attempts left, when counted).
#[derive(Clone, Default)]
pub struct AddressLimiter {
    buckets: Arc<Mutex<HashMap<IpAddr, (f64, Instant)>>>,
}

impl AddressLimiter {
    /// Takes one attempt for `address` at `now`: `Ok` when it had one left, else how many
    /// seconds until it has.
    pub fn take(&self, address: IpAddr, now: Instant) -> Result<(), u32> {
        let per_second = 1.0 / REFILL.as_secs_f64();
        let mut buckets = crate::store::lock(&self.buckets);
        if buckets.len() >= CAPACITY {
            buckets.retain(|_, (left, at)| {
                *left + now.saturating_duration_since(*at).as_secs_f64() * per_second < BURST
            });
        }
        let (left, at) = buckets.entry(address).or_insert((BURST, now));
        let refilled =
            (*left + now.saturating_duration_since(*at).as_secs_f64() * per_second).min(BURST);
        *at = now;
        if refilled >= 1.0 {
            *left = refilled - 1.0;
            Ok(())
        } else {
            *left = refilled;
            Err(((1.0 - refilled) / per_second).ceil().max(1.0) as u32)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_lock_longer_with_each_failure_up_to_an_hour() {
        assert_eq!(lock_until(LOCK_AFTER - 1, 0), None);
        assert_eq!(lock_until(LOCK_AFTER, 0), Some(FIRST_LOCK_MS));
        assert_eq!(lock_until(LOCK_AFTER + 1, 0), Some(2 * FIRST_LOCK_MS));
        assert_eq!(lock_until(LOCK_AFTER + 30, 0), Some(LONGEST_LOCK_MS));
        assert_eq!(lock_until(u32::MAX, i64::MAX), Some(i64::MAX));
    }

    #[test]
    fn an_address_gets_a_burst_then_one_attempt_per_refill() {
        let limiter = AddressLimiter::default();
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let t0 = Instant::now();
        for _ in 0..BURST as usize {
            assert_eq!(limiter.take(a, t0), Ok(()));
        }
        let wait = limiter.take(a, t0).expect_err("the burst is spent");
        assert_eq!(u64::from(wait), REFILL.as_secs());
        // Another address is not affected.
        assert_eq!(limiter.take(b, t0), Ok(()));
        // One more attempt after one refill, not two.
        let later = t0 + REFILL;
        assert_eq!(limiter.take(a, later), Ok(()));
        assert!(limiter.take(a, later).is_err());
    }
}
