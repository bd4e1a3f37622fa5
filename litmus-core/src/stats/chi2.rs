//! Chi-squared tests: independence on r x c tables (scipy's `chi2_contingency`, with Yates'
//! correction for 2 x 2), and goodness of fit against expected shares (scipy's `chisquare`),
//! the basis of the sample-ratio-mismatch check.

use super::dist::chi2_sf;
use crate::error::Error;

/// Largest table accepted (rows x columns).
pub const MAX_CELLS: usize = 10_000;

/// The result of a chi-squared test.
#[derive(Debug, Clone, PartialEq)]
pub struct ChiSquared {
    statistic: f64,
    pvalue: f64,
    dof: u64,
    expected: Vec<f64>,
}

impl ChiSquared {
    /// The chi-squared statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
    /// Degrees of freedom.
    pub fn dof(&self) -> u64 {
        self.dof
    }
    /// Expected counts under the null hypothesis, row-major for a table.
    pub fn expected(&self) -> &[f64] {
        &self.expected
    }
}

fn check_counts(counts: &[f64], name: &'static str) -> Result<(), Error> {
    match counts.iter().find(|c| !c.is_finite() || **c < 0.0) {
        Some(c) => Err(Error::argument(
            name,
            format!("{c} is not a finite count >= 0"),
        )),
        None => Ok(()),
    }
}

/// Chi-squared test of independence on a table of `rows` rows given row-major in `observed`.
/// With `correction` and one degree of freedom, Yates' continuity correction is applied
/// (as scipy does).
pub fn chi2_contingency(
    observed: &[f64],
    rows: usize,
    correction: bool,
) -> Result<ChiSquared, Error> {
    check_counts(observed, "observed")?;
    if rows == 0 || observed.is_empty() || observed.len() % rows != 0 {
        return Err(Error::argument(
            "observed",
            format!(
                "{} values do not form a table of {rows} rows",
                observed.len()
            ),
        ));
    }
    if observed.len() > MAX_CELLS {
        return Err(Error::argument(
            "observed",
            format!("more than {MAX_CELLS} cells"),
        ));
    }
    let cols = observed.len() / rows;
    let mut row_sums = vec![0.0; rows];
    let mut col_sums = vec![0.0; cols];
    for (i, &o) in observed.iter().enumerate() {
        if let Some(r) = row_sums.get_mut(i / cols) {
            *r += o;
        }
        if let Some(c) = col_sums.get_mut(i % cols) {
            *c += o;
        }
    }
    let total: f64 = row_sums.iter().sum();
    let expected: Vec<f64> = (0..observed.len())
        .map(|i| {
            let r = row_sums.get(i / cols).copied().unwrap_or(0.0);
            let c = col_sums.get(i % cols).copied().unwrap_or(0.0);
            r * c / total
        })
        .collect();
    if expected.iter().any(|&e| !super::positive_finite(e)) {
        return Err(Error::degenerate(
            "a row or column sums to zero: expected frequencies have a zero cell",
        ));
    }
    let dof = ((rows - 1) * (cols - 1)) as u64;
    if dof == 0 {
        return Ok(ChiSquared {
            statistic: 0.0,
            pvalue: 1.0,
            dof,
            expected,
        });
    }
    let yates = correction && dof == 1;
    let statistic = observed
        .iter()
        .zip(&expected)
        .map(|(&o, &e)| {
            let mut d = o - e;
            if yates {
                // Move each observation half a unit towards its expectation (never past it).
                d = d.signum() * (d.abs() - 0.5).max(0.0);
            }
            d * d / e
        })
        .sum();
    Ok(ChiSquared {
        statistic,
        pvalue: chi2_sf(statistic, dof as f64),
        dof,
        expected,
    })
}

/// Chi-squared goodness of fit of observed counts against expected shares (any positive
/// weights; they are scaled to the observed total), with `k - 1` degrees of freedom.
pub fn chisquare(observed: &[f64], expected_weights: &[f64]) -> Result<ChiSquared, Error> {
    check_counts(observed, "observed")?;
    check_counts(expected_weights, "expected")?;
    if observed.len() != expected_weights.len() || observed.len() < 2 {
        return Err(Error::argument(
            "observed",
            format!(
                "{} observed and {} expected categories: need the same number, at least 2",
                observed.len(),
                expected_weights.len()
            ),
        ));
    }
    let total: f64 = observed.iter().sum();
    let weight: f64 = expected_weights.iter().sum();
    if !super::positive_finite(total) || !super::positive_finite(weight) {
        return Err(Error::degenerate(
            "no observations, or all expected weights zero",
        ));
    }
    let expected: Vec<f64> = expected_weights
        .iter()
        .map(|w| w / weight * total)
        .collect();
    let mut statistic = 0.0;
    for (&o, &e) in observed.iter().zip(&expected) {
        if e > 0.0 {
            statistic += (o - e) * (o - e) / e;
        } else if o > 0.0 {
            // Observations where none are expected: the fit is impossible.
            statistic = f64::INFINITY;
        }
    }
    let dof = (observed.len() - 1) as u64;
    Ok(ChiSquared {
        statistic,
        pvalue: chi2_sf(statistic, dof as f64),
        dof,
        expected,
    })
}
