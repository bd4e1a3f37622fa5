//! Sufficient statistics: small, mergeable, serializable summaries of metric data.
//!
//! Continuous metrics keep `(count, mean, M2)` where M2 is the sum of squared deviations from
//! the mean, updated and merged with Chan et al.'s parallel formulas, so a billion observations
//! keep full precision (a running sum of squares would lose it). Summaries of raw slices are
//! built chunk by chunk (a two-pass mean/deviation over each L1-sized chunk, then merged), which
//! vectorizes and runs near memory bandwidth.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Values per chunk when summarising a slice: small enough to stay in L1 for the second pass.
const CHUNK: usize = 2_048;
/// Independent accumulators per pass: enough to hide the latency of floating-point adds.
const LANES: usize = 8;

/// Count, mean and sum of squared deviations of a continuous metric.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Moments {
    count: u64,
    mean: f64,
    m2: f64,
}

impl Moments {
    /// The empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// A summary from its parts, validated: `mean` and `m2` finite, `m2 >= 0`, and an empty
    /// summary has zero mean and M2.
    pub fn from_parts(count: u64, mean: f64, m2: f64) -> Result<Self, Error> {
        if !mean.is_finite() || !m2.is_finite() || m2 < 0.0 {
            return Err(Error::argument(
                "moments",
                format!("mean {mean} and m2 {m2} must be finite, m2 >= 0"),
            ));
        }
        if count == 0 && (mean != 0.0 || m2 != 0.0) {
            return Err(Error::argument(
                "moments",
                "an empty summary has mean 0 and m2 0",
            ));
        }
        Ok(Moments { count, mean, m2 })
    }

    /// A summary from the count, mean and sample standard deviation (n - 1 denominator), as
    /// dashboards and papers report them.
    pub fn from_mean_std(count: u64, mean: f64, std_dev: f64) -> Result<Self, Error> {
        if !std_dev.is_finite() || std_dev < 0.0 {
            return Err(Error::argument(
                "std_dev",
                format!("{std_dev} must be finite and >= 0"),
            ));
        }
        let m2 = std_dev * std_dev * count.saturating_sub(1) as f64;
        Self::from_parts(count, mean, m2)
    }

    /// Adds one observation; NaN and infinities are rejected (`invalid_argument`).
    pub fn push(&mut self, x: f64) -> Result<(), Error> {
        if !x.is_finite() {
            return Err(Error::argument("x", format!("{x} is not a finite number")));
        }
        self.count = self.count.saturating_add(1);
        let delta = x - self.mean;
        self.mean += delta / self.count as f64;
        self.m2 += delta * (x - self.mean);
        Ok(())
    }

    /// The summary of a slice; any non-finite value is rejected and nothing is summarised.
    pub fn from_slice(values: &[f64]) -> Result<Self, Error> {
        let mut total = Moments::new();
        for chunk in values.chunks(CHUNK) {
            total.merge(&Self::chunk(chunk)?);
        }
        Ok(total)
    }

    /// `(Σ (x - center), Σ (x - center)²)` over a slice, with independent accumulators so the
    /// loop vectorizes.
    fn deviation_sums(values: &[f64], center: f64) -> (f64, f64) {
        let mut sums = [0.0f64; LANES];
        let mut squares = [0.0f64; LANES];
        let mut lanes = values.chunks_exact(LANES);
        for lane in &mut lanes {
            for ((s, q), x) in sums.iter_mut().zip(squares.iter_mut()).zip(lane) {
                let d = x - center;
                *s += d;
                *q += d * d;
            }
        }
        let mut s1 = sums.iter().sum::<f64>();
        let mut s2 = squares.iter().sum::<f64>();
        for x in lanes.remainder() {
            let d = x - center;
            s1 += d;
            s2 += d * d;
        }
        (s1, s2)
    }

