//! Always-valid inference: the mixture sequential probability ratio test (mSPRT) with a normal
//! mixture over the effect (Johari, Pekelis, Walsh 2017; Robbins 1970).
//!
//! For an estimate `θ̂` of the difference with variance `V` and a mixing distribution
//! `N(0, τ²)` over the true effect, the mixture likelihood ratio against `θ = θ0` is
//! `Λ = sqrt(V / (V + τ²)) exp(τ² (θ̂ - θ0)² / (2 V (V + τ²)))`. Rejecting when `Λ >= 1/α` keeps
//! the false-positive rate at or below `α` however often the results are looked at, so the
//! p-value `min(1, 1/Λ)` and the interval `θ̂ ± sqrt(V (V + τ²) / τ² (ln((V + τ²)/V) - 2 ln α))`
//! are valid at every look. Take the running minimum of the p-value (and the running
//! intersection of the intervals) across looks: [`SequentialState`] does it.
//!
//! The variance is estimated from the data (plug-in), which is exact asymptotically; start
//! looking after a burn-in of a few hundred units per group.

use super::interval::Interval;
use super::summary::{Moments, Proportion};
use crate::error::Error;

/// The always-valid test at one look.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sequential {
    likelihood_ratio: f64,
    pvalue: f64,
    interval: Interval,
}

impl Sequential {
    /// The mixture likelihood ratio against no effect (`+inf` when it overflows).
    pub fn likelihood_ratio(&self) -> f64 {
        self.likelihood_ratio
    }
    /// The always-valid p-value at this look, `min(1, 1/Λ)` (not yet the running minimum).
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
    /// The always-valid `1 - alpha` interval for the difference at this look.
    pub fn interval(&self) -> &Interval {
        &self.interval
    }
}

/// The mSPRT for an estimate `diff` with variance `variance`, mixing variance `tau2 > 0`.
pub fn msprt(diff: f64, variance: f64, tau2: f64, alpha: f64) -> Result<Sequential, Error> {
    if !diff.is_finite() {
        return Err(Error::argument("diff", format!("{diff} must be finite")));
    }
    if !super::positive_finite(variance) {
        return Err(Error::degenerate(format!(
            "the estimate's variance is {variance}"
        )));
    }
    if !super::positive_finite(tau2) {
        return Err(Error::argument(
            "tau2",
            format!("{tau2} must be finite and > 0"),
        ));
    }
    if !(alpha > 0.0 && alpha < 1.0) {
        return Err(Error::argument(
            "alpha",
            format!("{alpha} must be in (0, 1)"),
        ));
    }
    let total = variance + tau2;
    let ln_lr = 0.5 * libm::log(variance / total) + tau2 * diff * diff / (2.0 * variance * total);
    let pvalue = libm::exp(-ln_lr).min(1.0);
    let half =
        (variance * total / tau2 * (libm::log(total / variance) - 2.0 * libm::log(alpha))).sqrt();
    Ok(Sequential {
        likelihood_ratio: libm::exp(ln_lr),
        pvalue,
        interval: Interval::new(diff, diff - half, diff + half)?,
    })
}

/// The mSPRT for `mean(treatment) - mean(control)`.
pub fn msprt_means(
    treatment: &Moments,
    control: &Moments,
    tau2: f64,
    alpha: f64,
) -> Result<Sequential, Error> {
    let (vt, vc) = match (treatment.variance(), control.variance()) {
        (Some(vt), Some(vc)) => (vt, vc),
        _ => {
            return Err(Error::degenerate(
                "each group needs at least 2 observations",
            ));
        }
    };
    let variance = vt / treatment.count() as f64 + vc / control.count() as f64;
    msprt(treatment.mean() - control.mean(), variance, tau2, alpha)
}

/// The mSPRT for `rate(treatment) - rate(control)` (unpooled variance).
pub fn msprt_proportions(
    treatment: &Proportion,
    control: &Proportion,
    tau2: f64,
    alpha: f64,
) -> Result<Sequential, Error> {
    let (pt, pc) = match (treatment.rate(), control.rate()) {
        (Some(pt), Some(pc)) => (pt, pc),
        _ => return Err(Error::degenerate("each group needs at least one trial")),
    };
    let variance =
        pt * (1.0 - pt) / treatment.trials() as f64 + pc * (1.0 - pc) / control.trials() as f64;
    msprt(pt - pc, variance, tau2, alpha)
}

/// The running state across looks: the minimum p-value and the intersection of intervals.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SequentialState {
    pvalue: f64,
    lower: f64,
    upper: f64,
    looks: u64,
}

impl Default for SequentialState {
    fn default() -> Self {
        SequentialState {
            pvalue: 1.0,
            lower: f64::NEG_INFINITY,
            upper: f64::INFINITY,
            looks: 0,
        }
    }
}

impl SequentialState {
    /// No look yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Folds one look into the state.
    pub fn observe(&mut self, look: &Sequential) {
        self.observe_parts(look.pvalue, look.interval.lower(), look.interval.upper());
    }

    /// Folds one look given by its p-value and interval ends (NaNs are ignored).
    pub fn observe_parts(&mut self, pvalue: f64, lower: f64, upper: f64) {
        self.pvalue = self.pvalue.min(pvalue);
        self.lower = self.lower.max(lower);
        self.upper = self.upper.min(upper);
        self.looks += 1;
    }

    /// The always-valid p-value so far (the running minimum).
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }

    /// The always-valid interval so far (the running intersection; it may be empty when the
    /// data drifted, which itself signals a violated assumption).
    pub fn interval(&self) -> (f64, f64) {
        (self.lower, self.upper)
    }

    /// How many looks were folded in.
    pub fn looks(&self) -> u64 {
        self.looks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_form_values() {
        // V = 1, tau2 = 1, diff = 3: Λ = sqrt(1/2) exp(9/4).
        let s = msprt(3.0, 1.0, 1.0, 0.05).unwrap_or_else(|e| panic!("{e}"));
        let lr = 0.5f64.sqrt() * libm::exp(2.25f64);
        assert!((s.likelihood_ratio() - lr).abs() < 1e-12 * lr);
        assert!((s.pvalue() - 1.0 / lr).abs() < 1e-15);
        let half = (2.0 * (libm::log(2.0f64) - 2.0 * libm::log(0.05f64))).sqrt();
        assert!((s.interval().upper() - (3.0 + half)).abs() < 1e-12);
        // The interval excludes 0 exactly when the p-value is below alpha.
        assert_eq!(s.pvalue() < 0.05, !s.interval().contains(0.0));
        assert!(msprt(1.0, 0.0, 1.0, 0.05).is_err());
        assert!(msprt(1.0, 1.0, -1.0, 0.05).is_err());
    }
}
