//! When a failed delivery is tried again.
//!
//! After the n-th failed attempt (n = 1, 2, ...) the next one waits
//! `min(BASE_DELAY_MS * 2^(n-1), MAX_DELAY_MS)` times a jitter factor from 0.8 to 1.2
//! (`0.8 + 0.4 * jitter` in `f64`, the caller's `jitter` in `[0, 1)`), rounded down to a
//! millisecond:
//! 30 s, 1 min, 2 min, ... up to 4 h. The delivery is given up when the next attempt would
//! come more than [`GIVE_UP_AFTER_MS`] (30 h) after the first, so retries cover at least a
//! day: the last delay is at most 4.8 h, hence the last attempt is at least 25.2 h after the
//! first (`docs/webhooks.md` has the table).

/// The delay after the first failed attempt: 30 seconds.
pub const BASE_DELAY_MS: i64 = 30_000;

/// The longest delay between two attempts, before jitter: 4 hours.
pub const MAX_DELAY_MS: i64 = 4 * 60 * 60 * 1000;

/// No attempt is made more than this long after the first attempt: 30 hours.
pub const GIVE_UP_AFTER_MS: i64 = 30 * 60 * 60 * 1000;

/// The largest `f64` below 1, what a jitter of 1 or more is clamped to.
const MAX_JITTER: f64 = 1.0 - f64::EPSILON / 2.0;

/// The time (ms since the epoch) of the next attempt to deliver an event, after
/// `attempts_made` failed attempts, the first made at `first_attempt_ms` and the last one
/// ending at `now_ms`; `None` to give up.
///
/// `jitter` is the caller's uniform draw in `[0, 1)`; anything else is clamped into it (NaN
/// and negative numbers to 0, 1 and more to the largest number below 1). With no attempt made
/// yet (`attempts_made == 0`) the answer is `now_ms`. Never panics; times saturate at the
/// ends of `i64`.
pub fn next_attempt_ms(
    attempts_made: u32,
    first_attempt_ms: i64,
    now_ms: i64,
    jitter: f64,
) -> Option<i64> {
    let next = now_ms.saturating_add(delay_ms(attempts_made, jitter));
    (next.saturating_sub(first_attempt_ms) <= GIVE_UP_AFTER_MS).then_some(next)
}

/// The wait after `attempts_made` failed attempts (0 before the first attempt).
fn delay_ms(attempts_made: u32, jitter: f64) -> i64 {
    let Some(doublings) = attempts_made.checked_sub(1) else {
        return 0;
    };
    // 30 s * 2^9 is past the cap already: no shift goes further.
    let nominal = (BASE_DELAY_MS << doublings.min(10)).min(MAX_DELAY_MS);
    let jitter = if jitter >= 0.0 {
        jitter.min(MAX_JITTER)
    } else {
        0.0 // negative or NaN
    };
    // At most 1.2 * 4 h in ms: far inside an f64's exact integers, so the cast is exact.
    (nominal as f64 * (0.8 + 0.4 * jitter)).floor() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_from_30_s_to_4_h() {
        let delays: Vec<i64> = (1..=12)
            .map(|n| next_attempt_ms(n, 0, 0, 0.5).unwrap())
            .collect();
        assert_eq!(
            delays,
            [
                30_000, 60_000, 120_000, 240_000, 480_000, 960_000, 1_920_000, 3_840_000,
                7_680_000, 14_400_000, 14_400_000, 14_400_000
            ]
        );
        assert_eq!(next_attempt_ms(0, 5, 7, 0.5), Some(7));
        assert_eq!(next_attempt_ms(1, 0, 0, 0.0), Some(24_000));
        assert_eq!(next_attempt_ms(1, 0, 0, f64::NAN), Some(24_000));
        assert_eq!(next_attempt_ms(1, 0, 0, -3.0), Some(24_000));
        assert_eq!(next_attempt_ms(1, 0, 0, 7.0), Some(36_000));
        assert_eq!(next_attempt_ms(1, 0, 0, f64::INFINITY), Some(36_000));
    }

    #[test]
    fn gives_up_past_30_hours() {
        let first = 1_000;
        let at_limit = first + GIVE_UP_AFTER_MS - 30_000;
        assert_eq!(
            next_attempt_ms(1, first, at_limit, 0.5),
            Some(first + GIVE_UP_AFTER_MS)
        );
        assert_eq!(next_attempt_ms(1, first, at_limit + 1, 0.5), None);
        assert_eq!(next_attempt_ms(u32::MAX, i64::MIN, i64::MAX, 0.5), None);
        assert_eq!(
            next_attempt_ms(u32::MAX, i64::MAX, i64::MAX, 0.5),
            Some(i64::MAX)
        );
    }
}
