//! Statistics exports: numbers and `Float64Array`s in and out (tuples become arrays). The
//! package's JavaScript layer (`stats.*`) names them after scipy and statsmodels in camelCase
//! and builds the result objects.

use litmus_core::stats::{
    self, Alternative, CoMoments, Correction, Moments, Proportion, ProportionMethod, ZVariance,
    dist,
};
use wasm_bindgen::prelude::*;

use crate::{argument, error};

fn core<T>(r: Result<T, litmus_core::Error>) -> Result<T, JsValue> {
    r.map_err(|e| error(&e))
}

/// A JavaScript number that must be a count (a whole number, 0 to 2^53).
pub(crate) fn count(x: f64) -> Result<u64, JsValue> {
    if x.is_finite() && x >= 0.0 && x.fract() == 0.0 && x <= 9.007_199_254_740_992e15 {
        Ok(x as u64)
    } else {
        Err(argument(&format!("{x} is not a count")))
    }
}

fn moments(t: &[f64]) -> Result<Moments, JsValue> {
    match *t {
        [n, mean, m2] => core(Moments::from_parts(count(n)?, mean, m2)),
        _ => Err(argument("a summary is (count, mean, m2)")),
    }
}

fn comoments(t: &[f64]) -> Result<CoMoments, JsValue> {
    match *t {
        [n, mx, my, m2x, m2y, cxy] => core(CoMoments::from_parts(count(n)?, mx, my, m2x, m2y, cxy)),
        _ => Err(argument(
            "a joint summary is (count, mean_x, mean_y, m2_x, m2_y, c_xy)",
        )),
    }
}

fn alternative(a: &str) -> Result<Alternative, JsValue> {
    core(Alternative::parse(a))
}

/// (count, mean, m2) of the values.
#[wasm_bindgen(js_name = statsDescribe)]
pub fn describe(values: &[f64]) -> Result<Vec<f64>, JsValue> {
    let m = core(Moments::from_slice(values))?;
    Ok(vec![m.count() as f64, m.mean(), m.m2()])
}

/// (count, mean_x, mean_y, m2_x, m2_y, c_xy) of paired values.
#[wasm_bindgen(js_name = statsDescribePairs)]
pub fn describe_pairs(x: &[f64], y: &[f64]) -> Result<Vec<f64>, JsValue> {
    let c = core(CoMoments::from_slices(x, y))?;
    let (mx, my) = (c.x(), c.y());
    Ok(vec![
        c.count() as f64,
        mx.mean(),
        my.mean(),
        mx.m2(),
        my.m2(),
        c.co_moment(),
    ])
}

/// Welch's or Student's t-test from statistics: (statistic, pvalue, df).
#[wasm_bindgen(js_name = statsTtestIndFromStats)]
#[allow(clippy::too_many_arguments)]
pub fn ttest_ind_from_stats(
    mean1: f64,
    std1: f64,
    nobs1: f64,
    mean2: f64,
    std2: f64,
    nobs2: f64,
    equal_var: bool,
    alt: &str,
) -> Result<Vec<f64>, JsValue> {
    let t = core(stats::ttest_ind_from_stats(
        mean1,
        std1,
        count(nobs1)?,
        mean2,
        std2,
        count(nobs2)?,
        equal_var,
        alternative(alt)?,
    ))?;
    Ok(vec![t.statistic(), t.pvalue(), t.df()])
}

/// The t-test of two summaries: (statistic, pvalue, df).
#[wasm_bindgen(js_name = statsTtestIndMoments)]
pub fn ttest_ind_moments(
    a: &[f64],
    b: &[f64],
    equal_var: bool,
    alt: &str,
) -> Result<Vec<f64>, JsValue> {
    let t = core(stats::ttest_ind(
        &moments(a)?,
        &moments(b)?,
        equal_var,
        alternative(alt)?,
    ))?;
    Ok(vec![t.statistic(), t.pvalue(), t.df()])
}

/// Two-proportion z-test: (statistic, pvalue).
#[wasm_bindgen(js_name = statsProportionsZtest)]
pub fn proportions_ztest(
    c1: f64,
    n1: f64,
    c2: f64,
    n2: f64,
    alt: &str,
    pooled: bool,
) -> Result<Vec<f64>, JsValue> {
    let a = core(Proportion::new(count(c1)?, count(n1)?))?;
    let b = core(Proportion::new(count(c2)?, count(n2)?))?;
    let v = if pooled {
        ZVariance::Pooled
    } else {
        ZVariance::Unpooled
    };
    let z = core(stats::proportions_ztest(&a, &b, v, alternative(alt)?))?;
    Ok(vec![z.statistic(), z.pvalue()])
}

/// Interval of a proportion: (lower, upper).
#[wasm_bindgen(js_name = statsProportionConfint)]
pub fn proportion_confint(c: f64, n: f64, alpha: f64, method: &str) -> Result<Vec<f64>, JsValue> {
    let p = core(Proportion::new(count(c)?, count(n)?))?;
    let i = core(stats::proportion_confint(
        &p,
        alpha,
        core(ProportionMethod::parse(method))?,
    ))?;
    Ok(vec![i.lower(), i.upper()])
}

