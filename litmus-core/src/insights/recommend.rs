//! What to do with an experiment: ship a variant, stop, or keep running (with the expected
//! time to a decision), each with the reason and the numbers behind it.
//!
//! The rules, in order:
//! 1. Fewer than [`BURN_IN_UNITS`] units in some variant: no decision yet.
//! 2. A sample ratio mismatch: stop and fix the split (the results cannot be trusted).
//! 3. A guardrail significantly worse in some variant: stop.
//! 4. A variant better on some decision metric and worse on none: ship the one most likely to
//!    be better on the first (primary) decision metric.
//! 5. Every treatment worse on the primary metric: stop.
//! 6. Otherwise keep running. The expected time to a decision: if the effect observed so far
//!    on the primary metric by the leading treatment holds, the units per variant at which
//!    the always-valid p-value reaches alpha (with the fixed-horizon basis: the sample size
//!    for 80% power), less the units already in, at the rate units arrived so far. With no
//!    effect observed, the reason gives the smallest lift 30 more days could detect.

use serde::Serialize;

use super::finding::{Insight, InsightKind, Severity, metric_name, percent};
use crate::results::{
    BURN_IN_UNITS, DecisionBasis, ExperimentResults, MetricKind, Options, VariantTotals, Verdict,
};
use crate::stats::power::{minimum_detectable_effect, proportion_effect_size, sample_size};
use crate::stats::ttest::Alternative;

/// Days in ms.
const DAY_MS: f64 = 86_400_000.0;
/// Power the expected time to a decision is computed for.
const POWER: f64 = 0.8;
/// Beyond this many days, keeping the experiment running is not worth it.
const FUTILE_DAYS: f64 = 365.0;

/// The action recommended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Roll the variant out.
    Ship,
    /// End the experiment (harm, a broken split, or a loss).
    Stop,
    /// Keep collecting data.
    KeepRunning,
    /// Too few units to say anything.
    NoData,
}

/// A recommendation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recommendation {
    /// What to do.
    pub action: Action,
    /// The variant to ship, or the one the reason is about.
    pub variant: Option<String>,
    /// Why, with the figures.
    pub reason: String,
    /// For `keep_running`: about how many more days until a decision, at the current rate
    /// (`None` when it cannot be estimated).
    pub expected_days: Option<f64>,
}

impl Recommendation {
    fn new(action: Action, variant: Option<&str>, reason: String) -> Self {
        Recommendation {
            action,
            variant: variant.map(str::to_owned),
            reason,
            expected_days: None,
        }
    }

    /// As an insight for the list.
    pub fn insight(&self) -> Insight {
        let (title, severity) = match (self.action, &self.variant) {
            (Action::Ship, Some(v)) => (format!("Ship {v}"), Severity::Info),
            (Action::Ship, None) => ("Ship".to_owned(), Severity::Info),
            (Action::Stop, _) => ("Stop the experiment".to_owned(), Severity::Critical),
            (Action::KeepRunning, _) => ("Keep running".to_owned(), Severity::Info),
            (Action::NoData, _) => ("Not enough data yet".to_owned(), Severity::Info),
        };
        let mut insight = Insight::new(
            InsightKind::Recommendation,
            severity,
            title,
            self.reason.clone(),
        );
        if let Some(days) = self.expected_days {
            insight = insight.number("expected_days", days);
        }
        insight.variant = self.variant.clone();
        insight
    }
}

