//! Segment breakdowns (`litmus_core::results::segments`): an A/A simulation shows that the
//! correction across the breakdown keeps the chance of any false verdict at or under alpha
//! (while uncorrected segment p-values find one in most A/A tests), and the breakdown's
//! figures are each segment's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use litmus_core::events::MetricRollup;
use litmus_core::results::{
    DecisionBasis, MetricKind, MetricSpec, Options, SegmentTotals, VariantTotals, Verdict, analyze,
    breakdown,
};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus as Rng};
use litmus_core::stats::Correction;

/// Units per variant and segment.
const UNITS: u64 = 400;
/// Segments per trial.
const SEGMENTS: usize = 5;
/// A/A trials.
const TRIALS: usize = 400;

fn metrics() -> Vec<MetricSpec> {
    vec![
        MetricSpec {
            key: "signup".into(),
            kind: MetricKind::Conversion,
            ..MetricSpec::default()
        },
        MetricSpec {
            key: "revenue".into(),
            kind: MetricKind::Mean,
            ..MetricSpec::default()
        },
    ]
}

/// One variant's totals in one segment: every unit converts with `rate`, and spends an
/// exponential amount of mean 10 when it does.
fn variant(rng: &mut Rng, key: &str, rate: f64) -> VariantTotals {
    let mut t = VariantTotals::new(key, 1.0, UNITS);
    let (mut signup, mut revenue) = (MetricRollup::default(), MetricRollup::default());
    for _ in 0..UNITS {
        if rng.next_f64() < rate {
            signup.events += 1;
            signup.units += 1;
            signup.sum += 1.0;
            signup.sum_squares += 1.0;
            let spend = -10.0 * (1.0 - rng.next_f64()).ln();
            revenue.events += 1;
            revenue.units += 1;
            revenue.sum += spend;
            revenue.sum_squares += spend * spend;
        }
    }
    t.metrics.insert("signup".into(), signup);
    t.metrics.insert("revenue".into(), revenue);
    t
}

fn trial(rng: &mut Rng) -> Vec<SegmentTotals> {
    (0..SEGMENTS)
        .map(|s| {
            // Segments differ from each other, never between variants.
            let rate = 0.05 + 0.03 * s as f64;
            SegmentTotals {
                value: format!("s{s}"),
                variants: vec![variant(rng, "control", rate), variant(rng, "b", rate)],
            }
        })
        .collect()
}

fn any_verdict(b: &litmus_core::results::SegmentBreakdown) -> bool {
    b.segments.iter().any(|s| {
        s.results.metrics.iter().any(|m| {
            m.variants
                .iter()
                .filter_map(|v| v.comparison.as_ref())
                .any(|c| c.verdict != Verdict::Inconclusive)
        })
    })
}

#[test]
fn corrected_segment_verdicts_keep_the_aa_false_positive_rate_under_alpha() {
    let options = Options {
        basis: DecisionBasis::FixedHorizon,
        ..Options::default()
    };
    let mut rng = Rng::seed_from_u64(20_261_207);
    let (mut corrected, mut uncorrected) = (0usize, 0usize);
    for _ in 0..TRIALS {
        let segments = trial(&mut rng);
        let b = breakdown("country", &segments, &metrics(), &options).unwrap();
        assert_eq!(b.comparisons, SEGMENTS * 2);
        assert_eq!(b.correction, "holm");
        corrected += usize::from(any_verdict(&b));
        // The same segments judged one by one, each test at alpha.
        let alone = segments.iter().any(|s| {
            let r = analyze(
                &s.variants,
                &metrics(),
                &Options {
                    correction: Correction::None,
                    ..options
                },
            )
            .unwrap();
            r.metrics.iter().any(|m| {
                m.variants
                    .iter()
                    .filter_map(|v| v.comparison.as_ref())
                    .any(|c| c.pvalue <= options.alpha)
            })
        });
        uncorrected += usize::from(alone);
    }
    let rate = corrected as f64 / TRIALS as f64;
    let naive = uncorrected as f64 / TRIALS as f64;
    // Holm controls the family-wise rate at alpha; three standard errors of slack for the
    // simulation's own noise.
    let se = (0.05f64 * 0.95 / TRIALS as f64).sqrt();
    assert!(
        rate <= 0.05 + 3.0 * se,
        "corrected A/A false-positive rate {rate}"
    );
    // Without the correction, 10 tests at 5% find something in about 40% of A/A tests.
    assert!(naive > 0.3, "uncorrected rate {naive}");
    eprintln!("A/A: corrected {rate}, uncorrected {naive}");
}

#[test]
fn each_segment_has_its_own_figures_and_srm() {
    let mut rng = Rng::seed_from_u64(7);
    let mut segments = trial(&mut rng);
    // One segment loses half of a variant's units: a sample-ratio mismatch there only.
    segments[2].variants[1].units = UNITS / 2;
    let options = Options::default();
    let b = breakdown("platform", &segments, &metrics(), &options).unwrap();
    assert_eq!(b.dimension, "platform");
    assert_eq!(b.segments.len(), SEGMENTS);
    for s in &b.segments {
        let own = segments.iter().find(|x| x.value == s.value).unwrap();
        assert_eq!(s.units, own.variants.iter().map(|v| v.units).sum::<u64>());
        let srm = s.results.srm.as_ref().unwrap();
        assert_eq!(srm.mismatch, s.value == "s2", "{}: {}", s.value, srm.pvalue);
        // Each segment's value is its own data's.
        let signup = &s.results.metrics[0].variants[0];
        let own_rate = own.variants[0].metrics["signup"].units as f64 / UNITS as f64;
        assert!((signup.value.unwrap() - own_rate).abs() < 1e-12);
    }
    // Largest first.
    let units: Vec<u64> = b.segments.iter().map(|s| s.units).collect();
    assert!(units.windows(2).all(|w| w[0] >= w[1]));
}

#[test]
fn the_reserved_segments_come_last_and_none_means_holm() {
    let mut rng = Rng::seed_from_u64(9);
    let mut segments = trial(&mut rng);
    segments[0].value = "(other)".into();
    segments[1].value = "(missing)".into();
    let options = Options {
        correction: Correction::None,
        ..Options::default()
    };
    let b = breakdown("country", &segments, &metrics(), &options).unwrap();
    assert_eq!(b.correction, "holm");
    let n = b.segments.len();
    let last: Vec<&str> = b.segments[n - 2..]
        .iter()
        .map(|s| s.value.as_str())
        .collect();
    assert!(last.contains(&"(other)") && last.contains(&"(missing)"));
    let bh = breakdown(
        "country",
        &segments,
        &metrics(),
        &Options {
            correction: Correction::BenjaminiHochberg,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(bh.correction, "benjamini_hochberg");
}

/// `fixtures/segments/dimension_values.json`: what an exposure carries, from the attributes
/// (Python and Node run the same file).
#[test]
fn dimension_values_follow_the_shared_fixture() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../fixtures/segments/dimension_values.json"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let engine = litmus_core::Engine::from_json_strict(&doc["config"].to_string()).unwrap();
    let experiment = engine.experiment("checkout").unwrap();
    for case in doc["cases"].as_array().unwrap() {
        let attrs = litmus_core::Attributes::from_json(&case["attributes"]).unwrap_or_default();
        let got: serde_json::Map<String, serde_json::Value> = experiment
            .dimension_values(&attrs)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), serde_json::Value::String(v)))
            .collect();
        assert_eq!(serde_json::Value::Object(got), case["dimensions"], "{case}");
    }
}