/// Goodness of fit: (statistic, pvalue).
#[wasm_bindgen(js_name = statsChisquare)]
pub fn chisquare(observed: &[f64], weights: &[f64]) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::chisquare(observed, weights))?;
    Ok(vec![r.statistic(), r.pvalue()])
}

/// Independence of a row-major table: (statistic, pvalue, dof, expected...).
#[wasm_bindgen(js_name = statsChi2Contingency)]
pub fn chi2_contingency(
    observed: &[f64],
    rows: u32,
    correction: bool,
) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::chi2_contingency(observed, rows as usize, correction))?;
    let mut out = vec![r.statistic(), r.pvalue(), r.dof() as f64];
    out.extend_from_slice(r.expected());
    Ok(out)
}

/// Multiple testing: (reject as 0/1..., corrected p-values...).
#[wasm_bindgen(js_name = statsMultipletests)]
pub fn multipletests(pvals: &[f64], alpha: f64, method: &str) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::multipletests(
        pvals,
        alpha,
        core(Correction::parse(method))?,
    ))?;
    let mut out: Vec<f64> = r.reject().iter().map(|&b| f64::from(u8::from(b))).collect();
    out.extend_from_slice(r.pvalues());
    Ok(out)
}

/// A distribution function by name at the arguments.
#[wasm_bindgen(js_name = statsDistribution)]
pub fn distribution(name: &str, args: &[f64]) -> Result<f64, JsValue> {
    dist::by_name(name, args).map_err(|e| error(&e))
}

/// Sample-ratio check: (statistic, pvalue, mismatch 0/1, observed shares..., expected shares...).
#[wasm_bindgen(js_name = statsSrmCheck)]
pub fn srm_check(observed: &[f64], weights: &[f64], threshold: f64) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::srm_check(observed, weights, threshold))?;
    let mut out = vec![r.statistic(), r.pvalue(), f64::from(u8::from(r.mismatch()))];
    out.extend_from_slice(r.observed_shares());
    out.extend_from_slice(r.expected_shares());
    Ok(out)
}

/// One-way ANOVA of (count, mean, m2) triples: (statistic, pvalue, df_between, df_within).
#[wasm_bindgen(js_name = statsFOneway)]
pub fn f_oneway(groups: &[f64]) -> Result<Vec<f64>, JsValue> {
    let g: Vec<Moments> = groups.chunks(3).map(moments).collect::<Result<_, _>>()?;
    let a = core(stats::f_oneway(&g))?;
    Ok(vec![
        a.statistic(),
        a.pvalue(),
        a.df_between(),
        a.df_within(),
    ])
}

/// Factorial ANOVA of cell triples: JSON `{residual_sum_sq, residual_df, terms: [...]}`.
#[wasm_bindgen(js_name = statsFactorialAnova)]
pub fn factorial_anova(levels: &[u32], cells: &[f64]) -> Result<String, JsValue> {
    let c: Vec<Moments> = cells.chunks(3).map(moments).collect::<Result<_, _>>()?;
    let levels: Vec<usize> = levels.iter().map(|&l| l as usize).collect();
    let a = core(stats::factorial_anova(&levels, &c))?;
    let terms: Vec<serde_json::Value> = a
        .main_effects()
        .iter()
        .chain(a.interactions())
        .map(|t| {
            serde_json::json!({"factors": t.factors(), "sumSq": t.sum_sq(), "df": t.df(),
                "statistic": t.statistic(), "pvalue": t.pvalue()})
        })
        .collect();
    Ok(serde_json::json!({"residualSumSq": a.residual_sum_sq(), "residualDf": a.residual_df(), "terms": terms}).to_string())
}

fn interval(i: stats::Interval) -> Vec<f64> {
    vec![i.estimate(), i.lower(), i.upper()]
}

/// Interval of a mean: (estimate, lower, upper).
#[wasm_bindgen(js_name = statsMeanConfint)]
pub fn mean_confint(m: &[f64], alpha: f64) -> Result<Vec<f64>, JsValue> {
    core(stats::mean_confint(&moments(m)?, alpha)).map(interval)
}

/// Interval of mean(a) - mean(b).
#[wasm_bindgen(js_name = statsDiffMeansConfint)]
pub fn diff_means_confint(
    a: &[f64],
    b: &[f64],
    alpha: f64,
    equal_var: bool,
) -> Result<Vec<f64>, JsValue> {
    core(stats::diff_means_confint(
        &moments(a)?,
        &moments(b)?,
        alpha,
        equal_var,
    ))
    .map(interval)
}

/// Interval of the relative lift.
#[wasm_bindgen(js_name = statsRelativeLiftConfint)]
pub fn relative_lift_confint(t: &[f64], c: &[f64], alpha: f64) -> Result<Vec<f64>, JsValue> {
    core(stats::relative_lift_confint(
        &moments(t)?,
        &moments(c)?,
        alpha,
    ))
    .map(interval)
}

