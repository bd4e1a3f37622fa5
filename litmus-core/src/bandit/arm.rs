//! The state of one arm: its rewards' count, mean and M2, mergeable and serializable so the
//! server keeps it in rollups and updates it in batches.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::stats::Moments;

/// Rewards observed for one arm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Arm {
    rewards: Moments,
}

impl Arm {
    /// An arm with no pulls.
    pub fn new() -> Self {
        Self::default()
    }

    /// An arm from a summary of its rewards.
    pub fn from_moments(rewards: Moments) -> Self {
        Arm { rewards }
    }

    /// An arm of 0/1 rewards: `successes` out of `pulls`.
    pub fn from_counts(successes: u64, pulls: u64) -> Result<Self, Error> {
        let p = crate::stats::Proportion::new(successes, pulls)?;
        Ok(Arm {
            rewards: p.moments(),
        })
    }

    /// Records one reward; NaN and infinities are rejected (`invalid_argument`).
    pub fn update(&mut self, reward: f64) -> Result<(), Error> {
        self.rewards.push(reward)
    }

    /// Records a batch of rewards; if any is not finite, nothing is recorded.
    pub fn update_batch(&mut self, rewards: &[f64]) -> Result<(), Error> {
        let batch = Moments::from_slice(rewards)?;
        self.rewards.merge(&batch);
        Ok(())
    }

    /// Merges another arm's rewards (e.g. from another server) into this one.
    pub fn merge(&mut self, other: &Arm) {
        self.rewards.merge(&other.rewards);
    }

    /// How many times the arm was pulled.
    pub fn pulls(&self) -> u64 {
        self.rewards.count()
    }

    /// The sum of its rewards.
    pub fn reward_sum(&self) -> f64 {
        self.rewards.sum()
    }

    /// The mean reward (0 before any pull).
    pub fn mean(&self) -> f64 {
        self.rewards.mean()
    }

    /// The sum of squared deviations of the rewards from their mean.
    pub fn m2(&self) -> f64 {
        self.rewards.m2()
    }

    /// The sum of squared rewards, Σr² = M2 + n·mean².
    pub fn reward_sum_sq(&self) -> f64 {
        self.rewards.m2() + self.rewards.count() as f64 * self.rewards.mean() * self.rewards.mean()
    }

    /// The rewards' summary.
    pub fn moments(&self) -> &Moments {
        &self.rewards
    }
}
