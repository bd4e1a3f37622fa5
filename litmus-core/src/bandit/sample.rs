//! Random variates for Thompson sampling, from any [`RandomSource`], with `libm` arithmetic so
//! a seed gives the same draws on every platform.

use crate::rng::RandomSource;

/// Layers of the ziggurat.
const LAYERS: usize = 256;
/// Where the base layer's tail starts.
const ZIG_R: f64 = 3.654_152_885_361_009;
/// The area of each layer.
const ZIG_V: f64 = 4.928_673_233_99e-3;

/// The ziggurat's layer edges x[0..=256] and densities f(x) (Marsaglia and Tsang 2000), built
/// once with libm arithmetic so every platform gets the same table.
struct Ziggurat {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

fn density(x: f64) -> f64 {
    libm::exp(-0.5 * x * x)
}

#[allow(clippy::indexing_slicing)] // fixed-size tables indexed below LAYERS + 1
fn ziggurat() -> &'static Ziggurat {
    static TABLE: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| {
        let mut x = [0.0; LAYERS + 1];
        let mut f = [0.0; LAYERS + 1];
        x[0] = ZIG_V / density(ZIG_R);
        x[1] = ZIG_R;
        for i in 1..LAYERS - 1 {
            x[i + 1] = (-2.0 * libm::log(ZIG_V / x[i] + density(x[i]))).sqrt();
        }
        x[LAYERS] = 0.0;
        for (fi, xi) in f.iter_mut().zip(&x) {
            *fi = density(*xi);
        }
        Ziggurat { x, f }
    })
}

/// A standard normal draw by the ziggurat method (256 layers; about 99% of draws take the
/// fast path: one 64-bit word, one multiply, one compare).
#[allow(clippy::indexing_slicing)] // i < 256 and i + 1 <= 256 by construction
pub fn standard_normal<R: RandomSource + ?Sized>(rng: &mut R) -> f64 {
    let z = ziggurat();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        // A uniform in (-1, 1) from the 53 high bits (disjoint from the layer bits).
        let u = 2.0 * ((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) - 1.0;
        let x = u * z.x[i];
        if x.abs() < z.x[i + 1] {
            return x;
        }
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
        if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * rng.next_f64() < density(x) {
            return x;
        }
    }
}

/// A Gamma(shape, 1) draw for `shape > 0` (Marsaglia and Tsang 2000; for shape < 1 the
/// boost `Gamma(shape + 1) · U^(1/shape)`). Returns NaN for an invalid shape.
pub fn gamma<R: RandomSource + ?Sized>(rng: &mut R, shape: f64) -> f64 {
    if !crate::stats::positive_finite(shape) {
        return f64::NAN;
    }
    if shape < 1.0 {
        let u = rng.next_open_f64();
        return gamma(rng, shape + 1.0) * libm::pow(u, 1.0 / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = rng.next_open_f64();
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 || libm::log(u) < 0.5 * x2 + d * (1.0 - v + libm::log(v)) {
            return d * v;
        }
    }
}

/// A Beta(a, b) draw for a, b > 0, as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b).
pub fn beta<R: RandomSource + ?Sized>(rng: &mut R, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
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
        for _ in 0..n {
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