/// Newcombe's interval of p1 - p2.
#[wasm_bindgen(js_name = statsNewcombeConfint)]
pub fn newcombe_confint(
    c1: f64,
    n1: f64,
    c2: f64,
    n2: f64,
    alpha: f64,
) -> Result<Vec<f64>, JsValue> {
    let a = core(Proportion::new(count(c1)?, count(n1)?))?;
    let b = core(Proportion::new(count(c2)?, count(n2)?))?;
    core(stats::newcombe_diff_confint(&a, &b, alpha)).map(interval)
}

/// Power, sample size, minimum detectable effect or Cohen's h, by `what`.
#[wasm_bindgen(js_name = statsPlanning)]
pub fn planning(
    what: &str,
    a: f64,
    b: f64,
    ratio: f64,
    alpha: f64,
    alt: &str,
) -> Result<f64, JsValue> {
    use litmus_core::stats::power;
    let alt = alternative(alt)?;
    core(match what {
        "power" => power::power(a, b, ratio, alpha, alt),
        "sample_size" => power::sample_size(a, b, ratio, alpha, alt),
        "mde" => power::minimum_detectable_effect(a, b, ratio, alpha, alt),
        "effect_size" => power::proportion_effect_size(a, b),
        other => return Err(argument(&format!("no planning function {other:?}"))),
    })
}

/// mSPRT of two means: (likelihood ratio, pvalue, lower, upper).
#[wasm_bindgen(js_name = statsMsprtMeans)]
pub fn msprt_means(t: &[f64], c: &[f64], tau2: f64, alpha: f64) -> Result<Vec<f64>, JsValue> {
    let s = core(stats::msprt_means(&moments(t)?, &moments(c)?, tau2, alpha))?;
    Ok(vec![
        s.likelihood_ratio(),
        s.pvalue(),
        s.interval().lower(),
        s.interval().upper(),
    ])
}

/// mSPRT of two proportions: (likelihood ratio, pvalue, lower, upper).
#[wasm_bindgen(js_name = statsMsprtProportions)]
pub fn msprt_proportions(
    ct: f64,
    nt: f64,
    cc: f64,
    nc: f64,
    tau2: f64,
    alpha: f64,
) -> Result<Vec<f64>, JsValue> {
    let t = core(Proportion::new(count(ct)?, count(nt)?))?;
    let c = core(Proportion::new(count(cc)?, count(nc)?))?;
    let s = core(stats::msprt_proportions(&t, &c, tau2, alpha))?;
    Ok(vec![
        s.likelihood_ratio(),
        s.pvalue(),
        s.interval().lower(),
        s.interval().upper(),
    ])
}

/// CUPED: (theta, statistic, pvalue, df, lower, upper, variance reduction).
#[wasm_bindgen(js_name = statsCuped)]
pub fn cuped(t: &[f64], c: &[f64], alpha: f64, alt: &str) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::cuped(
        &comoments(t)?,
        &comoments(c)?,
        alpha,
        alternative(alt)?,
    ))?;
    Ok(r.values().to_vec())
}

/// Ratio metric z-test: (ratio_t, ratio_c, var_t, var_c, statistic, pvalue, diff_lower,
/// diff_upper, rel_lower, rel_upper).
#[wasm_bindgen(js_name = statsRatioZtest)]
pub fn ratio_ztest(t: &[f64], c: &[f64], alpha: f64, alt: &str) -> Result<Vec<f64>, JsValue> {
    let r = core(stats::ratio_ztest(
        &comoments(t)?,
        &comoments(c)?,
        alpha,
        alternative(alt)?,
    ))?;
    Ok(r.values().to_vec())
}

/// Beta posteriors: (P(2 > 1), expected loss of choosing 2).
#[wasm_bindgen(js_name = statsBetaCompare)]
pub fn beta_compare(a1: f64, b1: f64, a2: f64, b2: f64) -> Result<Vec<f64>, JsValue> {
    let a = core(stats::BetaPosterior::new(a1, b1))?;
    let b = core(stats::BetaPosterior::new(a2, b2))?;
    Ok(vec![
        stats::prob_beats(&a, &b),
        stats::expected_loss(&a, &b),
    ])
}

/// P(each Beta(a, b) posterior is best), posteriors as (a, b) pairs.
#[wasm_bindgen(js_name = statsBetaProbBest)]
pub fn beta_prob_best(pairs: &[f64]) -> Result<Vec<f64>, JsValue> {
    let p: Vec<stats::BetaPosterior> = pairs
        .chunks(2)
        .map(|c| match *c {
            [a, b] => core(stats::BetaPosterior::new(a, b)),
            _ => Err(argument("posteriors come as (a, b) pairs")),
        })
        .collect::<Result<_, _>>()?;
    core(stats::prob_best(&p))
}

/// Normal posteriors: (P(2 > 1), expected loss of choosing 2).
#[wasm_bindgen(js_name = statsNormalCompare)]
pub fn normal_compare(m1: f64, v1: f64, m2: f64, v2: f64) -> Result<Vec<f64>, JsValue> {
    let a = core(stats::NormalPosterior::new(m1, v1))?;
    let b = core(stats::NormalPosterior::new(m2, v2))?;
    Ok(vec![
        stats::normal_prob_beats(&a, &b),
        stats::normal_expected_loss(&a, &b),
    ])
}
