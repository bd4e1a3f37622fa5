//! Analysis settings: how an experiment's results are computed. An experiment's `analysis`
//! object in the config sets some of them, the server's defaults (the same object) others, and
//! [`Options::default`] the rest: [`AnalysisSettings::over`] layers them and
//! [`AnalysisSettings::options`] gives the [`Options`] the analysis runs with.
//!
//! ```json
//! "analysis": {
//!   "alpha": 0.05, "test": "two_sided", "basis": "sequential", "correction": "holm",
//!   "cuped": "show", "min_units": 100, "sequential_tuning": 5000,
//!   "priors": {"rate": {"alpha": 1, "beta": 1}, "lift": {"mean": 0, "sd": 0.3}}
//! }
//! ```

use serde::Serialize;
use serde_json::Value;

use super::spec::{CupedRole, DecisionBasis, Options, Sides};
use crate::config::decode::{fields, number, one_of, optional, unsigned};
use crate::error::{Error, FieldPath};
use crate::stats::multiple::Correction;

/// No settings at all (every one from the layer below).
pub static NO_SETTINGS: AnalysisSettings = AnalysisSettings {
    alpha: None,
    test: None,
    basis: None,
    correction: None,
    cuped: None,
    rate_prior: None,
    lift_prior: None,
    min_units: None,
    sequential_tuning: None,
    unknown: Vec::new(),
};

/// The largest significance level a setting may ask for.
pub const MAX_ALPHA: f64 = 0.5;

/// A Beta(alpha, beta) prior on each variant's rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RatePrior {
    /// Prior successes plus one (>= 1).
    pub alpha: f64,
    /// Prior failures plus one (>= 1).
    pub beta: f64,
}

/// A Normal(mean, sd²) prior on a variant's relative lift over the control.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LiftPrior {
    /// The prior's mean (0: no lift expected).
    pub mean: f64,
    /// The prior's standard deviation (0.3: lifts of ±30% are plausible).
    pub sd: f64,
}

/// Some of an experiment's analysis settings (each absent one comes from the layer below).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AnalysisSettings {
    /// The significance level, in (0, 0.5].
    pub alpha: Option<f64>,
    /// Two-sided tests, or one-sided ones in each metric's direction.
    pub test: Option<Sides>,
    /// Which p-values decide.
    pub basis: Option<DecisionBasis>,
    /// The correction across decision metrics and variants.
    pub correction: Option<Correction>,
    /// Whether CUPED's figures decide (for means with pre-exposure data) or are shown beside.
    pub cuped: Option<CupedRole>,
    /// The Beta prior of rates.
    pub rate_prior: Option<RatePrior>,
    /// The Normal prior of relative lifts (means, ratios, quantiles).
    pub lift_prior: Option<LiftPrior>,
    /// Units each of the control and a variant needs before its verdict can be other than
    /// inconclusive.
    pub min_units: Option<u64>,
    /// The always-valid interval's tuning `n*` (>= 1).
    pub sequential_tuning: Option<f64>,
    /// The paths of fields these settings do not define (kept so that an SDK reads a newer
    /// server's config; admin input refuses them).
    pub unknown: Vec<FieldPath>,
}

impl AnalysisSettings {
    /// [`AnalysisSettings::decode`], an unknown field being an error at its path too (for a
    /// request, which has no room for fields of later versions).
    pub(crate) fn decode_strict(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let settings = Self::decode(value, path)?;
        match settings.unknown.first() {
            Some(path) => Err(Error::UnknownField { path: path.clone() }),
            None => Ok(settings),
        }
    }