    /// One pass over a chunk with the data shifted by its first value: Σd and Σd² give the
    /// mean and M2 with a relative error of about ε (1 + z²), z being the distance of the shift
    /// from the mean in standard deviations. When z² exceeds 1000 (an outlier first), the
    /// chunk is summarised again with the corrected two-pass algorithm.
    fn chunk(values: &[f64]) -> Result<Self, Error> {
        let Some(&shift) = values.first() else {
            return Ok(Moments::new());
        };
        let (s1, s2) = Self::deviation_sums(values, shift);
        let n = values.len() as f64;
        let offset = s1 * s1 / n;
        let m2 = s2 - offset;
        if s2.is_finite() && m2 > 0.0 && offset <= 1e3 * m2 {
            return Ok(Moments {
                count: values.len() as u64,
                mean: shift + s1 / n,
                m2,
            });
        }
        Self::chunk_two_pass(values)
    }

    /// The corrected two-pass algorithm (Chan, Golub, LeVeque 1983) over one chunk: the mean,
    /// then squared deviations from it, less the effect of the mean's rounding.
    fn chunk_two_pass(values: &[f64]) -> Result<Self, Error> {
        if values.is_empty() {
            return Ok(Moments::new());
        }
        let (sum, _) = Self::deviation_sums(values, 0.0);
        if !sum.is_finite() {
            return match values.iter().find(|x| !x.is_finite()) {
                Some(x) => Err(Error::argument(
                    "values",
                    format!("{x} is not a finite number"),
                )),
                None => Err(Error::argument("values", "values too large to sum")),
            };
        }
        let n = values.len() as f64;
        let mean = sum / n;
        let (correction, squares) = Self::deviation_sums(values, mean);
        Ok(Moments {
            count: values.len() as u64,
            mean: mean + correction / n,
            m2: (squares - correction * correction / n).max(0.0),
        })
    }

    /// Merges another summary into this one (Chan et al.).
    pub fn merge(&mut self, other: &Moments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * (n_b / n);
        self.m2 += other.m2 + delta * delta * (n_a * n_b / n);
        self.count = self.count.saturating_add(other.count);
    }

    /// The number of observations.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The mean (0 for an empty summary).
    pub fn mean(&self) -> f64 {
        self.mean
    }

    /// The sum of squared deviations from the mean.
    pub fn m2(&self) -> f64 {
        self.m2
    }

    /// The sum of the observations.
    pub fn sum(&self) -> f64 {
        self.mean * self.count as f64
    }

    /// The sample variance (n - 1 denominator); `None` below two observations.
    pub fn variance(&self) -> Option<f64> {
        (self.count >= 2).then(|| self.m2 / (self.count - 1) as f64)
    }

    /// The sample standard deviation; `None` below two observations.
    pub fn std_dev(&self) -> Option<f64> {
        self.variance().map(f64::sqrt)
    }

    /// The standard error of the mean; `None` below two observations.
    pub fn std_error(&self) -> Option<f64> {
        self.variance().map(|v| (v / self.count as f64).sqrt())
    }
}

/// Successes out of trials of a binary metric (conversions of exposed units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proportion {
    successes: u64,
    trials: u64,
}

impl Proportion {
    /// `successes` out of `trials`; more successes than trials is `invalid_argument`.
    pub fn new(successes: u64, trials: u64) -> Result<Self, Error> {
        if successes > trials {
            return Err(Error::argument(
                "successes",
                format!("{successes} successes exceed {trials} trials"),
            ));
        }
        Ok(Proportion { successes, trials })
    }

    /// Adds one trial.
    pub fn push(&mut self, success: bool) {
        self.trials = self.trials.saturating_add(1);
        self.successes = self.successes.saturating_add(u64::from(success));
    }

    /// Merges another summary into this one.
    pub fn merge(&mut self, other: &Proportion) {
        self.successes = self.successes.saturating_add(other.successes);
        self.trials = self.trials.saturating_add(other.trials);
    }

    /// The number of successes.
    pub fn successes(&self) -> u64 {
        self.successes
    }

    /// The number of trials.
    pub fn trials(&self) -> u64 {
        self.trials
    }

    /// The observed rate; `None` without trials.
    pub fn rate(&self) -> Option<f64> {
        (self.trials > 0).then(|| self.successes as f64 / self.trials as f64)
    }

