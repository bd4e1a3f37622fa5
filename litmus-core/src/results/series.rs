//! The cumulative results over time, for the dashboard's charts: at evenly spaced times, each
//! variant's units and, per metric, each treatment's difference from the control with its
//! always-valid interval (intersected across the looks, so it only narrows).

use serde::Serialize;

use super::analysis::{Estimate, Posteriors, analyze_with};
use super::spec::MetricKind;
use super::spec::{MetricSpec, Options};
use super::totals::Timeline;
use crate::error::Error;
use crate::stats::sequential::SequentialState;

/// Units each of the control and the treatment needs before a look is folded into the
/// always-valid interval: the mSPRT estimates the variance from the data, which is reliable
/// only after a few hundred units (earlier looks could narrow the interval spuriously).
pub const BURN_IN_UNITS: u64 = 200;

/// Bucket sizes for the series, in ms: 1, 5, 15 and 30 minutes, 1, 3, 6 and 12 hours, 1 day.
const BUCKETS_MS: [i64; 9] = [
    60_000, 300_000, 900_000, 1_800_000, 3_600_000, 10_800_000, 21_600_000, 43_200_000, 86_400_000,
];

/// The smallest bucket (a whole number of minutes, from 1 minute to 1 day, then whole days)
/// that splits `span_ms` into at most `points` buckets: the rollups are read at that size.
pub fn bucket_ms(span_ms: i64, points: usize) -> i64 {
    let points = points.clamp(1, 500) as i64;
    let need = (span_ms.max(0) / points).saturating_add(1);
    BUCKETS_MS
        .iter()
        .copied()
        .find(|b| *b >= need)
        .unwrap_or_else(|| {
            need.div_euclid(86_400_000)
                .saturating_add(1)
                .saturating_mul(86_400_000)
        })
}

/// One treatment on one metric at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LiftPoint {
    /// The metric's key.
    pub metric: String,
    /// How the metric is read (an event may be both a conversion and a mean).
    pub kind: MetricKind,
    /// A funnel's step (from 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<usize>,
    /// The treatment's key.
    pub variant: String,
    /// Variant minus control.
    pub difference: f64,
    /// The relative lift, when the control's value is not 0.
    pub relative: Option<f64>,
    /// The always-valid interval of the difference so far (the intersection of the looks).
    pub sequential: Estimate,
    /// The always-valid interval as a relative lift (divided by the control's value then).
    pub sequential_relative: Option<Estimate>,
    /// The always-valid p-value so far (the minimum over the looks).
    pub sequential_pvalue: f64,
}

/// The results at one time.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    /// The end of the buckets included (ms since the epoch).
    pub time_ms: i64,
    /// Units exposed per variant so far.
    pub units: Vec<u64>,
    /// The comparisons that the data so far support.
    pub lifts: Vec<LiftPoint>,
}

/// The results at up to `points` evenly spaced times over the timeline's span (`points` is
/// clamped to 1..=500), each including every bucket that starts at or before it.
pub fn cumulative(
    timeline: &Timeline,
    metrics: &[MetricSpec],
    options: &Options,
    points: usize,
) -> Result<Vec<SeriesPoint>, Error> {
    options.validate()?;
    let Some((first, last)) = timeline.span() else {
        return Ok(Vec::new());
    };
    let points = points.clamp(1, 500) as i64;
    let step = (last.saturating_sub(first) / points).max(1);
    let mut times: Vec<i64> = (1..=points)
        .map(|i| first.saturating_add(step.saturating_mul(i)))
        .collect();
    times.retain(|t| *t < last);
    times.push(last);
    times.dedup();
    type Key = (String, MetricKind, Option<usize>, String);
    let mut states: std::collections::BTreeMap<Key, SequentialState> =
        std::collections::BTreeMap::new();
    let mut out = Vec::with_capacity(times.len());
    let all = timeline.totals_at(&times);
    for (time, totals) in times.into_iter().zip(all) {
        let results = analyze_with(&totals, metrics, options, Posteriors::Skipped)?;
        let mut lifts = Vec::new();
        for metric in &results.metrics {
            let control_value = metric.variants.first().and_then(|c| c.value);
            for row in metric.variants.iter().skip(1) {
                let Some(c) = &row.comparison else { continue };
                // The plug-in variance needs a burn-in before the looks count.
                if row.units < BURN_IN_UNITS
                    || totals.first().is_none_or(|c| c.units < BURN_IN_UNITS)
                {
                    continue;
                }
                let step = metric.step.map(|s| s.index);
                let state = states
                    .entry((metric.key.clone(), metric.kind, step, row.variant.clone()))
                    .or_default();
                state.observe_parts(
                    c.sequential_pvalue,
                    c.sequential_difference.lower,
                    c.sequential_difference.upper,
                );
                let (lower, upper) = state.interval();
                let sequential = Estimate {
                    estimate: c.difference.estimate,
                    lower,
                    upper,
                };
                let sequential_relative = control_value.filter(|v| *v != 0.0).map(|v| Estimate {
                    estimate: c.difference.estimate / v.abs(),
                    lower: lower / v.abs(),
                    upper: upper / v.abs(),
                });
                lifts.push(LiftPoint {
                    metric: metric.key.clone(),
                    kind: metric.kind,
                    step,
                    variant: row.variant.clone(),
                    difference: c.difference.estimate,
                    relative: c.relative.map(|r| r.estimate),
                    sequential,
                    sequential_relative,
                    sequential_pvalue: state.pvalue(),
                });
            }
        }
        out.push(SeriesPoint {
            time_ms: time,
            units: totals.iter().map(|v| v.units).collect(),
            lifts,
        });
    }
    Ok(out)
}
