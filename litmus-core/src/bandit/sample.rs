//! Random variates for Thompson sampling, from any [`RandomSource`], with `libm` arithmetic so
//! a seed gives the same draws on every platform.

use crate::rng::RandomSource;

use super::ziggurat::{F, R as ZIG_R, X};

fn density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

/// A standard normal draw by the ziggurat method (256 layers; about 99% of draws take the
/// fast path: one 64-bit word, one multiply, one compare).
#[inline(always)]
#[allow(clippy::indexing_slicing)] // i < 256 and i + 1 <= 256 by construction
pub fn standard_normal<R: RandomSource + ?Sized>(rng: &mut R) -> f64 {
    let bits = rng.next_u64();
    let (i, u, x) = layer_point(bits);
    if x.abs() < X[i + 1] {
        return x;
    }
    normal_edge(rng, i, u, x)
}

/// The layer, the uniform in (-1, 1) and the candidate x of one 64-bit word: the layer from
/// the low 8 bits, the uniform from the 53 high bits.
#[inline]
#[allow(clippy::indexing_slicing)] // i < 256 by the mask
fn layer_point(bits: u64) -> (usize, f64, f64) {
    let i = (bits & 0xff) as usize;
    let u = 2.0 * ((bits >> 11) as i64 as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0;
    (i, u, u * X[i])
}

/// The ziggurat's rare paths: the wedge of layer `i` and the tail beyond R; on rejection the
/// draw starts over.
#[cold]
#[inline(never)]
#[allow(clippy::indexing_slicing)] // i < 256 and i + 1 <= 256 by construction
fn normal_edge<R: RandomSource + ?Sized>(rng: &mut R, mut i: usize, mut u: f64, mut x: f64) -> f64 {
    loop {
        if i == 0 {
            // The tail beyond R (Marsaglia 1964).
            loop {
                let t = libm::log(rng.next_open_f64()) / ZIG_R;
                let y = libm::log(rng.next_open_f64());
                if -2.0 * y >= t * t {
                    return if u < 0.0 { t - ZIG_R } else { ZIG_R - t };
                }
            }
        }
        if F[i + 1] + (F[i] - F[i + 1]) * rng.next_f64() < density(x) {
            return x;
        }
        (i, u, x) = layer_point(rng.next_u64());
        if x.abs() < X[i + 1] {
            return x;
        }
    }
}

/// A Gamma(shape, 1) sampler with its constants computed once (Marsaglia and Tsang 2000; for
/// shape < 1 the boost `Gamma(shape + 1) · U^(1/shape)`). An invalid shape draws NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    /// The shape.
    shape: f64,
    /// shape - 1/3 (of shape + 1 when boosted).
    d: f64,
    /// 1 / sqrt(9 d).
    c: f64,
    /// 1 / shape when shape < 1 (the boost's exponent); NaN for an invalid shape.
    boost: Option<f64>,
}

impl Gamma {
    /// The sampler for `Gamma(shape, 1)`.
    #[inline]
    pub fn new(shape: f64) -> Self {
        // The common case (a posterior with at least one prior or observed success) first.
        if (1.0..f64::INFINITY).contains(&shape) {
            return Self::marsaglia_tsang_for(shape, shape, None);
        }
        Self::new_other(shape)
    }

    /// Shapes below 1 (boosted) and invalid ones (NaN draws).
    #[cold]
    fn new_other(shape: f64) -> Self {
        if !crate::stats::positive_finite(shape) {
            return Gamma {
                shape,
                d: f64::NAN,
                c: f64::NAN,
                boost: Some(f64::NAN),
            };
        }
        Self::marsaglia_tsang_for(shape, shape + 1.0, Some(1.0 / shape))
    }

    #[inline(always)]
    fn marsaglia_tsang_for(shape: f64, base: f64, boost: Option<f64>) -> Self {
        let d = base - 1.0 / 3.0;
        Gamma {
            shape,
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            boost,
        }
    }

    /// The shape.
    pub fn shape(&self) -> f64 {
        self.shape
    }

    /// One draw.
    #[inline(always)]
    pub fn sample<R: RandomSource + ?Sized>(&self, rng: &mut R) -> f64 {
        if self.boost.is_none() {
            return self.marsaglia_tsang(rng);
        }
        self.sample_other(rng)
    }

    /// Draws for shapes below 1 (boosted) and invalid shapes (NaN).
    #[cold]
    #[inline(never)]
    fn sample_other<R: RandomSource + ?Sized>(&self, rng: &mut R) -> f64 {
        match self.boost {
            Some(exponent) if !exponent.is_nan() => {
                let u = rng.next_open_f64();
                self.marsaglia_tsang(rng) * libm::pow(u, exponent)
            }
            _ => f64::NAN,
        }
    }

    #[inline(always)]
    fn marsaglia_tsang<R: RandomSource + ?Sized>(&self, rng: &mut R) -> f64 {
        let (d, c) = (self.d, self.c);
        loop {
            let x = standard_normal(rng);
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = rng.next_open_f64();
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 || Self::accepts(d, x2, u, v) {
                return d * v;
            }
        }
    }
}