/// The recommendation for `results`, computed from `totals` (the same variants, control
/// first, analyzed with `options`), after `span_ms` of data.
pub fn recommend(
    results: &ExperimentResults,
    totals: &[VariantTotals],
    span_ms: i64,
    options: &Options,
) -> Recommendation {
    let fewest = totals.iter().map(|v| v.units).min().unwrap_or(0);
    if totals.len() < 2 || fewest < BURN_IN_UNITS {
        return Recommendation::new(
            Action::NoData,
            None,
            format!(
                "Each variant needs {BURN_IN_UNITS} units before the results mean much; the \
                 smallest has {fewest}."
            ),
        );
    }
    if let Some(srm) = results.srm.as_ref().filter(|s| s.mismatch) {
        return Recommendation::new(
            Action::Stop,
            None,
            format!(
                "The split does not follow the weights (sample ratio mismatch, p = {:.2e}): \
                 find and fix the cause, then restart; these results cannot be trusted.",
                srm.pvalue
            ),
        );
    }
    for metric in results.metrics.iter().filter(|m| m.guardrail) {
        for row in &metric.variants {
            if row
                .comparison
                .as_ref()
                .is_some_and(|c| c.verdict == Verdict::Worse)
            {
                return Recommendation::new(
                    Action::Stop,
                    Some(&row.variant),
                    format!(
                        "{} harms the guardrail {}: stop it before more users are affected.",
                        row.variant,
                        metric_name(&metric.key, metric.kind)
                    ),
                );
            }
        }
    }
    let decision: Vec<_> = results.metrics.iter().filter(|m| !m.guardrail).collect();
    let Some(primary) = decision.first() else {
        return Recommendation::new(
            Action::KeepRunning,
            None,
            "No decision metric is declared (only guardrails): add one to get a \
             recommendation."
                .to_owned(),
        );
    };
    // Ship: better somewhere, worse nowhere; the most likely better on the primary metric.
    let treatments: Vec<&str> = totals.iter().skip(1).map(|v| v.key.as_str()).collect();
    let verdicts = |variant: &str| -> Vec<Verdict> {
        decision
            .iter()
            .filter_map(|m| {
                m.variants
                    .iter()
                    .find(|r| r.variant == variant)
                    .and_then(|r| r.comparison.as_ref())
                    .map(|c| c.verdict)
            })
            .collect()
    };
    let primary_probability = |variant: &str| {
        primary
            .variants
            .iter()
            .find(|r| r.variant == variant)
            .and_then(|r| r.comparison.as_ref())
            .map_or(0.0, |c| c.probability_better)
    };
    let winner = treatments
        .iter()
        .filter(|v| {
            let v = verdicts(v);
            v.contains(&Verdict::Better) && !v.contains(&Verdict::Worse)
        })
        .max_by(|a, b| primary_probability(a).total_cmp(&primary_probability(b)));
    if let Some(winner) = winner {
        let better: Vec<String> = decision
            .iter()
            .filter(|m| {
                m.variants.iter().any(|r| {
                    r.variant == *winner
                        && r.comparison
                            .as_ref()
                            .is_some_and(|c| c.verdict == Verdict::Better)
                })
            })
            .map(|m| metric_name(&m.key, m.kind))
            .collect();
        return Recommendation::new(
            Action::Ship,
            Some(winner),
            format!(
                "{winner} is significantly better on {} and worse on no decision metric or \
                 guardrail (probability better on {}: {}).",
                better.join(", "),
                metric_name(&primary.key, primary.kind),
                percent(primary_probability(winner))
            ),
        );
    }
    let all_worse = treatments.iter().all(|v| {
        primary
            .variants
            .iter()
            .find(|r| r.variant == *v)
            .and_then(|r| r.comparison.as_ref())
            .is_some_and(|c| c.verdict == Verdict::Worse)
    });
    if all_worse {
        return Recommendation::new(
            Action::Stop,
            None,
            format!(
                "Every treatment is significantly worse than the control on {}.",
                metric_name(&primary.key, primary.kind)
            ),
        );
    }
    keep_running(
        results,
        totals,
        primary.key.as_str(),
        primary.kind,
        span_ms,
        options,
    )
}

/// The units per group at which the always-valid p-value of a difference `theta`, with
/// per-unit variances summing to `unit_variance`, falls to alpha (`None` when it cannot).
fn sequential_units(theta: f64, unit_variance: f64, options: &Options) -> Option<f64> {
    let tau2 = crate::results::analysis::tau2(unit_variance, options).ok()?;
    if !(theta.is_finite() && theta != 0.0) {
        return None;
    }
    let crosses = |n: f64| {
        let v = unit_variance / n;
        let ln_lr = 0.5 * libm::log(v / (v + tau2)) + tau2 * theta * theta / (2.0 * v * (v + tau2));
        ln_lr >= -libm::log(options.alpha)
    };
    // Double until it crosses, then bisect.
    let (mut lo, mut hi) = (1.0f64, 2.0f64);
    while !crosses(hi) {
        (lo, hi) = (hi, hi * 2.0);
        if hi > 1e15 {
            return None;
        }
    }
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if crosses(mid) { hi = mid } else { lo = mid }
    }
    Some(hi.ceil())
}

