//! Confidence intervals for means, differences of means and relative lift.

use super::dist::student_t_isf;
use super::proportions::check_alpha;
use super::summary::Moments;
use crate::error::Error;

/// A point estimate with a two-sided confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    estimate: f64,
    lower: f64,
    upper: f64,
}

impl Interval {
    /// An interval; `degenerate_data` when a bound is not a number.
    pub fn new(estimate: f64, lower: f64, upper: f64) -> Result<Self, Error> {
        if estimate.is_nan() || lower.is_nan() || upper.is_nan() || lower > upper {
            return Err(Error::degenerate(format!(
                "the interval is undefined for this data ({lower}, {upper})"
            )));
        }
        Ok(Interval {
            estimate,
            lower,
            upper,
        })
    }

    /// The point estimate.
    pub fn estimate(&self) -> f64 {
        self.estimate
    }
    /// The lower bound.
    pub fn lower(&self) -> f64 {
        self.lower
    }
    /// The upper bound.
    pub fn upper(&self) -> f64 {
        self.upper
    }
    /// Whether the interval contains `value`.
    pub fn contains(&self, value: f64) -> bool {
        self.lower <= value && value <= self.upper
    }
}

/// The `1 - alpha` t interval for a mean.
pub fn mean_confint(m: &Moments, alpha: f64) -> Result<Interval, Error> {
    check_alpha(alpha)?;
    let se = m
        .std_error()
        .ok_or_else(|| Error::degenerate("a mean interval needs at least 2 observations"))?;
    let t = student_t_isf(alpha / 2.0, (m.count() - 1) as f64);
    Interval::new(m.mean(), m.mean() - t * se, m.mean() + t * se)
}

/// The `1 - alpha` t interval for `mean(a) - mean(b)` (Welch's degrees of freedom, or the
/// pooled variance with `equal_var`), consistent with [`super::ttest::ttest_ind`].
pub fn diff_means_confint(
    a: &Moments,
    b: &Moments,
    alpha: f64,
    equal_var: bool,
) -> Result<Interval, Error> {
    check_alpha(alpha)?;
    let test = super::ttest::ttest_ind(a, b, equal_var, super::ttest::Alternative::TwoSided)?;
    let t = student_t_isf(alpha / 2.0, test.df());
    let diff = a.mean() - b.mean();
    Interval::new(
        diff,
        diff - t * test.std_error(),
        diff + t * test.std_error(),
    )
}

/// The `1 - alpha` interval for the relative lift `mean(treatment) / mean(control) - 1` by the
/// delta method (Deng, Knoblich, Lu 2018), with a normal critical value:
/// `Var ≈ s_t²/(n_t μ_c²) + μ_t² s_c²/(n_c μ_c⁴)`.
pub fn relative_lift_confint(
    treatment: &Moments,
    control: &Moments,
    alpha: f64,
) -> Result<Interval, Error> {
    let z = check_alpha(alpha)?;
    let (vt, vc) = match (treatment.variance(), control.variance()) {
        (Some(vt), Some(vc)) => (vt, vc),
        _ => {
            return Err(Error::degenerate(
                "relative lift needs at least 2 observations per group",
            ));
        }
    };
    let (mt, mc) = (treatment.mean(), control.mean());
    if mc == 0.0 {
        return Err(Error::degenerate(
            "the control mean is 0: relative lift is undefined",
        ));
    }
    let (nt, nc) = (treatment.count() as f64, control.count() as f64);
    let var = vt / (nt * mc * mc) + mt * mt * vc / (nc * mc.powi(4));
    let lift = mt / mc - 1.0;
    let half = z * var.sqrt();
    Interval::new(lift, lift - half, lift + half)
}
