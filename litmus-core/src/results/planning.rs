//! Planning an experiment: the units per variant (and the days) needed to detect a relative
//! lift with a given power, or the lift detectable in a given time, from a metric's baseline,
//! with the tests the results use:
//!
//! - fixed horizon: the two-sample z-test of `stats::power` (Cohen's h for rates, `d = Δ / sd`
//!   for means; statsmodels' `NormalIndPower`), one- or two-sided;
//! - sequential: the always-valid (mSPRT) test of the results, with the mixing variance
//!   [`super::analysis::tau2`] sets: at `n` units per variant it rejects when the estimate
//!   leaves its always-valid interval around 0, so its power there is
//!   `Φ((Δ - h(n)) / σ_Δ(n)) + Φ((-Δ - h(n)) / σ_Δ(n))` with `h(n)` the interval's half-width.
//!   This counts one look at `n`; looking earlier as well only adds chances to stop, so the
//!   units are an upper bound.
//!
//! With more than two variants each treatment is compared with the control at
//! `alpha / (variants - 1)` (Bonferroni, which Holm's first step equals; none with the `none`
//! correction), as GrowthBook's calculator does. Variants are equally weighted.

use serde::Serialize;

use super::analysis::tau2;
use super::spec::{DecisionBasis, Options, Sides};
use crate::error::Error;
use crate::stats::Correction;
use crate::stats::dist::normal_cdf;
use crate::stats::power::{
    minimum_detectable_effect, proportion_effect_size, sample_size, solve_increasing,
};
use crate::stats::sequential::msprt;
use crate::stats::ttest::Alternative;

/// The most variants a plan takes (as an experiment).
pub const MAX_VARIANTS: usize = 1_000;

/// A metric's baseline: the control's value and spread.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Baseline {
    /// A rate (conversion, retention, a funnel step), in (0, 1).
    Rate {
        /// The control's rate.
        rate: f64,
    },
    /// A mean per unit (or a ratio, or a quantile, with the spread its estimate implies).
    Mean {
        /// The control's mean (not 0: lifts are relative to it).
        mean: f64,
        /// The per-unit standard deviation (> 0).
        sd: f64,
    },
}

/// What to plan.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PlanRequest {
    /// The metric's baseline.
    pub baseline: Baseline,
    /// The relative lift to detect (0.05: +5%); `None` asks for the lift detectable in
    /// `days`.
    pub lift: Option<f64>,
    /// The power wanted, in (alpha, 1); 0.8 is usual.
    pub power: f64,
    /// Variants, the control included (2 or more).
    pub variants: usize,
    /// Units entering the experiment a day, all variants together (for the duration).
    pub units_per_day: Option<f64>,
    /// With `lift` absent: the days the experiment runs.
    pub days: Option<f64>,
}

/// A plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Plan {
    /// Units each variant needs.
    pub units_per_variant: u64,
    /// Units over all variants.
    pub total_units: u64,
    /// Days at `units_per_day` (when given).
    pub days: Option<f64>,
    /// The relative lift planned for (given, or the detectable one).
    pub lift: f64,
    /// The same lift as a difference in the metric's units (a rate's difference in points).
    pub difference: f64,
    /// The significance level of each comparison with the control (after the correction).
    pub alpha: f64,
    /// The power.
    pub power: f64,
    /// The decision basis planned for.
    pub basis: DecisionBasis,
    /// One- or two-sided.
    pub test: Sides,
    /// Units per variant a fixed-horizon test would need for the same lift; equal to
    /// `units_per_variant` on that basis.
    pub fixed_horizon_units: u64,
}

