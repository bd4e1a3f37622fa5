//! Valid inference for bandits (`litmus_core::results::bandit_inference`): a simulated bandit
//! moves its weights toward the treatment just as the metric drifts up for everyone. Pooled
//! per-arm figures then find a difference that does not exist (Simpson's paradox); the
//! estimate stratified by the periods of constant weights is unbiased and its interval covers
//! the true difference at the nominal rate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use litmus_core::events::MetricRollup;
use litmus_core::results::bandit::UnitRecord;
use litmus_core::results::bandit_inference::stratified;
use litmus_core::results::{
    DecisionBasis, MetricKind, MetricSpec, Options, VariantTotals, Verdict, analyze,
};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus as Rng};

const TRIALS: usize = 300;
/// Units per period.
const UNITS: usize = 4_000;
/// When the bandit moved its weights.
const CHANGE_MS: i64 = 1_000_000;

fn conversion() -> MetricSpec {
    MetricSpec {
        key: "signup".into(),
        kind: MetricKind::Conversion,
        ..MetricSpec::default()
    }
}

fn options() -> Options {
    Options {
        basis: DecisionBasis::FixedHorizon,
        check_srm: false,
        ..Options::default()
    }
}

/// One bandit's units: in the first period a 50/50 split and rates `base`, in the second a
/// 10/90 split (toward the treatment) and rates 0.2 higher for both; the treatment adds
/// `effect` in both periods.
fn bandit(rng: &mut Rng, base: f64, effect: f64) -> Vec<UnitRecord> {
    let mut units = Vec::with_capacity(2 * UNITS);
    for (period, share, rate) in [(0, 0.5, base), (1, 0.9, base + 0.2)] {
        for i in 0..UNITS {
            let variant = usize::from(rng.next_f64() < share);
            let p = rate + if variant == 1 { effect } else { 0.0 };
            let converted = rng.next_f64() < p;
            units.push(UnitRecord {
                variant,
                first_ms: period * CHANGE_MS + i as i64,
                events: u64::from(converted),
                total: f64::from(u8::from(converted)),
            });
        }
    }
    units
}

/// The same units pooled per arm, as the experiment's rollups add them up.
fn pooled(units: &[UnitRecord]) -> Vec<VariantTotals> {
    ["control", "treatment"]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mine: Vec<&UnitRecord> = units.iter().filter(|u| u.variant == i).collect();
            let converted = mine.iter().filter(|u| u.events > 0).count() as u64;
            let mut t = VariantTotals::new(key, 0.5, mine.len() as u64);
            t.metrics.insert(
                "signup".into(),
                MetricRollup {
                    events: converted,
                    units: converted,
                    sum: converted as f64,
                    sum_squares: converted as f64,
                    ..MetricRollup::default()
                },
            );
            t
        })
        .collect()
}

fn variants() -> Vec<String> {
    vec!["control".into(), "treatment".into()]
}

#[test]
fn a_drifting_bandit_fools_the_pooled_test_not_the_stratified_one() {
    let mut rng = Rng::seed_from_u64(20_261_207);
    let (mut covered, mut stratified_false, mut pooled_false) = (0, 0, 0);
    let mut mean_estimate = 0.0;
    for _ in 0..TRIALS {
        let units = bandit(&mut rng, 0.1, 0.0);
        let s = stratified(&variants(), &units, &[CHANGE_MS], &conversion(), &options()).unwrap();
        assert_eq!(s.periods, 2);
        let c = &s.comparisons[0];
        assert_eq!(c.periods, 2);
        mean_estimate += c.difference.estimate / TRIALS as f64;
        covered += usize::from(c.difference.lower <= 0.0 && 0.0 <= c.difference.upper);
        stratified_false += usize::from(c.verdict != Verdict::Inconclusive);
        let p = analyze(&pooled(&units), &[conversion()], &options()).unwrap();
        let pooled_c = p.metrics[0].variants[1].comparison.as_ref().unwrap();
        pooled_false += usize::from(pooled_c.verdict != Verdict::Inconclusive);
    }
    let coverage = covered as f64 / TRIALS as f64;
    eprintln!(
        "no effect: stratified coverage {coverage}, false verdicts {stratified_false}, pooled false verdicts {pooled_false}, mean estimate {mean_estimate}"
    );
    // The pooled treatment got most of its units in the good period: a "better" every time.
    assert!(
        pooled_false as f64 > 0.95 * TRIALS as f64,
        "pooled: {pooled_false}"
    );
    // 95% intervals: the simulation's own noise allows about 2.5 standard errors.
    let se = (0.95f64 * 0.05 / TRIALS as f64).sqrt();
    assert!(coverage >= 0.95 - 2.5 * se, "coverage {coverage}");
    assert!(mean_estimate.abs() < 0.003, "biased: {mean_estimate}");
}

