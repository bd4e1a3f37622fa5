//! `litmus._litmus` statistics primitives: thin conversions around `litmus_core::stats`. The
//! Python module `litmus.stats` gives them scipy's and statsmodels' names, signatures and
//! result objects.

use litmus_core::stats::{
    self, Alternative, Correction, Moments, Proportion, ProportionMethod, ZVariance, dist,
};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::errors::{check, guard};

/// Values per chunk when summarising raw bytes (as `Moments::from_slice` chunks).
const CHUNK: usize = 2048;

/// Summary (count, mean, M2) of native-endian f64 values packed in `data` (what
/// `array.array('d').tobytes()` or numpy's `tobytes()` give), without the GIL.
#[pyfunction]
pub(crate) fn moments_from_f64_bytes(
    py: Python<'_>,
    data: &Bound<'_, PyBytes>,
) -> PyResult<(u64, f64, f64)> {
    guard(py, || {
        let bytes = packed(py, data)?;
        let result = py.detach(|| {
            let mut total = Moments::new();
            let mut buffer = [0.0f64; CHUNK];
            for chunk in bytes.chunks(8 * CHUNK) {
                let n = chunk.len() / 8;
                for (slot, value) in buffer.iter_mut().zip(values(chunk)) {
                    *slot = value;
                }
                let part = Moments::from_slice(buffer.get(..n).unwrap_or_default())?;
                total.merge(&part);
            }
            Ok::<_, litmus_core::Error>(total)
        });
        let m = check(py, result)?;
        Ok((m.count(), m.mean(), m.m2()))
    })
}

/// The bytes of packed native-endian f64 values (a whole number of them).
fn packed<'a>(py: Python<'_>, data: &'a Bound<'_, PyBytes>) -> PyResult<&'a [u8]> {
    let bytes = data.as_bytes();
    if bytes.len() % 8 != 0 {
        return Err(crate::errors::argument(
            py,
            "the data is not a whole number of f64 values",
        ));
    }
    Ok(bytes)
}

/// The f64 values packed in `bytes`.
pub(crate) fn values(bytes: &[u8]) -> impl Iterator<Item = f64> + '_ {
    bytes.chunks_exact(8).map(|raw| {
        let mut word = [0u8; 8];
        word.copy_from_slice(raw);
        f64::from_ne_bytes(word)
    })
}

fn moments(py: Python<'_>, (count, mean, m2): (u64, f64, f64)) -> PyResult<Moments> {
    check(py, Moments::from_parts(count, mean, m2))
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
        let alt = check(py, Alternative::parse(alternative))?;
        let t = check(
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
        let alt = check(py, Alternative::parse(alternative))?;
        let t = check(
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
        let alt = check(py, Alternative::parse(alternative))?;
        let a = check(py, Proportion::new(count1, nobs1))?;
        let b = check(py, Proportion::new(count2, nobs2))?;
        let variance = if pooled {
            ZVariance::Pooled
        } else {
            ZVariance::Unpooled
        };
        let z = check(py, stats::proportions_ztest(&a, &b, variance, alt))?;
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
        let p = check(py, Proportion::new(count, nobs))?;
        let m = check(py, ProportionMethod::parse(method))?;
        let i = check(py, stats::proportion_confint(&p, alpha, m))?;
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
        let r = check(py, stats::chisquare(&observed, &weights))?;
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
        let r = check(py, stats::chi2_contingency(&observed, rows, correction))?;
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
        let m = check(py, Correction::parse(method))?;
        let r = check(py, stats::multipletests(&pvals, alpha, m))?;
        Ok((r.reject().to_vec(), r.pvalues().to_vec()))
    })
}

/// A distribution function by name (`normal_sf`, `t_isf`, ...) at the given arguments.
#[pyfunction]
pub(crate) fn distribution(py: Python<'_>, name: &str, args: Vec<f64>) -> PyResult<f64> {
    guard(py, || check(py, dist::by_name(name, &args)))
}

