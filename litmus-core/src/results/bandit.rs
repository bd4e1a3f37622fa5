//! Bandits closed over the rollups: each variant of a `bandit` experiment is an arm whose
//! reward is the unit's value of the experiment's first metric (converted or not, or its
//! total), so the arms come from the same totals as the results. Thompson sampling (a Beta(1, 1)
//! prior for conversions, a weak Normal-Gamma prior for means) gives the probability that each
//! arm is best, which becomes the variants' next weights (with a floor, after a burn-in).
//! With the goal `decrease`, lower rewards are better.

use serde::Serialize;

use super::analysis::moments;
use super::spec::{Goal, MetricKind, MetricSpec};
use super::totals::{Timeline, VariantTotals};
use crate::bandit::{Arm, Options as PolicyOptions, Policy, Rule};
use crate::error::Error;
use crate::stats::Moments;

/// How a bandit experiment is reweighed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BanditOptions {
    /// The least weight each variant keeps (so every arm keeps learning). Default 0.01.
    pub floor: f64,
    /// Units every variant needs before the weights move from equal. Default 100.
    pub burn_in: u64,
    /// New weights are published only when one moves by at least this much (absolute).
    /// Default 0.01.
    pub min_change: f64,
}

impl Default for BanditOptions {
    fn default() -> Self {
        BanditOptions {
            floor: 0.01,
            burn_in: 100,
            min_change: 0.01,
        }
    }
}

/// The arms of `totals` on `metric` (rewards negated for the goal `decrease`).
pub fn arms(totals: &[VariantTotals], metric: &MetricSpec) -> Result<Vec<Arm>, Error> {
    totals
        .iter()
        .map(|v| {
            let data = v.metrics.get(metric.rollup()).copied().unwrap_or_default();
            match metric.kind {
                MetricKind::Conversion => {
                    let converted = data.units.min(v.units);
                    let good = match metric.goal {
                        Goal::Increase => converted,
                        Goal::Decrease => v.units - converted,
                    };
                    Arm::from_counts(good, v.units)
                }
                MetricKind::Mean => {
                    let m = moments(v, &data)?;
                    let m = match metric.goal {
                        Goal::Increase => m,
                        Goal::Decrease if m.count() > 0 => {
                            Moments::from_parts(m.count(), -m.mean(), m.m2())?
                        }
                        Goal::Decrease => m,
                    };
                    Ok(Arm::from_moments(m))
                }
                _ => Err(not_a_reward(metric)),
            }
        })
        .collect()
}

/// The error for a bandit metric that is not a per-unit reward.
fn not_a_reward(metric: &MetricSpec) -> Error {
    Error::argument(
        "metrics",
        format!(
            "a bandit learns from a conversion or mean metric; {:?} is a {} metric",
            metric.key,
            metric.kind.as_str()
        ),
    )
}

