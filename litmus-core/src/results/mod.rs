//! Experiment results from the rollups: everything the results API and the dashboard show is
//! computed here, from sufficient statistics, by the [`crate::stats`] functions.
//!
//! - [`spec`]: the metrics of an experiment ([`MetricSpec`]: conversion or mean, the good
//!   direction, guardrail or not) and the [`Options`] (alpha, correction, decision basis).
//! - [`plan`](mod@plan): the variants and metrics of a compiled experiment ([`Plan`]).
//! - [`totals`]: a [`Timeline`] of an experiment's rollup rows, added up per variant into
//!   [`VariantTotals`] (in all, or up to a time).
//! - [`analysis`]: [`analyze`] gives, per metric and variant, the value with its interval and,
//!   against the control, the difference and relative lift with intervals, the fixed-horizon
//!   and always-valid p-values, the probability of being better, the expected loss, a verdict
//!   adjusted across the decision metrics, guardrail violations, and the SRM check.
//! - [`bandit`]: the arms of a bandit experiment from its totals, the probability each is
//!   best, and the next weights to publish.
//! - [`bandit_inference`]: a bandit's arms and comparisons estimated within its periods of
//!   constant weights and combined (valid when the metric drifts while the weights move).
//! - [`series`]: [`cumulative`] results over time, with the always-valid interval intersected
//!   across the looks.
//! - [`segments`](mod@segments): the results per value of one dimension, corrected across
//!   the breakdown ([`breakdown`]).
//!
//! Per unit, a metric is the unit's total of the event's values from its first exposure on
//! (see `docs/events.md`); units exposed without an event count as 0 (means) or as not
//! converted (rates). The rollups hold, per variant, the units exposed, the units with an
//! event, the sum of the totals and the sum of their squares, which is all a mean's and a
//! rate's tests need.

pub mod analysis;
pub mod bandit;
pub mod bandit_inference;
pub mod bandit_inference_json;
pub mod capping;
mod figures;
pub mod holdout;
pub mod plan;
pub mod planning;
pub mod segments;
pub mod series;
pub mod settings;
pub mod spec;
pub mod totals;

pub use analysis::{
    Comparison, CupedFigures, Estimate, ExperimentResults, FunnelStep, MetricResult, Problem, Srm,
    VariantMetric, Verdict, analyze,
};
pub use bandit::{BanditOptions, BestPoint, next_weights, probability_best};
pub use capping::{UnitValue, percentile_cap};
pub use plan::{Plan, plan};
pub use segments::{SegmentBreakdown, SegmentResult, SegmentTotals, breakdown};
pub use series::{BURN_IN_UNITS, LiftPoint, SeriesPoint, bucket_ms, cumulative};
pub use settings::{AnalysisSettings, LiftPrior, RatePrior};
pub use spec::{CupedRole, DecisionBasis, Goal, MetricKind, MetricSpec, Options, Sides, Source};
pub use totals::{Timeline, VariantTotals};

#[cfg(test)]
mod tests;
