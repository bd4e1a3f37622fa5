//! Valid inference for bandits: a bandit's weights change over time, so pooling each arm's
//! units across periods of different weights is biased when the metric drifts between them
//! (an arm that got most of its units in a good week looks better than it is: Simpson's
//! paradox). Each arm is estimated instead within every period of constant weights, and the
//! periods are combined with the same weights for every arm: each period's share of all the
//! experiment's units. This is the stratified estimator GrowthBook's bandits use
//! (post-stratification on the weight periods; Imbens and Rubin, "Causal Inference", ch. 9,
//! for stratified randomized experiments): within a period the split is fixed, so each
//! period's difference is unbiased, and the weighted sum of unbiased differences is unbiased.
//!
//! - Arm `k`'s value: `Σ_p w_p m_kp`, its variance `Σ_p w_p² s²_kp / n_kp`, over the periods
//!   where it has at least 2 units, their weights `w_p ∝ N_p` (all units of period `p`)
//!   normalized over those periods.
//! - A treatment against the control: the same sums of the within-period differences, over the
//!   periods where both have at least 2 units; a normal (z) test and interval, corrected across
//!   the treatments with the experiment's correction.
//! - A unit's period is that of its first exposure (its weights then); its value is its total
//!   of the metric (a conversion: 1 when it has an event).

use serde::Serialize;

use super::analysis::{Estimate, Verdict};
use super::bandit::UnitRecord;
use super::spec::{Goal, MetricKind, MetricSpec, Options};
use crate::error::Error;
use crate::stats::dist::{normal_cdf, normal_isf, normal_pdf};
use crate::stats::multipletests;

/// What the results call this estimator.
pub const METHOD: &str = "stratified_by_weight_period";

/// One arm's value over the periods.
#[derive(Debug, Clone, Serialize)]
pub struct ArmEstimate {
    /// The variant.
    pub variant: String,
    /// Its units.
    pub units: u64,
    /// Its value (a rate or a mean per unit) with its interval; `None` without 2 units in any
    /// period.
    pub value: Option<Estimate>,
}

/// A treatment against the control.
#[derive(Debug, Clone, Serialize)]
pub struct ArmComparison {
    /// The treatment.
    pub variant: String,
    /// The difference (treatment minus control) with its interval.
    pub difference: Estimate,
    /// The relative lift (the treatment's value over the control's, minus 1) with its
    /// interval by the delta method, when the control's value is not zero.
    pub relative: Option<Estimate>,
    /// The two-sided p-value of the z test.
    pub pvalue: f64,
    /// The p-value corrected across the treatments.
    pub adjusted_pvalue: f64,
    /// The probability the treatment is better (a flat prior on the difference).
    pub probability_better: f64,
    /// The expected loss of shipping it (in the metric's units).
    pub expected_loss: f64,
    /// Better, worse or inconclusive at alpha after the correction.
    pub verdict: Verdict,
    /// The periods both arms have at least 2 units in.
    pub periods: usize,
}

/// A bandit metric's inference over its periods of constant weights.
#[derive(Debug, Clone, Serialize)]
pub struct BanditInference {
    /// The estimator ([`METHOD`]).
    pub method: &'static str,
    /// The metric.
    pub metric: String,
    /// Its kind (a conversion or a mean).
    pub kind: MetricKind,
    /// How many periods of constant weights had units.
    pub periods: usize,
    /// Each arm's value.
    pub arms: Vec<ArmEstimate>,
    /// Each treatment against the control (the first variant).
    pub comparisons: Vec<ArmComparison>,
}

/// A period's figure and the variance of it.
type Figures = (f64, f64);

/// Running moments of one (period, arm) cell (Welford).
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    n: u64,
    mean: f64,
    m2: f64,
}

impl Cell {
    fn push(&mut self, x: f64) {
        self.n += 1;
        let d = x - self.mean;
        self.mean += d / self.n as f64;
        self.m2 += d * (x - self.mean);
    }

    /// The variance of its mean (`s² / n`), with at least 2 units.
    fn variance_of_mean(&self) -> Option<f64> {
        (self.n >= 2).then(|| self.m2 / (self.n - 1) as f64 / self.n as f64)
    }
}

