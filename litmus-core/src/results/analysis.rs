//! The results of an experiment from its totals: per metric and variant, the value with its
//! interval; against the control, the difference and relative lift with intervals, the
//! fixed-horizon and always-valid p-values, the Bayesian probability of being better and the
//! expected loss; decisions adjusted across the decision metrics; guardrails; the SRM check.

use serde::Serialize;

use super::figures::{self, Figures};
use super::spec::{CupedRole, DecisionBasis, Goal, MetricKind, MetricSpec, Options, Sides};
use super::totals::VariantTotals;
use crate::error::Error;
use crate::events::MetricRollup;
use crate::stats::bayes::{
    BetaPosterior, NormalPosterior, expected_losses, normal_expected_loss, normal_prob_beats,
    prob_beats,
};
use crate::stats::dist::{normal_cdf, normal_pdf};
use crate::stats::interval::{Interval, diff_means_confint, mean_confint, relative_lift_confint};
use crate::stats::proportions::{
    ProportionMethod, ZVariance, newcombe_diff_confint, proportion_confint, proportions_ztest,
};
use crate::stats::quantile::{quantile_interval, quantile_ztest};
use crate::stats::sequential::{msprt, msprt_means, msprt_proportions};
use crate::stats::summary::{CoMoments, Moments};
use crate::stats::ttest::{Alternative, ttest_ind};
use crate::stats::variance_reduction::{Cuped, cuped, ratio_ztest};
use crate::stats::{multipletests, srm_check};

/// An estimate with its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    /// The point estimate.
    pub estimate: f64,
    /// The interval's lower end.
    pub lower: f64,
    /// The interval's upper end.
    pub upper: f64,
}

impl From<&Interval> for Estimate {
    fn from(i: &Interval) -> Self {
        Estimate {
            estimate: i.estimate(),
            lower: i.lower(),
            upper: i.upper(),
        }
    }
}

/// The CUPED-adjusted comparison of a mean (Deng et al. 2013), with each unit's total of the
/// metric before its exposure as the covariate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CupedFigures {
    /// The adjusted difference with its interval at `1 - alpha`.
    pub difference: Estimate,
    /// Welch's p-value of the adjusted difference.
    pub pvalue: f64,
    /// The share of the difference's variance removed (0 to 1).
    pub variance_reduction: f64,
    /// The adjustment coefficient θ.
    pub theta: f64,
}

/// What the data say about a variant against the control, in the metric's good direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better (after the correction, for decision metrics).
    Better,
    /// Significantly worse.
    Worse,
    /// Not significant.
    Inconclusive,
}

/// Why a figure could not be computed (too little data, no variance).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// The error's stable code (`degenerate_data`).
    pub code: &'static str,
    /// What is missing.
    pub message: String,
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        Problem {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

/// A variant compared with the control on one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    /// Variant minus control, with its (fixed-horizon) interval at `1 - alpha`.
    pub difference: Estimate,
    /// (variant - control) / control by the delta method, when the control's value is not 0.
    pub relative: Option<Estimate>,
    /// The fixed-horizon two-sided p-value (Welch's t-test, or the pooled z-test for rates).
    pub pvalue: f64,
    /// The always-valid (mSPRT) p-value at this look.
    pub sequential_pvalue: f64,
    /// The always-valid interval of the difference at this look.
    pub sequential_difference: Estimate,
    /// The p-value of the decision basis, adjusted across the decision metrics and variants
    /// (for a guardrail: its own p-value, unadjusted).
    pub adjusted_pvalue: f64,
    /// P(the variant is better than the control), in the metric's good direction: Beta(1, 1)
    /// priors for rates, flat priors (Normal posteriors) for means.
    pub probability_better: f64,
    /// The expected loss of shipping the variant: E[max(control - variant, 0)] in the good
    /// direction, in the metric's units.
    pub expected_loss: f64,
    /// Better, worse or inconclusive, from the adjusted p-value and the difference's sign.
    pub verdict: Verdict,
    /// For means whose units had activity before their exposure: the CUPED-adjusted figures
    /// (`None` otherwise).
    pub cuped: Option<CupedFigures>,
    /// Whether the control or the variant has fewer units than the settings' `min_units`: the
    /// verdict then stays inconclusive, whatever the p-values.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub below_min_units: bool,
}

