//! A/B/n comparisons against a control: Welch's t-test and interval of each variant minus the
//! control, the relative lift, and p-values adjusted for the number of comparisons.

use super::interval::{Interval, diff_means_confint, relative_lift_confint};
use super::multiple::{Correction, multipletests};
use super::summary::Moments;
use super::ttest::{Alternative, TTest, ttest_ind};
use crate::error::Error;

/// One variant compared with the control.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Comparison {
    test: TTest,
    difference: Interval,
    relative: Interval,
    adjusted_pvalue: f64,
    significant: bool,
}

impl Comparison {
    /// Welch's test of variant - control.
    pub fn test(&self) -> &TTest {
        &self.test
    }
    /// The interval of the difference of means (not adjusted for multiplicity).
    pub fn difference(&self) -> &Interval {
        &self.difference
    }
    /// The interval of the relative lift (delta method).
    pub fn relative(&self) -> &Interval {
        &self.relative
    }
    /// The p-value adjusted for the family of comparisons.
    pub fn adjusted_pvalue(&self) -> f64 {
        self.adjusted_pvalue
    }
    /// Whether the adjusted p-value is at most alpha.
    pub fn significant(&self) -> bool {
        self.significant
    }
}

/// Compares every variant with the control at level `alpha`, adjusting with `correction`.
pub fn compare_to_control(
    control: &Moments,
    variants: &[Moments],
    alpha: f64,
    correction: Correction,
) -> Result<Vec<Comparison>, Error> {
    let tests = variants
        .iter()
        .map(|v| ttest_ind(v, control, false, Alternative::TwoSided))
        .collect::<Result<Vec<_>, _>>()?;
    let pvalues: Vec<f64> = tests.iter().map(TTest::pvalue).collect();
    let adjusted = multipletests(&pvalues, alpha, correction)?;
    variants
        .iter()
        .zip(tests)
        .zip(adjusted.pvalues().iter().zip(adjusted.reject()))
        .map(|((v, test), (&adjusted_pvalue, &significant))| {
            Ok(Comparison {
                test,
                difference: diff_means_confint(v, control, alpha, false)?,
                relative: relative_lift_confint(v, control, alpha)?,
                adjusted_pvalue,
                significant,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adjusts_across_variants() {
        let m = |n, mean, sd| Moments::from_mean_std(n, mean, sd).unwrap_or_default();
        let control = m(1000, 10.0, 2.0);
        let variants = [m(1000, 10.4, 2.0), m(1000, 10.01, 2.0), m(1000, 9.7, 2.0)];
        let out =
            compare_to_control(&control, &variants, 0.05, Correction::Holm).unwrap_or_default();
        assert_eq!(out.len(), 3);
        assert!(out[0].significant() && out[2].significant() && !out[1].significant());
        assert!(out.iter().all(|c| c.adjusted_pvalue() >= c.test().pvalue()));
        assert!(out[2].relative().upper() < 0.0);
    }
}