/// Plans `request` under `options` (alpha, sides, basis, correction, `n*`).
pub fn plan(request: &PlanRequest, options: &Options) -> Result<Plan, Error> {
    options.validate()?;
    let r = request;
    check_baseline(&r.baseline)?;
    if !(2..=MAX_VARIANTS).contains(&r.variants) {
        return Err(Error::argument(
            "variants",
            format!("{} must be from 2 to {MAX_VARIANTS}", r.variants),
        ));
    }
    let alpha = comparison_alpha(options, r.variants);
    if !(r.power.is_finite() && r.power > alpha && r.power < 1.0) {
        return Err(Error::argument(
            "power",
            format!("{} must be in ({alpha}, 1)", r.power),
        ));
    }
    if let Some(u) = r.units_per_day {
        positive("units_per_day", u)?;
    }
    let variants = r.variants as f64;
    let (lift, per_variant, fixed) = match (r.lift, r.days) {
        (Some(lift), _) => {
            check_lift(&r.baseline, lift)?;
            let fixed = fixed_units(&r.baseline, lift, r.power, alpha, options.sides)?;
            let units = match options.basis {
                DecisionBasis::FixedHorizon => fixed,
                DecisionBasis::Sequential => {
                    sequential_units(&r.baseline, lift, r.power, alpha, options)?
                }
            };
            (lift, units.ceil(), fixed.ceil())
        }
        (None, Some(days)) => {
            positive("days", days)?;
            let per_day = r.units_per_day.ok_or_else(|| {
                Error::argument(
                    "units_per_day",
                    "a detectable lift needs the units a day as well as the days",
                )
            })?;
            let units = (per_day * days / variants).floor();
            if units < 2.0 {
                return Err(Error::argument(
                    "days",
                    format!(
                        "{days} days at {per_day} units a day give fewer than 2 units per variant"
                    ),
                ));
            }
            let lift = match options.basis {
                DecisionBasis::FixedHorizon => {
                    fixed_lift(&r.baseline, units, r.power, alpha, options.sides)?
                }
                DecisionBasis::Sequential => {
                    let power_at = |l: f64| sequential_power(&r.baseline, l, units, alpha, options);
                    solve_increasing(power_at, r.power, max_lift(&r.baseline)).ok_or_else(|| {
                        Error::degenerate("no lift is detectable with so few units")
                    })?
                }
            };
            let fixed = fixed_units(&r.baseline, lift, r.power, alpha, options.sides)?;
            (lift, units, fixed.ceil())
        }
        (None, None) => {
            return Err(Error::argument(
                "lift",
                "give the lift to detect, or the days (and units a day) to find the detectable lift",
            ));
        }
    };
    let total = per_variant * variants;
    // Whole units (f64 to u64 saturates; the solvers give at most about 1e15).
    Ok(Plan {
        units_per_variant: per_variant as u64,
        total_units: total as u64,
        days: r.units_per_day.map(|u| total / u),
        lift,
        difference: lift * base_value(&r.baseline),
        alpha,
        power: r.power,
        basis: options.basis,
        test: options.sides,
        fixed_horizon_units: fixed as u64,
    })
}

/// The baseline of `spec` (at funnel step `step`) in a variant's totals (an experiment's
/// control): a rate's rate; a mean's mean and per-unit standard deviation; for a ratio or a
/// quantile, its value and the per-unit spread its standard error implies (`se × √n`).
pub fn baseline_of(
    totals: &super::totals::VariantTotals,
    spec: &super::spec::MetricSpec,
    step: Option<usize>,
) -> Result<Baseline, Error> {
    use super::figures::{Figures, figures};
    let baseline = match figures(totals, spec, step)? {
        Figures::Rate(p) => Baseline::Rate {
            rate: p.rate().unwrap_or(f64::NAN),
        },
        Figures::Mean(m) => Baseline::Mean {
            mean: m.mean(),
            sd: m.std_dev().unwrap_or(f64::NAN),
        },
        Figures::Ratio(m) => {
            let r = crate::stats::variance_reduction::ratio_metric(&m)?;
            Baseline::Mean {
                mean: r.ratio(),
                sd: (r.variance() * m.count() as f64).sqrt(),
            }
        }
        Figures::Quantile(sketch, q) => {
            let e = crate::stats::quantile::quantile_interval(&sketch, q, 0.05)?;
            Baseline::Mean {
                mean: e.estimate(),
                sd: e.std_error() * (e.count() as f64).sqrt(),
            }
        }
    };
    check_baseline(&baseline).map_err(|_| {
        Error::degenerate(format!(
            "{:?} has no usable baseline in these data yet (no variance, or a rate of 0 or 1)",
            spec.key
        ))
    })?;
    Ok(baseline)
}

/// A plan's answer with what it was computed from, as JSON shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanAnswer {
    /// The plan.
    pub plan: Plan,
    /// The baseline it started from.
    pub baseline: Baseline,
    /// The settings it used.
    pub settings: super::settings::ShownSettings,
}

