//! Variance reduction and ratio metrics.
//!
//! - CUPED (Deng, Xu, Kohavi, Walker 2013): the metric `y` adjusted by a pre-experiment
//!   covariate `x`, `y' = y - θ (x - x̄)`, with θ from the pooled within-group covariance
//!   `θ = Σ_g Cov_g(x, y) / Σ_g Var_g(x)`. The adjusted groups are compared with Welch's test.
//! - Ratio metrics (Deng, Knoblich, Lu 2018): `R = Σ y / Σ x` per group (revenue per session
//!   with users as the randomization unit), variance by the delta method
//!   `Var(R) ≈ (s_y² - 2 R s_xy + R² s_x²) / (n x̄²)`.

use super::dist::normal_sf;
use super::interval::Interval;
use super::proportions::check_alpha;
use super::summary::{CoMoments, Moments};
use super::ttest::{Alternative, TTest, ttest_ind};
use crate::error::Error;

/// The result of a CUPED-adjusted comparison of a treatment with a control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cuped {
    theta: f64,
    treatment: Moments,
    control: Moments,
    test: TTest,
    interval: Interval,
    variance_reduction: f64,
}

impl Cuped {
    /// Every figure in one array, for bindings: θ, statistic, p-value, df, interval lower
    /// and upper, variance reduction.
    pub fn values(&self) -> [f64; 7] {
        [
            self.theta(),
            self.test().statistic(),
            self.test().pvalue(),
            self.test().df(),
            self.interval().lower(),
            self.interval().upper(),
            self.variance_reduction(),
        ]
    }

    /// The adjustment coefficient θ.
    pub fn theta(&self) -> f64 {
        self.theta
    }
    /// The adjusted treatment metric.
    pub fn treatment(&self) -> &Moments {
        &self.treatment
    }
    /// The adjusted control metric.
    pub fn control(&self) -> &Moments {
        &self.control
    }
    /// Welch's test on the adjusted metric (treatment - control).
    pub fn test(&self) -> &TTest {
        &self.test
    }
    /// The interval for the adjusted difference of means.
    pub fn interval(&self) -> &Interval {
        &self.interval
    }
    /// The share of the difference's variance removed: 1 - Var(adjusted) / Var(unadjusted).
    pub fn variance_reduction(&self) -> f64 {
        self.variance_reduction
    }
}

/// CUPED adjustment of `y` by the covariate `x` in both groups, then Welch's t-test and a
/// `1 - alpha` interval for the adjusted difference.
pub fn cuped(
    treatment: &CoMoments,
    control: &CoMoments,
    alpha: f64,
    alternative: Alternative,
) -> Result<Cuped, Error> {
    check_alpha(alpha)?;
    let sxx = treatment.x().m2() + control.x().m2();
    if !super::positive_finite(sxx) {
        return Err(Error::degenerate(
            "the covariate has no variance: CUPED cannot adjust",
        ));
    }
    let theta = (treatment.co_moment() + control.co_moment()) / sxx;
    let mut all_x = treatment.x();
    all_x.merge(&control.x());
    let adjust = |g: &CoMoments| -> Result<Moments, Error> {
        let m2 = g.y().m2() - 2.0 * theta * g.co_moment() + theta * theta * g.x().m2();
        Moments::from_parts(
            g.count(),
            g.y().mean() - theta * (g.x().mean() - all_x.mean()),
            m2.max(0.0),
        )
    };
    let (t, c) = (adjust(treatment)?, adjust(control)?);
    let test = ttest_ind(&t, &c, false, alternative)?;
    let raw = ttest_ind(&treatment.y(), &control.y(), false, Alternative::TwoSided)?;
    let crit = super::dist::student_t_isf(alpha / 2.0, test.df());
    let diff = t.mean() - c.mean();
    let interval = Interval::new(
        diff,
        diff - crit * test.std_error(),
        diff + crit * test.std_error(),
    )?;
    let variance_reduction = 1.0 - (test.std_error() / raw.std_error()).powi(2);
    Ok(Cuped {
        theta,
        treatment: t,
        control: c,
        test,
        interval,
        variance_reduction,
    })
}