#[test]
fn a_real_effect_is_estimated_without_bias_and_covered() {
    let mut rng = Rng::seed_from_u64(11);
    let (mut covered, mut mean_estimate) = (0usize, 0.0);
    for _ in 0..TRIALS {
        let units = bandit(&mut rng, 0.1, 0.03);
        let s = stratified(&variants(), &units, &[CHANGE_MS], &conversion(), &options()).unwrap();
        let d = s.comparisons[0].difference;
        mean_estimate += d.estimate / TRIALS as f64;
        covered += usize::from(d.lower <= 0.03 && 0.03 <= d.upper);
    }
    let coverage = covered as f64 / TRIALS as f64;
    let se = (0.95f64 * 0.05 / TRIALS as f64).sqrt();
    assert!(coverage >= 0.95 - 2.5 * se, "coverage {coverage}");
    assert!(
        (mean_estimate - 0.03).abs() < 0.003,
        "biased: {mean_estimate}"
    );
}

#[test]
fn each_arm_is_the_period_weighted_mean_of_its_period_means() {
    // Period 0: control 1, 3 (mean 2); treatment 10, 14 (12). Period 1: control 5, 7, 9 (7);
    // treatment 2, 4, 6, 8, 10 (6). Period sizes 4 and 8: weights 1/3 and 2/3.
    let unit = |variant, first_ms, total| UnitRecord {
        variant,
        first_ms,
        events: 1,
        total,
    };
    let mut units = vec![
        unit(0, 0, 1.0),
        unit(0, 1, 3.0),
        unit(1, 2, 10.0),
        unit(1, 3, 14.0),
    ];
    for x in [5.0, 7.0, 9.0] {
        units.push(unit(0, 20, x));
    }
    for x in [2.0, 4.0, 6.0, 8.0, 10.0] {
        units.push(unit(1, 30, x));
    }
    let mean = MetricSpec {
        key: "spend".into(),
        kind: MetricKind::Mean,
        ..MetricSpec::default()
    };
    let s = stratified(&variants(), &units, &[10], &mean, &options()).unwrap();
    let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
    assert!(close(
        s.arms[0].value.unwrap().estimate,
        2.0 / 3.0 + 7.0 * 2.0 / 3.0
    ));
    assert!(close(
        s.arms[1].value.unwrap().estimate,
        12.0 / 3.0 + 6.0 * 2.0 / 3.0
    ));
    let c = &s.comparisons[0];
    assert!(close(
        c.difference.estimate,
        (12.0 - 2.0) / 3.0 + (6.0 - 7.0) * 2.0 / 3.0
    ));
    // Var of the difference: Σ w² (s_t²/n_t + s_c²/n_c).
    let v: f64 = (8.0 / 2.0 + 2.0 / 2.0) / 9.0 + (10.0 / 5.0 + 4.0 / 3.0) * 4.0 / 9.0;
    let z = litmus_core::stats::dist::normal_isf(0.025);
    assert!(close(
        c.difference.upper - c.difference.estimate,
        z * v.sqrt()
    ));
    assert_eq!((s.arms[0].units, s.arms[1].units), (5, 7));
}

#[test]
fn only_per_unit_metrics_and_valid_options_are_read() {
    let ratio = MetricSpec {
        key: "r".into(),
        kind: MetricKind::Ratio,
        ..MetricSpec::default()
    };
    let e = stratified(&variants(), &[], &[], &ratio, &options()).unwrap_err();
    assert_eq!(e.code(), "invalid_argument");
    let bad = Options {
        alpha: 1.5,
        ..options()
    };
    assert!(stratified(&variants(), &[], &[], &conversion(), &bad).is_err());
    assert!(stratified(&[], &[], &[], &conversion(), &options()).is_err());
    // No units: no values, no comparison.
    let s = stratified(&variants(), &[], &[], &conversion(), &options()).unwrap();
    assert!(s.arms.iter().all(|a| a.value.is_none()) && s.comparisons.is_empty());
}

#[test]
fn the_stratified_figures_replace_the_pooled_ones_in_the_results() {
    let mut rng = Rng::seed_from_u64(3);
    let units = bandit(&mut rng, 0.1, 0.0);
    // The same rows read as a mean: no stratified figures given for it.
    let mean = MetricSpec {
        key: "signup".into(),
        kind: MetricKind::Mean,
        ..MetricSpec::default()
    };
    let mut results = analyze(&pooled(&units), &[conversion(), mean], &options()).unwrap();
    let pooled_c = results.metrics[0].variants[1].comparison.clone().unwrap();
    assert_eq!(
        pooled_c.verdict,
        Verdict::Better,
        "the pooled test is fooled"
    );
    let s = stratified(&variants(), &units, &[CHANGE_MS], &conversion(), &options()).unwrap();
    litmus_core::results::bandit_inference::apply(&mut results, std::slice::from_ref(&s));
    assert_eq!(results.inference, Some("stratified_by_weight_period"));
    let c = results.metrics[0].variants[1].comparison.as_ref().unwrap();
    let want = &s.comparisons[0];
    assert_eq!(c.pvalue, want.pvalue);
    assert_eq!(c.adjusted_pvalue, want.adjusted_pvalue);
    assert_eq!(c.difference, want.difference);
    assert_eq!(c.verdict, want.verdict);
    assert!(c.cuped.is_none());
    // The mean has no stratified figures: no verdict, and a problem that says why.
    let row = &results.metrics[1].variants[1];
    assert_eq!(row.problem.as_ref().map(|p| p.code), Some("pooled_bandit"));
    assert!(
        row.comparison
            .as_ref()
            .is_none_or(|c| c.verdict == Verdict::Inconclusive)
    );
}

