#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use super::*;
use crate::rng::{RandomSource, Xoshiro256PlusPlus};
use crate::stats::sequential::msprt_proportions;
use crate::stats::summary::Proportion;

fn fixed() -> Options {
    Options {
        basis: DecisionBasis::FixedHorizon,
        ..Options::default()
    }
}

fn request(baseline: Baseline, lift: Option<f64>) -> PlanRequest {
    PlanRequest {
        baseline,
        lift,
        power: 0.8,
        variants: 2,
        units_per_day: None,
        days: None,
    }
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs()
}

#[test]
fn fixed_horizon_plans_equal_statsmodels() {
    // NormalIndPower().solve_power(proportion_effectsize(0.11, 0.1), power=0.8, alpha=0.05)
    // = 14744.104836925611.
    let r = PlanRequest {
        units_per_day: Some(2_000.0),
        ..request(Baseline::Rate { rate: 0.1 }, Some(0.1))
    };
    let p = plan(&r, &fixed()).unwrap();
    assert_eq!(
        (p.units_per_variant, p.fixed_horizon_units),
        (14_745, 14_745)
    );
    assert_eq!(p.total_units, 29_490);
    assert!(close(p.days.unwrap(), 14.745, 1e-12));
    assert!(close(p.difference, 0.01, 1e-12));
    // Three variants, one-sided: each comparison at 0.05 / 2, alternative "larger":
    // NormalIndPower().solve_power(0.025, power=0.8, alpha=0.025, alternative="larger")
    // = 25116.415150250712 (a lift of 5% on a mean of 10 with sd 20: d = 0.025).
    let one = Options {
        sides: Sides::One,
        ..fixed()
    };
    let r = PlanRequest {
        variants: 3,
        ..request(
            Baseline::Mean {
                mean: 10.0,
                sd: 20.0,
            },
            Some(0.05),
        )
    };
    let p = plan(&r, &one).unwrap();
    assert_eq!(p.units_per_variant, 25_117);
    assert_eq!(p.alpha, 0.025);
    let none = Options {
        correction: Correction::None,
        ..one
    };
    assert_eq!(plan(&r, &none).unwrap().alpha, 0.05);
    // The detectable lift in 14 days at 10,000 units a day (70,000 per variant) on a 20% rate:
    // d is the root of NormalIndPower().power(d, 70000, 0.05) = 0.8, found by scipy's brentq
    // to xtol 1e-16: 0.014975084554329568 (statsmodels' own solve_power stops at
    // 0.0149739, whose power is 0.79994); p2 = sin²(asin √0.2 + d / 2), and the lift
    // p2 / 0.2 - 1 = 0.030117236442867235.
    let r = PlanRequest {
        units_per_day: Some(10_000.0),
        days: Some(14.0),
        ..request(Baseline::Rate { rate: 0.2 }, None)
    };
    let p = plan(&r, &fixed()).unwrap();
    assert_eq!(p.units_per_variant, 70_000);
    assert!(close(p.lift, 0.030_117_236_442_867_235, 1e-9), "{}", p.lift);
    assert!(close(p.days.unwrap(), 14.0, 1e-12));
}

#[test]
fn the_always_valid_test_needs_more_units_and_reaches_the_power_planned() {
    let base = Baseline::Rate { rate: 0.2 };
    let r = request(base, Some(0.3));
    let sequential = plan(&r, &Options::default()).unwrap();
    assert!(sequential.units_per_variant > sequential.fixed_horizon_units);
    assert_eq!(sequential.basis, DecisionBasis::Sequential);
    // The detectable lift at those units is the lift planned for (the two solutions agree).
    let back = PlanRequest {
        units_per_day: Some(2.0 * sequential.units_per_variant as f64),
        days: Some(1.0),
        ..request(base, None)
    };
    let lift = plan(&back, &Options::default()).unwrap().lift;
    assert!(close(lift, 0.3, 1e-3), "{lift}");
    // Simulated: at the planned units, one look of the always-valid test on Bernoulli data
    // rejects in about 80% of experiments.
    let n = sequential.units_per_variant;
    let options = Options::default();
    let mixing = tau2(0.2 * 0.8 + 0.26 * 0.74, &options).unwrap();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(20);
    let runs = 1_000;
    let mut rejected = 0;
    for _ in 0..runs {
        let mut count = |p: f64| (0..n).filter(|_| rng.next_f64() < p).count() as u64;
        let (c, t) = (count(0.2), count(0.26));
        let test = msprt_proportions(
            &Proportion::new(t, n).unwrap(),
            &Proportion::new(c, n).unwrap(),
            mixing,
            options.alpha,
        )
        .unwrap();
        rejected += u32::from(test.pvalue() <= options.alpha);
    }
    let share = f64::from(rejected) / f64::from(runs);
    // 1,000 runs: the standard error of an 80% share is 1.3 points.
    assert!((0.75..=0.85).contains(&share), "{share}");
}

