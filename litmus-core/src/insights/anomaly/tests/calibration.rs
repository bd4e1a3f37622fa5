//! False-alarm rates on clean data: the numbers the documentation promises.

use super::super::{EwmaOptions, RobustZOptions, ewma, robust_z};
use super::{gaussian, poisson};

/// Alarms per judged point over `series` seeds of `len` points, skipping the first `skip`.
fn rate(
    seeds: std::ops::Range<u64>,
    len: usize,
    skip: usize,
    make: impl Fn(u64, usize) -> Vec<f64>,
    detect: impl Fn(&[f64]) -> usize,
) -> (usize, usize) {
    let mut alarms = 0;
    let mut points = 0;
    for seed in seeds {
        let s = make(seed, len);
        alarms += detect(&s);
        points += len - skip;
    }
    (alarms, points)
}

fn robust_alarms(s: &[f64], o: RobustZOptions) -> usize {
    robust_z(s, o).map(|a| a.len()).unwrap_or(usize::MAX)
}

fn ewma_alarms(s: &[f64], o: EwmaOptions) -> usize {
    ewma(s, o).map(|a| a.len()).unwrap_or(usize::MAX)
}

/// The documented false-alarm rates per point (10⁷ points each, `calibration_table`):
/// (threshold, robust Gaussian, robust Poisson, EWMA Gaussian, EWMA Poisson).
const DOCUMENTED: [(f64, f64, f64, f64, f64); 3] = [
    (3.0, 5.3e-3, 1.5e-3, 3.4e-3, 1.2e-3),
    (4.0, 3.1e-4, 3.0e-5, 1.2e-4, 2.5e-5),
    (5.0, 1.5e-5, 6e-7, 2.4e-6, 2e-7),
];

/// `alarms` in `points` agrees with `documented`: at most twice the rate plus noise (alarms
/// cluster: a window with a low spread raises several), and at least half of it when enough
/// are expected to tell.
fn assert_rate((alarms, points): (usize, usize), documented: f64, what: &str) {
    let expected = documented * points as f64;
    let got = alarms as f64;
    println!("{what}: {alarms} alarms in {points} points (documented rate: {expected:.1})");
    assert!(
        got <= 2.0 * expected + 4.0 * expected.sqrt() + 4.0,
        "{what}: {alarms} alarms in {points} points, expected {expected:.1}"
    );
    assert!(
        got >= 0.5 * expected - 4.0 * expected.sqrt(),
        "{what}: {alarms} alarms in {points} points, expected {expected:.1}"
    );
}

/// 200,000 points of clean data (20 series of 10,000) per detector and threshold.
#[test]
fn false_alarm_rates_on_clean_data_are_as_documented() {
    let (seeds, len) = (1_000..1_020u64, 10_000usize);
    let g = |seed, n| gaussian(seed, n, 50.0, 4.0);
    let p = |seed, n| poisson(seed, n, 3.0);
    for (threshold, robust_g, robust_p, ewma_g, ewma_p) in DOCUMENTED.into_iter().skip(1) {
        let ro = RobustZOptions {
            threshold,
            ..RobustZOptions::default()
        };
        let rc = RobustZOptions {
            threshold,
            ..RobustZOptions::for_counts()
        };
        let eo = EwmaOptions {
            threshold,
            ..EwmaOptions::default()
        };
        let ec = EwmaOptions {
            threshold,
            ..EwmaOptions::for_counts()
        };
        let r = rate(seeds.clone(), len, ro.min_history, g, |s| {
            robust_alarms(s, ro)
        });
        assert_rate(r, robust_g, &format!("robust z, Gaussian, {threshold}"));
        let r = rate(seeds.clone(), len, rc.min_history, p, |s| {
            robust_alarms(s, rc)
        });
        assert_rate(r, robust_p, &format!("robust z, Poisson, {threshold}"));
        let r = rate(seeds.clone(), len, eo.warmup, g, |s| ewma_alarms(s, eo));
        assert_rate(r, ewma_g, &format!("ewma, Gaussian, {threshold}"));
        let r = rate(seeds.clone(), len, ec.warmup, p, |s| ewma_alarms(s, ec));
        assert_rate(r, ewma_p, &format!("ewma, Poisson, {threshold}"));
    }
}

/// Prints the tables of the documentation (release build: about a minute).
/// `cargo test -p litmus-core --release insights -- --ignored --nocapture`
#[test]
#[ignore = "slow: regenerates the documented tables"]
fn calibration_table() {
    let (seeds, len) = (0..100u64, 100_000usize);
    for threshold in [3.0, 4.0, 5.0] {
        let g = |seed, n| gaussian(seed, n, 100.0, 10.0);
        let p = |seed, n| poisson(seed, n, 3.0);
        let ro = RobustZOptions {
            threshold,
            ..RobustZOptions::default()
        };
        let rc = RobustZOptions {
            threshold,
            ..RobustZOptions::for_counts()
        };
        let eo = EwmaOptions {
            threshold,
            ..EwmaOptions::default()
        };
        let ec = EwmaOptions {
            threshold,
            ..EwmaOptions::for_counts()
        };
        let a = rate(seeds.clone(), len, ro.min_history, g, |s| {
            robust_alarms(s, ro)
        });
        let b = rate(seeds.clone(), len, rc.min_history, p, |s| {
            robust_alarms(s, rc)
        });
        let c = rate(seeds.clone(), len, eo.warmup, g, |s| ewma_alarms(s, eo));
        let d = rate(seeds.clone(), len, ec.warmup, p, |s| ewma_alarms(s, ec));
        println!(
            "threshold {threshold}: robust gauss {a:?} pois {b:?}; ewma gauss {c:?} pois {d:?}"
        );
    }
    // The transient: series of one day, every point after the warm-up.
    let (seeds, len) = (0..7_000u64, 1_440usize);
    let ro = RobustZOptions::default();
    let eo = EwmaOptions::default();
    let g = |seed, n| gaussian(seed, n, 100.0, 10.0);
    let a = rate(seeds.clone(), len, ro.min_history, g, |s| {
        robust_alarms(s, ro)
    });
    let c = rate(seeds.clone(), len, eo.warmup, g, |s| ewma_alarms(s, eo));
    println!("one-day series: robust {a:?} ewma {c:?}");
}

/// Prints how many alarms a lasting shift of 8 standard deviations raises (documentation).
#[test]
#[ignore = "slow: regenerates documented numbers"]
fn shift_absorption() {
    for shift in [6.0, 8.0, 12.0, -8.0] {
        let (mut alarms, mut last) = ([0usize; 2], [0usize; 2]);
        for seed in 0..1_000u64 {
            let mut s = gaussian(seed, 800, 0.0, 1.0);
            for x in s.iter_mut().skip(400) {
                *x += shift;
            }
            let r = robust_z(&s, RobustZOptions::default()).unwrap_or_default();
            let e = ewma(&s, EwmaOptions::default()).unwrap_or_default();
            for (d, a) in [r, e].iter().enumerate() {
                let after: Vec<usize> = a.iter().map(|a| a.index()).filter(|&i| i >= 400).collect();
                alarms[d] += after.len();
                last[d] = last[d].max(after.last().copied().unwrap_or(0).saturating_sub(400));
            }
        }
        println!(
            "shift {shift}: mean alarms robust {} ewma {}; last alarm at most +{:?}",
            alarms[0] as f64 / 1000.0,
            alarms[1] as f64 / 1000.0,
            last
        );
    }
}