impl Gamma {
    /// Marsaglia and Tsang's acceptance test, ln u < x²/2 + d (1 - v + ln v), first by a
    /// squeeze without logarithms or divisions: ln u <= u - 1 and, with w = v - 1,
    /// ln(1 + w) >= w - w²/2 + w³/3 - w⁴ / (4 min(1, v)) (the Taylor remainder bounded on
    /// both sides of 0; 1 / min(1, v) <= 2 for v >= 1/2), which settles almost every draw the
    /// first squeeze leaves.
    #[inline(always)]
    fn accepts(d: f64, x2: f64, u: f64, v: f64) -> bool {
        let remainder = if v >= 1.0 {
            0.25
        } else if v >= 0.5 {
            0.5
        } else {
            return Self::accepts_exactly(d, x2, u, v);
        };
        let w = v - 1.0;
        let w2 = w * w;
        let ln_v_low = w - 0.5 * w2 + w2 * w * (1.0 / 3.0) - remainder * w2 * w2;
        let bound = 0.5 * x2 + d * (ln_v_low - w);
        u - 1.0 < bound || Self::accepts_exactly(d, x2, u, v)
    }

    #[cold]
    #[inline(never)]
    fn accepts_exactly(d: f64, x2: f64, u: f64, v: f64) -> bool {
        libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v))
    }
}

/// A Gamma(shape, 1) draw for `shape > 0` (see [`Gamma`]). Returns NaN for an invalid shape.
pub fn gamma<R: RandomSource + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    Gamma::new(shape).sample(rng)
}

/// A Beta(a, b) sampler, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Beta {
    x: Gamma,
    y: Gamma,
}

impl Beta {
    /// The sampler for `Beta(a, b)`; invalid parameters draw NaN.
    #[inline]
    pub fn new(a: f64, b: f64) -> Self {
        Beta {
            x: Gamma::new(a),
            y: Gamma::new(b),
        }
    }

    /// One draw.
    #[inline]
    pub fn sample<R: RandomSource + ?Sized>(&self, rng: &mut R) -> f64 {
        let x = self.x.sample(rng);
        let y = self.y.sample(rng);
        x / (x + y)
    }
}

/// A Beta(a, b) draw for a, b > 0 (see [`Beta`]).
pub fn beta<R: RandomSource + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    Beta::new(a, b).sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Xoshiro256PlusPlus;
    use crate::stats::Moments;

    #[test]
    fn moments_match_the_distributions() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let n = 200_000;
        let mut normal = Moments::new();
        let mut g = Moments::new();
        let mut small = Moments::new();
        let mut b = Moments::new();
        // A large shape: almost every draw is settled by the log-free squeezes.
        let mut large = Moments::new();
        let large_gamma = Gamma::new(130.0);
        let mut large_draws = Vec::with_capacity(n);
        for _ in 0..n {
            let draw = large_gamma.sample(&mut rng);
            let _ = large.push(draw);
            large_draws.push(draw);
            let _ = normal.push(standard_normal(&mut rng));
            let _ = g.push(gamma(&mut rng, 3.5));
            let _ = small.push(gamma(&mut rng, 0.4));
            let _ = b.push(beta(&mut rng, 2.0, 5.0));
        }
        let se = |v: f64| 5.0 * (v / n as f64).sqrt();
        assert!(normal.mean().abs() < se(1.0));
        assert!((normal.variance().unwrap_or(0.0) - 1.0).abs() < 0.02);
        assert!((g.mean() - 3.5).abs() < se(3.5));
        assert!((small.mean() - 0.4).abs() < se(0.4));
        assert!((large.mean() - 130.0).abs() < se(130.0));
        let large_var = large.variance().unwrap_or(0.0);
        assert!((large_var - 130.0).abs() < 130.0 * 0.02, "{large_var}");
        let third: f64 = large_draws
            .iter()
            .map(|x| (x - large.mean()).powi(3))
            .sum::<f64>()
            / n as f64;
        let skew = third / libm::pow(large_var, 1.5);
        // Gamma skewness 2 / sqrt(shape) = 0.175.
        assert!((skew - 2.0 / 130f64.sqrt()).abs() < 0.03, "{skew}");
        let (bm, bv) = (2.0 / 7.0, 10.0 / (49.0 * 8.0));
        assert!((b.mean() - bm).abs() < se(bv));
        assert!(gamma(&mut rng, -1.0).is_nan());
        // Tails of the normal (the ziggurat's base layer and its tail beyond R).
        let mut beyond = [0usize; 3];
        for _ in 0..1_000_000 {
            let x = standard_normal(&mut rng).abs();
            for (k, b) in beyond.iter_mut().enumerate() {
                *b += usize::from(x > (k + 2) as f64);
            }
        }
        // P(|Z| > 2, 3, 4) = 0.0455, 0.0027, 6.3e-5.
        let expected = [45_500.0, 2_700.0, 63.3];
        for (b, e) in beyond.iter().zip(expected) {
            assert!(
                (*b as f64 - e).abs() < 5.0 * e.sqrt() + 0.01 * e,
                "{beyond:?}"
            );
        }
    }

    #[test]
    fn seeded_draws_are_pinned() {
        // Pinned values: the wasm build must reproduce them bit for bit (libm arithmetic).
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
        let draws: Vec<f64> = (0..3).map(|_| beta(&mut rng, 2.0, 5.0)).collect();
        assert_eq!(
            draws,
            vec![
                0.199_752_291_937_789_23,
                0.060_566_081_679_708_15,
                0.268_641_945_934_316_06
            ]
        );
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
        let normals: Vec<f64> = (0..2).map(|_| standard_normal(&mut rng)).collect();
        assert_eq!(
            normals,
            vec![-0.201_628_317_490_877_12, 0.290_513_535_902_069_35]
        );
    }
}
