//! Tests and intervals for conversion rates: the two-proportion z-test (statsmodels'
//! `proportions_ztest`), one-proportion intervals (`proportion_confint`: normal/Wald, Wilson,
//! Agresti-Coull) and Newcombe's interval for a difference (`confint_proportions_2indep`).

use super::dist::normal_isf;
use super::interval::Interval;
use super::summary::Proportion;
use super::ttest::{Alternative, ZTest};
use crate::error::Error;

/// How the standard error of a difference of proportions is estimated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum ZVariance {
    /// From the pooled rate, under the null hypothesis of equal rates (statsmodels' default).
    #[default]
    Pooled,
    /// From each group's own rate.
    Unpooled,
}

/// Two-proportion z-test of `rate(a) - rate(b)`.
pub fn proportions_ztest(
    a: &Proportion,
    b: &Proportion,
    variance: ZVariance,
    alternative: Alternative,
) -> Result<ZTest, Error> {
    if a.trials() == 0 || b.trials() == 0 {
        return Err(Error::degenerate("each group needs at least one trial"));
    }
    let (na, nb) = (a.trials() as f64, b.trials() as f64);
    let (pa, pb) = (a.successes() as f64 / na, b.successes() as f64 / nb);
    let var = match variance {
        ZVariance::Pooled => {
            let p = (a.successes() as f64 + b.successes() as f64) / (na + nb);
            p * (1.0 - p) * (1.0 / na + 1.0 / nb)
        }
        ZVariance::Unpooled => pa * (1.0 - pa) / na + pb * (1.0 - pb) / nb,
    };
    if !super::positive_finite(var) {
        return Err(Error::degenerate(
            "every trial has the same outcome: the z statistic is undefined",
        ));
    }
    Ok(ZTest::new((pa - pb) / var.sqrt(), alternative))
}

/// The method of a one-proportion confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProportionMethod {
    /// Normal approximation (Wald), statsmodels' `normal`; clipped to [0, 1].
    Normal,
    /// Wilson's score interval.
    Wilson,
    /// Agresti-Coull.
    AgrestiCoull,
}

impl ProportionMethod {
    /// Parses statsmodels' names: `normal`, `wilson`, `agresti_coull`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "normal" | "wald" => Ok(ProportionMethod::Normal),
            "wilson" => Ok(ProportionMethod::Wilson),
            "agresti_coull" => Ok(ProportionMethod::AgrestiCoull),
            other => Err(Error::argument(
                "method",
                format!("{other:?} is not normal, wilson or agresti_coull"),
            )),
        }
    }
}

pub(crate) fn check_alpha(alpha: f64) -> Result<f64, Error> {
    if alpha > 0.0 && alpha < 1.0 {
        Ok(normal_isf(alpha / 2.0))
    } else {
        Err(Error::argument(
            "alpha",
            format!("{alpha} must be in (0, 1)"),
        ))
    }
}

/// A two-sided `1 - alpha` confidence interval for a rate.
pub fn proportion_confint(
    p: &Proportion,
    alpha: f64,
    method: ProportionMethod,
) -> Result<Interval, Error> {
    let z = check_alpha(alpha)?;
    if p.trials() == 0 {
        return Err(Error::degenerate("no trials"));
    }
    let n = p.trials() as f64;
    let x = p.successes() as f64;
    let rate = x / n;
    let (lo, hi) = match method {
        ProportionMethod::Normal => {
            let half = z * (rate * (1.0 - rate) / n).sqrt();
            ((rate - half).max(0.0), (rate + half).min(1.0))
        }
        ProportionMethod::Wilson => {
            let (lo, hi) = wilson(x, n, z);
            // Exact at the ends: no successes (or no failures) puts a bound on 0 (or 1).
            (
                if x == 0.0 { 0.0 } else { lo },
                if x == n { 1.0 } else { hi },
            )
        }
        ProportionMethod::AgrestiCoull => {
            let z2 = z * z;
            let n_tilde = n + z2;
            let p_tilde = (x + z2 / 2.0) / n_tilde;
            let half = z * (p_tilde * (1.0 - p_tilde) / n_tilde).sqrt();
            ((p_tilde - half).max(0.0), (p_tilde + half).min(1.0))
        }
    };
    Interval::new(rate, lo, hi)
}

