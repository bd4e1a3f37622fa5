//! Bayesian comparisons: Beta-Binomial posteriors for conversion rates and a Normal model for
//! continuous metrics; the probability that a variant beats control, that each variant is the
//! best, and the expected loss of choosing a variant.
//!
//! All results are deterministic integrals, not Monte Carlo: for Beta posteriors,
//! `P(B > A) = ∫ f_B(x) F_A(x) dx`, `P(i best) = ∫ f_i(x) Π_{j≠i} F_j(x) dx` and
//! `E[max(A - B, 0)] = ∫ F_B(x) (1 - F_A(x)) dx`, evaluated by composite Gauss-Legendre
//! quadrature over the region holding the posterior mass (±40 standard deviations); for Normal
//! posteriors the two-arm results are closed forms.

use super::dist::{beta_cdf, normal_cdf, normal_pdf};
use super::special::ln_beta;
use super::summary::{Moments, Proportion};
use crate::error::Error;

/// A Beta posterior of a rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaPosterior {
    alpha: f64,
    beta: f64,
}

/// The largest Beta parameter: 10^15 pseudo-observations, more units than any experiment has.
/// Beyond about 10^20 the incomplete beta function's continued fraction needs millions of
/// steps per evaluation, so a quadrature over it took minutes (found by fuzzing).
pub const MAX_BETA_PARAMETER: f64 = 1e15;

impl BetaPosterior {
    /// Beta(alpha, beta), both finite, >= 1 (a uniform or more informative prior keeps the
    /// density bounded, which the quadrature relies on) and at most [`MAX_BETA_PARAMETER`].
    pub fn new(alpha: f64, beta: f64) -> Result<Self, Error> {
        for (name, v) in [("alpha", alpha), ("beta", beta)] {
            if !v.is_finite() || !(1.0..=MAX_BETA_PARAMETER).contains(&v) {
                return Err(Error::argument(
                    name,
                    format!("{v} must be finite, >= 1 and <= {MAX_BETA_PARAMETER:e}"),
                ));
            }
        }
        Ok(BetaPosterior { alpha, beta })
    }

    /// The posterior after observing `data` under a Beta(prior_alpha, prior_beta) prior
    /// (Beta(1, 1) is uniform).
    pub fn from_data(data: &Proportion, prior_alpha: f64, prior_beta: f64) -> Result<Self, Error> {
        Self::new(
            prior_alpha + data.successes() as f64,
            prior_beta + (data.trials() - data.successes()) as f64,
        )
    }

    /// The first shape parameter.
    pub fn alpha(&self) -> f64 {
        self.alpha
    }
    /// The second shape parameter.
    pub fn beta(&self) -> f64 {
        self.beta
    }
    /// The posterior mean.
    pub fn mean(&self) -> f64 {
        self.alpha / (self.alpha + self.beta)
    }
    /// The posterior variance.
    pub fn variance(&self) -> f64 {
        let s = self.alpha + self.beta;
        self.alpha * self.beta / (s * s * (s + 1.0))
    }
    fn pdf(&self, x: f64) -> f64 {
        if x <= 0.0 || x >= 1.0 {
            return 0.0;
        }
        libm::exp(
            (self.alpha - 1.0) * libm::log(x) + (self.beta - 1.0) * libm::log1p(-x)
                - ln_beta(self.alpha, self.beta),
        )
    }
    fn cdf(&self, x: f64) -> f64 {
        beta_cdf(x, self.alpha, self.beta)
    }
    /// A window holding all but ~1e-18 of the mass: ±40 standard deviations (a skewed
    /// posterior such as Beta(1, 23) has an exponential tail, e^-(k+1) beyond k sd).
    fn support(&self) -> (f64, f64) {
        let sd = self.variance().sqrt();
        (
            (self.mean() - 40.0 * sd).max(0.0),
            (self.mean() + 40.0 * sd).min(1.0),
        )
    }
}