/// Plans from a JSON request (the server's `POST /planning` body once its baseline is known,
/// and the bindings' `plan_experiment` / `planExperiment`): `{"baseline": {"kind": "rate",
/// "rate"} | {"kind": "mean", "mean", "sd"}, "lift"?, "days"?, "units_per_day"?, "power"?
/// (0.8), "variants"? (2), "analysis"? (settings over `defaults`)}`; every error names its
/// field's path.
pub fn plan_json(
    value: &serde_json::Value,
    defaults: &super::settings::AnalysisSettings,
) -> Result<PlanAnswer, Error> {
    use crate::config::decode::{fields, number, optional, unsigned};
    use crate::error::FieldPath;
    let root = FieldPath::root();
    let (mut baseline, mut lift, mut days, mut per_day) = (None, None, None, None);
    let (mut power, mut variants, mut analysis) = (None, None, None);
    let unknown = fields(value, &root, |name, v, at| {
        match name {
            "baseline" => baseline = Some(decode_baseline(v, &at.path())?),
            "lift" => lift = optional(v, at, number)?,
            "days" => days = optional(v, at, number)?,
            "units_per_day" => per_day = optional(v, at, number)?,
            "power" => power = optional(v, at, number)?,
            "variants" => variants = optional(v, at, unsigned)?,
            "analysis" => {
                analysis = optional(
                    v,
                    &at.path(),
                    super::settings::AnalysisSettings::decode_strict,
                )?;
            }
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    crate::config::decode::no_unknown(&unknown, &root)?;
    let baseline = baseline.ok_or_else(|| Error::MissingField {
        path: root.field("baseline"),
    })?;
    let settings = analysis.unwrap_or_default().over(defaults);
    let options = settings.options();
    let request = PlanRequest {
        baseline,
        lift,
        power: power.unwrap_or(0.8),
        variants: usize::try_from(variants.unwrap_or(2)).unwrap_or(usize::MAX),
        units_per_day: per_day,
        days,
    };
    let plan = plan(&request, &options).map_err(|e| at_path(e, &root))?;
    Ok(PlanAnswer {
        plan,
        baseline,
        settings: (&options).into(),
    })
}

/// [`plan_json`] over JSON text with core's default settings: the bindings' `plan_experiment`
/// / `planExperiment`.
pub fn plan_text(text: &str) -> Result<PlanAnswer, Error> {
    let value = crate::config::strict_value(text)?;
    plan_json(&value, &super::settings::AnalysisSettings::default())
}

/// An argument error as a value error at the argument's path (`baseline.rate`, `lift`).
fn at_path(e: Error, root: &crate::error::FieldPath) -> Error {
    match e {
        Error::InvalidArgument { argument, message } => {
            let mut path = root.clone();
            for part in argument.split('.') {
                path = path.field(part);
            }
            Error::InvalidValue { path, message }
        }
        other => other,
    }
}

fn decode_baseline(
    value: &serde_json::Value,
    path: &crate::error::FieldPath,
) -> Result<Baseline, Error> {
    use crate::config::decode::{fields, number, one_of, required};
    #[derive(Clone, Copy)]
    enum Kind {
        Rate,
        Mean,
    }
    let (mut kind, mut rate, mut mean, mut sd) = (None, None, None, None);
    let unknown = fields(value, path, |name, v, at| {
        match name {
            "kind" => {
                kind = Some(one_of(
                    v,
                    at,
                    &[("rate", Kind::Rate), ("mean", Kind::Mean)],
                )?)
            }
            "rate" => rate = Some(number(v, at)?),
            "mean" => mean = Some(number(v, at)?),
            "sd" => sd = Some(number(v, at)?),
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    crate::config::decode::no_unknown(&unknown, path)?;
    Ok(match required(kind, path, "kind")? {
        Kind::Rate => Baseline::Rate {
            rate: required(rate, path, "rate")?,
        },
        Kind::Mean => Baseline::Mean {
            mean: required(mean, path, "mean")?,
            sd: required(sd, path, "sd")?,
        },
    })
}

/// The level of each comparison with the control.
fn comparison_alpha(options: &Options, variants: usize) -> f64 {
    let comparisons = variants.saturating_sub(1).max(1) as f64;
    match options.correction {
        Correction::None => options.alpha,
        _ => options.alpha / comparisons,
    }
}

fn positive(name: &'static str, value: f64) -> Result<f64, Error> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Error::argument(
            name,
            format!("{value} must be finite and > 0"),
        ))
    }
}

fn check_baseline(b: &Baseline) -> Result<(), Error> {
    match *b {
        Baseline::Rate { rate } if !(rate > 0.0 && rate < 1.0) => Err(Error::argument(
            "baseline.rate",
            format!("{rate} must be in (0, 1)"),
        )),
        Baseline::Mean { mean, .. } if !(mean.is_finite() && mean != 0.0) => Err(Error::argument(
            "baseline.mean",
            format!("{mean} must be finite and not 0"),
        )),
        Baseline::Mean { sd, .. } => positive("baseline.sd", sd).map(|_| ()),
        Baseline::Rate { .. } => Ok(()),
    }
}

/// The largest relative lift a baseline allows (a rate stays under 1).
fn max_lift(b: &Baseline) -> f64 {
    match *b {
        Baseline::Rate { rate } => (1.0 - rate) / rate,
        Baseline::Mean { .. } => f64::INFINITY,
    }
}

fn check_lift(b: &Baseline, lift: f64) -> Result<(), Error> {
    positive("lift", lift)?;
    if lift >= max_lift(b) {
        return Err(Error::argument(
            "lift",
            format!("{lift} would take the rate to 1 or more"),
        ));
    }
    Ok(())
}

fn base_value(b: &Baseline) -> f64 {
    match *b {
        Baseline::Rate { rate } => rate,
        Baseline::Mean { mean, .. } => mean,
    }
}

fn alternative(sides: Sides) -> Alternative {
    match sides {
        Sides::Two => Alternative::TwoSided,
        Sides::One => Alternative::Greater,
    }
}

/// The standardized effect of `lift` (Cohen's h for rates).
fn effect(b: &Baseline, lift: f64) -> Result<f64, Error> {
    match *b {
        Baseline::Rate { rate } => proportion_effect_size(rate * (1.0 + lift), rate),
        Baseline::Mean { mean, sd } => Ok(lift * mean.abs() / sd),
    }
}

fn fixed_units(
    b: &Baseline,
    lift: f64,
    power: f64,
    alpha: f64,
    sides: Sides,
) -> Result<f64, Error> {
    sample_size(effect(b, lift)?, power, 1.0, alpha, alternative(sides))
}

fn fixed_lift(
    b: &Baseline,
    units: f64,
    power: f64,
    alpha: f64,
    sides: Sides,
) -> Result<f64, Error> {
    let d = minimum_detectable_effect(units, power, 1.0, alpha, alternative(sides))?;
    let lift = match *b {
        // Cohen's h inverted: p2 = sin²(asin √p + h / 2).
        Baseline::Rate { rate } => {
            let angle = libm::asin(rate.sqrt()) + d / 2.0;
            if angle >= std::f64::consts::FRAC_PI_2 {
                return Err(Error::degenerate(
                    "no rate under 1 is detectable with so few units",
                ));
            }
            libm::sin(angle).powi(2) / rate - 1.0
        }
        Baseline::Mean { mean, sd } => d * sd / mean.abs(),
    };
    Ok(lift)
}

/// The per-unit variances of the control and of the treatment at `lift`.
fn unit_variances(b: &Baseline, lift: f64) -> (f64, f64) {
    match *b {
        Baseline::Rate { rate } => {
            let p2 = rate * (1.0 + lift);
            (rate * (1.0 - rate), p2 * (1.0 - p2))
        }
        Baseline::Mean { sd, .. } => (sd * sd, sd * sd),
    }
}

/// The always-valid test's power at `units` per variant for `lift` (one look).
fn sequential_power(b: &Baseline, lift: f64, units: f64, alpha: f64, options: &Options) -> f64 {
    let (vc, vt) = unit_variances(b, lift);
    let variance = (vc + vt) / units;
    let diff = lift * base_value(b).abs();
    // The mixing variance as the results set it (from the experiment's alpha), the test at the
    // comparison's level.
    let Ok(mixing) = tau2(vc + vt, options) else {
        return 0.0;
    };
    let Ok(test) = msprt(diff, variance, mixing, alpha) else {
        return 0.0;
    };
    let half = (test.interval().upper() - test.interval().lower()) / 2.0;
    let se = variance.sqrt();
    normal_cdf((diff - half) / se) + normal_cdf((-diff - half) / se)
}

fn sequential_units(
    b: &Baseline,
    lift: f64,
    power: f64,
    alpha: f64,
    options: &Options,
) -> Result<f64, Error> {
    solve_increasing(
        |n| sequential_power(b, lift, n, alpha, options),
        power,
        f64::INFINITY,
    )
    .ok_or_else(|| Error::degenerate("no finite number of units reaches that power"))
}

#[cfg(test)]
#[path = "planning_tests.rs"]
mod tests;