/// Wilson's score interval, in statsmodels' form.
fn wilson(x: f64, n: f64, z: f64) -> (f64, f64) {
    let p = x / n;
    let z2 = z * z;
    let denom = 1.0 + z2 / n;
    let center = (p + z2 / (2.0 * n)) / denom;
    let half = z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denom;
    (center - half, center + half)
}

/// Newcombe's hybrid score interval for `rate(a) - rate(b)` (method 10 of Newcombe 1998), as
/// statsmodels' `confint_proportions_2indep(method="newcomb")`.
pub fn newcombe_diff_confint(
    a: &Proportion,
    b: &Proportion,
    alpha: f64,
) -> Result<Interval, Error> {
    let z = check_alpha(alpha)?;
    if a.trials() == 0 || b.trials() == 0 {
        return Err(Error::degenerate("each group needs at least one trial"));
    }
    let (na, nb) = (a.trials() as f64, b.trials() as f64);
    let (pa, pb) = (a.successes() as f64 / na, b.successes() as f64 / nb);
    let (la, ua) = wilson(a.successes() as f64, na, z);
    let (lb, ub) = wilson(b.successes() as f64, nb, z);
    let diff = pa - pb;
    let lo = diff - ((pa - la).powi(2) + (ub - pb).powi(2)).sqrt();
    let hi = diff + ((ua - pa).powi(2) + (pb - lb).powi(2)).sqrt();
    Interval::new(diff, lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(x: u64, n: u64) -> Proportion {
        Proportion::new(x, n).unwrap_or_default()
    }

    #[test]
    fn matches_statsmodels_examples() {
        let z = proportions_ztest(
            &prop(30, 100),
            &prop(45, 110),
            ZVariance::Pooled,
            Alternative::TwoSided,
        );
        let z = z.unwrap_or_else(|e| panic!("{e}"));
        assert!((z.statistic() + 1.647_771_681_742_2).abs() < 1e-12);
        assert!((z.pvalue() - 0.099_399_532_161_655_74).abs() < 1e-13);
        let w = proportion_confint(&prop(30, 100), 0.05, ProportionMethod::Wilson)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!((w.lower() - 0.218_948_852_949_327_56).abs() < 1e-13);
        assert!((w.upper() - 0.395_848_546_333_466_67).abs() < 1e-13);
        let ac = proportion_confint(&prop(30, 100), 0.05, ProportionMethod::AgrestiCoull)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!((ac.lower() - 0.218_651_355_545_018_2).abs() < 1e-13);
        let d = newcombe_diff_confint(&prop(30, 100), &prop(45, 110), 0.05)
            .unwrap_or_else(|e| panic!("{e}"));
        assert!((d.lower() + 0.232_782_677_627_703_47).abs() < 1e-13);
        assert!((d.upper() - 0.020_556_446_255_100_835).abs() < 1e-13);
    }

    #[test]
    fn degenerate_and_invalid() {
        assert!(
            proportions_ztest(
                &prop(0, 10),
                &prop(0, 10),
                ZVariance::Pooled,
                Alternative::TwoSided
            )
            .is_err()
        );
        assert!(proportion_confint(&prop(1, 10), 1.5, ProportionMethod::Wilson).is_err());
        assert!(proportion_confint(&prop(0, 0), 0.05, ProportionMethod::Wilson).is_err());
        let all = proportion_confint(&prop(10, 10), 0.05, ProportionMethod::Normal)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((all.lower(), all.upper()), (1.0, 1.0));
    }
}