#[test]
fn bad_requests_name_their_field() {
    let base = Baseline::Rate { rate: 0.1 };
    let field = |r: PlanRequest, o: &Options| match plan(&r, o).unwrap_err() {
        Error::InvalidArgument { argument, .. } => argument,
        other => panic!("{other:?}"),
    };
    let o = Options::default();
    assert_eq!(
        field(request(Baseline::Rate { rate: 1.2 }, Some(0.1)), &o),
        "baseline.rate"
    );
    assert_eq!(
        field(
            request(Baseline::Mean { mean: 0.0, sd: 1.0 }, Some(0.1)),
            &o
        ),
        "baseline.mean"
    );
    assert_eq!(
        field(
            request(
                Baseline::Mean {
                    mean: 1.0,
                    sd: -1.0
                },
                Some(0.1)
            ),
            &o
        ),
        "baseline.sd"
    );
    assert_eq!(field(request(base, Some(9.0)), &o), "lift");
    assert_eq!(field(request(base, Some(-0.1)), &o), "lift");
    assert_eq!(field(request(base, None), &o), "lift");
    assert_eq!(
        field(
            PlanRequest {
                power: 0.01,
                ..request(base, Some(0.1))
            },
            &o
        ),
        "power"
    );
    assert_eq!(
        field(
            PlanRequest {
                variants: 1,
                ..request(base, Some(0.1))
            },
            &o
        ),
        "variants"
    );
    assert_eq!(
        field(
            PlanRequest {
                days: Some(3.0),
                ..request(base, None)
            },
            &o
        ),
        "units_per_day"
    );
    let tiny = PlanRequest {
        days: Some(1.0),
        units_per_day: Some(3.0),
        ..request(base, None)
    };
    assert_eq!(field(tiny, &o), "days");
}

/// The shared cases of `fixtures/planning/cases.json`, which the Python and npm packages'
/// `plan_experiment` / `planExperiment` run too.
#[test]
fn plan_json_runs_the_shared_fixture() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/planning/cases.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let defaults = crate::results::AnalysisSettings::default();
    for case in doc["valid"].as_array().unwrap() {
        let got = plan_json(&case["request"], &defaults).unwrap();
        let p = got.plan;
        assert_eq!(
            p.units_per_variant,
            case["units_per_variant"].as_u64().unwrap(),
            "{}",
            case["name"]
        );
        assert_eq!(
            p.total_units,
            case["total_units"].as_u64().unwrap(),
            "{}",
            case["name"]
        );
        assert_eq!(p.alpha, case["alpha"].as_f64().unwrap(), "{}", case["name"]);
        match case["days"].as_f64() {
            Some(d) => assert!(close(p.days.unwrap(), d, 1e-12), "{}", case["name"]),
            None => assert!(p.days.is_none(), "{}", case["name"]),
        }
        if let Some(lift) = case["lift"].as_f64() {
            assert!(close(p.lift, lift, 1e-9), "{}: {}", case["name"], p.lift);
        }
    }
    for case in doc["invalid"].as_array().unwrap() {
        let e = plan_json(&case["request"], &defaults).unwrap_err();
        let path = e.path().map(|p| p.as_str().to_owned()).unwrap_or_default();
        assert_eq!(
            (e.code(), path.as_str()),
            (
                case["code"].as_str().unwrap(),
                case["path"].as_str().unwrap()
            ),
            "{case}"
        );
    }
}
