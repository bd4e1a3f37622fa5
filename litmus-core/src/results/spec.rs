//! What to analyze: the metrics of an experiment and the analysis options.

use super::settings::{LiftPrior, RatePrior};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::stats::Correction;
use crate::stats::srm::SRM_THRESHOLD;

/// How a metric is summarized per unit.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MetricKind {
    /// The share of exposed units with at least one event (a conversion rate).
    #[default]
    Conversion,
    /// The mean per exposed unit of its value (units without events count as 0).
    Mean,
    /// The sum of one metric over the sum of another, per variant (revenue per order).
    Ratio,
    /// A quantile of events' or units' values (p90 page-load time).
    Quantile,
    /// The share of exposed units with an event in a window some time after their exposure,
    /// over the units whose window has passed (day-7 retention).
    Retention,
    /// Ordered steps, each the share of exposed units that reached it.
    Funnel,
}

impl MetricKind {
    /// Its name in the config: `conversion` or `mean`.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Conversion => "conversion",
            MetricKind::Mean => "mean",
            MetricKind::Ratio => "ratio",
            MetricKind::Quantile => "quantile",
            MetricKind::Retention => "retention",
            MetricKind::Funnel => "funnel",
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

/// One metric of an experiment: its key and how to read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricSpec {
    /// The metric's key: a catalogue metric's, or the tracked event's name (`purchase`).
    pub key: String,
    /// What is computed.
    pub kind: MetricKind,
    /// Which direction is good.
    #[serde(default)]
    pub goal: Goal,
    /// A guardrail: watched for harm, not counted among the decision metrics.
    #[serde(default)]
    pub guardrail: bool,
    /// Where its figures are kept and how they are read (by default: the rows of the event
    /// named `key`).
    #[serde(default, skip_serializing_if = "Source::is_default")]
    pub source: Source,
}

impl MetricSpec {
    /// The rollup id of its rows: [`Source::rollup`], or the key.
    pub fn rollup(&self) -> &str {
        if self.source.rollup.is_empty() {
            &self.key
        } else {
            &self.source.rollup
        }
    }
}

/// Where a metric's figures are kept (rollup ids, see `crate::metrics::Metric::rollup`) and
/// what the analysis needs beyond its kind.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Source {
    /// The rows' id (a ratio's cross products; a funnel's steps are `{id}#{k}`); empty: the key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rollup: String,
    /// A ratio's numerator rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub numerator: Option<String>,
    /// A ratio's denominator rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub denominator: Option<String>,
    /// A funnel's steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
    /// Retention: a cohort counts once this long has passed since its exposure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matures_after_ms: Option<i64>,
    /// A quantile metric's quantile.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantile: Option<f64>,
    /// Whether a quantile ranks units' values (else events').
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unit_quantile: bool,
    /// An absolute cap on unit values (applied by the rollups).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    /// A percentile cap on unit values, applied at analysis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percentile_cap: Option<f64>,
    /// How figures are shown: `number`, `percent`, `currency` or `duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A currency metric's ISO 4217 code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// A human name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Source {
    /// Whether it is the default (the event's own rows, nothing more).
    pub fn is_default(&self) -> bool {
        *self == Source::default()
    }
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

/// Two-sided tests, or one-sided ones in each metric's direction (better for decision
/// metrics, worse for guardrails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Sides {
    /// Two-sided (the default).
    #[default]
    #[serde(rename = "two_sided")]
    Two,
    /// One-sided: intervals at `1 - 2 alpha`, whose bound on the tested side is the
    /// one-sided bound at `1 - alpha`.
    #[serde(rename = "one_sided")]
    One,
}

/// What CUPED's figures are for (means whose units had activity before their exposure).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum CupedRole {
    /// Shown beside the unadjusted figures, which decide (the default).
    #[default]
    Show,
    /// The adjusted difference decides (its p-value, or its always-valid test).
    Decide,
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
    /// Two- or one-sided tests. Default two-sided.
    pub sides: Sides,
    /// Whether CUPED decides or is shown beside. Default shown.
    pub cuped: CupedRole,
    /// The Beta prior of each variant's rate. Default Beta(1, 1) (uniform).
    pub rate_prior: super::settings::RatePrior,
    /// The Normal prior of relative lifts (means, ratios, quantiles). Default none (flat).
    pub lift_prior: Option<super::settings::LiftPrior>,
    /// Units each of the control and a variant needs before a verdict. Default 0.
    pub min_units: u64,
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
            sides: Sides::Two,
            cuped: CupedRole::Show,
            rate_prior: super::settings::RatePrior {
                alpha: 1.0,
                beta: 1.0,
            },
            lift_prior: None,
            min_units: 0,
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
        if self.sides == Sides::One && self.basis == DecisionBasis::Sequential {
            return Err(Error::argument(
                "sides",
                "a one-sided test decides on fixed-horizon p-values (the always-valid test is \
                 two-sided)",
            ));
        }
        let max = crate::stats::bayes::MAX_BETA_PARAMETER;
        let RatePrior { alpha, beta } = self.rate_prior;
        if !(alpha.is_finite() && beta.is_finite() && (1.0..=max).contains(&alpha.min(beta)))
            || alpha.max(beta) > max
        {
            return Err(Error::argument(
                "rate_prior",
                format!("Beta({alpha}, {beta}) needs both parameters in [1, {max:e}]"),
            ));
        }
        if let Some(LiftPrior { mean, sd }) = self.lift_prior {
            if !(mean.is_finite() && sd.is_finite() && sd > 0.0) {
                return Err(Error::argument(
                    "lift_prior",
                    format!("N({mean}, {sd}²) needs a finite mean and a finite sd > 0"),
                ));
            }
        }
        Ok(())
    }

    /// Whether CUPED's adjusted figures decide (when they can be computed).
    pub fn cuped_decides(&self) -> bool {
        self.cuped == CupedRole::Decide
    }

    /// The level of the intervals shown: `alpha` for two-sided tests, `2 alpha` for one-sided
    /// ones (so the bound on the tested side is the one-sided bound).
    pub fn interval_alpha(&self) -> f64 {
        match self.sides {
            Sides::Two => self.alpha,
            Sides::One => (2.0 * self.alpha).min(0.999),
        }
    }
}
