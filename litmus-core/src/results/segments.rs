//! Results per segment (`crate::segments`): an experiment's figures for each value of one
//! dimension, with the SRM check per segment, and every comparison's p-value corrected across
//! all the segments, metrics and variants shown.
//!
//! Segment results are exploratory: looking at many segments finds differences by chance, so
//! a verdict in a segment stands only after the correction across the whole breakdown (the
//! experiment's correction, or Holm when it has none), which keeps the chance of any false
//! verdict in an A/A test at or under alpha (`tests/segments.rs` simulates it).

use serde::Serialize;

use super::analysis::{ExperimentResults, Verdict, analyze, verdict_of};
use super::spec::{MetricSpec, Options};
use super::totals::VariantTotals;
use crate::error::Error;
use crate::stats::{Correction, multipletests};

/// One segment's totals: its value and its variants' totals (the control first).
#[derive(Debug, Clone)]
pub struct SegmentTotals {
    /// The dimension's value (or `(other)`, `(missing)`).
    pub value: String,
    /// Its variants' totals, in the experiment's order.
    pub variants: Vec<VariantTotals>,
}

/// One segment's results.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentResult {
    /// The dimension's value (or `(other)`, `(missing)`).
    pub value: String,
    /// Units exposed in the segment.
    pub units: u64,
    /// Its results: the same figures as the experiment's, with `adjusted_pvalue` and each
    /// verdict corrected across the breakdown.
    pub results: ExperimentResults,
}

/// An experiment's results broken down by one dimension.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentBreakdown {
    /// The dimension.
    pub dimension: String,
    /// The correction across the breakdown's comparisons.
    pub correction: &'static str,
    /// How many comparisons the correction spans.
    pub comparisons: usize,
    /// Why these results are exploratory.
    pub note: &'static str,
    /// The segments, largest first (`(other)` and `(missing)` last).
    pub segments: Vec<SegmentResult>,
}

/// What the breakdown says of itself.
pub const EXPLORATORY: &str = "Segment results are exploratory: p-values and verdicts are corrected across every segment, metric and variant shown, so treat a difference found in one segment as a lead to test, not a result.";

/// The results of `segments` (of `dimension`) on `metrics` with the experiment's `options`:
/// each segment analyzed alone, then every comparison's decision p-value corrected across the
/// breakdown with `options.correction` (Holm when it is `none`).
pub fn breakdown(
    dimension: &str,
    segments: &[SegmentTotals],
    metrics: &[MetricSpec],
    options: &Options,
) -> Result<SegmentBreakdown, Error> {
    let correction = match options.correction {
        Correction::None => Correction::Holm,
        c => c,
    };
    // Each segment's decision p-values, uncorrected (with `none`, adjusted = raw).
    let alone = Options {
        correction: Correction::None,
        ..*options
    };
    let mut out = Vec::with_capacity(segments.len());
    for s in segments {
        if s.variants.is_empty() {
            continue;
        }
        let results = analyze(&s.variants, metrics, &alone)?;
        out.push(SegmentResult {
            value: s.value.clone(),
            units: s.variants.iter().map(|v| v.units).sum(),
            results,
        });
    }
    // The family: every comparison with a p-value, in every segment.
    let mut family: Vec<(usize, usize, usize, f64)> = Vec::new();
    for (s, segment) in out.iter().enumerate() {
        for (m, metric) in segment.results.metrics.iter().enumerate() {
            for (v, row) in metric.variants.iter().enumerate() {
                if let Some(c) = &row.comparison {
                    if c.adjusted_pvalue.is_finite() {
                        family.push((s, m, v, c.adjusted_pvalue));
                    }
                }
            }
        }
    }
    if !family.is_empty() {
        let pvalues: Vec<f64> = family.iter().map(|f| f.3).collect();
        let adjusted = multipletests(&pvalues, options.alpha, correction)?;
        for (&(s, m, v, _), (&p, &reject)) in family
            .iter()
            .zip(adjusted.pvalues().iter().zip(adjusted.reject()))
        {
            let Some(result) = out.get_mut(s).and_then(|x| x.results.metrics.get_mut(m)) else {
                continue;
            };
            let (goal, cuped_decides) = (result.goal, options.cuped_decides());
            if let Some(c) = result
                .variants
                .get_mut(v)
                .and_then(|row| row.comparison.as_mut())
            {
                c.adjusted_pvalue = p;
                c.verdict = verdict_of(c, reject && !c.below_min_units, goal, cuped_decides);
            }
        }
    }
    for segment in &mut out {
        for result in &mut segment.results.metrics {
            if result.guardrail {
                result.guardrail_violated = result
                    .variants
                    .iter()
                    .filter_map(|row| row.comparison.as_ref())
                    .any(|c| c.verdict == Verdict::Worse);
            }
        }
    }
    // Largest first; the reserved segments last; ties by value.
    out.sort_by(|a, b| {
        let reserved = |s: &SegmentResult| {
            s.value == crate::segments::OTHER || s.value == crate::segments::MISSING
        };
        reserved(a)
            .cmp(&reserved(b))
            .then(b.units.cmp(&a.units))
            .then(a.value.cmp(&b.value))
    });
    Ok(SegmentBreakdown {
        dimension: dimension.to_owned(),
        correction: correction.as_str(),
        comparisons: family.len(),
        note: EXPLORATORY,
        segments: out,
    })
}