/// (count, mean_x, mean_y, m2_x, m2_y, c_xy): a CoMoments summary as a tuple.
type CoTuple = (u64, f64, f64, f64, f64, f64);

fn comoments(py: Python<'_>, t: CoTuple) -> PyResult<stats::CoMoments> {
    check(
        py,
        stats::CoMoments::from_parts(t.0, t.1, t.2, t.3, t.4, t.5),
    )
}

/// The native-endian f64 values packed in `data`.
pub(crate) fn f64s(py: Python<'_>, data: &Bound<'_, PyBytes>) -> PyResult<Vec<f64>> {
    Ok(values(packed(py, data)?).collect())
}

/// The joint summary of paired samples (packed native f64): (count, mean_x, mean_y, m2_x,
/// m2_y, c_xy).
#[pyfunction]
pub(crate) fn comoments_from_f64_bytes(
    py: Python<'_>,
    x: &Bound<'_, PyBytes>,
    y: &Bound<'_, PyBytes>,
) -> PyResult<CoTuple> {
    guard(py, || {
        let (x, y) = (f64s(py, x)?, f64s(py, y)?);
        let c = check(py, py.detach(|| stats::CoMoments::from_slices(&x, &y)))?;
        let (mx, my) = (c.x(), c.y());
        Ok((
            c.count(),
            mx.mean(),
            my.mean(),
            mx.m2(),
            my.m2(),
            c.co_moment(),
        ))
    })
}

/// Sample-ratio check: (statistic, pvalue, mismatch, observed shares, expected shares).
#[pyfunction]
#[allow(clippy::type_complexity)] // a tuple Python unpacks
pub(crate) fn srm_check(
    py: Python<'_>,
    observed: Vec<f64>,
    weights: Vec<f64>,
    threshold: f64,
) -> PyResult<(f64, f64, bool, Vec<f64>, Vec<f64>)> {
    guard(py, || {
        let r = check(py, stats::srm_check(&observed, &weights, threshold))?;
        Ok((
            r.statistic(),
            r.pvalue(),
            r.mismatch(),
            r.observed_shares().to_vec(),
            r.expected_shares().to_vec(),
        ))
    })
}

/// One-way ANOVA of group summaries: (statistic, pvalue, df_between, df_within).
#[pyfunction]
pub(crate) fn f_oneway(
    py: Python<'_>,
    groups: Vec<(u64, f64, f64)>,
) -> PyResult<(f64, f64, f64, f64)> {
    guard(py, || {
        let g: Vec<Moments> = groups
            .into_iter()
            .map(|t| moments(py, t))
            .collect::<PyResult<_>>()?;
        let a = check(py, stats::f_oneway(&g))?;
        Ok((a.statistic(), a.pvalue(), a.df_between(), a.df_within()))
    })
}

/// One term of a factorial ANOVA: (factors, sum_sq, df, statistic, pvalue).
type Term = (Vec<usize>, f64, f64, f64, f64);

/// Factorial ANOVA (Type II) of cell summaries in row-major order:
/// (residual sum of squares, residual df, terms).
#[pyfunction]
pub(crate) fn factorial_anova(
    py: Python<'_>,
    levels: Vec<usize>,
    cells: Vec<(u64, f64, f64)>,
) -> PyResult<(f64, f64, Vec<Term>)> {
    guard(py, || {
        let c: Vec<Moments> = cells
            .into_iter()
            .map(|t| moments(py, t))
            .collect::<PyResult<_>>()?;
        let a = check(py, stats::factorial_anova(&levels, &c))?;
        let terms = a
            .main_effects()
            .iter()
            .chain(a.interactions())
            .map(|t| {
                (
                    t.factors().to_vec(),
                    t.sum_sq(),
                    t.df(),
                    t.statistic(),
                    t.pvalue(),
                )
            })
            .collect();
        Ok((a.residual_sum_sq(), a.residual_df(), terms))
    })
}