/// One variant on one metric.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VariantMetric {
    /// The variant's key.
    pub variant: String,
    /// Units exposed.
    pub units: u64,
    /// Attributed events.
    pub events: u64,
    /// Units with at least one attributed event.
    pub converted: u64,
    /// The sum of the attributed values.
    pub sum: f64,
    /// The conversion rate or the mean per unit (`None` without units).
    pub value: Option<f64>,
    /// The value's interval at `1 - alpha` (Wilson for rates, Student's t for means).
    pub interval: Option<Estimate>,
    /// Against the control (`None` for the control, or with `problem` set).
    pub comparison: Option<Comparison>,
    /// Why the comparison could not be made.
    pub problem: Option<Problem>,
    /// A funnel step after the first: the share of the previous step's units that reached
    /// this one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub of_previous: Option<f64>,
}

/// One metric across the variants (a funnel has one per step).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricResult {
    /// The metric's key (a catalogue key, or the event's name).
    pub key: String,
    /// What is computed.
    pub kind: MetricKind,
    /// A funnel's step (from 0), with its count of steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub step: Option<FunnelStep>,
    /// The rollup id its figures were read from (not shown).
    #[serde(skip)]
    pub rollup: String,
    /// The metric's human name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// How its figures are shown (`percent`, `currency`, `duration`; absent: a number).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// A currency metric's ISO 4217 code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The cap applied to unit values (an absolute cap, or a percentile cap's value).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cap: Option<f64>,
    /// Which direction is good.
    pub goal: Goal,
    /// Whether it is a guardrail.
    pub guardrail: bool,
    /// For a guardrail: whether some variant is significantly worse.
    pub guardrail_violated: bool,
    /// The control first.
    pub variants: Vec<VariantMetric>,
}

/// Which step of a funnel a result is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FunnelStep {
    /// The step, from 0.
    pub index: usize,
    /// How many steps the funnel has.
    pub of: usize,
}

/// The sample ratio mismatch check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Srm {
    /// The chi-squared p-value of the units per variant against the weights.
    pub pvalue: f64,
    /// The chi-squared statistic.
    pub statistic: f64,
    /// Whether the p-value is under the threshold.
    pub mismatch: bool,
    /// The threshold used.
    pub threshold: f64,
    /// The observed share of each variant.
    pub observed_shares: Vec<f64>,
    /// The configured share of each variant.
    pub expected_shares: Vec<f64>,
}

/// The results of one experiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentResults {
    /// The control variant's key.
    pub control: String,
    /// Units exposed per variant, in order.
    pub units: Vec<(String, u64)>,
    /// The SRM check (`None` when not asked for, without exposed units or with a single
    /// variant).
    pub srm: Option<Srm>,
    /// Why the SRM check could not run, when it could not.
    pub srm_problem: Option<Problem>,
    /// The significance level.
    pub alpha: f64,
    /// Which p-values decide.
    pub basis: DecisionBasis,
    /// Every setting the results were computed with.
    pub settings: super::settings::ShownSettings,
    /// The metrics, in the order asked.
    pub metrics: Vec<MetricResult>,
    /// The estimator behind the comparisons when it is not the pooled one: a bandit's are
    /// stratified by its periods of constant weights (`super::bandit_inference`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inference: Option<&'static str>,
}

/// Everything computed for one variant against the control before the correction.
struct Raw {
    comparison: Comparison,
    decision_pvalue: f64,
    /// The difference the decision is about (CUPED's when it decides).
    decided_estimate: f64,
}

/// Analyzes `variants` (the control first) on `metrics` with `options`.
///
/// Fails only on invalid options or without a variant; figures that the data cannot support
/// (a variant without units, a metric without variance) are reported per variant as a
/// [`Problem`], and the rest is still computed.
pub fn analyze(
    variants: &[VariantTotals],
    metrics: &[MetricSpec],
    options: &Options,
) -> Result<ExperimentResults, Error> {
    analyze_with(variants, metrics, options, Posteriors::Computed)
}

/// Whether the Bayesian figures (quadratures, the costly part) are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posteriors {
    /// Computed.
    Computed,
    /// Left as NaN (for the series, which does not show them).
    Skipped,
}

