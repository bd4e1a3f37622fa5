//! Planted anomalies are found, clean data stays quiet, bad input is an error.

mod calibration;
mod properties;

use super::estimate::{HUBER_K, HUBER_KAPPA, MAD_SCALE};
use super::{
    Anomaly, Direction, EwmaOptions, MAX_ABS_VALUE, Method, RobustZOptions, ewma, robust_z,
};
use crate::bandit::sample::standard_normal;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};
use crate::stats::dist::{normal_cdf, normal_pdf, normal_ppf};

/// `n` normal values with mean `mean` and standard deviation `sd`, reproducible by `seed`.
fn gaussian(seed: u64, n: usize, mean: f64, sd: f64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..n)
        .map(|_| mean + sd * standard_normal(&mut rng))
        .collect()
}

/// `n` Poisson counts with mean `rate` (Knuth's product of uniforms; for small rates).
fn poisson(seed: u64, n: usize, rate: f64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed_0fc0_u64);
    let limit = libm::exp(-rate);
    (0..n)
        .map(|_| {
            let mut k = 0.0;
            let mut p = rng.next_open_f64();
            while p > limit {
                k += 1.0;
                p *= rng.next_open_f64();
            }
            k
        })
        .collect()
}

/// Both detectors with their defaults (or their count defaults).
fn both(series: &[f64], counts: bool) -> [Vec<Anomaly>; 2] {
    let (r, e) = if counts {
        (RobustZOptions::for_counts(), EwmaOptions::for_counts())
    } else {
        (RobustZOptions::default(), EwmaOptions::default())
    };
    [
        robust_z(series, r).unwrap_or_else(|e| panic!("{e}")),
        ewma(series, e).unwrap_or_else(|e| panic!("{e}")),
    ]
}

fn indices(alarms: &[Anomaly]) -> Vec<usize> {
    alarms.iter().map(Anomaly::index).collect()
}

/// What every alarm promises: the value is outside its band, the score beyond the threshold
/// on the side the direction names, every number finite.
fn check(a: &Anomaly, threshold: f64) {
    let numbers = [a.value, a.baseline, a.spread, a.lower, a.upper, a.score];
    assert!(numbers.iter().all(|x| x.is_finite()), "{a:?}");
    assert!(a.spread > 0.0 && a.lower < a.upper, "{a:?}");
    assert!(a.score.abs() > threshold, "{a:?}");
    match a.direction {
        Direction::Spike => assert!(a.score > 0.0 && a.value > a.upper, "{a:?}"),
        Direction::Drop => assert!(a.score < 0.0 && a.value < a.lower, "{a:?}"),
    }
}

#[test]
fn planted_spike_and_drop_are_exactly_the_alarms() {
    let mut s = gaussian(1, 1_000, 100.0, 10.0);
    s[400] += 80.0;
    s[700] -= 80.0;
    for (alarms, method) in both(&s, false).iter().zip([Method::RobustZ, Method::Ewma]) {
        assert_eq!(indices(alarms), vec![400, 700], "{method:?}");
        for a in alarms {
            check(a, 5.0);
            assert_eq!(a.method(), method);
            // The median of 60 points has a standard error of 0.16 sd; the estimate of the spread
            // about 0.1 sd.
            assert!((a.baseline() - 100.0).abs() < 5.0, "{a:?}");
            assert!((a.spread() - 10.0).abs() < 2.0, "{a:?}");
            assert!((a.lower() - 50.0).abs() < 10.0 && (a.upper() - 150.0).abs() < 10.0);
        }
        let directions: Vec<Direction> = alarms.iter().map(Anomaly::direction).collect();
        assert_eq!(directions, vec![Direction::Spike, Direction::Drop]);
    }
}

#[test]
fn planted_spikes_are_found_in_every_seed() {
    // 8 sigma against a threshold of 5: missed only if the spread were overestimated by 60%.
    let (mut found, mut extra, mut points) = ([0usize; 2], [0usize; 2], 0usize);
    for seed in 0..200 {
        let mut s = gaussian(seed, 600, -20.0, 3.0);
        s[300] += 24.0;
        s[450] -= 24.0;
        points += s.len() - 30;
        for (d, alarms) in both(&s, false).iter().enumerate() {
            for a in alarms {
                match (a.index(), a.direction()) {
                    (300, Direction::Spike) | (450, Direction::Drop) => found[d] += 1,
                    _ => extra[d] += 1,
                }
            }
        }
    }
    assert_eq!(found, [400, 400]);
    // False alarms elsewhere: within twice the documented rate (1.5e-5 and 2.4e-6) plus noise.
    assert!(
        extra[0] as f64 <= 2.0 * 1.5e-5 * points as f64 + 4.0,
        "{extra:?}"
    );
    assert!(
        extra[1] as f64 <= 2.0 * 2.4e-6 * points as f64 + 4.0,
        "{extra:?}"
    );
}

