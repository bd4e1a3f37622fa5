//! What the results of an experiment cover: its variants (the control first) with their
//! weights, its metrics, and whether the split can be checked for a sample ratio mismatch.

use super::spec::{Goal, MetricKind, MetricSpec};
use crate::Kind;
use crate::assign::Experiment;

/// The variants and metrics to analyze.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// Variant keys and weights in config order; the first is the control.
    pub variants: Vec<(String, f64)>,
    /// The metrics, in the order shown.
    pub metrics: Vec<MetricSpec>,
    /// Whether the units per variant should follow the weights. Not for bandits: their
    /// weights change as they learn, so no single split is expected.
    pub check_srm: bool,
}

/// The plan for `experiment`, given the metric names tracked for its units (`tracked`, used
/// when it declares no metrics: each then counts as a conversion and as a mean, higher being
/// better, in name order).
pub fn plan<'a>(experiment: &Experiment, tracked: impl IntoIterator<Item = &'a str>) -> Plan {
    let metrics = if experiment.metrics().is_empty() {
        let mut names: Vec<&str> = tracked.into_iter().collect();
        names.sort_unstable();
        names.dedup();
        names
            .into_iter()
            .flat_map(|name| {
                [MetricKind::Conversion, MetricKind::Mean].map(|kind| MetricSpec {
                    key: name.to_owned(),
                    kind,
                    goal: Goal::Increase,
                    guardrail: false,
                    source: Default::default(),
                })
            })
            .collect()
    } else {
        experiment.metrics().to_vec()
    };
    Plan {
        variants: experiment
            .variants()
            .iter()
            .map(|v| (v.key().to_owned(), v.weight()))
            .collect(),
        metrics,
        check_srm: experiment.kind() != Kind::Bandit,
    }
}