/// A ratio metric of one group: `R = Σ y / Σ x` and its delta-method variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    ratio: f64,
    variance: f64,
}

impl Ratio {
    /// `Σ y / Σ x`.
    pub fn ratio(&self) -> f64 {
        self.ratio
    }
    /// The delta-method variance of the ratio.
    pub fn variance(&self) -> f64 {
        self.variance
    }
}

/// The ratio `Σ y / Σ x` of one group from the joint moments of the per-unit denominators `x`
/// and numerators `y`.
pub fn ratio_metric(m: &CoMoments) -> Result<Ratio, Error> {
    let (x, y) = (m.x(), m.y());
    let n = m.count() as f64;
    let (vx, vy, cxy) = match (x.variance(), y.variance(), m.covariance()) {
        (Some(vx), Some(vy), Some(cxy)) => (vx, vy, cxy),
        _ => return Err(Error::degenerate("a ratio metric needs at least 2 units")),
    };
    if x.mean() == 0.0 {
        return Err(Error::degenerate("the denominator's mean is 0"));
    }
    let r = y.mean() / x.mean();
    let variance = ((vy - 2.0 * r * cxy + r * r * vx) / (n * x.mean() * x.mean())).max(0.0);
    Ok(Ratio { ratio: r, variance })
}

/// The result of comparing two ratio metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RatioComparison {
    treatment: Ratio,
    control: Ratio,
    statistic: f64,
    pvalue: f64,
    difference: Interval,
    relative: Interval,
}

impl RatioComparison {
    /// Every figure in one array, for bindings: the treatment's and control's ratios and
    /// variances, statistic, p-value, the difference's interval, the relative interval.
    pub fn values(&self) -> [f64; 10] {
        [
            self.treatment().ratio(),
            self.control().ratio(),
            self.treatment().variance(),
            self.control().variance(),
            self.statistic(),
            self.pvalue(),
            self.difference().lower(),
            self.difference().upper(),
            self.relative().lower(),
            self.relative().upper(),
        ]
    }

    /// The treatment's ratio.
    pub fn treatment(&self) -> &Ratio {
        &self.treatment
    }
    /// The control's ratio.
    pub fn control(&self) -> &Ratio {
        &self.control
    }
    /// The z statistic of the difference.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
    /// The interval of `R_t - R_c`.
    pub fn difference(&self) -> &Interval {
        &self.difference
    }
    /// The interval of `R_t / R_c - 1` (delta method).
    pub fn relative(&self) -> &Interval {
        &self.relative
    }
}

/// Compares the ratio metrics of two groups with a z-test and `1 - alpha` intervals.
pub fn ratio_ztest(
    treatment: &CoMoments,
    control: &CoMoments,
    alpha: f64,
    alternative: Alternative,
) -> Result<RatioComparison, Error> {
    let z = check_alpha(alpha)?;
    let (t, c) = (ratio_metric(treatment)?, ratio_metric(control)?);
    let se = (t.variance + c.variance).sqrt();
    if !super::positive_finite(se) {
        return Err(Error::degenerate("both ratios have zero variance"));
    }
    let diff = t.ratio - c.ratio;
    let statistic = diff / se;
    let pvalue = alternative.pvalue(statistic, normal_sf);
    let difference = Interval::new(diff, diff - z * se, diff + z * se)?;
    if c.ratio == 0.0 {
        return Err(Error::degenerate(
            "the control ratio is 0: relative change is undefined",
        ));
    }
    let rel = t.ratio / c.ratio - 1.0;
    let rel_se = (t.variance / (c.ratio * c.ratio)
        + t.ratio * t.ratio * c.variance / c.ratio.powi(4))
    .sqrt();
    let relative = Interval::new(rel, rel - z * rel_se, rel + z * rel_se)?;
    Ok(RatioComparison {
        treatment: t,
        control: c,
        statistic,
        pvalue,
        difference,
        relative,
    })
}