/// [`analyze`], with or without the Bayesian figures.
pub(crate) fn analyze_with(
    variants: &[VariantTotals],
    metrics: &[MetricSpec],
    options: &Options,
    posteriors: Posteriors,
) -> Result<ExperimentResults, Error> {
    options.validate()?;
    let control = variants
        .first()
        .ok_or_else(|| Error::argument("variants", "an experiment needs at least one variant"))?;
    let (srm, srm_problem) = match srm(variants, options) {
        Ok(s) => (s, None),
        Err(e) => (None, Some(Problem::from(e))),
    };
    let mut results: Vec<MetricResult> = Vec::with_capacity(metrics.len());
    // (metric index, variant index, decision p-value, decided difference) of the decision
    // family.
    let mut family: Vec<(usize, usize, f64, f64)> = Vec::new();
    // Each result's spec and funnel step (a funnel gives one result per step).
    let mut shown: Vec<(&MetricSpec, Option<FunnelStep>)> = Vec::new();
    for spec in metrics {
        match (spec.kind, spec.source.steps) {
            (MetricKind::Funnel, Some(of)) => {
                shown.extend((0..of).map(|index| (spec, Some(FunnelStep { index, of }))));
            }
            _ => shown.push((spec, None)),
        }
    }
    for (m, &(spec, step)) in shown.iter().enumerate() {
        let index = step.map(|s| s.index);
        // A funnel decides on its last step; earlier steps show where units drop off.
        let decides = !spec.guardrail && step.is_none_or(|s| s.index + 1 == s.of);
        let mut rows = Vec::with_capacity(variants.len());
        for (v, totals) in variants.iter().enumerate() {
            let mut row = describe(totals, spec, index, options.interval_alpha());
            if v > 0 {
                match compare(control, totals, spec, index, options, posteriors) {
                    Ok(raw) => {
                        if decides {
                            family.push((m, v, raw.decision_pvalue, raw.decided_estimate));
                        }
                        row.comparison = Some(raw.comparison);
                    }
                    Err(e) => row.problem = Some(Problem::from(e)),
                }
            }
            rows.push(row);
        }
        let id = figures::step_rollup(spec, index);
        results.push(MetricResult {
            key: spec.key.clone(),
            kind: spec.kind,
            step,
            rollup: id.clone(),
            name: spec.source.name.clone(),
            format: spec.source.format.clone(),
            currency: spec.source.currency.clone(),
            cap: control.caps.get(&id).copied().or(spec.source.cap),
            goal: spec.goal,
            guardrail: spec.guardrail,
            guardrail_violated: false,
            variants: rows,
        });
    }
    if !family.is_empty() {
        let pvalues: Vec<f64> = family.iter().map(|(_, _, p, _)| *p).collect();
        let adjusted = multipletests(&pvalues, options.alpha, options.correction)?;
        for ((m, v, _, estimate), (&p, &reject)) in family
            .iter()
            .zip(adjusted.pvalues().iter().zip(adjusted.reject()))
        {
            if let Some(c) = results
                .get_mut(*m)
                .and_then(|r| r.variants.get_mut(*v))
                .and_then(|row| row.comparison.as_mut())
            {
                c.adjusted_pvalue = p;
                let reject = reject && !c.below_min_units;
                c.verdict = verdict(reject, *estimate, shown.get(*m).map(|s| s.0));
            }
        }
    }
    for result in results.iter_mut().filter(|r| r.guardrail) {
        result.guardrail_violated = result
            .variants
            .iter()
            .filter_map(|row| row.comparison.as_ref())
            .any(|c| c.verdict == Verdict::Worse);
    }
    Ok(ExperimentResults {
        control: control.key.clone(),
        units: variants.iter().map(|v| (v.key.clone(), v.units)).collect(),
        srm,
        srm_problem,
        alpha: options.alpha,
        basis: options.basis,
        settings: options.into(),
        metrics: results,
        inference: None,
    })
}

/// The SRM check over the exposed units (`None` with one variant or no units).
fn srm(variants: &[VariantTotals], options: &Options) -> Result<Option<Srm>, Error> {
    let total: u64 = variants.iter().map(|v| v.units).sum();
    if !options.check_srm || variants.len() < 2 || total == 0 {
        return Ok(None);
    }
    let observed: Vec<f64> = variants.iter().map(|v| v.units as f64).collect();
    let weights: Vec<f64> = variants.iter().map(|v| v.weight).collect();
    let check = srm_check(&observed, &weights, options.srm_threshold)?;
    Ok(Some(Srm {
        pvalue: check.pvalue(),
        statistic: check.statistic(),
        mismatch: check.mismatch(),
        threshold: options.srm_threshold,
        observed_shares: check.observed_shares().to_vec(),
        expected_shares: check.expected_shares().to_vec(),
    }))
}

