//! What to analyze: the metrics of an experiment and the analysis options.

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::stats::Correction;
use crate::stats::srm::SRM_THRESHOLD;

/// How a metric is summarized per unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// The share of exposed units with at least one event (a conversion rate).
    Conversion,
    /// The mean per exposed unit of its total value (units without events count as 0).
    Mean,
}

impl MetricKind {
    /// Its name in the config: `conversion` or `mean`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Conversion => "conversion",
            MetricKind::Mean => "mean",
        }
    }
}

/// Which direction of change is good.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Goal {
    /// Higher is better (purchases, revenue).
    #[default]
    Increase,
    /// Lower is better (errors, latency, churn).
    Decrease,
}

impl Goal {
    /// Its name in the config: `increase` or `decrease`.
    pub fn as_str(self) -> &'static str {
        match self {
            Goal::Increase => "increase",
            Goal::Decrease => "decrease",
        }
    }
}

/// One metric of an experiment: an event name and how to read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// The tracked event's name (`purchase`).
    pub key: String,
    /// Conversion or mean.
    pub kind: MetricKind,
    /// Which direction is good.
    #[serde(default)]
    pub goal: Goal,
    /// A guardrail: watched for harm, not counted among the decision metrics.
    #[serde(default)]
    pub guardrail: bool,
}

/// Which p-values decide: the always-valid ones (safe to look at any time) or the
/// fixed-horizon ones (valid only at a sample size fixed in advance).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum DecisionBasis {
    /// The mSPRT p-values (the default: dashboards are looked at continuously).
    #[default]
    Sequential,
    /// The t-test and z-test p-values.
    FixedHorizon,
}

/// How the results are computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The significance level (two-sided), in (0, 1). Default 0.05.
    pub alpha: f64,
    /// The correction across the decision metrics and treatment variants. Default Holm.
    pub correction: Correction,
    /// Which p-values decide. Default sequential.
    pub basis: DecisionBasis,
    /// The units per group at which the always-valid interval is narrowest (the mSPRT's
    /// mixing variance is set for it; see [`super::analysis::tau2`]). Smaller values favour
    /// large effects seen early, larger ones small effects in long experiments. Default 5000.
    pub sequential_tuning: f64,
    /// The SRM p-value threshold. Default [`SRM_THRESHOLD`] (0.001).
    pub srm_threshold: f64,
    /// Whether to check the split at all (not for bandits; see [`super::Plan`]). Default true.
    pub check_srm: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            alpha: 0.05,
            correction: Correction::Holm,
            basis: DecisionBasis::Sequential,
            sequential_tuning: 5_000.0,
            srm_threshold: SRM_THRESHOLD,
            check_srm: true,
        }
    }
}

impl Options {
    /// Checks every option's domain.
    pub fn validate(&self) -> Result<(), Error> {
        let open_unit = |x: f64| x > 0.0 && x < 1.0;
        if !open_unit(self.alpha) {
            return Err(Error::argument(
                "alpha",
                format!("{} must be in (0, 1)", self.alpha),
            ));
        }
        if !open_unit(self.srm_threshold) {
            return Err(Error::argument(
                "srm_threshold",
                format!("{} must be in (0, 1)", self.srm_threshold),
            ));
        }
        if !(self.sequential_tuning.is_finite() && self.sequential_tuning >= 1.0) {
            return Err(Error::argument(
                "sequential_tuning",
                format!("{} must be finite and >= 1", self.sequential_tuning),
            ));
        }
        Ok(())
    }
}