/// Interval of a mean: (estimate, lower, upper).
#[pyfunction]
pub(crate) fn mean_confint(
    py: Python<'_>,
    m: (u64, f64, f64),
    alpha: f64,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let i = check(py, stats::mean_confint(&moments(py, m)?, alpha))?;
        Ok((i.estimate(), i.lower(), i.upper()))
    })
}

/// Interval of mean(a) - mean(b): (estimate, lower, upper).
#[pyfunction]
pub(crate) fn diff_means_confint(
    py: Python<'_>,
    a: (u64, f64, f64),
    b: (u64, f64, f64),
    alpha: f64,
    equal_var: bool,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let i = check(
            py,
            stats::diff_means_confint(&moments(py, a)?, &moments(py, b)?, alpha, equal_var),
        )?;
        Ok((i.estimate(), i.lower(), i.upper()))
    })
}

/// Interval of the relative lift mean(t)/mean(c) - 1 (delta method): (estimate, lower, upper).
#[pyfunction]
pub(crate) fn relative_lift_confint(
    py: Python<'_>,
    t: (u64, f64, f64),
    c: (u64, f64, f64),
    alpha: f64,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let i = check(
            py,
            stats::relative_lift_confint(&moments(py, t)?, &moments(py, c)?, alpha),
        )?;
        Ok((i.estimate(), i.lower(), i.upper()))
    })
}

/// Newcombe's interval of p1 - p2: (estimate, lower, upper).
#[pyfunction]
pub(crate) fn newcombe_confint(
    py: Python<'_>,
    count1: u64,
    nobs1: u64,
    count2: u64,
    nobs2: u64,
    alpha: f64,
) -> PyResult<(f64, f64, f64)> {
    guard(py, || {
        let a = check(py, Proportion::new(count1, nobs1))?;
        let b = check(py, Proportion::new(count2, nobs2))?;
        let i = check(py, stats::newcombe_diff_confint(&a, &b, alpha))?;
        Ok((i.estimate(), i.lower(), i.upper()))
    })
}

/// Power, sample size, minimum detectable effect (two-sample z approximation, statsmodels'
/// NormalIndPower) and Cohen's h, by `what`.
#[pyfunction]
pub(crate) fn planning(
    py: Python<'_>,
    what: &str,
    a: f64,
    b: f64,
    ratio: f64,
    alpha: f64,
    alternative: &str,
) -> PyResult<f64> {
    use litmus_core::stats::power;
    guard(py, || {
        let alt = check(py, Alternative::parse(alternative))?;
        check(
            py,
            match what {
                "power" => power::power(a, b, ratio, alpha, alt),
                "sample_size" => power::sample_size(a, b, ratio, alpha, alt),
                "mde" => power::minimum_detectable_effect(a, b, ratio, alpha, alt),
                "effect_size" => power::proportion_effect_size(a, b),
                other => {
                    return Err(crate::errors::argument(
                        py,
                        format!("no planning function {other:?}"),
                    ));
                }
            },
        )
    })
}

/// Always-valid mSPRT of two means: (likelihood ratio, pvalue, lower, upper).
#[pyfunction]
pub(crate) fn msprt_means(
    py: Python<'_>,
    t: (u64, f64, f64),
    c: (u64, f64, f64),
    tau2: f64,
    alpha: f64,
) -> PyResult<(f64, f64, f64, f64)> {
    guard(py, || {
        let s = check(
            py,
            stats::msprt_means(&moments(py, t)?, &moments(py, c)?, tau2, alpha),
        )?;
        Ok((
            s.likelihood_ratio(),
            s.pvalue(),
            s.interval().lower(),
            s.interval().upper(),
        ))
    })
}