/// Gauss-Legendre nodes and weights on [-1, 1] (Newton on the Legendre polynomial).
fn gauss_legendre(n: usize) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(n);
    for i in 1..=n {
        let mut x = libm::cos(std::f64::consts::PI * (i as f64 - 0.25) / (n as f64 + 0.5));
        let mut dp = 1.0;
        for _ in 0..100 {
            let (mut p0, mut p1) = (1.0, x);
            for k in 2..=n {
                let k = k as f64;
                let p2 = ((2.0 * k - 1.0) * x * p1 - (k - 1.0) * p0) / k;
                p0 = p1;
                p1 = p2;
            }
            dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
            let dx = p1 / dp;
            x -= dx;
            if dx.abs() < 1e-16 {
                break;
            }
        }
        out.push((x, 2.0 / ((1.0 - x * x) * dp * dp)));
    }
    out
}

/// ∫_lo^hi f by composite 20-point Gauss-Legendre over `panels` panels.
fn integrate(lo: f64, hi: f64, panels: usize, f: impl Fn(f64) -> f64) -> f64 {
    integrate_each(lo, hi, panels, 1, |x, out| {
        if let Some(slot) = out.first_mut() {
            *slot = f(x);
        }
    })
    .first()
    .copied()
    .unwrap_or(0.0)
}

/// `n` integrals over the same nodes, as [`integrate`] computes each: `f(x, out)` sets every
/// integrand's value at `x` in `out` (each sum is added up in the same order as alone).
fn integrate_each(
    lo: f64,
    hi: f64,
    panels: usize,
    n: usize,
    mut f: impl FnMut(f64, &mut [f64]),
) -> Vec<f64> {
    if hi <= lo {
        return vec![0.0; n];
    }
    let nodes = gauss_legendre(20);
    let width = (hi - lo) / panels as f64;
    let mut totals = vec![0.0; n];
    let mut values = vec![0.0; n];
    for p in 0..panels {
        let a = lo + p as f64 * width;
        let mid = a + 0.5 * width;
        for &(x, w) in &nodes {
            f(mid + 0.5 * width * x, &mut values);
            for (total, v) in totals.iter_mut().zip(&values) {
                *total += w * v;
            }
        }
    }
    totals.iter().map(|t| 0.5 * width * t).collect()
}

/// At `x`, for each arm i, `pdf_i(x)` times `cdf_j(x)` of every other arm j in turn (stopping
/// at 0): the integrand of P(i is best). Each CDF is evaluated at most once per node, shared by
/// the arms.
fn best_integrands(
    n: usize,
    pdf: impl Fn(usize, f64) -> f64,
    cdf: impl Fn(usize, f64) -> f64,
) -> impl FnMut(f64, &mut [f64]) {
    let mut cdfs: Vec<Option<f64>> = vec![None; n];
    move |x, out| {
        cdfs.iter_mut().for_each(|c| *c = None);
        for (i, slot) in out.iter_mut().enumerate() {
            let mut v = pdf(i, x);
            for j in 0..n {
                if j != i && v > 0.0 {
                    let c = match cdfs.get(j).copied().flatten() {
                        Some(c) => c,
                        None => {
                            let c = cdf(j, x);
                            if let Some(slot) = cdfs.get_mut(j) {
                                *slot = Some(c);
                            }
                            c
                        }
                    };
                    v *= c;
                }
            }
            *slot = v;
        }
    }
}

const PANELS: usize = 64;

/// The region holding the mass of all posteriors.
fn union_support(posteriors: &[BetaPosterior]) -> (f64, f64) {
    posteriors
        .iter()
        .map(BetaPosterior::support)
        .fold((1.0f64, 0.0f64), |(lo, hi), (a, b)| (lo.min(a), hi.max(b)))
}

/// P(rate of `b` > rate of `a`).
pub fn prob_beats(a: &BetaPosterior, b: &BetaPosterior) -> f64 {
    let (lo, hi) = b.support();
    integrate(lo, hi, PANELS, |x| b.pdf(x) * a.cdf(x)).clamp(0.0, 1.0)
}