#[test]
fn a_level_shift_alarms_from_its_start_until_absorbed() {
    let mut s = gaussian(2, 1_000, 100.0, 10.0);
    for x in s.iter_mut().skip(500) {
        *x += 80.0;
    }
    for (alarms, most) in both(&s, false).iter().zip([31, 20]) {
        let i = indices(alarms);
        // From the start of the shift until the baseline has caught up (the end is ragged:
        // the last points alarm or not by their noise).
        assert_eq!(i.get(..5), Some(&[500, 501, 502, 503, 504][..]), "{i:?}");
        assert!(i.iter().all(|&i| (500..500 + most).contains(&i)), "{i:?}");
    }
}

#[test]
fn an_outage_in_a_count_series_alarms_from_its_first_minute() {
    // Exposures per minute at 100, none for 20 minutes, then back.
    let mut s = poisson(3, 600, 100.0);
    for x in s.iter_mut().skip(300).take(20) {
        *x = 0.0;
    }
    for alarms in both(&s, true) {
        let i = indices(&alarms);
        // At least its first 10 minutes (robust: 15, ewma: 11 with this seed); the return to
        // 100 is no anomaly (the robust median never left 100).
        assert_eq!(
            i.get(..10),
            Some(&(300..310).collect::<Vec<_>>()[..]),
            "{i:?}"
        );
        assert!(i.iter().all(|&i| (300..320).contains(&i)), "{i:?}");
        for a in &alarms {
            check(a, 5.0);
        }
    }
}

#[test]
fn a_burst_in_a_count_series_is_flagged() {
    // Purchases per minute at 3; one minute with 25.
    let mut s = poisson(4, 1_000, 3.0);
    s[600] = 25.0;
    for alarms in both(&s, true) {
        assert_eq!(indices(&alarms), vec![600]);
        let a = alarms[0];
        check(&a, 5.0);
        assert!((a.baseline() - 3.0).abs() <= 1.0, "{a:?}");
        // Poisson spread sqrt(3) and the skew term (25 - 1) / 6 = 4: upper ~ 3 + 4 + 8.7.
        assert!((a.upper() - 15.7).abs() < 2.5, "{a:?}");
        assert!(a.lower() < 0.0);
    }
}

#[test]
fn sparse_counts_do_not_alarm_on_ones() {
    let s = poisson(5, 100_000, 0.2);
    assert_eq!(both(&s, true).map(|a| a.len()), [0, 0]);
    let mut zeros = vec![0.0; 200];
    zeros[100] = 1.0;
    zeros[150] = 2.0;
    assert_eq!(both(&zeros, true).map(|a| a.len()), [0, 0]);
    zeros[180] = 12.0;
    assert_eq!(
        both(&zeros, true).map(|a| indices(&a)),
        [vec![180], vec![180]]
    );
}

#[test]
fn constant_series_do_not_alarm() {
    for c in [0.0, 7.5, -3.0, 1e9, MAX_ABS_VALUE] {
        assert_eq!(both(&[c; 500], false).map(|a| a.len()), [0, 0], "{c}");
        assert_eq!(both(&[c.abs(); 500], true).map(|a| a.len()), [0, 0], "{c}");
    }
    // Floating-point noise is not a change; a real step is.
    let mut s: Vec<f64> = (0..300)
        .map(|i| 0.1 * f64::from(i % 3) + 100.0 - 0.1 * f64::from(i % 3))
        .collect();
    s.extend((0..100).map(|i| 100.0 + 1e-8 * f64::from(i % 2)));
    assert_eq!(both(&s, false).map(|a| a.len()), [0, 0]);
    s.push(101.0);
    assert_eq!(both(&s, false).map(|a| indices(&a)), [vec![400], vec![400]]);
}

#[test]
fn short_series_have_no_alarms() {
    assert_eq!(both(&[], false).map(|a| a.len()), [0, 0]);
    assert_eq!(both(&[5.0], false).map(|a| a.len()), [0, 0]);
    // Alarms start at min_history (robust) and after warmup (ewma): 30 points by default.
    let mut s = vec![1.0; 30];
    s[29] = 1e6;
    assert_eq!(both(&s, false).map(|a| a.len()), [0, 0]);
    s.push(1e6);
    assert_eq!(both(&s, false).map(|a| indices(&a)), [vec![30], vec![30]]);
    let o = RobustZOptions {
        window: 3,
        min_history: 3,
        ..RobustZOptions::default()
    };
    assert_eq!(robust_z(&[1.0, 1.0, 1.0, 9.0], o).map(|a| a.len()), Ok(1));
    let o = EwmaOptions {
        warmup: 3,
        ..EwmaOptions::default()
    };
    assert_eq!(ewma(&[1.0, 1.0, 1.0], o).map(|a| a.len()), Ok(0));
}

