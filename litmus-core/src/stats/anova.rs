//! One-way analysis of variance from group summaries, as scipy's `f_oneway` (for A/B/n: does
//! any variant's mean differ?).

use super::dist::f_sf;
use super::summary::Moments;
use crate::error::Error;

/// The result of a one-way ANOVA.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anova {
    statistic: f64,
    pvalue: f64,
    df_between: f64,
    df_within: f64,
}

impl Anova {
    /// The F statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
    /// Degrees of freedom between groups (k - 1).
    pub fn df_between(&self) -> f64 {
        self.df_between
    }
    /// Degrees of freedom within groups (N - k).
    pub fn df_within(&self) -> f64 {
        self.df_within
    }
}

/// One-way ANOVA over at least two groups.
pub fn f_oneway(groups: &[Moments]) -> Result<Anova, Error> {
    let k = groups.len();
    if k < 2 {
        return Err(Error::argument(
            "groups",
            format!("{k} groups: ANOVA needs at least 2"),
        ));
    }
    if let Some(i) = groups.iter().position(|g| g.count() == 0) {
        return Err(Error::degenerate(format!("group {i} is empty")));
    }
    let mut total = Moments::new();
    for g in groups {
        total.merge(g);
    }
    let n = total.count() as f64;
    let df_between = (k - 1) as f64;
    let df_within = n - k as f64;
    if df_within < 1.0 {
        return Err(Error::degenerate(
            "ANOVA needs more observations than groups",
        ));
    }
    let grand = total.mean();
    let ss_between: f64 = groups
        .iter()
        .map(|g| g.count() as f64 * (g.mean() - grand).powi(2))
        .sum();
    let ss_within: f64 = groups.iter().map(Moments::m2).sum();
    if !super::positive_finite(ss_within) {
        return Err(Error::degenerate(
            "every group has zero variance: F is undefined",
        ));
    }
    let statistic = (ss_between / df_between) / (ss_within / df_within);
    Ok(Anova {
        statistic,
        pvalue: f_sf(statistic, df_between, df_within),
        df_between,
        df_within,
    })
}
