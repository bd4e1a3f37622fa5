//! One insight: what was found, how serious it is, why, and the numbers behind it.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::results::MetricKind;

/// What an insight is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsightKind {
    /// The units per variant do not follow the weights: the split is broken.
    Srm,
    /// A per-minute series left its band.
    Anomaly,
    /// A guardrail metric is significantly worse in a variant.
    Guardrail,
    /// What to do with the experiment.
    Recommendation,
}

/// How urgent an insight is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth knowing.
    Info,
    /// Look at it.
    Warning,
    /// The results cannot be trusted, or users are being harmed.
    Critical,
}

/// An insight.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    /// What it is about.
    pub kind: InsightKind,
    /// How urgent.
    pub severity: Severity,
    /// One line.
    pub title: String,
    /// Why, in a sentence or two, with the figures.
    pub reason: String,
    /// The metric it concerns, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metric: Option<String>,
    /// The variant it concerns, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// When (the start of the minute), for anomalies.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_ms: Option<i64>,
    /// The numbers behind it, by name.
    pub numbers: BTreeMap<String, f64>,
}

impl Insight {
    /// An insight without metric, variant or time.
    pub(crate) fn new(
        kind: InsightKind,
        severity: Severity,
        title: String,
        reason: String,
    ) -> Self {
        Insight {
            kind,
            severity,
            title,
            reason,
            metric: None,
            variant: None,
            time_ms: None,
            numbers: BTreeMap::new(),
        }
    }

    /// With a number.
    pub(crate) fn number(mut self, name: &str, value: f64) -> Self {
        if value.is_finite() {
            self.numbers.insert(name.to_owned(), value);
        }
        self
    }
}

/// A metric named in prose with its kind, as the dashboard labels it: `purchase (conversion
/// rate)`, `purchase (mean per unit)`. An event may be measured both ways, so the key alone is
/// ambiguous.
pub(crate) fn metric_name(key: &str, kind: MetricKind) -> String {
    let kind = match kind {
        MetricKind::Conversion => "conversion rate",
        MetricKind::Mean => "mean per unit",
        MetricKind::Ratio => "ratio",
        MetricKind::Quantile => "quantile",
        MetricKind::Retention => "retention",
        MetricKind::Funnel => "funnel",
    };
    format!("{key} ({kind})")
}

/// A percentage with one decimal.
pub(crate) fn percent(x: f64) -> String {
    format!("{:.1}%", 100.0 * x)
}

/// A p-value as people read it.
pub(crate) fn pvalue(p: f64) -> String {
    if p < 1e-4 {
        "p < 0.0001".to_owned()
    } else {
        format!("p = {p:.4}")
    }
}