/// For each posterior, the probability that its rate is the highest.
pub fn prob_best(posteriors: &[BetaPosterior]) -> Result<Vec<f64>, Error> {
    if posteriors.is_empty() {
        return Err(Error::argument("posteriors", "at least one is needed"));
    }
    let (lo, hi) = union_support(posteriors);
    let n = posteriors.len();
    let raw = integrate_each(
        lo,
        hi,
        PANELS * 2,
        n,
        best_integrands(
            n,
            |i, x| posteriors.get(i).map_or(0.0, |p| p.pdf(x)),
            |j, x| posteriors.get(j).map_or(0.0, |p| p.cdf(x)),
        ),
    );
    let total: f64 = raw.iter().sum();
    Ok(raw.iter().map(|p| (p / total).clamp(0.0, 1.0)).collect())
}

/// The expected loss of choosing `b` over `a`: E[max(rate_a - rate_b, 0)].
pub fn expected_loss(a: &BetaPosterior, b: &BetaPosterior) -> f64 {
    expected_losses(a, b).0
}

/// Both expected losses, `(expected_loss(a, b), expected_loss(b, a))`, over the same nodes
/// (each CDF evaluated once per node for the two).
pub fn expected_losses(a: &BetaPosterior, b: &BetaPosterior) -> (f64, f64) {
    let (lo, hi) = union_support(&[*a, *b]);
    let losses = integrate_each(lo, hi, PANELS, 2, |x, out| {
        let (fa, fb) = (a.cdf(x), b.cdf(x));
        if let [choose_b, choose_a] = out {
            *choose_b = fb * (1.0 - fa);
            *choose_a = fa * (1.0 - fb);
        }
    });
    let loss = |i: usize| losses.get(i).copied().unwrap_or(0.0).max(0.0);
    (loss(0), loss(1))
}

/// A Normal posterior of a mean (flat prior: N(sample mean, s²/n)).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormalPosterior {
    mean: f64,
    variance: f64,
}

impl NormalPosterior {
    /// N(mean, variance), with a finite mean and a finite positive variance.
    pub fn new(mean: f64, variance: f64) -> Result<Self, Error> {
        if !mean.is_finite() || !super::positive_finite(variance) {
            return Err(Error::argument(
                "variance",
                format!("N({mean}, {variance}) is not a valid posterior"),
            ));
        }
        Ok(NormalPosterior { mean, variance })
    }

    /// The posterior of a metric's mean under a flat prior.
    pub fn from_data(data: &Moments) -> Result<Self, Error> {
        let se = data
            .std_error()
            .ok_or_else(|| Error::degenerate("a posterior needs at least 2 observations"))?;
        Self::new(data.mean(), se * se)
    }

    /// The posterior mean.
    pub fn mean(&self) -> f64 {
        self.mean
    }
    /// The posterior variance.
    pub fn variance(&self) -> f64 {
        self.variance
    }
}

/// P(mean of `b` > mean of `a`) for Normal posteriors (closed form).
pub fn normal_prob_beats(a: &NormalPosterior, b: &NormalPosterior) -> f64 {
    normal_cdf((b.mean - a.mean) / (a.variance + b.variance).sqrt())
}

/// E[max(mean_a - mean_b, 0)] for Normal posteriors: `s φ(m/s) + m Φ(m/s)` with
/// `m = μ_a - μ_b`, `s² = σ_a² + σ_b²`.
pub fn normal_expected_loss(a: &NormalPosterior, b: &NormalPosterior) -> f64 {
    let m = a.mean - b.mean;
    let s = (a.variance + b.variance).sqrt();
    (s * normal_pdf(m / s) + m * normal_cdf(m / s)).max(0.0)
}

