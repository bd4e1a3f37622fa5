//! Two-sample t-tests from summaries (Welch's and Student's), as scipy's
//! `ttest_ind_from_stats`, and the z-test for a mean difference with known standard error.

use super::dist::{normal_sf, student_t_sf};
use super::summary::Moments;
use crate::error::Error;

/// Which side the alternative hypothesis is on, for `mean1 - mean2` (scipy's `alternative`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum Alternative {
    /// The means differ.
    #[default]
    TwoSided,
    /// The first mean is less than the second.
    Less,
    /// The first mean is greater than the second.
    Greater,
}

impl Alternative {
    /// Parses scipy's and statsmodels' spellings: `two-sided`, `less`/`smaller`,
    /// `greater`/`larger`.
    pub fn parse(text: &str) -> Result<Self, Error> {
        match text {
            "two-sided" | "two_sided" => Ok(Alternative::TwoSided),
            "less" | "smaller" => Ok(Alternative::Less),
            "greater" | "larger" => Ok(Alternative::Greater),
            other => Err(Error::argument(
                "alternative",
                format!("{other:?} is not two-sided, less or greater"),
            )),
        }
    }

    /// The p-value of a statistic whose upper tail is `sf`.
    pub(crate) fn pvalue(self, statistic: f64, sf: impl Fn(f64) -> f64) -> f64 {
        match self {
            Alternative::TwoSided => (2.0 * sf(statistic.abs())).min(1.0),
            Alternative::Greater => sf(statistic),
            Alternative::Less => sf(-statistic),
        }
    }
}

/// The result of a t-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TTest {
    statistic: f64,
    pvalue: f64,
    df: f64,
    std_error: f64,
}

impl TTest {
    /// The t statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
    /// Degrees of freedom (Welch-Satterthwaite for Welch's test).
    pub fn df(&self) -> f64 {
        self.df
    }
    /// The standard error of `mean1 - mean2`.
    pub fn std_error(&self) -> f64 {
        self.std_error
    }
}

fn check_group(m: &Moments, name: &'static str) -> Result<f64, Error> {
    if m.count() < 2 {
        return Err(Error::degenerate(format!(
            "{name} has {} observations; a t-test needs at least 2 per group",
            m.count()
        )));
    }
    m.variance()
        .ok_or_else(|| Error::degenerate(format!("{name} has no variance")))
}

/// Welch's (`equal_var = false`) or Student's (`equal_var = true`) two-sample t-test of
/// `mean(a) - mean(b)`.
pub fn ttest_ind(
    a: &Moments,
    b: &Moments,
    equal_var: bool,
    alternative: Alternative,
) -> Result<TTest, Error> {
    let va = check_group(a, "group a")?;
    let vb = check_group(b, "group b")?;
    let (na, nb) = (a.count() as f64, b.count() as f64);
    let (std_error, df) = if equal_var {
        let df = na + nb - 2.0;
        let pooled = ((na - 1.0) * va + (nb - 1.0) * vb) / df;
        ((pooled * (1.0 / na + 1.0 / nb)).sqrt(), df)
    } else {
        let (sa, sb) = (va / na, vb / nb);
        let se2 = sa + sb;
        // Welch-Satterthwaite, in shares of se2 so huge variances do not overflow.
        let (wa, wb) = (sa / se2, sb / se2);
        let df = 1.0 / (wa * wa / (na - 1.0) + wb * wb / (nb - 1.0));
        (se2.sqrt(), df)
    };
    if !super::positive_finite(std_error) {
        return Err(Error::degenerate(
            "both groups have zero variance: the t statistic is undefined",
        ));
    }
    let statistic = (a.mean() - b.mean()) / std_error;
    let pvalue = alternative.pvalue(statistic, |t| student_t_sf(t, df));
    Ok(TTest {
        statistic,
        pvalue,
        df,
        std_error,
    })
}

/// As [`ttest_ind`], from means, sample standard deviations (ddof = 1) and counts, with
/// scipy's argument order.
#[allow(clippy::too_many_arguments)] // mirrors scipy.stats.ttest_ind_from_stats
pub fn ttest_ind_from_stats(
    mean1: f64,
    std1: f64,
    nobs1: u64,
    mean2: f64,
    std2: f64,
    nobs2: u64,
    equal_var: bool,
    alternative: Alternative,
) -> Result<TTest, Error> {
    let a = Moments::from_mean_std(nobs1, mean1, std1)?;
    let b = Moments::from_mean_std(nobs2, mean2, std2)?;
    ttest_ind(&a, &b, equal_var, alternative)
}

/// The result of a z-test.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ZTest {
    statistic: f64,
    pvalue: f64,
}

impl ZTest {
    pub(crate) fn new(statistic: f64, alternative: Alternative) -> Self {
        ZTest {
            statistic,
            pvalue: alternative.pvalue(statistic, normal_sf),
        }
    }
    /// The z statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_scipy_on_a_small_example() {
        // scipy.stats.ttest_ind_from_stats(10, 2, 20, 9, 3, 25, equal_var=False)
        let r = ttest_ind_from_stats(10.0, 2.0, 20, 9.0, 3.0, 25, false, Alternative::TwoSided);
        let r = r.unwrap_or_else(|e| panic!("{e}"));
        assert!(
            (r.statistic() - 1.336_306_209_562_121_9).abs() < 1e-14,
            "{}",
            r.statistic()
        );
        assert!(
            (r.pvalue() - 0.188_681_210_907_514_58).abs() < 1e-14,
            "{}",
            r.pvalue()
        );
    }

    #[test]
    fn degenerate_input_is_an_error() {
        let code = |r: Result<TTest, Error>| r.err().map(|e| e.code());
        assert_eq!(
            code(ttest_ind_from_stats(
                1.0,
                0.0,
                10,
                2.0,
                0.0,
                10,
                false,
                Alternative::TwoSided
            )),
            Some("degenerate_data")
        );
        assert_eq!(
            code(ttest_ind_from_stats(
                1.0,
                1.0,
                1,
                2.0,
                1.0,
                10,
                true,
                Alternative::TwoSided
            )),
            Some("degenerate_data")
        );
        assert_eq!(
            code(ttest_ind_from_stats(
                f64::NAN,
                1.0,
                5,
                2.0,
                1.0,
                10,
                true,
                Alternative::TwoSided
            )),
            Some("invalid_argument")
        );
        assert_eq!(
            code(ttest_ind_from_stats(
                1.0,
                -1.0,
                5,
                2.0,
                1.0,
                10,
                true,
                Alternative::TwoSided
            )),
            Some("invalid_argument")
        );
        assert!(Alternative::parse("sideways").is_err());
    }
}
