//! The probability that each arm's posterior draw is the largest, by quadrature on one shared
//! grid: P_i = ∫ f_i(x) ∏_{j≠i} F_j(x) dx, with every density evaluated once per grid point
//! and every CDF accumulated from its density (no incomplete beta functions).
//!
//! The grid spans every posterior's mean ± 20 standard deviations with 32 steps per smallest
//! standard deviation; the densities are integrated by Simpson's rule. The result is checked
//! before it is used: each density must integrate to 1 within 1e-7 on the grid (which fails
//! when a posterior is too skewed, heavy-tailed or narrow for the grid) and the probabilities
//! must sum to 1 within 1e-7. When a check fails, or the grid would be too large, there is no
//! answer and the caller falls back to Monte Carlo.

use crate::stats::special::{ln_beta, ln_gamma};

/// Standard deviations on each side of every posterior's mean.
const SPAN_SDS: f64 = 20.0;
/// Grid steps per standard deviation of the narrowest posterior.
const STEPS_PER_SD: f64 = 32.0;
/// Most density evaluations (arms × grid points) before giving up for Monte Carlo.
const MAX_EVALUATIONS: usize = 1_000_000;
/// How far from 1 a density's integral or the total probability may be.
const TOLERANCE: f64 = 1e-7;

/// A posterior distribution of an arm's mean reward.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Density {
    /// Beta(a, b).
    Beta {
        /// First shape (> 0).
        a: f64,
        /// Second shape (> 0).
        b: f64,
    },
    /// Student's t with `nu` degrees of freedom, location and scale (the marginal of the mean
    /// under a Normal-Gamma posterior).
    StudentT {
        /// Degrees of freedom (> 0).
        nu: f64,
        /// Location.
        loc: f64,
        /// Scale (> 0).
        scale: f64,
    },
}

impl Density {
    /// Mean and standard deviation, when both are finite and the sd is positive.
    fn mean_sd(&self) -> Option<(f64, f64)> {
        let (mean, var) = match *self {
            Density::Beta { a, b } => {
                let s = a + b;
                (a / s, a * b / (s * s * (s + 1.0)))
            }
            Density::StudentT { nu, loc, scale } if nu > 2.0 => {
                (loc, scale * scale * nu / (nu - 2.0))
            }
            Density::StudentT { .. } => return None,
        };
        let sd = var.sqrt();
        (mean.is_finite() && sd.is_finite() && sd > 0.0).then_some((mean, sd))
    }

    /// Where the density lives.
    fn support(&self) -> (f64, f64) {
        match self {
            Density::Beta { .. } => (0.0, 1.0),
            Density::StudentT { .. } => (f64::NEG_INFINITY, f64::INFINITY),
        }
    }

    /// The density at every grid point, written into `out`.
    fn fill(&self, grid: &Grid, out: &mut [f64]) {
        match *self {
            Density::Beta { a, b } => {
                let ln_norm = ln_beta(a, b);
                // (a - 1) ln x is 0 at x = 0 when a = 1 (not 0 · -inf).
                let term = |c: f64, ln: f64| if c == 0.0 { 0.0 } else { c * ln };
                for ((f, &ln_x), &ln_1mx) in out.iter_mut().zip(&grid.ln_x).zip(&grid.ln_1mx) {
                    *f = libm::exp(term(a - 1.0, ln_x) + term(b - 1.0, ln_1mx) - ln_norm);
                }
            }
            Density::StudentT { nu, loc, scale } => {
                let ln_norm = ln_gamma(0.5 * (nu + 1.0))
                    - ln_gamma(0.5 * nu)
                    - 0.5 * libm::log(nu * core::f64::consts::PI)
                    - libm::log(scale);
                let power = -0.5 * (nu + 1.0);
                for (i, f) in out.iter_mut().enumerate() {
                    let z = (grid.x(i) - loc) / scale;
                    *f = libm::exp(ln_norm + power * libm::log1p(z * z / nu));
                }
            }
        }
    }
}

/// Evenly spaced points lo, lo + h, ..., hi (an even number of steps), with the logarithms
/// Beta densities share.
struct Grid {
    lo: f64,
    h: f64,
    ln_x: Vec<f64>,
    ln_1mx: Vec<f64>,
}

impl Grid {
    fn x(&self, i: usize) -> f64 {
        self.lo + i as f64 * self.h
    }
}

