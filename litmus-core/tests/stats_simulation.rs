//! Seeded simulations: under the null hypothesis (A/A), tests at alpha = 0.05 reject in 5% of
//! experiments. 20,000 experiments each; the accepted band [0.045, 0.055] is about 3.2
//! standard errors wide on each side.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::stats::{self, Alternative, Moments, Proportion, QuantileSketch, ZVariance};

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

#[test]
fn sequential_test_keeps_its_rate_when_peeking_every_100_units() {
    // 2,000 A/A experiments, each looked at after every 100 units per group from 200 to 5,000.
    let mut rng = Rng(17);
    let (experiments, mut ever_rejected, mut fixed_horizon) = (2_000usize, 0usize, 0usize);
    for _ in 0..experiments {
        let mut a = Moments::new();
        let mut b = Moments::new();
        let mut state = stats::SequentialState::new();
        let mut naive_rejected = false;
        for look in 1..=50 {
            for _ in 0..100 {
                a.push(3.0 * rng.normal()).unwrap();
                b.push(3.0 * rng.normal()).unwrap();
            }
            if look < 2 {
                continue;
            }
            let s = stats::msprt_means(&a, &b, 0.1 * 9.0, 0.05).unwrap();
            state.observe(&s);
            // The classical test, wrongly peeked at the same looks, for contrast.
            naive_rejected |= stats::ttest_ind(&a, &b, false, Alternative::TwoSided)
                .unwrap()
                .pvalue()
                < 0.05;
        }
        ever_rejected += usize::from(state.pvalue() < 0.05);
        fixed_horizon += usize::from(naive_rejected);
    }
    let rate = ever_rejected as f64 / experiments as f64;
    let naive = fixed_horizon as f64 / experiments as f64;
    assert!(
        rate <= 0.05,
        "always-valid false-positive rate {rate} with continuous peeking"
    );
    assert!(
        naive > 0.15,
        "peeking at a fixed-horizon t-test should inflate its rate, got {naive}"
    );
}

#[test]
fn sequential_test_detects_a_real_effect() {
    let mut rng = Rng(19);
    let mut detected = 0usize;
    for _ in 0..200 {
        let mut a = Moments::new();
        let mut b = Moments::new();
        let mut state = stats::SequentialState::new();
        for _ in 0..50 {
            for _ in 0..100 {
                a.push(0.3 + 3.0 * rng.normal()).unwrap();
                b.push(3.0 * rng.normal()).unwrap();
            }
            state.observe(&stats::msprt_means(&a, &b, 0.1 * 9.0, 0.05).unwrap());
        }
        detected += usize::from(state.pvalue() < 0.05);
    }
    assert!(
        detected > 150,
        "power {detected}/200 at 5,000 units per group for a 0.1 sd effect"
    );
}

#[test]
fn cuped_removes_the_expected_share_of_variance() {
    // y = rho x + sqrt(1 - rho²) e: CUPED on x should remove about rho² of the variance of the
    // difference of means, and keep the A/A false-positive rate at alpha.
    for rho in [0.3f64, 0.6, 0.9] {
        let mut rng = Rng(23 + (rho * 10.0) as u64);
        let (mut reduction, mut hits) = (0.0, 0usize);
        let runs = 2_000;
        for _ in 0..runs {
            let mut t = stats::CoMoments::new();
            let mut c = stats::CoMoments::new();
            for g in [&mut t, &mut c] {
                for _ in 0..200 {
                    let x = rng.normal();
                    let y = rho * x + (1.0 - rho * rho).sqrt() * rng.normal();
                    g.push(x, y).unwrap();
                }
            }
            let r = stats::cuped(&t, &c, 0.05, Alternative::TwoSided).unwrap();
            reduction += r.variance_reduction();
            hits += usize::from(r.test().pvalue() < 0.05);
        }
        let mean_reduction = reduction / runs as f64;
        assert!(
            (mean_reduction - rho * rho).abs() < 0.02,
            "rho {rho}: reduction {mean_reduction}"
        );
        let rate = hits as f64 / runs as f64;
        assert!(
            (0.035..=0.065).contains(&rate),
            "rho {rho}: A/A rate {rate}"
        );
    }
}

#[test]
fn quantile_difference_intervals_cover_at_their_level() {
    // A/A: two groups of 2,000 lognormal(0, 1) values, in default-accuracy sketches (1%) and in
    // the coarsest (5%). With 1,000 experiments the Monte Carlo standard error of a 95% coverage
    // is 0.0069: the band [0.93, 0.97] is about 2.9 of them on each side. At 5% the rounding
    // term makes the intervals conservative (0.987 to 0.995 in 10,000 experiments; 0.56 to 0.89
    // without it).
    let experiments = 1_000usize;
    let qs = [0.5, 0.9];
    let mut rng = Rng(29);
    let (mut fine, mut coarse) = ([0usize; 2], [0usize; 2]);
    for _ in 0..experiments {
        // The same data in both accuracies: groups a and b at 0.01, then at 0.05.
        let mut groups = [0.01, 0.01, 0.05, 0.05].map(|a| QuantileSketch::new(a).unwrap());
        for _ in 0..2_000 {
            let (x, y) = (rng.normal().exp(), rng.normal().exp());
            for (g, v) in groups.iter_mut().zip([x, y, x, y]) {
                g.add(v).unwrap();
            }
        }
        for (i, &q) in qs.iter().enumerate() {
            let covers = |a: &QuantileSketch, b: &QuantileSketch| {
                let r = stats::quantile_ztest(a, b, q, 0.05).unwrap();
                usize::from(r.difference().contains(0.0))
            };
            fine[i] += covers(&groups[0], &groups[1]);
            coarse[i] += covers(&groups[2], &groups[3]);
        }
    }
    for (i, q) in qs.into_iter().enumerate() {
        let (rate, coarse_rate) = (
            fine[i] as f64 / experiments as f64,
            coarse[i] as f64 / experiments as f64,
        );
        eprintln!(
            "quantile q = {q}: 95% intervals for the difference cover 0 in {rate:.3} of \
             {experiments} A/A experiments at accuracy 0.01, {coarse_rate:.3} at 0.05"
        );
        assert!((0.93..=0.97).contains(&rate), "q {q}: coverage {rate}");
        assert!(
            coarse_rate >= 0.93,
            "q {q}: coverage {coarse_rate} at accuracy 0.05"
        );
    }
}