/// The stratified inference of `metric` for `variants` (the control first) from the units'
/// records, with weights changed at `changes_ms` (times in increasing order): a unit's period
/// is the number of changes at or before its first exposure.
///
/// # Errors
/// `invalid_argument` for a metric other than a conversion or a mean, change times out of
/// order, invalid options, or no variant.
pub fn stratified(
    variants: &[String],
    units: &[UnitRecord],
    changes_ms: &[i64],
    metric: &MetricSpec,
    options: &Options,
) -> Result<BanditInference, Error> {
    options.validate()?;
    if variants.is_empty() {
        return Err(Error::argument(
            "variants",
            "a bandit needs at least one variant",
        ));
    }
    let conversion = match metric.kind {
        MetricKind::Conversion => true,
        MetricKind::Mean => false,
        _ => {
            return Err(Error::argument(
                "metrics",
                format!(
                    "stratified bandit inference reads a conversion or mean metric; {:?} is a {} metric",
                    metric.key,
                    metric.kind.as_str()
                ),
            ));
        }
    };
    if changes_ms.windows(2).any(|w| w.first() >= w.last()) {
        return Err(Error::argument(
            "changes_ms",
            "the times the weights changed must be in increasing order",
        ));
    }
    let changes = changes_ms;
    let k = variants.len();
    let mut cells = vec![vec![Cell::default(); k]; changes.len() + 1];
    for u in units {
        let period = changes.partition_point(|&c| c <= u.first_ms);
        let value = if conversion {
            f64::from(u8::from(u.events > 0))
        } else {
            u.total
        };
        if let Some(cell) = cells.get_mut(period).and_then(|p| p.get_mut(u.variant)) {
            cell.push(value);
        }
    }
    let sizes: Vec<u64> = cells.iter().map(|p| p.iter().map(|c| c.n).sum()).collect();
    let level = options.alpha;
    let z = normal_isf(level / 2.0);
    // The weighted sums over the periods where `usable` holds: (Σ w x, Σ w² v, periods).
    let combine = |usable: &dyn Fn(&[Cell]) -> Option<Figures>| -> Option<(f64, f64, usize)> {
        let picked: Vec<(u64, f64, f64)> = cells
            .iter()
            .zip(&sizes)
            .filter_map(|(p, &size)| usable(p).map(|(x, v)| (size, x, v)))
            .collect();
        let total: u64 = picked.iter().map(|p| p.0).sum();
        if total == 0 {
            return None;
        }
        let (mut x, mut v) = (0.0, 0.0);
        for (size, xp, vp) in &picked {
            let w = *size as f64 / total as f64;
            x += w * xp;
            v += w * w * vp;
        }
        Some((x, v, picked.len()))
    };
    let arms: Vec<ArmEstimate> = variants
        .iter()
        .enumerate()
        .map(|(i, variant)| {
            let value = combine(&|p: &[Cell]| {
                let c = p.get(i)?;
                Some((c.mean, c.variance_of_mean()?))
            })
            .map(|(x, v, _)| interval(x, v.sqrt(), z));
            ArmEstimate {
                variant: variant.clone(),
                units: cells.iter().filter_map(|p| p.get(i)).map(|c| c.n).sum(),
                value,
            }
        })
        .collect();
    let control = arms.first().and_then(|a| a.value);
    let mut comparisons = Vec::new();
    for (i, variant) in variants.iter().enumerate().skip(1) {
        let Some((d, v, periods)) = combine(&|p: &[Cell]| {
            let (t, c) = (p.get(i)?, p.first()?);
            Some((
                t.mean - c.mean,
                t.variance_of_mean()? + c.variance_of_mean()?,
            ))
        }) else {
            continue;
        };
        let se = v.sqrt();
        let pvalue = if se > 0.0 {
            2.0 * normal_cdf(-(d / se).abs())
        } else if d == 0.0 {
            1.0
        } else {
            0.0
        };
        let increase = metric.goal == Goal::Increase;
        // P(difference > 0) and E[max(0, -difference)] for a Normal(d, se²) difference.
        let (up, loss_down, loss_up) = if se > 0.0 {
            let t = d / se;
            let up = normal_cdf(t);
            let loss_if_up_is_good = se * normal_pdf(t) - d * normal_cdf(-t);
            let loss_if_down_is_good = se * normal_pdf(t) + d * normal_cdf(t);
            (up, loss_if_up_is_good, loss_if_down_is_good)
        } else {
            let up = if d > 0.0 { 1.0 } else { 0.0 };
            (up, (-d).max(0.0), d.max(0.0))
        };
        comparisons.push(ArmComparison {
            variant: variant.clone(),
            difference: interval(d, se, z),
            relative: relative(control, arms.get(i).and_then(|a| a.value), z),
            pvalue,
            adjusted_pvalue: pvalue,
            probability_better: if increase { up } else { 1.0 - up },
            expected_loss: if increase { loss_down } else { loss_up },
            verdict: Verdict::Inconclusive,
            periods,
        });
    }
    if !comparisons.is_empty() {
        let pvalues: Vec<f64> = comparisons.iter().map(|c| c.pvalue).collect();
        let adjusted = multipletests(&pvalues, level, options.correction)?;
        for (c, (&p, &reject)) in comparisons
            .iter_mut()
            .zip(adjusted.pvalues().iter().zip(adjusted.reject()))
        {
            c.adjusted_pvalue = p;
            let better = (c.difference.estimate > 0.0) == (metric.goal == Goal::Increase);
            c.verdict = match (reject && c.difference.estimate != 0.0, better) {
                (false, _) => Verdict::Inconclusive,
                (true, true) => Verdict::Better,
                (true, false) => Verdict::Worse,
            };
        }
    }
    Ok(BanditInference {
        method: METHOD,
        metric: metric.key.clone(),
        kind: metric.kind,
        periods: sizes.iter().filter(|&&n| n > 0).count(),
        arms,
        comparisons,
    })
}

