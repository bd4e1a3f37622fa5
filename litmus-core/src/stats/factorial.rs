//! Analysis of multivariate (full factorial) experiments from cell summaries: the main effect of
//! each factor and every two-way interaction, as Type II F-tests of the saturated linear model
//! (statsmodels' `anova_lm(ols("y ~ C(a) * C(b) * ..."), typ=2)`), plus marginal means.
//!
//! Cells are given in the order of the experiment's variants: row-major over the factors, the
//! last factor varying fastest. The model is fitted by weighted least squares on the cell means
//! (weights = cell counts), which gives the same fit as least squares on the raw data; the error
//! term is the pooled within-cell variance, with N - cells degrees of freedom. For a term T, the
//! Type II sum of squares compares the model of every term not containing T with the same model
//! plus T.

use super::dist::f_sf;
use super::summary::Moments;
use crate::error::Error;

/// Most cells accepted (the fit solves a dense system of that size).
pub const MAX_CELLS: usize = 256;

/// The F-test of one term.
#[derive(Debug, Clone, PartialEq)]
pub struct TermTest {
    factors: Vec<usize>,
    sum_sq: f64,
    df: f64,
    statistic: f64,
    pvalue: f64,
}

impl TermTest {
    /// The factors of the term (one for a main effect, two for an interaction), by position.
    pub fn factors(&self) -> &[usize] {
        &self.factors
    }
    /// The Type II sum of squares.
    pub fn sum_sq(&self) -> f64 {
        self.sum_sq
    }
    /// The term's degrees of freedom.
    pub fn df(&self) -> f64 {
        self.df
    }
    /// The F statistic.
    pub fn statistic(&self) -> f64 {
        self.statistic
    }
    /// The p-value.
    pub fn pvalue(&self) -> f64 {
        self.pvalue
    }
}

/// The analysis of a factorial experiment.
#[derive(Debug, Clone, PartialEq)]
pub struct Factorial {
    main_effects: Vec<TermTest>,
    interactions: Vec<TermTest>,
    marginal_means: Vec<Vec<f64>>,
    residual_df: f64,
    residual_sum_sq: f64,
}

impl Factorial {
    /// One test per factor, in factor order.
    pub fn main_effects(&self) -> &[TermTest] {
        &self.main_effects
    }
    /// One test per pair of factors (i < j), in lexicographic order.
    pub fn interactions(&self) -> &[TermTest] {
        &self.interactions
    }
    /// For each factor, the mean of each level (the unweighted average of its cells' means).
    pub fn marginal_means(&self) -> &[Vec<f64>] {
        &self.marginal_means
    }
    /// Residual (within-cell) degrees of freedom.
    pub fn residual_df(&self) -> f64 {
        self.residual_df
    }
    /// Residual (within-cell) sum of squares.
    pub fn residual_sum_sq(&self) -> f64 {
        self.residual_sum_sq
    }
}

/// Analyses a full factorial with `levels[f]` levels per factor and one summary per cell.
pub fn factorial_anova(levels: &[usize], cells: &[Moments]) -> Result<Factorial, Error> {
    if levels.is_empty() || levels.iter().any(|&l| l < 2) {
        return Err(Error::argument(
            "levels",
            "every factor needs at least 2 levels",
        ));
    }
    let n_cells = levels.iter().try_fold(1usize, |acc, &l| acc.checked_mul(l));
    if n_cells != Some(cells.len()) {
        return Err(Error::argument(
            "cells",
            format!("{} cells do not match levels {levels:?}", cells.len()),
        ));
    }
    if cells.len() > MAX_CELLS {
        return Err(Error::argument(
            "cells",
            format!("more than {MAX_CELLS} cells"),
        ));
    }
    if let Some(i) = cells.iter().position(|c| c.count() == 0) {
        return Err(Error::degenerate(format!("cell {i} is empty")));
    }
    let n: f64 = cells.iter().map(|c| c.count() as f64).sum();
    let residual_df = n - cells.len() as f64;
    let residual_sum_sq: f64 = cells.iter().map(Moments::m2).sum();
    if residual_df < 1.0 || !super::positive_finite(residual_sum_sq) {
        return Err(Error::degenerate(
            "the cells need replication with some variance",
        ));
    }
    let k = levels.len();
    let coords: Vec<Vec<usize>> = (0..cells.len()).map(|i| coordinates(i, levels)).collect();
    // Every term of the saturated model, as a bit set of factors.
    let all_terms: Vec<u32> = (1u32..(1u32 << k)).collect();
    let test = |term: u32| -> Result<TermTest, Error> {
        let reduced: Vec<u32> = all_terms
            .iter()
            .copied()
            .filter(|&s| s & term != term)
            .collect();
        let mut full = reduced.clone();
        full.push(term);
        let rss_reduced = weighted_rss(levels, cells, &coords, &reduced)?;
        let rss_full = weighted_rss(levels, cells, &coords, &full)?;
        let df: f64 = (0..k)
            .filter(|f| term & (1 << f) != 0)
            .map(|f| levels.get(f).map_or(1.0, |&l| (l - 1) as f64))
            .product();
        let sum_sq = (rss_reduced - rss_full).max(0.0);
        let statistic = (sum_sq / df) / (residual_sum_sq / residual_df);
        Ok(TermTest {
            factors: (0..k).filter(|f| term & (1 << f) != 0).collect(),
            sum_sq,
            df,
            statistic,
            pvalue: f_sf(statistic, df, residual_df),
        })
    };
    let main_effects = (0..k)
        .map(|f| test(1 << f))
        .collect::<Result<Vec<_>, _>>()?;
    let mut interactions = Vec::new();
    for i in 0..k {
        for j in i + 1..k {
            interactions.push(test((1 << i) | (1 << j))?);
        }
    }
    let marginal_means = levels
        .iter()
        .enumerate()
        .map(|(f, &l)| {
            (0..l)
                .map(|level| {
                    let means: Vec<f64> = cells
                        .iter()
                        .zip(&coords)
                        .filter(|(_, c)| c.get(f) == Some(&level))
                        .map(|(m, _)| m.mean())
                        .collect();
                    means.iter().sum::<f64>() / means.len().max(1) as f64
                })
                .collect()
        })
        .collect();
    Ok(Factorial {
        main_effects,
        interactions,
        marginal_means,
        residual_df,
        residual_sum_sq,
    })
}

