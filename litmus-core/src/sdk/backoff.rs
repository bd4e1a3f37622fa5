//! Waiting between attempts: exponential backoff with full jitter, and jittered intervals.
//!
//! After the n-th failure in a row (n = 1, 2, ...) the wait is uniform in
//! `[0, min(max, base * 2^(n-1))]` ("full jitter"), so clients that failed together do not
//! come back together. Periodic work (polling) waits its interval times a factor uniform in
//! `[0.9, 1.1]`: on average the interval, spread both ways.

use crate::rng::RandomSource;

/// The smallest base a server's `retry` may set, so `retry: 0` cannot make a client spin.
pub const MIN_BASE_MS: f64 = 10.0;

/// Exponential backoff with full jitter.
#[derive(Debug, Clone, PartialEq)]
pub struct Backoff {
    base_ms: f64,
    max_ms: f64,
    failures: u32,
}

impl Backoff {
    /// A backoff whose first wait is at most `base_ms` and no wait exceeds `max_ms` (the base
    /// is capped at the maximum).
    pub fn new(base_ms: f64, max_ms: f64) -> Self {
        Backoff {
            base_ms: base_ms.min(max_ms),
            max_ms,
            failures: 0,
        }
    }

    /// Counts a failure and draws the wait before the next attempt, in milliseconds.
    pub fn next_delay(&mut self, rng: &mut impl RandomSource) -> f64 {
        self.failures = self.failures.saturating_add(1);
        rng.next_f64() * self.ceiling()
    }

    /// The upper end of the next draw (without counting a failure).
    pub fn ceiling(&self) -> f64 {
        // Capped: days of failures must not overflow.
        let growth = f64::from(1u32 << self.failures.saturating_sub(1).min(30));
        (self.base_ms * growth).min(self.max_ms)
    }

    /// Forgets the failures: the next wait starts from the base again.
    pub fn reset(&mut self) {
        self.failures = 0;
    }

    /// Failures in a row counted so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// Replaces the base (a server's `retry` hint), at least [`MIN_BASE_MS`] and at most the
    /// maximum.
    pub fn set_base(&mut self, base_ms: f64) {
        self.base_ms = base_ms.max(MIN_BASE_MS).min(self.max_ms);
    }
}

/// `interval_ms` times a factor uniform in `[0.9, 1.1]`.
pub fn jittered(interval_ms: f64, rng: &mut impl RandomSource) -> f64 {
    interval_ms * (0.9 + 0.2 * rng.next_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Xoshiro256PlusPlus;

    #[test]
    fn full_jitter_doubles_to_the_cap_and_resets() {
        let mut b = Backoff::new(1000.0, 30_000.0);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let mut ceilings = Vec::new();
        for _ in 0..7 {
            let c = {
                let mut probe = b.clone();
                probe.failures += 1;
                probe.ceiling()
            };
            let d = b.next_delay(&mut rng);
            assert!((0.0..=c).contains(&d));
            ceilings.push(c);
        }
        assert_eq!(
            ceilings,
            [1000.0, 2000.0, 4000.0, 8000.0, 16000.0, 30000.0, 30000.0]
        );
        b.reset();
        assert_eq!(b.failures(), 0);
        for _ in 0..100 {
            b.next_delay(&mut rng);
        }
        assert!(b.ceiling() <= 30_000.0);
        b.set_base(0.0);
        b.reset();
        b.next_delay(&mut rng);
        assert_eq!(b.ceiling(), MIN_BASE_MS);
    }

    #[test]
    fn jitter_within_ten_percent() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
        for _ in 0..1000 {
            let w = jittered(30_000.0, &mut rng);
            assert!((27_000.0..33_000.0).contains(&w));
        }
    }
}