/// P(arm i's draw is the largest) for each posterior, or `None` when the quadrature cannot
/// vouch for its answer (see the module documentation).
pub(crate) fn prob_best(densities: &[Density]) -> Option<Vec<f64>> {
    let k = densities.len();
    if k == 0 {
        return None;
    }
    let moments: Vec<(f64, f64)> = densities
        .iter()
        .map(Density::mean_sd)
        .collect::<Option<_>>()?;
    let (mut lo, mut hi, mut narrowest) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY);
    for ((mean, sd), density) in moments.iter().zip(densities) {
        let (support_lo, support_hi) = density.support();
        lo = lo.min((mean - SPAN_SDS * sd).max(support_lo));
        hi = hi.max((mean + SPAN_SDS * sd).min(support_hi));
        narrowest = narrowest.min(*sd);
    }
    let steps = ((hi - lo) / narrowest * STEPS_PER_SD).ceil();
    if !(steps.is_finite() && steps >= 1.0) || steps * k as f64 > MAX_EVALUATIONS as f64 {
        return None;
    }
    let steps = (steps as usize).max(2).next_multiple_of(2);
    let points = steps + 1;
    let h = (hi - lo) / steps as f64;
    let mut grid = Grid {
        lo,
        h,
        ln_x: Vec::new(),
        ln_1mx: Vec::new(),
    };
    if densities.iter().any(|d| matches!(d, Density::Beta { .. })) {
        grid.ln_x = (0..points).map(|i| libm::log(grid.x(i))).collect();
        grid.ln_1mx = (0..points).map(|i| libm::log1p(-grid.x(i))).collect();
    }
    // Densities and CDFs, point-major (the k values of one grid point side by side).
    let mut pdf = vec![0.0; k * points];
    let mut cdf = vec![0.0; k * points];
    let mut f = vec![0.0; points];
    let mut cum = vec![0.0; points];
    for (j, density) in densities.iter().enumerate() {
        density.fill(&grid, &mut f);
        accumulate(&f, h, &mut cum);
        let mass = cum.last().copied().unwrap_or(0.0);
        if !within_tolerance(mass) {
            return None;
        }
        for ((p_t, c_t), (value, cumulative)) in pdf
            .chunks_exact_mut(k)
            .zip(cdf.chunks_exact_mut(k))
            .zip(f.iter().zip(&cum))
        {
            if let (Some(p), Some(c)) = (p_t.get_mut(j), c_t.get_mut(j)) {
                *p = *value;
                *c = *cumulative;
            }
        }
    }
    // P_i = ∫ f_i ∏_{j≠i} F_j by Simpson, the products from prefix and suffix products.
    let mut raw = vec![0.0; k];
    let mut prefix = vec![0.0; k];
    for (t, (f_t, big_f_t)) in pdf.chunks_exact(k).zip(cdf.chunks_exact(k)).enumerate() {
        let weight = if t == 0 || t == points - 1 {
            1.0
        } else if t % 2 == 1 {
            4.0
        } else {
            2.0
        };
        let mut running = weight;
        for (p, big_f) in prefix.iter_mut().zip(big_f_t) {
            *p = running;
            running *= big_f;
        }
        let mut suffix = 1.0;
        for j in (0..k).rev() {
            if let (Some(r), Some(p), Some(f), Some(big_f)) =
                (raw.get_mut(j), prefix.get(j), f_t.get(j), big_f_t.get(j))
            {
                *r += f * p * suffix;
                suffix *= big_f;
            }
        }
    }
    for r in &mut raw {
        *r *= h / 3.0;
    }
    let total: f64 = raw.iter().sum();
    if !within_tolerance(total) {
        return None;
    }
    Some(raw.iter().map(|r| (r / total).clamp(0.0, 1.0)).collect())
}

/// Whether an integral that should be 1 is (false for NaN).
fn within_tolerance(integral: f64) -> bool {
    (integral - 1.0).abs() <= TOLERANCE
}

/// The running integral of `f` on the grid: Simpson at even points, and at odd points the
/// three-point rule h (5 f0 + 8 f1 - f2) / 12 for the half panel.
fn accumulate(f: &[f64], h: f64, out: &mut [f64]) {
    let mut total = 0.0;
    if let Some(first) = out.first_mut() {
        *first = 0.0;
    }
    let steps = f.len().saturating_sub(1);
    let mut i = 0;
    while i + 2 <= steps {
        let (f0, f1, f2) = (
            f.get(i).copied().unwrap_or(0.0),
            f.get(i + 1).copied().unwrap_or(0.0),
            f.get(i + 2).copied().unwrap_or(0.0),
        );
        if let Some(o) = out.get_mut(i + 1) {
            *o = total + h * (5.0 * f0 + 8.0 * f1 - f2) / 12.0;
        }
        total += h * (f0 + 4.0 * f1 + f2) / 3.0;
        if let Some(o) = out.get_mut(i + 2) {
            *o = total;
        }
        i += 2;
    }
}