/// Always-valid mSPRT of two proportions: (likelihood ratio, pvalue, lower, upper).
#[pyfunction]
#[allow(clippy::too_many_arguments)]
pub(crate) fn msprt_proportions(
    py: Python<'_>,
    count_t: u64,
    nobs_t: u64,
    count_c: u64,
    nobs_c: u64,
    tau2: f64,
    alpha: f64,
) -> PyResult<(f64, f64, f64, f64)> {
    guard(py, || {
        let t = check(py, Proportion::new(count_t, nobs_t))?;
        let c = check(py, Proportion::new(count_c, nobs_c))?;
        let s = check(py, stats::msprt_proportions(&t, &c, tau2, alpha))?;
        Ok((
            s.likelihood_ratio(),
            s.pvalue(),
            s.interval().lower(),
            s.interval().upper(),
        ))
    })
}

/// CUPED: (theta, statistic, pvalue, df, lower, upper, variance reduction).
#[pyfunction]
pub(crate) fn cuped(
    py: Python<'_>,
    t: CoTuple,
    c: CoTuple,
    alpha: f64,
    alternative: &str,
) -> PyResult<(f64, f64, f64, f64, f64, f64, f64)> {
    guard(py, || {
        let alt = check(py, Alternative::parse(alternative))?;
        let r = check(
            py,
            stats::cuped(&comoments(py, t)?, &comoments(py, c)?, alpha, alt),
        )?;
        let [theta, statistic, pvalue, df, lower, upper, reduction] = r.values();
        Ok((theta, statistic, pvalue, df, lower, upper, reduction))
    })
}

/// A ratio metric's z-test (delta method): (ratio_t, ratio_c, var_t, var_c, statistic,
/// pvalue, diff_lower, diff_upper, rel_lower, rel_upper).
#[pyfunction]
#[allow(clippy::type_complexity)]
pub(crate) fn ratio_ztest(
    py: Python<'_>,
    t: CoTuple,
    c: CoTuple,
    alpha: f64,
    alternative: &str,
) -> PyResult<(f64, f64, f64, f64, f64, f64, f64, f64, f64, f64)> {
    guard(py, || {
        let alt = check(py, Alternative::parse(alternative))?;
        let r = check(
            py,
            stats::ratio_ztest(&comoments(py, t)?, &comoments(py, c)?, alpha, alt),
        )?;
        let [rt, rc, vt, vc, statistic, pvalue, dl, du, rl, ru] = r.values();
        Ok((rt, rc, vt, vc, statistic, pvalue, dl, du, rl, ru))
    })
}

/// Beta-Binomial comparisons of posteriors Beta(a1, b1) and Beta(a2, b2):
/// (P(rate 2 > rate 1), expected loss of choosing 2).
#[pyfunction]
pub(crate) fn beta_compare(
    py: Python<'_>,
    a1: f64,
    b1: f64,
    a2: f64,
    b2: f64,
) -> PyResult<(f64, f64)> {
    guard(py, || {
        let a = check(py, stats::BetaPosterior::new(a1, b1))?;
        let b = check(py, stats::BetaPosterior::new(a2, b2))?;
        Ok((stats::prob_beats(&a, &b), stats::expected_loss(&a, &b)))
    })
}

/// P(each Beta posterior's rate is the highest).
#[pyfunction]
pub(crate) fn beta_prob_best(py: Python<'_>, posteriors: Vec<(f64, f64)>) -> PyResult<Vec<f64>> {
    guard(py, || {
        let p: Vec<stats::BetaPosterior> = posteriors
            .into_iter()
            .map(|(a, b)| check(py, stats::BetaPosterior::new(a, b)))
            .collect::<PyResult<_>>()?;
        check(py, stats::prob_best(&p))
    })
}

/// Normal posteriors N(mean1, var1) and N(mean2, var2): (P(2 > 1), expected loss of 2).
#[pyfunction]
pub(crate) fn normal_compare(
    py: Python<'_>,
    mean1: f64,
    var1: f64,
    mean2: f64,
    var2: f64,
) -> PyResult<(f64, f64)> {
    guard(py, || {
        let a = check(py, stats::NormalPosterior::new(mean1, var1))?;
        let b = check(py, stats::NormalPosterior::new(mean2, var2))?;
        Ok((
            stats::normal_prob_beats(&a, &b),
            stats::normal_expected_loss(&a, &b),
        ))
    })
}
