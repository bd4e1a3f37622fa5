//! `litmus._litmus` statistics primitives: thin conversions around `litmus_core::stats`. The
//! Python module `litmus.stats` gives them scipy's and statsmodels' names, signatures and
//! result objects.

use litmus_core::stats::{
    self, Alternative, Correction, Moments, Proportion, ProportionMethod, ZVariance, dist,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{core_error, guard};

/// Values per chunk when summarising raw bytes (as `Moments::from_slice` chunks).
const CHUNK: usize = 2048;

fn core<T>(py: Python<'_>, r: Result<T, litmus_core::Error>) -> PyResult<T> {
    r.map_err(|e| core_error(py, &e))
}

/// Summary (count, mean, M2) of native-endian f64 values packed in `data` (what
/// `array.array('d').tobytes()` or numpy's `tobytes()` give), without the GIL.
#[pyfunction]
pub(crate) fn moments_from_f64_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyBytes>,
) -> PyResult<(u64, f64, f64)> {
    guard(py, || {
        let bytes = data.as_bytes();
        if bytes.len() % 8 != 0 {
            return Err(crate::errors::argument(
                py,
                "the data is not a whole number of f64 values",
            ));
        }
        let result = py.detach(|| {
            let mut total = Moments::new();
            let mut buffer = [0.0f64; CHUNK];
            for chunk in bytes.chunks(8 * CHUNK) {
                let n = chunk.len() / 8;
                for (slot, raw) in buffer.iter_mut().zip(chunk.chunks_exact(8)) {
                    let mut word = [0u8; 8];
                    word.copy_from_slice(raw);
                    *slot = f64::from_ne_bytes(word);
                }
                let part = Moments::from_slice(buffer.get(..n).unwrap_or_default())?;
                total.merge(&part);
            }
            Ok::<_, litmus_core::Error>(total)
        });
        let m = core(py, result)?;
        Ok((m.count(), m.mean(), m.m2()))
    })
}

fn moments(py: Python<'_>, (count, mean, m2): (u64, f64, f64)) -> PyResult<Moments> {
    core(py, Moments::from_parts(count, mean, m2))
}

/// Welch's or Student's t-test from summary statistics: (statistic, pvalue, df).
#[pyfunction]
#[allow(clippy::too_many_arguments)] // scipy's signature
pub(crate) fn ttest_ind_from_stats(
    py: Python<'_>,
    mean1: f64,
    std1: f64,
    nobs1: u64,
    mean2: f64,
    std2: f64,
    nobs2: u64,
    equal_var: bool,
    alternative: &str,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let alt = core(py, Alternative::parse(alternative))?;
        let t = core(
            py,
            stats::ttest_ind_from_stats(mean1, std1, nobs1, mean2, std2, nobs2, equal_var, alt),
        )?;
        Ok((t.statistic(), t.pvalue(), t.df()))
    })
}

/// The t-test of two samples given as (count, mean, M2) summaries: (statistic, pvalue, df).
#[pyfunction]
pub(crate) fn ttest_ind_moments(
    py: Python<'_>,
    a: (u64, f64, f64),
    b: (u64, f64, f64),
    equal_var: bool,
    alternative: &str,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let alt = core(py, Alternative::parse(alternative))?;
        let t = core(
            py,
            stats::ttest_ind(&moments(py, a)?, &moments(py, b)?, equal_var, alt),
        )?;
        Ok((t.statistic(), t.pvalue(), t.df()))
    })
}

/// Two-proportion z-test: (statistic, pvalue).
#[pyfunction]
pub(crate) fn proportions_ztest(
    py: Python<'_>,
    count1: u64,
    nobs1: u64,
    count2: u64,
    nobs2: u64,
    alternative: &str,
    pooled: bool,
) -> PyResult<(f64, f64)> {
    guard(py, || {
        let alt = core(py, Alternative::parse(alternative))?;
        let a = core(py, Proportion::new(count1, nobs1))?;
        let b = core(py, Proportion::new(count2, nobs2))?;
        let variance = if pooled {
            ZVariance::Pooled
        } else {
            ZVariance::Unpooled
        };
        let z = core(py, stats::proportions_ztest(&a, &b, variance, alt))?;
        Ok((z.statistic(), z.pvalue()))
    })
}