/// The treatment's value over the control's, minus 1, with its interval by the delta method
/// (the arms are independent): `var(t/c) ≈ var(t)/c² + t² var(c)/c⁴`.
fn relative(control: Option<Estimate>, treatment: Option<Estimate>, z: f64) -> Option<Estimate> {
    let (c, t) = (control?, treatment?);
    if c.estimate == 0.0 || z <= 0.0 {
        return None;
    }
    let (sc, st) = ((c.upper - c.estimate) / z, (t.upper - t.estimate) / z);
    let r = t.estimate / c.estimate;
    let v = st * st / (c.estimate * c.estimate) + r * r * sc * sc / (c.estimate * c.estimate);
    Some(interval(r - 1.0, v.sqrt(), z))
}

/// Puts the stratified figures of `inferences` in `results` (a bandit's): each treatment's
/// difference, relative lift, p-values (the always-valid ones too: a bandit's are the
/// stratified fixed-horizon test's), probability of being better, expected loss and verdict.
/// A metric without them (a ratio, quantile, retention or funnel: not per-unit sums) keeps its
/// pooled figures but no verdict, with a problem saying why. `results.inference` names the
/// estimator.
pub fn apply(results: &mut super::ExperimentResults, inferences: &[BanditInference]) {
    results.inference = Some(METHOD);
    for metric in &mut results.metrics {
        let found = inferences
            .iter()
            .find(|i| i.metric == metric.key && i.kind == metric.kind && metric.step.is_none());
        for row in metric.variants.iter_mut().skip(1) {
            let Some(c) = row.comparison.as_mut() else {
                continue;
            };
            let Some(s) =
                found.and_then(|i| i.comparisons.iter().find(|s| s.variant == row.variant))
            else {
                c.verdict = Verdict::Inconclusive;
                row.problem = Some(super::analysis::Problem {
                    code: "pooled_bandit",
                    message: "a bandit's weights moved: this metric's pooled figures may be biased, so it gives no verdict (stratified inference reads conversion and mean metrics)".into(),
                });
                continue;
            };
            c.difference = s.difference;
            c.relative = s.relative;
            c.pvalue = s.pvalue;
            c.sequential_pvalue = s.pvalue;
            c.sequential_difference = s.difference;
            c.adjusted_pvalue = s.adjusted_pvalue;
            c.probability_better = s.probability_better;
            c.expected_loss = s.expected_loss;
            c.verdict = if c.below_min_units {
                Verdict::Inconclusive
            } else {
                s.verdict
            };
            c.cuped = None;
        }
    }
}

/// `x ± z se`.
fn interval(x: f64, se: f64, z: f64) -> Estimate {
    Estimate {
        estimate: x,
        lower: x - z * se,
        upper: x + z * se,
    }
}