/// Thompson sampling for the metric's kind, with these options.
fn policy(metric: &MetricSpec, floor: f64, burn_in: u64) -> Result<Policy, Error> {
    let rule = match metric.kind {
        MetricKind::Conversion => Rule::ThompsonBeta {
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        MetricKind::Mean => Rule::ThompsonNormal {
            prior_mean: 0.0,
            prior_kappa: 1e-3,
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        _ => return Err(not_a_reward(metric)),
    };
    Policy::new(
        rule,
        PolicyOptions {
            burn_in,
            floor,
            optimistic: None,
        },
    )
}

/// Draws when the posteriors are too far apart for quadrature (fixed seed: the weights do not
/// jitter between computations).
const DRAWS: usize = 200_000;

/// The probability that each variant is the best on `metric`, given `totals`.
pub fn probability_best(totals: &[VariantTotals], metric: &MetricSpec) -> Result<Vec<f64>, Error> {
    policy(metric, 0.0, 0)?.weights(&arms(totals, metric)?, DRAWS, 0)
}

/// The weights to publish now, or `None` when none moves by `min_change` from `current` (the
/// weights in the config, normalised here).
pub fn next_weights(
    totals: &[VariantTotals],
    metric: &MetricSpec,
    current: &[f64],
    options: &BanditOptions,
) -> Result<Option<Vec<f64>>, Error> {
    let next = policy(metric, options.floor, options.burn_in)?.weights(
        &arms(totals, metric)?,
        DRAWS,
        0,
    )?;
    let total: f64 = current.iter().sum();
    let moved = current.len() != next.len()
        || total <= 0.0
        || current
            .iter()
            .zip(&next)
            .any(|(c, n)| (c / total - n).abs() >= options.min_change);
    Ok(moved.then_some(next))
}

/// The probability of being best at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BestPoint {
    /// The end of the buckets included.
    pub time_ms: i64,
    /// Per variant, in order.
    pub values: Vec<f64>,
}

/// The probability that each variant is best on `metric` at each of `times` (cumulative data
/// up to it); times where it cannot be computed are left out.
pub fn probability_best_series(
    timeline: &Timeline,
    metric: &MetricSpec,
    times: &[i64],
) -> Vec<BestPoint> {
    times
        .iter()
        .filter_map(|t| {
            let totals = timeline.totals(Some(*t));
            probability_best(&totals, metric)
                .ok()
                .map(|values| BestPoint {
                    time_ms: *t,
                    values,
                })
        })
        .collect()
}

/// One unit of the log to replay: its variant (index), first exposure, and attributed events
/// and total of the metric.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnitRecord {
    /// The variant's index in the plan.
    pub variant: usize,
    /// When it was first exposed.
    pub first_ms: i64,
    /// Its attributed events of the metric.
    pub events: u64,
    /// Their total value.
    pub total: f64,
}

/// The log of `units` for replaying policies on `metric`: each unit's reward (converted or
/// not, or its total; negated for the goal `decrease`, so higher is always better) and its
/// propensity, the share its variant had in the newest of `weights` (time and weights per
/// variant, in time order) at or before its exposure (the first weights before any). Units
/// whose variant had no weight then are left out.
pub fn replay_log(
    units: &[UnitRecord],
    weights: &[(i64, Vec<f64>)],
    metric: &MetricSpec,
) -> Vec<crate::bandit::LoggedPull> {
    units
        .iter()
        .filter_map(|u| {
            let at = weights
                .iter()
                .rev()
                .find(|(t, _)| *t <= u.first_ms)
                .or_else(|| weights.first())?;
            let total: f64 = at.1.iter().sum();
            let propensity = at.1.get(u.variant).copied().unwrap_or(0.0) / total;
            if !(propensity > 0.0 && propensity <= 1.0) {
                return None;
            }
            let reward = match metric.kind {
                MetricKind::Conversion => f64::from(u8::from(u.events > 0)),
                MetricKind::Mean => u.total,
                _ => return None,
            };
            Some(crate::bandit::LoggedPull {
                arm: u.variant,
                propensity,
                reward: match metric.goal {
                    Goal::Increase => reward,
                    Goal::Decrease => -reward,
                },
            })
        })
        .collect()
}

/// Policies by name, for replays: `thompson` (Beta for conversions, Normal for means),
/// `ucb1`, `epsilon_greedy` (ε = 0.1) and `uniform`.
pub fn named_policy(name: &str, metric: &MetricSpec) -> Result<Policy, Error> {
    let rule = match name {
        "thompson" => return policy(metric, 0.0, 0),
        "ucb1" => Rule::Ucb1 { exploration: 2.0 },
        "epsilon_greedy" => Rule::EpsilonGreedy {
            epsilon: 0.1,
            decay: None,
        },
        "uniform" => Rule::EpsilonGreedy {
            epsilon: 1.0,
            decay: None,
        },
        other => {
            return Err(Error::argument(
                "policy",
                format!("{other:?} is not thompson, ucb1, epsilon_greedy or uniform"),
            ));
        }
    };
    Policy::new(rule, PolicyOptions::default())
}