/// Confidence interval of a proportion: (lower, upper).
#[pyfunction]
pub(crate) fn proportion_confint(
    py: Python<'_>,
    count: u64,
    nobs: u64,
    alpha: f64,
    method: &str,
) -> PyResult<(f64, f64)> {
    guard(py, || {
        let p = core(py, Proportion::new(count, nobs))?;
        let m = core(py, ProportionMethod::parse(method))?;
        let i = core(py, stats::proportion_confint(&p, alpha, m))?;
        Ok((i.lower(), i.upper()))
    })
}

/// Chi-squared goodness of fit against expected weights: (statistic, pvalue).
#[pyfunction]
pub(crate) fn chisquare(
    py: Python<'_>,
    observed: Vec<f64>,
    weights: Vec<f64>,
) -> PyResult<(f64, f64)> {
    guard(py, || {
        let r = core(py, stats::chisquare(&observed, &weights))?;
        Ok((r.statistic(), r.pvalue()))
    })
}

/// Chi-squared test of independence of a row-major table with `rows` rows:
/// (statistic, pvalue, dof, expected frequencies row-major).
#[pyfunction]
pub(crate) fn chi2_contingency(
    py: Python<'_>,
    observed: Vec<f64>,
    rows: usize,
    correction: bool,
) -> PyResult<(f64, f64, u64, Vec<f64>)> {
    guard(py, || {
        let r = core(py, stats::chi2_contingency(&observed, rows, correction))?;
        Ok((r.statistic(), r.pvalue(), r.dof(), r.expected().to_vec()))
    })
}

/// Multiple-testing correction: (reject, corrected p-values).
#[pyfunction]
pub(crate) fn multipletests(
    py: Python<'_>,
    pvals: Vec<f64>,
    alpha: f64,
    method: &str,
) -> PyResult<(Vec<bool>, Vec<f64>)> {
    guard(py, || {
        let m = core(py, Correction::parse(method))?;
        let r = core(py, stats::multipletests(&pvals, alpha, m))?;
        Ok((r.reject().to_vec(), r.pvalues().to_vec()))
    })
}

/// A distribution function by name (`normal_sf`, `t_isf`, ...) at the given arguments.
#[pyfunction]
pub(crate) fn distribution(py: Python<'_>, name: &str, args: Vec<f64>) -> PyResult<f64> {
    guard(py, || {
        let arg = |i: usize| args.get(i).copied().unwrap_or(f64::NAN);
        let want = |n: usize| -> PyResult<()> {
            if args.len() == n {
                Ok(())
            } else {
                Err(crate::errors::argument(
                    py,
                    format!("{name} takes {n} arguments, not {}", args.len()),
                ))
            }
        };
        let value = match name {
            "normal_sf" | "normal_cdf" | "normal_pdf" | "normal_ppf" | "normal_isf" => {
                want(1)?;
                match name {
                    "normal_sf" => dist::normal_sf(arg(0)),
                    "normal_cdf" => dist::normal_cdf(arg(0)),
                    "normal_pdf" => dist::normal_pdf(arg(0)),
                    "normal_ppf" => dist::normal_ppf(arg(0)),
                    _ => dist::normal_isf(arg(0)),
                }
            }
            "t_sf" | "t_cdf" | "t_pdf" | "t_isf" | "chi2_sf" | "chi2_cdf" => {
                want(2)?;
                match name {
                    "t_sf" => dist::student_t_sf(arg(0), arg(1)),
                    "t_cdf" => dist::student_t_cdf(arg(0), arg(1)),
                    "t_pdf" => dist::student_t_pdf(arg(0), arg(1)),
                    "t_isf" => dist::student_t_isf(arg(0), arg(1)),
                    "chi2_sf" => dist::chi2_sf(arg(0), arg(1)),
                    _ => dist::chi2_cdf(arg(0), arg(1)),
                }
            }
            "f_sf" | "beta_cdf" => {
                want(3)?;
                if name == "f_sf" {
                    dist::f_sf(arg(0), arg(1), arg(2))
                } else {
                    dist::beta_cdf(arg(0), arg(1), arg(2))
                }
            }
            other => {
                return Err(crate::errors::argument(
                    py,
                    format!("no distribution function {other:?}"),
                ));
            }
        };
        Ok(value)
    })
}