    /// The same data as continuous moments of a 0/1 metric.
    pub fn moments(&self) -> Moments {
        let n = self.trials as f64;
        let p = self.rate().unwrap_or(0.0);
        Moments {
            count: self.trials,
            mean: p,
            m2: n * p * (1.0 - p),
        }
    }
}

/// Joint moments of a metric `y` and a covariate `x` (e.g. the same metric before the
/// experiment), for CUPED and ratio metrics: counts, means, M2 of each, and the co-moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct CoMoments {
    count: u64,
    mean_x: f64,
    mean_y: f64,
    m2_x: f64,
    m2_y: f64,
    c_xy: f64,
}

impl CoMoments {
    /// The empty summary.
    pub fn new() -> Self {
        Self::default()
    }

    /// A summary from its parts (as kept in a rollup), validated like [`Moments::from_parts`];
    /// the co-moment must satisfy Cauchy-Schwarz (`c_xy² <= m2_x m2_y`, with rounding slack).
    pub fn from_parts(
        count: u64,
        mean_x: f64,
        mean_y: f64,
        m2_x: f64,
        m2_y: f64,
        c_xy: f64,
    ) -> Result<Self, Error> {
        Moments::from_parts(count, mean_x, m2_x)?;
        Moments::from_parts(count, mean_y, m2_y)?;
        if !c_xy.is_finite() || c_xy * c_xy > m2_x * m2_y * (1.0 + 1e-9) + f64::MIN_POSITIVE {
            return Err(Error::argument(
                "c_xy",
                format!("{c_xy} is not a co-moment of these variances"),
            ));
        }
        Ok(CoMoments {
            count,
            mean_x,
            mean_y,
            m2_x,
            m2_y,
            c_xy,
        })
    }

    /// Adds one `(x, y)` pair; non-finite values are rejected.
    pub fn push(&mut self, x: f64, y: f64) -> Result<(), Error> {
        if !x.is_finite() || !y.is_finite() {
            return Err(Error::argument(
                "x, y",
                format!("({x}, {y}) must be finite"),
            ));
        }
        self.count = self.count.saturating_add(1);
        let n = self.count as f64;
        let dx = x - self.mean_x;
        let dy = y - self.mean_y;
        self.mean_x += dx / n;
        self.mean_y += dy / n;
        self.m2_x += dx * (x - self.mean_x);
        self.m2_y += dy * (y - self.mean_y);
        self.c_xy += dx * (y - self.mean_y);
        Ok(())
    }

    /// The summary of paired slices (equal lengths).
    pub fn from_slices(x: &[f64], y: &[f64]) -> Result<Self, Error> {
        if x.len() != y.len() {
            return Err(Error::argument(
                "x, y",
                format!("lengths differ: {} and {}", x.len(), y.len()),
            ));
        }
        let mut m = CoMoments::new();
        for (a, b) in x.iter().zip(y) {
            m.push(*a, *b)?;
        }
        Ok(m)
    }

