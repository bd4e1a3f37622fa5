//! Seeded simulations: under the null hypothesis (A/A), tests at alpha = 0.05 reject in 5% of
//! experiments. 20,000 experiments each; the accepted band [0.045, 0.055] is about 3.2
//! standard errors wide on each side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::stats::{self, Alternative, Moments, Proportion, ZVariance};

/// SplitMix64: a tiny, portable generator, enough for test data.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
}

const EXPERIMENTS: usize = 20_000;

#[test]
fn aa_false_positive_rate_of_the_t_tests() {
    let mut rng = Rng(7);
    let (mut welch, mut student) = (0usize, 0usize);
    for _ in 0..EXPERIMENTS {
        let mut a = Moments::new();
        let mut b = Moments::new();
        for _ in 0..50 {
            a.push(10.0 + 2.0 * rng.normal()).unwrap();
        }
        for _ in 0..80 {
            b.push(10.0 + 2.0 * rng.normal()).unwrap();
        }
        welch += usize::from(
            stats::ttest_ind(&a, &b, false, Alternative::TwoSided)
                .unwrap()
                .pvalue()
                < 0.05,
        );
        student += usize::from(
            stats::ttest_ind(&a, &b, true, Alternative::TwoSided)
                .unwrap()
                .pvalue()
                < 0.05,
        );
    }
    for (name, hits) in [("welch", welch), ("student", student)] {
        let rate = hits as f64 / EXPERIMENTS as f64;
        assert!(
            (0.045..=0.055).contains(&rate),
            "{name}: false-positive rate {rate}"
        );
    }
}

#[test]
fn aa_false_positive_rate_of_the_z_test() {
    let mut rng = Rng(11);
    let mut hits = 0usize;
    for _ in 0..EXPERIMENTS {
        let mut a = Proportion::default();
        let mut b = Proportion::default();
        for _ in 0..1_000 {
            a.push(rng.uniform() < 0.1);
            b.push(rng.uniform() < 0.1);
        }
        hits += usize::from(
            stats::proportions_ztest(&a, &b, ZVariance::Pooled, Alternative::TwoSided)
                .unwrap()
                .pvalue()
                < 0.05,
        );
    }
    let rate = hits as f64 / EXPERIMENTS as f64;
    assert!(
        (0.045..=0.055).contains(&rate),
        "z-test false-positive rate {rate}"
    );
}

#[test]
fn intervals_cover_at_their_level() {
    let mut rng = Rng(13);
    let mut covered = 0usize;
    for _ in 0..EXPERIMENTS {
        let mut a = Moments::new();
        let mut b = Moments::new();
        for _ in 0..40 {
            a.push(5.0 + rng.normal()).unwrap();
            b.push(4.0 + 3.0 * rng.normal()).unwrap();
        }
        let i = stats::diff_means_confint(&a, &b, 0.05, false).unwrap();
        covered += usize::from(i.contains(1.0));
    }
    let rate = covered as f64 / EXPERIMENTS as f64;
    assert!((0.945..=0.955).contains(&rate), "coverage {rate}");
}