/// The level of each factor of cell `index` (row-major, last factor fastest).
fn coordinates(mut index: usize, levels: &[usize]) -> Vec<usize> {
    let mut out = vec![0; levels.len()];
    for (slot, &l) in out.iter_mut().zip(levels).rev() {
        *slot = index % l;
        index /= l;
    }
    out
}

/// The between-cell residual sum of squares of the model with an intercept and the given
/// terms (treatment-coded), fitted to the raw data through the cell summaries; the model's full
/// residual sum of squares is this plus the pooled within-cell sum of squares.
fn weighted_rss(
    levels: &[usize],
    cells: &[Moments],
    coords: &[Vec<usize>],
    terms: &[u32],
) -> Result<f64, Error> {
    // Columns: the intercept, then for each term one column per combination of non-baseline
    // levels of its factors.
    let mut columns: Vec<Vec<f64>> = vec![vec![1.0; cells.len()]];
    for &term in terms {
        let factors: Vec<usize> = (0..levels.len()).filter(|f| term & (1 << f) != 0).collect();
        let mut combos: Vec<Vec<usize>> = vec![Vec::new()];
        for &f in &factors {
            let l = levels.get(f).copied().unwrap_or(1);
            combos = combos
                .into_iter()
                .flat_map(|c| {
                    (1..l).map(move |level| {
                        let mut c = c.clone();
                        c.push(level);
                        c
                    })
                })
                .collect();
        }
        for combo in combos {
            columns.push(
                coords
                    .iter()
                    .map(|c| {
                        let hit = factors
                            .iter()
                            .zip(&combo)
                            .all(|(&f, &level)| c.get(f) == Some(&level));
                        if hit { 1.0 } else { 0.0 }
                    })
                    .collect(),
            );
        }
    }
    let p = columns.len();
    let grand: f64 = cells.iter().map(Moments::sum).sum::<f64>()
        / cells.iter().map(|c| c.count() as f64).sum::<f64>();
    let w: Vec<f64> = cells.iter().map(|c| c.count() as f64).collect();
    let y: Vec<f64> = cells.iter().map(|c| c.mean() - grand).collect();
    // Normal equations X'WX b = X'Wy.
    let mut a = vec![0.0; p * p];
    let mut rhs = vec![0.0; p];
    for (i, ci) in columns.iter().enumerate() {
        for (j, cj) in columns.iter().enumerate().skip(i) {
            let v: f64 = ci.iter().zip(cj).zip(&w).map(|((x, z), w)| x * z * w).sum();
            if let Some(s) = a.get_mut(i * p + j) {
                *s = v;
            }
            if let Some(s) = a.get_mut(j * p + i) {
                *s = v;
            }
        }
        if let Some(r) = rhs.get_mut(i) {
            *r = ci.iter().zip(&y).zip(&w).map(|((x, y), w)| x * y * w).sum();
        }
    }
    let beta = cholesky_solve(&mut a, &rhs, p)
        .ok_or_else(|| Error::degenerate("the factorial design is singular"))?;
    // Only the between-cell part: the within-cell sum of squares is the same in every model
    // and cancels from the differences exactly, so it is left out to keep their precision.
    let mut rss = 0.0;
    for (c, (yc, wc)) in y.iter().zip(&w).enumerate() {
        let fit: f64 = columns
            .iter()
            .zip(&beta)
            .map(|(col, b)| col.get(c).copied().unwrap_or(0.0) * b)
            .sum();
        rss += wc * (yc - fit).powi(2);
    }
    Ok(rss)
}

/// Solves the symmetric positive definite system `a x = b` (a is p x p, row-major, overwritten
/// by its Cholesky factor). `None` when `a` is not positive definite.
fn cholesky_solve(a: &mut [f64], b: &[f64], p: usize) -> Option<Vec<f64>> {
    for j in 0..p {
        let mut d = *a.get(j * p + j)?;
        for k in 0..j {
            d -= a.get(j * p + k)?.powi(2);
        }
        if !super::positive_finite(d) {
            return None;
        }
        let d = d.sqrt();
        *a.get_mut(j * p + j)? = d;
        for i in j + 1..p {
            let mut s = *a.get(i * p + j)?;
            for k in 0..j {
                s -= a.get(i * p + k)? * a.get(j * p + k)?;
            }
            *a.get_mut(i * p + j)? = s / d;
        }
    }
    let mut z = vec![0.0; p];
    for i in 0..p {
        let mut s = *b.get(i)?;
        for k in 0..i {
            s -= a.get(i * p + k)? * z.get(k)?;
        }
        *z.get_mut(i)? = s / a.get(i * p + i)?;
    }
    let mut x = vec![0.0; p];
    for i in (0..p).rev() {
        let mut s = *z.get(i)?;
        for k in i + 1..p {
            s -= a.get(k * p + i)? * x.get(k)?;
        }
        *x.get_mut(i)? = s / a.get(i * p + i)?;
    }
    Some(x)
}