#[test]
fn bad_values_and_options_are_invalid_arguments() {
    let code = |r: Result<Vec<Anomaly>, crate::Error>| r.map_err(|e| (e.code(), e.to_string()));
    for bad in [
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        2.0 * MAX_ABS_VALUE,
    ] {
        let s = [1.0, 2.0, 3.0, bad, 5.0];
        for r in [
            robust_z(&s, RobustZOptions::default()),
            ewma(&s, EwmaOptions::default()),
        ] {
            let (c, message) = code(r).err().unwrap_or_default();
            assert_eq!(c, "invalid_argument");
            assert!(message.contains("series[3]"), "{message}");
        }
    }
    let d = RobustZOptions::default();
    for (o, argument) in [
        (
            RobustZOptions {
                threshold: 0.0,
                ..d
            },
            "threshold",
        ),
        (
            RobustZOptions {
                threshold: -1.0,
                ..d
            },
            "threshold",
        ),
        (
            RobustZOptions {
                threshold: f64::NAN,
                ..d
            },
            "threshold",
        ),
        (
            RobustZOptions {
                threshold: f64::INFINITY,
                ..d
            },
            "threshold",
        ),
        (
            RobustZOptions {
                window: 2,
                min_history: 2,
                ..d
            },
            "window",
        ),
        (
            RobustZOptions {
                min_history: 2,
                ..d
            },
            "min_history",
        ),
        (
            RobustZOptions {
                min_history: 61,
                ..d
            },
            "min_history",
        ),
        (
            RobustZOptions {
                min_spread: -1.0,
                ..d
            },
            "min_spread",
        ),
        (
            RobustZOptions {
                min_spread: f64::NAN,
                ..d
            },
            "min_spread",
        ),
    ] {
        let e = robust_z(&[], o).err();
        assert_eq!(e.as_ref().map(crate::Error::code), Some("invalid_argument"));
        assert!(
            matches!(e, Some(crate::Error::InvalidArgument { argument: a, .. }) if a == argument)
        );
    }
    let d = EwmaOptions::default();
    for (o, argument) in [
        (EwmaOptions { lambda: 0.0, ..d }, "lambda"),
        (EwmaOptions { lambda: 1.5, ..d }, "lambda"),
        (
            EwmaOptions {
                lambda: f64::NAN,
                ..d
            },
            "lambda",
        ),
        (
            EwmaOptions {
                variance_lambda: -0.1,
                ..d
            },
            "variance_lambda",
        ),
        (
            EwmaOptions {
                threshold: 0.0,
                ..d
            },
            "threshold",
        ),
        (EwmaOptions { warmup: 2, ..d }, "warmup"),
        (
            EwmaOptions {
                min_spread: f64::INFINITY,
                ..d
            },
            "min_spread",
        ),
    ] {
        let e = ewma(&[1.0; 100], o).err();
        assert!(
            matches!(e, Some(crate::Error::InvalidArgument { argument: a, .. }) if a == argument)
        );
    }
    // The edges of the ranges are valid.
    let o = EwmaOptions {
        lambda: 1.0,
        variance_lambda: 1.0,
        ..d
    };
    assert!(ewma(&gaussian(6, 200, 0.0, 1.0), o).is_ok());
}

#[test]
fn alarms_serialize_for_the_dashboard() {
    let mut s = vec![10.0; 40];
    s.push(90.0);
    let alarms = robust_z(&s, RobustZOptions::default()).unwrap_or_default();
    let json = serde_json::to_value(alarms).unwrap_or_default();
    assert_eq!(json[0]["index"], 40);
    assert_eq!(json[0]["direction"], "spike");
    assert_eq!(json[0]["method"], "robust_z");
    for key in ["value", "baseline", "spread", "lower", "upper", "score"] {
        assert!(json[0][key].is_f64(), "{key}");
    }
}

#[test]
fn constants_match_the_normal_distribution() {
    assert!((MAD_SCALE - 1.0 / normal_ppf(0.75)).abs() < 1e-12);
    let k = HUBER_K;
    let tail = 2.0 * normal_cdf(-k);
    let kappa = (1.0 - tail) - 2.0 * k * normal_pdf(k) + k * k * tail;
    assert!((HUBER_KAPPA - kappa).abs() < 1e-12, "{kappa}");
}