    /// Reads an `analysis` object found at `path`, checking every value's range: a clear
    /// error at the field's path for a value of the wrong type or out of range, or for a
    /// combination the analysis cannot do (a one-sided sequential test). Unknown fields are
    /// kept in [`AnalysisSettings::unknown`].
    pub fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let mut s = AnalysisSettings::default();
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "alpha" => s.alpha = optional(v, &at.path(), level)?,
                "test" => {
                    s.test = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[("two_sided", Sides::Two), ("one_sided", Sides::One)],
                        )
                    })?;
                }
                "basis" => {
                    s.basis = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[
                                ("sequential", DecisionBasis::Sequential),
                                ("fixed_horizon", DecisionBasis::FixedHorizon),
                            ],
                        )
                    })?;
                }
                "correction" => {
                    s.correction = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[
                                ("holm", Correction::Holm),
                                ("benjamini_hochberg", Correction::BenjaminiHochberg),
                                ("bonferroni", Correction::Bonferroni),
                                ("none", Correction::None),
                            ],
                        )
                    })?;
                }
                "cuped" => {
                    s.cuped = optional(v, at, |v, at| {
                        one_of(
                            v,
                            at,
                            &[("show", CupedRole::Show), ("decide", CupedRole::Decide)],
                        )
                    })?;
                }
                "min_units" => s.min_units = optional(v, at, unsigned)?,
                "sequential_tuning" => s.sequential_tuning = optional(v, &at.path(), tuning)?,
                "priors" => {
                    let (rate, lift) =
                        optional(v, &at.path(), |v, at| priors(v, at, &mut s.unknown))?
                            .unwrap_or_default();
                    (s.rate_prior, s.lift_prior) = (rate, lift);
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        s.unknown
            .extend(unknown.keys().map(|name| path.field(name)));
        s.check(path)?;
        Ok(s)
    }

    /// Checks the combination: a one-sided test decides on fixed-horizon p-values (the
    /// always-valid test here is two-sided).
    pub fn check(&self, path: &FieldPath) -> Result<(), Error> {
        if self.test == Some(Sides::One) && self.basis != Some(DecisionBasis::FixedHorizon) {
            return Err(Error::InvalidValue {
                path: path.field("basis"),
                message: "a one-sided test needs \"basis\": \"fixed_horizon\" (the always-valid \
                          test is two-sided)"
                    .into(),
            });
        }
        Ok(())
    }

    /// These settings over `below`: each one set here wins.
    pub fn over(&self, below: &AnalysisSettings) -> AnalysisSettings {
        AnalysisSettings {
            alpha: self.alpha.or(below.alpha),
            // An always-valid basis set here is two-sided, whatever the test below.
            test: match (self.test, self.basis) {
                (Some(t), _) => Some(t),
                (None, Some(DecisionBasis::Sequential)) => Some(Sides::Two),
                (None, _) => below.test,
            },
            basis: self.basis.or(below.basis),
            correction: self.correction.or(below.correction),
            cuped: self.cuped.or(below.cuped),
            rate_prior: self.rate_prior.or(below.rate_prior),
            lift_prior: self.lift_prior.or(below.lift_prior),
            min_units: self.min_units.or(below.min_units),
            sequential_tuning: self.sequential_tuning.or(below.sequential_tuning),
            unknown: Vec::new(),
        }
    }

    /// The options the analysis runs with: these settings over [`Options::default`].
    pub fn options(&self) -> Options {
        let d = Options::default();
        Options {
            alpha: self.alpha.unwrap_or(d.alpha),
            sides: self.test.unwrap_or(d.sides),
            basis: self.basis.unwrap_or(d.basis),
            correction: self.correction.unwrap_or(d.correction),
            cuped: self.cuped.unwrap_or(d.cuped),
            rate_prior: self.rate_prior.unwrap_or(d.rate_prior),
            lift_prior: self.lift_prior.or(d.lift_prior),
            min_units: self.min_units.unwrap_or(d.min_units),
            sequential_tuning: self.sequential_tuning.unwrap_or(d.sequential_tuning),
            ..d
        }
    }
}

/// The settings a result was computed with, as the results show them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ShownSettings {
    /// The significance level.
    pub alpha: f64,
    /// Two- or one-sided.
    pub test: Sides,
    /// Which p-values decide.
    pub basis: DecisionBasis,
    /// The correction's name.
    pub correction: &'static str,
    /// Whether CUPED decides.
    pub cuped: CupedRole,
    /// The Beta prior of rates.
    pub rate_prior: RatePrior,
    /// The Normal prior of relative lifts (`null`: flat).
    pub lift_prior: Option<LiftPrior>,
    /// Units each side needs before a verdict.
    pub min_units: u64,
    /// The always-valid tuning `n*`.
    pub sequential_tuning: f64,
}

impl From<&Options> for ShownSettings {
    fn from(o: &Options) -> Self {
        ShownSettings {
            alpha: o.alpha,
            test: o.sides,
            basis: o.basis,
            correction: o.correction.as_str(),
            cuped: o.cuped,
            rate_prior: o.rate_prior,
            lift_prior: o.lift_prior,
            min_units: o.min_units,
            sequential_tuning: o.sequential_tuning,
        }
    }
}