/// The moments of the per-unit totals over the exposed units (zeros included).
pub(crate) fn moments(totals: &VariantTotals, data: &MetricRollup) -> Result<Moments, Error> {
    figures::moments_of(totals.units, data.sum, data.sum_squares)
}

/// The variant's own figures on `spec` (at funnel step `step`).
fn describe(
    totals: &VariantTotals,
    spec: &MetricSpec,
    step: Option<usize>,
    alpha: f64,
) -> VariantMetric {
    let id = figures::step_rollup(spec, step);
    let data = figures::rows(totals, &id);
    let (value, interval) = match figures::figures(totals, spec, step) {
        Ok(Figures::Rate(p)) => (
            p.rate(),
            proportion_confint(&p, alpha, ProportionMethod::Wilson).ok(),
        ),
        Ok(Figures::Mean(m)) if m.count() > 0 => (Some(m.mean()), mean_confint(&m, alpha).ok()),
        Ok(Figures::Quantile(sketch, q)) => match quantile_interval(&sketch, q, alpha) {
            Ok(e) => (Some(e.estimate()), Some(*e.interval())),
            Err(_) => (None, None),
        },
        Ok(Figures::Ratio(m)) => match crate::stats::variance_reduction::ratio_metric(&m) {
            Ok(r) => {
                let half = normal_quantile(alpha) * r.variance().sqrt();
                let interval = Interval::new(r.ratio(), r.ratio() - half, r.ratio() + half).ok();
                (Some(r.ratio()), interval)
            }
            Err(_) => (None, None),
        },
        _ => (None, None),
    };
    let n = totals.units_for(&id);
    let of_previous = step.filter(|k| *k > 0).and_then(|k| {
        let before = figures::rows(totals, &figures::step_rollup(spec, Some(k - 1)));
        (before.units > 0).then(|| data.units.min(n) as f64 / before.units.min(n) as f64)
    });
    VariantMetric {
        variant: totals.key.clone(),
        units: n,
        events: data.events,
        converted: data.units.min(n),
        sum: data.sum,
        value,
        interval: interval.as_ref().map(Estimate::from),
        comparison: None,
        problem: None,
        of_previous,
    }
}

/// `z` such that a normal interval `± z σ` covers `1 - alpha` (two-sided).
fn normal_quantile(alpha: f64) -> f64 {
    crate::stats::dist::normal_ppf(1.0 - alpha / 2.0)
}