    /// Merges another summary into this one.
    pub fn merge(&mut self, other: &CoMoments) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = *other;
            return;
        }
        let n_a = self.count as f64;
        let n_b = other.count as f64;
        let n = n_a + n_b;
        let dx = other.mean_x - self.mean_x;
        let dy = other.mean_y - self.mean_y;
        let w = n_a * n_b / n;
        self.mean_x += dx * (n_b / n);
        self.mean_y += dy * (n_b / n);
        self.m2_x += other.m2_x + dx * dx * w;
        self.m2_y += other.m2_y + dy * dy * w;
        self.c_xy += other.c_xy + dx * dy * w;
        self.count = self.count.saturating_add(other.count);
    }

    /// The number of pairs.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Moments of the covariate `x`.
    pub fn x(&self) -> Moments {
        Moments {
            count: self.count,
            mean: self.mean_x,
            m2: self.m2_x,
        }
    }

    /// Moments of the metric `y`.
    pub fn y(&self) -> Moments {
        Moments {
            count: self.count,
            mean: self.mean_y,
            m2: self.m2_y,
        }
    }

    /// The sum of co-deviations Σ (x - x̄)(y - ȳ).
    pub fn co_moment(&self) -> f64 {
        self.c_xy
    }

    /// The sample covariance (n - 1 denominator); `None` below two pairs.
    pub fn covariance(&self) -> Option<f64> {
        (self.count >= 2).then(|| self.c_xy / (self.count - 1) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_and_slices_agree_and_merge() {
        let data: Vec<f64> = (0..10_001)
            .map(|i| ((i * 7919) % 1000) as f64 * 0.37 + 1e6)
            .collect();
        let whole = Moments::from_slice(&data).unwrap_or_default();
        let mut pushed = Moments::new();
        for x in &data {
            assert!(pushed.push(*x).is_ok());
        }
        let (a, b) = data.split_at(3_333);
        let mut merged = Moments::from_slice(a).unwrap_or_default();
        merged.merge(&Moments::from_slice(b).unwrap_or_default());
        for m in [pushed, merged] {
            assert_eq!(m.count(), whole.count());
            assert!((m.mean() - whole.mean()).abs() < 1e-12 * whole.mean().abs());
            assert!((m.m2() - whole.m2()).abs() < 1e-9 * whole.m2());
        }
    }

    #[test]
    fn precision_survives_a_large_offset() {
        // Values 1e9 + {0, 1, 2}: a naive sum of squares loses every digit of the variance.
        let data: Vec<f64> = (0..30_000).map(|i| 1e9 + (i % 3) as f64).collect();
        let m = Moments::from_slice(&data).unwrap_or_default();
        let expected = 2.0 / 3.0 * 30_000.0 / 29_999.0;
        assert!((m.variance().unwrap_or(0.0) - expected).abs() < 1e-9);
    }

    #[test]
    fn an_outlier_first_value_falls_back_to_two_passes() {
        let mut data = vec![1e9];
        data.extend((0..3_000).map(|i| (i % 7) as f64 - 3.0));
        let fast = Moments::from_slice(&data).unwrap_or_default();
        let mut slow = Moments::new();
        for x in &data {
            assert!(slow.push(*x).is_ok());
        }
        assert!(
            (fast.m2() - slow.m2()).abs() < 1e-12 * slow.m2(),
            "{} vs {}",
            fast.m2(),
            slow.m2()
        );
        assert!((fast.mean() - slow.mean()).abs() < 1e-9);
    }

    #[test]
    fn rejects_non_finite() {
        let mut m = Moments::new();
        assert_eq!(
            m.push(f64::NAN).map_err(|e| e.code()),
            Err("invalid_argument")
        );
        assert_eq!(m.count(), 0);
        assert!(Moments::from_slice(&[1.0, f64::INFINITY]).is_err());
        assert!(Moments::from_slice(&[f64::MAX, f64::MAX]).is_err());
        assert!(Proportion::new(3, 2).is_err());
        assert!(Moments::from_parts(0, 1.0, 0.0).is_err());
    }

    #[test]
    fn proportion_as_moments() {
        let p = Proportion::new(30, 100).unwrap_or_default();
        let m = p.moments();
        assert_eq!(m.count(), 100);
        assert!((m.mean() - 0.3).abs() < 1e-15);
        assert!((m.variance().unwrap_or(0.0) - 0.3 * 0.7 * 100.0 / 99.0).abs() < 1e-15);
    }

    #[test]
    fn co_moments_merge() {
        let x: Vec<f64> = (0..100).map(|i| i as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v + libm::sin(v * 0.3)).collect();
        let all = CoMoments::from_slices(&x, &y).unwrap_or_default();
        let mut a = CoMoments::from_slices(&x[..40], &y[..40]).unwrap_or_default();
        a.merge(&CoMoments::from_slices(&x[40..], &y[40..]).unwrap_or_default());
        assert!((a.co_moment() - all.co_moment()).abs() < 1e-9 * all.co_moment().abs());
        assert!((a.y().m2() - all.y().m2()).abs() < 1e-9 * all.y().m2());
    }
}