/// Checks an `analysis` object (JSON text) as the admin API checks an experiment's, strictly
/// (an unknown field is an error at its path), and answers the settings it gives over core's
/// defaults. For the bindings' `validate_analysis` / `validateAnalysis`.
pub fn validate_analysis(text: &str) -> Result<ShownSettings, Error> {
    let value = crate::config::strict_value(text)?;
    let settings = AnalysisSettings::decode(&value, &FieldPath::root())?;
    if let Some(path) = settings.unknown.first() {
        return Err(Error::UnknownField { path: path.clone() });
    }
    Ok(ShownSettings::from(&settings.options()))
}

/// A significance level in (0, [`MAX_ALPHA`]].
fn level(value: &Value, path: &FieldPath) -> Result<f64, Error> {
    let alpha = number(value, path)?;
    if !(alpha > 0.0 && alpha <= MAX_ALPHA) {
        return Err(out_of_range(
            path,
            format!("{alpha} must be in (0, {MAX_ALPHA}]"),
        ));
    }
    Ok(alpha)
}

/// The always-valid tuning: finite, >= 1.
fn tuning(value: &Value, path: &FieldPath) -> Result<f64, Error> {
    let n = number(value, path)?;
    if !(n.is_finite() && n >= 1.0) {
        return Err(out_of_range(path, format!("{n} must be finite and >= 1")));
    }
    Ok(n)
}

/// `{"rate": {"alpha", "beta"}, "lift": {"mean", "sd"}}`, both optional; proper priors only.
fn priors(
    value: &Value,
    path: &FieldPath,
    unknowns: &mut Vec<FieldPath>,
) -> Result<(Option<RatePrior>, Option<LiftPrior>), Error> {
    let (mut rate, mut lift) = (None, None);
    let unknown = fields(value, path, |name, v, at| {
        match name {
            "rate" => rate = optional(v, &at.path(), rate_prior)?,
            "lift" => lift = optional(v, &at.path(), lift_prior)?,
            _ => return Ok(false),
        }
        Ok(true)
    })?;
    unknowns.extend(unknown.keys().map(|name| path.field(name)));
    Ok((rate, lift))
}

/// Two numbers of an object: `names` in order, each required.
fn pair(value: &Value, path: &FieldPath, names: [&str; 2]) -> Result<[f64; 2], Error> {
    let mut got = [None, None];
    let unknown = fields(value, path, |name, v, at| {
        match names.iter().position(|n| *n == name) {
            Some(i) => {
                if let Some(slot) = got.get_mut(i) {
                    *slot = Some(number(v, at)?);
                }
                Ok(true)
            }
            None => Ok(false),
        }
    })?;
    crate::config::decode::no_unknown(&unknown, path)?;
    let [a, b] = got;
    let a = a.ok_or_else(|| Error::MissingField {
        path: path.field(names[0]),
    })?;
    let b = b.ok_or_else(|| Error::MissingField {
        path: path.field(names[1]),
    })?;
    Ok([a, b])
}

fn rate_prior(value: &Value, path: &FieldPath) -> Result<RatePrior, Error> {
    let [alpha, beta] = pair(value, path, ["alpha", "beta"])?;
    for (name, v) in [("alpha", alpha), ("beta", beta)] {
        // A Beta prior under 1 has an unbounded density (improper at 0): not accepted.
        if !(v.is_finite() && (1.0..=crate::stats::bayes::MAX_BETA_PARAMETER).contains(&v)) {
            return Err(out_of_range(
                &path.field(name),
                format!("{v} must be finite, >= 1 and <= 1e15"),
            ));
        }
    }
    Ok(RatePrior { alpha, beta })
}

fn lift_prior(value: &Value, path: &FieldPath) -> Result<LiftPrior, Error> {
    let [mean, sd] = pair(value, path, ["mean", "sd"])?;
    if !mean.is_finite() {
        return Err(out_of_range(
            &path.field("mean"),
            format!("{mean} must be finite"),
        ));
    }
    if !(sd.is_finite() && sd > 0.0) {
        return Err(out_of_range(
            &path.field("sd"),
            format!("{sd} must be finite and > 0 (a flat prior is no prior: leave it out)"),
        ));
    }
    Ok(LiftPrior { mean, sd })
}

fn out_of_range(path: &FieldPath, message: String) -> Error {
    Error::InvalidValue {
        path: path.clone(),
        message,
    }
}

#[cfg(test)]
#[path = "settings_tests.rs"]
mod tests;