/// The variant against the control, before the correction.
fn compare(
    control: &VariantTotals,
    variant: &VariantTotals,
    spec: &MetricSpec,
    step: Option<usize>,
    options: &Options,
    posteriors: Posteriors,
) -> Result<Raw, Error> {
    // Intervals at the shown level; the always-valid test at alpha itself.
    let (alpha, level) = (options.interval_alpha(), options.alpha);
    let increase = spec.goal == Goal::Increase;
    let id = figures::step_rollup(spec, step);
    let (c_fig, t_fig) = (
        figures::figures(control, spec, step)?,
        figures::figures(variant, spec, step)?,
    );
    let adjusted = match (spec.kind, &c_fig) {
        (MetricKind::Mean, _) => cuped_adjusted(
            control,
            &figures::rows(control, &id),
            variant,
            &figures::rows(variant, &id),
            alpha,
        ),
        _ => None,
    };
    let is_rate = matches!(c_fig, Figures::Rate(_));
    let control_value = match &c_fig {
        Figures::Rate(p) => p.rate(),
        Figures::Mean(m) => Some(m.mean()),
        Figures::Ratio(m) => crate::stats::variance_reduction::ratio_metric(m)
            .ok()
            .map(|r| r.ratio()),
        Figures::Quantile(sketch, q) => sketch.quantile(*q).ok(),
    };
    let cuped = adjusted.as_ref().map(|a| CupedFigures {
        difference: Estimate::from(a.interval()),
        pvalue: a.test().pvalue(),
        variance_reduction: a.variance_reduction(),
        theta: a.theta(),
    });
    let (difference, relative, pvalue, sequential, probability_up, loss_up, loss_down) =
        match (c_fig, t_fig) {
            (Figures::Rate(c), Figures::Rate(t)) => {
                let test = proportions_ztest(&t, &c, ZVariance::Pooled, Alternative::TwoSided)?;
                let difference = newcombe_diff_confint(&t, &c, alpha)?;
                let relative = relative_lift_confint(&t.moments(), &c.moments(), alpha).ok();
                let (pt, pc) = (t.rate().unwrap_or(0.0), c.rate().unwrap_or(0.0));
                let unit_variance = pt * (1.0 - pt) + pc * (1.0 - pc);
                let sequential = msprt_proportions(&t, &c, tau2(unit_variance, options)?, level)?;
                let (up, loss_up, loss_down) = bayes_figures(posteriors, || {
                    let prior = options.rate_prior;
                    let (bc, bt) = (
                        BetaPosterior::from_data(&c, prior.alpha, prior.beta)?,
                        BetaPosterior::from_data(&t, prior.alpha, prior.beta)?,
                    );
                    let (loss_up, loss_down) = expected_losses(&bc, &bt);
                    Ok((prob_beats(&bc, &bt), loss_up, loss_down))
                })?;
                let pvalue = test.pvalue();
                (
                    difference, relative, pvalue, sequential, up, loss_up, loss_down,
                )
            }
            (Figures::Mean(c), Figures::Mean(t)) => {
                let test = ttest_ind(&t, &c, false, Alternative::TwoSided)?;
                let difference = diff_means_confint(&t, &c, alpha, false)?;
                let relative = relative_lift_confint(&t, &c, alpha).ok();
                let unit_variance = t.variance().unwrap_or(0.0) + c.variance().unwrap_or(0.0);
                let sequential = msprt_means(&t, &c, tau2(unit_variance, options)?, level)?;
                let (up, loss_up, loss_down) = bayes_figures(posteriors, || {
                    let (nc, nt) = (
                        NormalPosterior::from_data(&c)?,
                        NormalPosterior::from_data(&t)?,
                    );
                    Ok((
                        normal_prob_beats(&nc, &nt),
                        normal_expected_loss(&nc, &nt),
                        normal_expected_loss(&nt, &nc),
                    ))
                })?;
                let pvalue = test.pvalue();
                (
                    difference, relative, pvalue, sequential, up, loss_up, loss_down,
                )
            }
            (Figures::Ratio(c), Figures::Ratio(t)) => {
                let test = ratio_ztest(&t, &c, alpha, Alternative::TwoSided)?;
                let (rt, rc) = (test.treatment(), test.control());
                let variance = rt.variance() + rc.variance();
                // The mixing variance is scaled by the per-unit variance, as for means.
                let unit_variance =
                    rt.variance() * t.count() as f64 + rc.variance() * c.count() as f64;
                let diff = rt.ratio() - rc.ratio();
                let sequential = msprt(diff, variance, tau2(unit_variance, options)?, level)?;
                let (up, loss_up, loss_down) = bayes_figures(posteriors, || {
                    let (nc, nt) = (
                        NormalPosterior::new(rc.ratio(), rc.variance())?,
                        NormalPosterior::new(rt.ratio(), rt.variance())?,
                    );
                    Ok((
                        normal_prob_beats(&nc, &nt),
                        normal_expected_loss(&nc, &nt),
                        normal_expected_loss(&nt, &nc),
                    ))
                })?;
                let difference = *test.difference();
                let relative = Some(*test.relative());
                (
                    difference,
                    relative,
                    test.pvalue(),
                    sequential,
                    up,
                    loss_up,
                    loss_down,
                )
            }
            (Figures::Quantile(c, q), Figures::Quantile(t, _)) => {
                let test = quantile_ztest(&t, &c, q, alpha)?;
                let (et, ec) = (test.treatment(), test.control());
                let se = test.std_error();
                let diff = et.estimate() - ec.estimate();
                // The mixing variance is scaled by the per-value variance the estimate implies.
                let unit_variance = et.std_error().powi(2) * et.count() as f64
                    + ec.std_error().powi(2) * ec.count() as f64;
                let sequential = msprt(diff, se * se, tau2(unit_variance, options)?, level)?;
                let (up, loss_up, loss_down) = bayes_figures(posteriors, || {
                    let (nc, nt) = (
                        NormalPosterior::new(ec.estimate(), ec.std_error().powi(2))?,
                        NormalPosterior::new(et.estimate(), et.std_error().powi(2))?,
                    );
                    Ok((
                        normal_prob_beats(&nc, &nt),
                        normal_expected_loss(&nc, &nt),
                        normal_expected_loss(&nt, &nc),
                    ))
                })?;
                (
                    *test.difference(),
                    Some(*test.relative()),
                    test.pvalue(),
                    sequential,
                    up,
                    loss_up,
                    loss_down,
                )
            }
            _ => {
                return Err(Error::degenerate(format!(
                    "{:?} has figures of different kinds across variants",
                    spec.key
                )));
            }
        };
    // CUPED decides when asked to and when it could be computed.
    let (decided_estimate, fixed_pvalue, sequential_pvalue) = match (options.cuped, &adjusted) {
        (CupedRole::Decide, Some(a)) => {
            let unit_variance =
                a.treatment().variance().unwrap_or(0.0) + a.control().variance().unwrap_or(0.0);
            let always_valid = msprt_means(
                a.treatment(),
                a.control(),
                tau2(unit_variance, options)?,
                level,
            )?;
            (
                a.interval().estimate(),
                a.test().pvalue(),
                always_valid.pvalue(),
            )
        }
        _ => (difference.estimate(), pvalue, sequential.pvalue()),
    };
    let decision_pvalue = match (options.basis, options.sides) {
        (DecisionBasis::Sequential, _) => sequential_pvalue,
        (DecisionBasis::FixedHorizon, Sides::Two) => fixed_pvalue,
        // One-sided, toward better for a decision metric and toward worse for a guardrail.
        (DecisionBasis::FixedHorizon, Sides::One) => {
            let up = increase != spec.guardrail;
            let toward = if up {
                decided_estimate > 0.0
            } else {
                decided_estimate < 0.0
            };
            if toward {
                fixed_pvalue / 2.0
            } else {
                1.0 - fixed_pvalue / 2.0
            }
        }
    };
    let below_min_units = control.units < options.min_units || variant.units < options.min_units;
    // A lift prior replaces the flat one for everything but rates (which have their Beta).
    let (probability_up, loss_up, loss_down) = match (options.lift_prior, &relative, posteriors) {
        (Some(prior), Some(r), Posteriors::Computed) if !is_rate => {
            lift_posterior(prior, r, alpha, control_value).unwrap_or((
                probability_up,
                loss_up,
                loss_down,
            ))
        }
        _ => (probability_up, loss_up, loss_down),
    };
    let comparison = Comparison {
        difference: Estimate::from(&difference),
        relative: relative.as_ref().map(Estimate::from),
        pvalue,
        sequential_pvalue: sequential.pvalue(),
        sequential_difference: Estimate::from(sequential.interval()),
        adjusted_pvalue: decision_pvalue,
        probability_better: if increase {
            probability_up
        } else {
            1.0 - probability_up
        },
        expected_loss: if increase { loss_up } else { loss_down },
        verdict: verdict(
            decision_pvalue <= level && !below_min_units,
            decided_estimate,
            Some(spec),
        ),
        cuped,
        below_min_units,
    };
    Ok(Raw {
        comparison,
        decision_pvalue,
        decided_estimate,
    })
}