/// `fixtures/stats/bandit_inference.json`: numpy's per-period moments, scipy's z tests and
/// statsmodels' corrections (`scripts/gen_stats_fixtures.py`), through the bindings' JSON
/// entry point (Python and Node run the same file).
#[test]
fn the_json_entry_point_equals_numpy_scipy_and_statsmodels() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/stats/bandit_inference.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let close = |got: f64, want: &serde_json::Value, what: &str| {
        let want = want.as_f64().unwrap_or_else(|| panic!("{what}: {want}"));
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1e-3),
            "{what}: {got} vs {want}"
        );
    };
    for (i, case) in doc["cases"].as_array().unwrap().iter().enumerate() {
        let got = litmus_core::results::bandit_inference_json::stratified_json(&case["request"])
            .unwrap_or_else(|e| panic!("case {i}: {e}"));
        assert_eq!(
            got.periods as u64,
            case["periods"].as_u64().unwrap(),
            "case {i}"
        );
        for (arm, want) in got.arms.iter().zip(case["arms"].as_array().unwrap()) {
            assert_eq!(arm.units, want["units"].as_u64().unwrap(), "case {i}");
            match arm.value {
                None => assert!(want["value"].is_null(), "case {i}"),
                Some(v) => {
                    close(v.estimate, &want["value"]["estimate"], "arm");
                    close(v.upper, &want["value"]["upper"], "arm upper");
                }
            }
        }
        let wants = case["comparisons"].as_array().unwrap();
        assert_eq!(got.comparisons.len(), wants.len(), "case {i}");
        for (c, want) in got.comparisons.iter().zip(wants) {
            assert_eq!(c.variant, want["variant"].as_str().unwrap());
            close(
                c.difference.estimate,
                &want["difference"]["estimate"],
                "difference",
            );
            close(c.difference.lower, &want["difference"]["lower"], "lower");
            close(c.pvalue, &want["pvalue"], "pvalue");
            close(c.adjusted_pvalue, &want["adjusted_pvalue"], "adjusted");
            let verdict = serde_json::to_value(c.verdict).unwrap();
            assert_eq!(verdict, want["verdict"], "case {i}");
            assert_eq!(c.periods as u64, want["periods"].as_u64().unwrap());
        }
    }
}

#[test]
fn bad_requests_name_their_field() {
    use serde_json::json;
    let good = json!({"variants": ["a", "b"],
                      "units": {"variant": ["a"], "first_ms": [1], "value": [1]},
                      "metric": {"kind": "conversion"}});
    // Sets the field at `path` (added at the top level when absent).
    let with = |path: &str, value: serde_json::Value| {
        let mut r = good.clone();
        match r.pointer_mut(path) {
            Some(slot) => *slot = value,
            None => r[path.trim_start_matches('/')] = value,
        }
        r
    };
    let cases = [
        (with("/variants", json!([])), "invalid_value", "variants"),
        (
            with("/units/variant/0", json!("c")),
            "invalid_value",
            "units.variant[0]",
        ),
        (
            with("/units/first_ms/0", json!(1.5)),
            "invalid_value",
            "units.first_ms[0]",
        ),
        (
            with("/units/value/0", json!("x")),
            "invalid_json",
            "units.value[0]",
        ),
        (
            with("/units/value", json!([1, 0])),
            "invalid_value",
            "units.value",
        ),
        (with("/changes_ms", json!([5, 3])), "invalid_argument", ""),
        (
            with("/metric/kind", json!("ratio")),
            "invalid_json",
            "metric.kind",
        ),
        (
            json!({"variants": ["a"], "metric": {"kind": "mean"}}),
            "missing_field",
            "units",
        ),
        (with("/seed", json!(1)), "unknown_field", "seed"),
        (
            with("/analysis", json!({"alpha": 0.7})),
            "invalid_value",
            "analysis.alpha",
        ),
    ];
    for (request, code, path) in cases {
        let e = litmus_core::results::bandit_inference_json::stratified_json(&request).unwrap_err();
        assert_eq!(
            (
                e.code(),
                e.path().map(|p| p.as_str().to_owned()).unwrap_or_default()
            ),
            (code, path.to_owned()),
            "{request}"
        );
    }
    assert_eq!(
        litmus_core::results::bandit_inference_json::stratified_text("{")
            .unwrap_err()
            .code(),
        "invalid_json"
    );
}
