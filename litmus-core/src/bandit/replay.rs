//! Offline comparison of policies on logged data: the replay method (Li, Chu, Langford, Wang
//! 2011), made valid for non-uniform logging by rejection sampling.
//!
//! The log is the experiment's units in exposure order, each with the arm it got, the
//! probability the logging policy gave that arm then (its propensity: the arm's weight at the
//! time) and its reward. A replayed policy walks the log:
//! 1. each entry is first kept with probability `p_min / propensity` (`p_min` the smallest
//!    propensity in the log), which makes the kept entries distributed as if every arm had
//!    been drawn uniformly;
//! 2. the policy picks an arm for the entry; when it is the logged arm, the policy sees the
//!    reward and learns from it (an accepted decision), otherwise the entry is skipped.
//!
//! The accepted rewards are then an unbiased sample of what the policy would have earned
//! (assuming rewards do not drift over time). The estimate is their mean, with a normal
//! interval; policies are compared on the same log and seeds. The more arms and the more
//! skewed the logging, the fewer entries are accepted: the count is reported.

use serde::Serialize;

use super::arm::Arm;
use super::policy::Policy;
use crate::error::Error;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};
use crate::stats::dist::normal_isf;

/// One logged decision.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LoggedPull {
    /// The arm the unit got.
    pub arm: usize,
    /// The probability the logging policy gave that arm, in (0, 1].
    pub propensity: f64,
    /// The unit's reward.
    pub reward: f64,
}

/// What replaying a policy on a log gave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplayEstimate {
    /// The mean reward per decision.
    pub value: f64,
    /// The interval's lower end (normal approximation, 1 - alpha).
    pub lower: f64,
    /// The interval's upper end.
    pub upper: f64,
    /// Decisions accepted (the sample size of the estimate).
    pub accepted: u64,
    /// Entries of the log.
    pub logged: u64,
}

/// Replays `policy` on `log` over `arms` arms, with random numbers from `seed`; the interval
/// is at level `1 - alpha`.
///
/// Errors: `invalid_argument` for an arm out of range, a propensity outside (0, 1], a reward
/// that is not finite, or alpha outside (0, 1); `degenerate_data` when no decision is
/// accepted.
pub fn replay(
    policy: &Policy,
    log: &[LoggedPull],
    arms: usize,
    seed: u64,
    alpha: f64,
) -> Result<ReplayEstimate, Error> {
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::argument(
            "alpha",
            format!("{alpha} must be in (0, 1)"),
        ));
    }
    for pull in log {
        if pull.arm >= arms {
            return Err(Error::argument(
                "log",
                format!("arm {} of {arms} arms", pull.arm),
            ));
        }
        if !(pull.propensity > 0.0 && pull.propensity <= 1.0) {
            return Err(Error::argument(
                "log",
                format!("propensity {} must be in (0, 1]", pull.propensity),
            ));
        }
        if !pull.reward.is_finite() {
            return Err(Error::argument("log", "rewards must be finite"));
        }
    }
    let p_min = log.iter().map(|p| p.propensity).fold(1.0, f64::min);
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut state = vec![Arm::new(); arms];
    let mut rewards = crate::stats::Moments::new();
    for pull in log {
        if rng.next_f64() >= p_min / pull.propensity {
            continue;
        }
        if policy.choose(&state, &mut rng)? != pull.arm {
            continue;
        }
        if let Some(arm) = state.get_mut(pull.arm) {
            arm.update(pull.reward)?;
        }
        rewards.push(pull.reward)?;
    }
    if rewards.count() == 0 {
        return Err(Error::degenerate("no logged decision matched the policy's"));
    }
    let se = rewards.std_error().unwrap_or(0.0);
    let z = normal_isf(alpha / 2.0);
    Ok(ReplayEstimate {
        value: rewards.mean(),
        lower: rewards.mean() - z * se,
        upper: rewards.mean() + z * se,
        accepted: rewards.count(),
        logged: log.len() as u64,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::bandit::{Options, Rule};

    /// A log of 3 arms converting 4%, 5% and 9%, drawn by a logging policy that gave the arms
    /// weights `weights` (not uniform).
    fn log(n: usize, weights: [f64; 3], seed: u64) -> Vec<LoggedPull> {
        let rates = [0.04, 0.05, 0.09];
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let u = rng.next_f64();
                let arm = if u < weights[0] {
                    0
                } else if u < weights[0] + weights[1] {
                    1
                } else {
                    2
                };
                let reward = f64::from(u8::from(rng.next_f64() < rates[arm]));
                LoggedPull {
                    arm,
                    propensity: weights[arm],
                    reward,
                }
            })
            .collect()
    }

    #[test]
    fn a_learning_policy_beats_uniform_and_each_arm_is_recovered() {
        let log = log(60_000, [0.5, 0.3, 0.2], 1);
        let thompson = Policy::thompson_beta();
        let t = replay(&thompson, &log, 3, 7, 0.05).unwrap();
        let uniform = Policy::new(
            Rule::EpsilonGreedy {
                epsilon: 1.0,
                decay: None,
            },
            Options::default(),
        )
        .unwrap();
        let u = replay(&uniform, &log, 3, 7, 0.05).unwrap();
        // Uniform earns the mean of the rates, 6%; Thompson approaches the best, 9%.
        assert!((u.lower..=u.upper).contains(&0.06), "{u:?}");
        assert!(t.value > 0.075 && t.lower > u.upper, "{t:?} vs {u:?}");
        assert!(t.accepted > 3_000 && t.logged == 60_000, "{t:?}");
    }

    #[test]
    fn bad_logs_are_errors() {
        let p = Policy::thompson_beta();
        let bad = |pull: LoggedPull| replay(&p, &[pull], 2, 0, 0.05).unwrap_err().code();
        let ok = LoggedPull {
            arm: 0,
            propensity: 0.5,
            reward: 1.0,
        };
        assert_eq!(bad(LoggedPull { arm: 2, ..ok }), "invalid_argument");
        assert_eq!(
            bad(LoggedPull {
                propensity: 0.0,
                ..ok
            }),
            "invalid_argument"
        );
        assert_eq!(
            bad(LoggedPull {
                reward: f64::NAN,
                ..ok
            }),
            "invalid_argument"
        );
        assert_eq!(
            replay(&p, &[], 2, 0, 0.05).unwrap_err().code(),
            "degenerate_data"
        );
        assert_eq!(
            replay(&p, &[ok], 2, 0, 1.0).unwrap_err().code(),
            "invalid_argument"
        );
    }
}