/// P(the variant beats the control) and the expected losses of shipping it and of keeping
/// the control, from `compute`, when the posteriors are wanted (NaN otherwise).
fn bayes_figures(
    posteriors: Posteriors,
    compute: impl FnOnce() -> Result<(f64, f64, f64), Error>,
) -> Result<(f64, f64, f64), Error> {
    match posteriors {
        Posteriors::Computed => compute(),
        Posteriors::Skipped => Ok((f64::NAN, f64::NAN, f64::NAN)),
    }
}

/// The co-moments of (covariate, per-unit total) over a variant's exposed units.
fn co_moments(totals: &VariantTotals, data: &MetricRollup) -> Option<CoMoments> {
    let n = totals.units as f64;
    if totals.units < 2 {
        return None;
    }
    let (mx, my) = (data.covariate_sum / n, data.sum / n);
    let m2x = (data.covariate_squares - data.covariate_sum * mx).max(0.0);
    let m2y = (data.sum_squares - data.sum * my).max(0.0);
    // Rounding may push the co-moment a hair past Cauchy-Schwarz.
    let bound = (m2x * m2y).sqrt();
    let cxy = (data.cross - data.covariate_sum * my).clamp(-bound, bound);
    CoMoments::from_parts(totals.units, mx, my, m2x, m2y, cxy).ok()
}