/// Rule 6: the expected time to a decision on the primary metric.
fn keep_running(
    results: &ExperimentResults,
    totals: &[VariantTotals],
    primary: &str,
    kind: MetricKind,
    span_ms: i64,
    options: &Options,
) -> Recommendation {
    let alpha = results.alpha;
    let control = totals.first();
    let leader = totals.iter().skip(1).max_by(|a, b| {
        let p = |v: &VariantTotals| {
            results
                .metrics
                .iter()
                .find(|m| m.key == primary && m.kind == kind && !m.guardrail)
                .and_then(|m| m.variants.iter().find(|r| r.variant == v.key))
                .and_then(|r| r.comparison.as_ref())
                .map_or(0.0, |c| c.probability_better)
        };
        p(a).total_cmp(&p(b))
    });
    let name = metric_name(primary, kind);
    let (Some(control), Some(leader)) = (control, leader) else {
        return Recommendation::new(Action::KeepRunning, None, "Keep collecting data.".into());
    };
    let n = control.units.min(leader.units) as f64;
    let days = (span_ms as f64 / DAY_MS).max(1.0 / 24.0);
    let rate = n / days;
    let shown = results
        .metrics
        .iter()
        .find(|m| m.key == primary && m.kind == kind && !m.guardrail);
    let rollup = shown.map_or(primary, |m| m.rollup.as_str());
    let stats = |v: &VariantTotals| {
        let m = v.metrics.get(rollup).copied().unwrap_or_default();
        let n = v.units_for(rollup);
        let units = n.max(1) as f64;
        match kind {
            MetricKind::Conversion | MetricKind::Retention | MetricKind::Funnel => {
                let p = (m.units.min(n) as f64) / units;
                (p, (p * (1.0 - p)).sqrt())
            }
            MetricKind::Mean => crate::results::analysis::moments(v, &m)
                .map_or((0.0, 0.0), |m| (m.mean(), m.std_dev().unwrap_or(0.0))),
            // The per-unit spread implied by the estimate's interval.
            MetricKind::Ratio | MetricKind::Quantile => shown
                .and_then(|r| r.variants.iter().find(|row| row.variant == v.key))
                .and_then(|row| Some((row.value?, row.interval?)))
                .map_or((0.0, 0.0), |(value, i)| {
                    let z = crate::stats::dist::normal_ppf(1.0 - results.alpha / 2.0);
                    (value, (i.upper - i.lower) / (2.0 * z) * units.sqrt())
                }),
        }
    };
    let ((c_value, c_sd), (t_value, t_sd)) = (stats(control), stats(leader));
    // A bandit's comparison is stratified by its weight periods: its difference, not the
    // pooled one, is the effect observed.
    let stratified = shown
        .and_then(|r| r.variants.iter().find(|row| row.variant == leader.key))
        .and_then(|row| row.comparison.as_ref())
        .filter(|_| results.inference.is_some());
    let t_value = stratified.map_or(t_value, |c| c_value + c.difference.estimate);
    let sd = ((c_sd * c_sd + t_sd * t_sd) / 2.0).sqrt();
    let effect = match kind {
        MetricKind::Conversion | MetricKind::Retention | MetricKind::Funnel => {
            proportion_effect_size(t_value, c_value).unwrap_or(0.0)
        }
        _ if sd > 0.0 => (t_value - c_value) / sd,
        _ => 0.0,
    };
    let observed = if c_value != 0.0 {
        percent((t_value - c_value) / c_value.abs())
    } else {
        format!("{:+.4}", t_value - c_value)
    };
    // Units per variant for a decision if the observed effect holds: where the always-valid
    // p-value crosses alpha (the default basis), or the fixed-horizon sample size at 80% power.
    let fixed = sample_size(effect.abs(), POWER, 1.0, alpha, Alternative::TwoSided).ok();
    let (needed, test) = match results.basis {
        DecisionBasis::Sequential => (
            sequential_units(t_value - c_value, c_sd * c_sd + t_sd * t_sd, options),
            "the always-valid test would call an effect of that size",
        ),
        DecisionBasis::FixedHorizon => (fixed, "enough to detect that effect with 80% power"),
    };
    match needed {
        Some(needed) if effect.abs() > 1e-9 => {
            let more = (needed - n).max(0.0);
            let expected = if rate > 0.0 {
                more / rate
            } else {
                f64::INFINITY
            };
            let mut r = Recommendation::new(Action::KeepRunning, Some(&leader.key), String::new());
            if expected > FUTILE_DAYS {
                r.reason = format!(
                    "{} is {observed} on {name} so far; confirming an effect that small \
                     needs about {needed:.0} units per variant, over {FUTILE_DAYS:.0} more days \
                     at {rate:.0} a day. Consider stopping: the difference, if any, is too \
                     small to matter or to measure.",
                    leader.key
                );
            } else {
                r.expected_days = Some(expected);
                r.reason = format!(
                    "{} is {observed} on {name} so far, not yet significant. At {rate:.0} \
                     units a day per variant, about {expected:.1} more days reach {needed:.0} \
                     units per variant, where {test}, if it holds.",
                    leader.key
                );
            }
            r
        }
        _ => {
            let later = n + rate * 30.0;
            let mde = minimum_detectable_effect(later, POWER, 1.0, alpha, Alternative::TwoSided)
                .unwrap_or(f64::NAN);
            let relative = match kind {
                MetricKind::Mean | MetricKind::Ratio | MetricKind::Quantile if c_value != 0.0 => {
                    mde * sd / c_value.abs()
                }
                MetricKind::Conversion | MetricKind::Retention | MetricKind::Funnel
                    if c_value > 0.0 =>
                {
                    mde * c_sd / c_value
                }
                _ => f64::NAN,
            };
            Recommendation::new(
                Action::KeepRunning,
                None,
                format!(
                    "No difference on {name} so far. In 30 more days at {rate:.0} units a day \
                     per variant, the experiment could detect a lift of about {} with 80% \
                     power.",
                    percent(relative)
                ),
            )
        }
    }
}