/// For each Normal posterior, the probability that its mean is the highest.
pub fn normal_prob_best(posteriors: &[NormalPosterior]) -> Result<Vec<f64>, Error> {
    if posteriors.is_empty() {
        return Err(Error::argument("posteriors", "at least one is needed"));
    }
    let lo = posteriors
        .iter()
        .map(|p| p.mean - 12.0 * p.variance.sqrt())
        .fold(f64::INFINITY, f64::min);
    let hi = posteriors
        .iter()
        .map(|p| p.mean + 12.0 * p.variance.sqrt())
        .fold(f64::NEG_INFINITY, f64::max);
    let n = posteriors.len();
    let raw = integrate_each(
        lo,
        hi,
        PANELS * 2,
        n,
        best_integrands(
            n,
            |i, x| {
                posteriors.get(i).map_or(0.0, |p| {
                    let sd = p.variance.sqrt();
                    normal_pdf((x - p.mean) / sd) / sd
                })
            },
            |j, x| {
                posteriors
                    .get(j)
                    .map_or(0.0, |p| normal_cdf((x - p.mean) / p.variance.sqrt()))
            },
        ),
    );
    let total: f64 = raw.iter().sum();
    Ok(raw.iter().map(|p| (p / total).clamp(0.0, 1.0)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_and_closed_form_checks() {
        let a = BetaPosterior::new(11.0, 91.0).unwrap_or_else(|e| panic!("{e}"));
        assert!((prob_beats(&a, &a) - 0.5).abs() < 1e-10);
        let b = BetaPosterior::new(15.0, 88.0).unwrap_or_else(|e| panic!("{e}"));
        // Both losses at once are each loss integrated alone, to the bit.
        let alone = |x: &BetaPosterior, y: &BetaPosterior| {
            let (lo, hi) = union_support(&[*x, *y]);
            integrate(lo, hi, PANELS, |t| y.cdf(t) * (1.0 - x.cdf(t))).max(0.0)
        };
        assert_eq!(expected_losses(&a, &b), (alone(&a, &b), alone(&b, &a)));
        // P(best) with each CDF shared across arms: each arm's integral alone, to the bit.
        let arms = [
            a,
            b,
            BetaPosterior::new(12.0, 80.0).unwrap_or_else(|e| panic!("{e}")),
        ];
        let (lo, hi) = union_support(&arms);
        let raw: Vec<f64> = (0..arms.len())
            .map(|i| {
                integrate(lo, hi, PANELS * 2, |x| {
                    let mut v = arms[i].pdf(x);
                    for (j, p) in arms.iter().enumerate() {
                        if j != i && v > 0.0 {
                            v *= p.cdf(x);
                        }
                    }
                    v
                })
            })
            .collect();
        let total: f64 = raw.iter().sum();
        let want: Vec<f64> = raw.iter().map(|p| (p / total).clamp(0.0, 1.0)).collect();
        assert_eq!(prob_best(&arms).unwrap_or_default(), want);
        assert!(
            expected_loss(&a, &b) < expected_loss(&b, &a),
            "b is the better rate"
        );
        let best = prob_best(&[a, a, a]).unwrap_or_default();
        for p in best {
            assert!((p - 1.0 / 3.0).abs() < 1e-10);
        }
        let n = NormalPosterior::new(1.0, 0.04).unwrap_or_else(|e| panic!("{e}"));
        let m = NormalPosterior::new(1.1, 0.05).unwrap_or_else(|e| panic!("{e}"));
        let closed = normal_prob_beats(&n, &m);
        let numeric = normal_prob_best(&[n, m]).unwrap_or_default();
        assert!(
            (numeric[1] - closed).abs() < 1e-10,
            "{numeric:?} vs {closed}"
        );
        assert!(BetaPosterior::new(0.5, 1.0).is_err());
        // Beyond 10^15 pseudo-observations (a fuzzed prior of 2e72 made a quadrature take 20 s).
        assert!(BetaPosterior::new(2.0, 2.3e72).is_err());
        assert!(BetaPosterior::new(MAX_BETA_PARAMETER, MAX_BETA_PARAMETER).is_ok());
    }
}