/// The CUPED figures, when the covariate varies.
fn cuped_adjusted(
    control: &VariantTotals,
    control_data: &MetricRollup,
    variant: &VariantTotals,
    data: &MetricRollup,
    alpha: f64,
) -> Option<Cuped> {
    let (c, t) = (
        co_moments(control, control_data)?,
        co_moments(variant, data)?,
    );
    cuped(&t, &c, alpha, Alternative::TwoSided).ok()
}

/// P(lift > 0) and the expected losses `(E[max(control - variant, 0)], E[max(variant -
/// control, 0)])` in the metric's units, from the posterior of the relative lift under a
/// Normal prior: the estimate `relative` (an interval at `alpha`, normal and symmetric, whose
/// width gives its standard error) is the likelihood, and the posterior is Normal with
/// precision `1/sd0² + 1/se²` (conjugate). `None` without a usable standard error or
/// control value.
fn lift_posterior(
    prior: super::settings::LiftPrior,
    relative: &Interval,
    alpha: f64,
    control_value: Option<f64>,
) -> Option<(f64, f64, f64)> {
    let scale = control_value?.abs();
    let se = (relative.upper() - relative.lower()) / (2.0 * normal_quantile(alpha));
    if !(se.is_finite() && se > 0.0 && scale.is_finite()) {
        return None;
    }
    let (prior_precision, precision) = (1.0 / (prior.sd * prior.sd), 1.0 / (se * se));
    let variance = 1.0 / (prior_precision + precision);
    let mean = variance * (prior.mean * prior_precision + relative.estimate() * precision);
    let sd = variance.sqrt();
    let z = mean / sd;
    let up = normal_cdf(z);
    // E[max(-δ, 0)] and E[max(δ, 0)] for δ ~ N(mean, sd²).
    let loss_up = sd * normal_pdf(z) - mean * normal_cdf(-z);
    let loss_down = sd * normal_pdf(z) + mean * up;
    Some((up, scale * loss_up.max(0.0), scale * loss_down.max(0.0)))
}

/// The mSPRT's mixing variance for per-unit variances summing to `unit_variance`:
/// `τ² = ρ² × unit_variance` with `ρ² = (-2 ln α + ln(1 - 2 ln α)) / n*`, `n*` the
/// [`Options::sequential_tuning`]: the mixture that makes the always-valid interval narrowest
/// when each group has `n*` units (Howard, Ramdas, McAuliffe, Sekhon 2021, eq. 14; GrowthBook's
/// choice).
pub fn tau2(unit_variance: f64, options: &Options) -> Result<f64, Error> {
    let log_alpha = -2.0 * libm::log(options.alpha);
    let rho2 = (log_alpha + libm::log(1.0 + log_alpha)) / options.sequential_tuning;
    let tau2 = rho2 * unit_variance;
    if tau2.is_finite() && tau2 > 0.0 {
        Ok(tau2)
    } else {
        Err(Error::degenerate(
            "the metric has no variance to scale the always-valid test by",
        ))
    }
}

/// The verdict of a (possibly adjusted) rejection and the difference's sign.
fn verdict(significant: bool, difference: f64, spec: Option<&MetricSpec>) -> Verdict {
    verdict_for_goal(
        significant,
        difference,
        spec.map_or(Goal::Increase, |s| s.goal),
    )
}

/// A comparison's verdict once its significance is known (after a correction): better or
/// worse by the sign of the difference it decides on (CUPED's when `cuped_decides` and
/// computed) and the metric's `goal`.
pub(crate) fn verdict_of(
    c: &Comparison,
    significant: bool,
    goal: Goal,
    cuped_decides: bool,
) -> Verdict {
    let difference = match (&c.cuped, cuped_decides) {
        (Some(cuped), true) => cuped.difference.estimate,
        _ => c.difference.estimate,
    };
    verdict_for_goal(significant, difference, goal)
}

fn verdict_for_goal(significant: bool, difference: f64, goal: Goal) -> Verdict {
    let increase = goal == Goal::Increase;
    match (significant, difference > 0.0, difference < 0.0) {
        (false, _, _) => Verdict::Inconclusive,
        (true, true, _) if increase => Verdict::Better,
        (true, true, _) => Verdict::Worse,
        (true, _, true) if increase => Verdict::Worse,
        (true, _, true) => Verdict::Better,
        _ => Verdict::Inconclusive,
    }
}
