//! The results against the statistics computed directly from per-unit data.
#![allow(clippy::indexing_slicing, clippy::unwrap_used, clippy::float_cmp)]

use super::*;
use crate::Timestamp;
use crate::events::{Event, EventKind, Rollups};
use crate::rng::{RandomSource, Xoshiro256PlusPlus};
use crate::stats::proportions::{ZVariance, proportions_ztest};
use crate::stats::summary::{Moments, Proportion};
use crate::stats::ttest::{Alternative, ttest_ind};
use crate::stats::{diff_means_confint, msprt_means, msprt_proportions};

const T0: i64 = 1_800_000_000_000;

fn exposure(unit: &str, variant: &str, ms: i64) -> Event {
    Event {
        message_id: format!("x-{unit}"),
        unit_id: unit.into(),
        time: Timestamp::from_unix_millis(ms),
        client_time: None,
        kind: EventKind::Exposure {
            experiment: "exp".into(),
            variant: variant.into(),
            dimensions: Vec::new(),
        },
    }
}

fn track(unit: &str, i: usize, name: &str, value: f64, ms: i64) -> Event {
    Event {
        message_id: format!("t-{unit}-{i}"),
        unit_id: unit.into(),
        time: Timestamp::from_unix_millis(ms),
        client_time: None,
        kind: EventKind::Track {
            event: name.into(),
            value,
            properties: None,
        },
    }
}

/// Units per variant with their per-unit `buy` totals (zeros included) and whether they
/// converted; the events go through core's reference rollups into a timeline.
struct Simulated {
    timeline: Timeline,
    totals: Vec<Vec<f64>>,
}

fn simulate(units: &[usize], rates: &[f64], seed: u64) -> Simulated {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let variants = ["control", "treatment", "third"];
    let mut rollups = Rollups::new(7 * 86_400_000);
    let mut totals = vec![Vec::new(); units.len()];
    for (v, &n) in units.iter().enumerate() {
        for u in 0..n {
            let unit = format!("{v}-{u}");
            let start = T0 + (u as i64) * 1_000;
            let mut batch = vec![exposure(&unit, variants[v], start)];
            let mut total = 0.0;
            if rng.next_f64() < rates[v] {
                // One to three purchases of 1..=50.
                for i in 0..=rng.below(3) as usize {
                    let value = 1.0 + rng.below(50) as f64;
                    total += value;
                    batch.push(track(&unit, i, "buy", value, start + 10 + i as i64));
                }
            }
            totals[v].push(total);
            rollups.apply(&batch);
        }
    }
    let mut timeline = Timeline::new(
        variants[..units.len()]
            .iter()
            .map(|v| ((*v).to_owned(), 1.0))
            .collect(),
    );
    for ((exp, variant, minute), n) in &rollups.exposures {
        assert_eq!(exp, "exp");
        timeline.add_exposures(variant, *minute, *n);
    }
    for ((_, variant, metric, minute), r) in &rollups.metrics {
        timeline.add_metric(variant, metric, *minute, r);
    }
    Simulated { timeline, totals }
}

fn specs() -> Vec<MetricSpec> {
    vec![
        MetricSpec {
            key: "buy".into(),
            kind: MetricKind::Conversion,
            goal: Goal::Increase,
            guardrail: false,
            source: Default::default(),
        },
        MetricSpec {
            key: "buy".into(),
            kind: MetricKind::Mean,
            goal: Goal::Increase,
            guardrail: false,
            source: Default::default(),
        },
    ]
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1.0)
}

#[test]
fn figures_equal_the_statistics_of_the_raw_per_unit_data() {
    let sim = simulate(&[3_000, 3_000], &[0.10, 0.13], 7);
    let options = Options::default();
    let results = analyze(&sim.timeline.totals(None), &specs(), &options).unwrap();
    assert_eq!(results.control, "control");
    assert_eq!(
        results.units,
        vec![("control".into(), 3_000), ("treatment".into(), 3_000)]
    );

    let moments: Vec<Moments> = sim
        .totals
        .iter()
        .map(|t| Moments::from_slice(t).unwrap())
        .collect();
    let props: Vec<Proportion> = sim
        .totals
        .iter()
        .map(|t| {
            Proportion::new(
                t.iter().filter(|x| **x > 0.0).count() as u64,
                t.len() as u64,
            )
            .unwrap()
        })
        .collect();

    // Conversion.
    let conv = &results.metrics[0];
    assert_eq!(conv.variants[1].converted, props[1].successes());
    assert!(close(
        conv.variants[1].value.unwrap(),
        props[1].rate().unwrap()
    ));
    let c = conv.variants[1].comparison.as_ref().unwrap();
    let z = proportions_ztest(
        &props[1],
        &props[0],
        ZVariance::Pooled,
        Alternative::TwoSided,
    )
    .unwrap();
    assert!(close(c.pvalue, z.pvalue()));
    let rho2 = (-2.0 * 0.05f64.ln() + (1.0 - 2.0 * 0.05f64.ln()).ln()) / 5_000.0;
    let (p0, p1) = (props[0].rate().unwrap(), props[1].rate().unwrap());
    let tau2 = rho2 * (p0 * (1.0 - p0) + p1 * (1.0 - p1));
    let seq = msprt_proportions(&props[1], &props[0], tau2, 0.05).unwrap();
    assert!(close(c.sequential_pvalue, seq.pvalue()));
    assert!(close(c.sequential_difference.lower, seq.interval().lower()));

    // Mean: the rollups' sums of squares give the same moments as the raw totals.
    let mean = &results.metrics[1];
    assert!(close(mean.variants[0].value.unwrap(), moments[0].mean()));
    let c = mean.variants[1].comparison.as_ref().unwrap();
    let t = ttest_ind(&moments[1], &moments[0], false, Alternative::TwoSided).unwrap();
    assert!((c.pvalue - t.pvalue()).abs() < 1e-9);
    let d = diff_means_confint(&moments[1], &moments[0], 0.05, false).unwrap();
    assert!((c.difference.lower - d.lower()).abs() < 1e-9);
    assert!((c.difference.upper - d.upper()).abs() < 1e-9);
    let tau2 = rho2 * (moments[0].variance().unwrap() + moments[1].variance().unwrap());
    let seq = msprt_means(&moments[1], &moments[0], tau2, 0.05).unwrap();
    assert!((c.sequential_pvalue - seq.pvalue()).abs() < 1e-9);

    // A 30% lift on 3,000 units a side: better, and likely so.
    for m in &results.metrics {
        let c = m.variants[1].comparison.as_ref().unwrap();
        assert!(c.probability_better > 0.95, "{c:?}");
        assert!(c.adjusted_pvalue >= c.sequential_pvalue);
    }
    let srm = results.srm.as_ref().unwrap();
    assert!(!srm.mismatch && srm.pvalue > 0.99);
}

#[test]
fn a_broken_split_is_a_sample_ratio_mismatch() {
    let sim = simulate(&[2_200, 1_800], &[0.1, 0.1], 3);
    let results = analyze(&sim.timeline.totals(None), &specs(), &Options::default()).unwrap();
    let srm = results.srm.unwrap();
    assert!(srm.mismatch && srm.pvalue < 1e-6, "{srm:?}");
    assert!((srm.observed_shares[0] - 0.55).abs() < 1e-12);
}

#[test]
fn a_harmed_guardrail_is_flagged_and_left_out_of_the_correction() {
    // Treatment converts less: as a guardrail with goal "increase", it is violated.
    let sim = simulate(&[4_000, 4_000], &[0.20, 0.14], 11);
    let mut metrics = specs();
    metrics[0].guardrail = true;
    let results = analyze(&sim.timeline.totals(None), &metrics, &Options::default()).unwrap();
    let guard = &results.metrics[0];
    assert!(guard.guardrail_violated);
    let c = guard.variants[1].comparison.as_ref().unwrap();
    assert_eq!(c.verdict, Verdict::Worse);
    assert_eq!(c.adjusted_pvalue, c.sequential_pvalue);
    // With goal "decrease" the same data are an improvement.
    metrics[0].goal = Goal::Decrease;
    let results = analyze(&sim.timeline.totals(None), &metrics, &Options::default()).unwrap();
    assert!(!results.metrics[0].guardrail_violated);
    let c = results.metrics[0].variants[1].comparison.as_ref().unwrap();
    assert_eq!(c.verdict, Verdict::Better);
    assert!(c.probability_better > 0.99);
}

#[test]
fn decisions_are_adjusted_across_metrics_and_variants() {
    let sim = simulate(&[1_000, 1_000, 1_000], &[0.1, 0.1, 0.1], 5);
    let options = Options {
        basis: DecisionBasis::FixedHorizon,
        ..Options::default()
    };
    let results = analyze(&sim.timeline.totals(None), &specs(), &options).unwrap();
    let comparisons: Vec<&Comparison> = results
        .metrics
        .iter()
        .flat_map(|m| m.variants.iter().filter_map(|v| v.comparison.as_ref()))
        .collect();
    assert_eq!(comparisons.len(), 4);
    let smallest = comparisons.iter().map(|c| c.pvalue).fold(1.0, f64::min);
    // Holm: the smallest p-value is multiplied by the family's size.
    let adjusted_smallest = comparisons
        .iter()
        .find(|c| c.pvalue == smallest)
        .unwrap()
        .adjusted_pvalue;
    assert!(close(adjusted_smallest, (smallest * 4.0).min(1.0)));
}

#[test]
fn missing_data_is_a_problem_per_variant_not_a_failure() {
    let mut timeline = Timeline::new(vec![("control".into(), 1.0), ("treatment".into(), 1.0)]);
    timeline.add_exposures("control", T0, 10);
    let results = analyze(&timeline.totals(None), &specs(), &Options::default()).unwrap();
    for m in &results.metrics {
        let row = &m.variants[1];
        assert!(row.comparison.is_none());
        assert_eq!(row.problem.as_ref().unwrap().code, "degenerate_data");
        assert_eq!(row.value, None);
    }
    assert!(analyze(&[], &specs(), &Options::default()).is_err());
    let bad = Options {
        alpha: 1.5,
        ..Options::default()
    };
    assert_eq!(
        analyze(&timeline.totals(None), &specs(), &bad)
            .unwrap_err()
            .code(),
        "invalid_argument"
    );
    // No rows at all: nothing to plot.
    assert!(
        cumulative(&Timeline::default(), &specs(), &Options::default(), 10)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_cumulative_always_valid_interval_only_narrows() {
    let sim = simulate(&[5_000, 5_000], &[0.10, 0.12], 13);
    let series = cumulative(&sim.timeline, &specs(), &Options::default(), 40).unwrap();
    assert!(series.len() >= 30 && series.len() <= 41, "{}", series.len());
    let last = series.last().unwrap();
    assert_eq!(last.units, vec![5_000, 5_000]);
    assert!(series.windows(2).all(|w| w[0].time_ms < w[1].time_ms));
    // Looks before the burn-in are not folded in; after it, both metrics have a point.
    let first = series.iter().position(|p| !p.lifts.is_empty()).unwrap();
    assert!(series[first].units.iter().all(|u| *u >= BURN_IN_UNITS));
    assert!(series[first..].iter().all(|p| p.lifts.len() == 2));
    // Per (metric kind) stream: each successive point's interval sits inside the previous,
    // and holds the difference (an event read as a conversion and as a mean has two streams,
    // never intersected with each other).
    for (kind, expected) in [MetricKind::Conversion, MetricKind::Mean]
        .into_iter()
        .enumerate()
    {
        let stream: Vec<&LiftPoint> = series.iter().filter_map(|p| p.lifts.get(kind)).collect();
        assert!(stream.iter().all(|l| l.kind == expected));
        let last = stream.last().unwrap();
        assert!(
            last.sequential.lower <= last.difference && last.difference <= last.sequential.upper,
            "{last:?}"
        );
        for w in stream.windows(2) {
            assert!(w[1].sequential.lower >= w[0].sequential.lower);
            assert!(w[1].sequential.upper <= w[0].sequential.upper);
            assert!(w[1].sequential_pvalue <= w[0].sequential_pvalue);
        }
    }
}

#[test]
fn the_plan_follows_the_config() {
    let engine = crate::Engine::from_json(
        r#"{"schema_version":1,"experiments":[
        {"key":"ab","status":"running","variants":[{"key":"c","weight":1},{"key":"t","weight":3}]},
        {"key":"b","kind":"bandit","status":"running","variants":[{"key":"x"},{"key":"y"}],
         "metrics":[{"key":"click","kind":"conversion"}]}]}"#,
    )
    .unwrap();
    let ab = plan(engine.experiment("ab").unwrap(), ["view", "buy", "view"]);
    assert_eq!(ab.variants, vec![("c".into(), 1.0), ("t".into(), 3.0)]);
    assert!(ab.check_srm);
    let keys: Vec<(&str, MetricKind)> = ab
        .metrics
        .iter()
        .map(|m| (m.key.as_str(), m.kind))
        .collect();
    assert_eq!(
        keys,
        vec![
            ("buy", MetricKind::Conversion),
            ("buy", MetricKind::Mean),
            ("view", MetricKind::Conversion),
            ("view", MetricKind::Mean)
        ]
    );
    let bandit = plan(engine.experiment("b").unwrap(), ["buy"]);
    assert!(!bandit.check_srm);
    assert_eq!(bandit.metrics.len(), 1);
    assert_eq!(bandit.metrics[0].key, "click");
}

#[test]
fn buckets_are_round_sizes_that_fit_the_points() {
    assert_eq!(bucket_ms(0, 60), 60_000);
    assert_eq!(bucket_ms(3_600_000, 60), 300_000);
    assert_eq!(bucket_ms(3_540_000, 60), 60_000);
    assert_eq!(bucket_ms(7 * 86_400_000, 60), 10_800_000);
    assert_eq!(bucket_ms(365 * 86_400_000, 60), 7 * 86_400_000);
    assert!(bucket_ms(i64::MAX, 1) > 0);
    assert_eq!(bucket_ms(-5, 0), 60_000);
}

fn conversion_totals(units: [u64; 2], converted: [u64; 2]) -> Vec<VariantTotals> {
    let mut timeline = Timeline::new(vec![("a".into(), 1.0), ("b".into(), 1.0)]);
    for (i, v) in ["a", "b"].iter().enumerate() {
        timeline.add_exposures(v, T0, units[i]);
        let c = converted[i] as f64;
        let r = crate::events::MetricRollup {
            events: converted[i],
            units: converted[i],
            sum: c,
            sum_squares: c,
            ..Default::default()
        };
        timeline.add_metric(v, "buy", T0, &r);
    }
    timeline.totals(None)
}

#[test]
fn bandit_weights_follow_the_probability_of_being_best() {
    let buy = specs()[0].clone();
    let t = conversion_totals([1_000, 1_000], [100, 200]);
    let best = probability_best(&t, &buy).unwrap();
    assert!(
        best[1] > 0.999 && (best[0] + best[1] - 1.0).abs() < 1e-9,
        "{best:?}"
    );
    let options = BanditOptions::default();
    let next = next_weights(&t, &buy, &[1.0, 1.0], &options)
        .unwrap()
        .unwrap();
    assert!(
        (next[0] - 0.01).abs() < 1e-6 && (next[1] - 0.99).abs() < 1e-6,
        "{next:?}"
    );
    // Already published: nothing to change.
    assert_eq!(next_weights(&t, &buy, &next, &options).unwrap(), None);
    // Lower is better: the other arm wins.
    let fewer = MetricSpec {
        goal: Goal::Decrease,
        ..buy.clone()
    };
    assert!(probability_best(&t, &fewer).unwrap()[0] > 0.999);
    // During the burn-in the weights stay equal.
    let early = conversion_totals([50, 50], [5, 20]);
    assert_eq!(
        next_weights(&early, &buy, &[1.0, 1.0], &options).unwrap(),
        None
    );
    // Means work the same way.
    let mean = MetricSpec {
        kind: MetricKind::Mean,
        ..buy
    };
    assert!(probability_best(&t, &mean).unwrap()[1] > 0.99);
}

/// Continuous monitoring of A/A tests: the always-valid p-value stays under alpha at any of
/// 40 looks in at most about alpha of the experiments, while peeking at the fixed-horizon
/// p-value does not.
#[test]
fn always_valid_p_values_keep_their_level_under_continuous_monitoring() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(2026);
    let options = Options::default();
    let (experiments, looks, per_look) = (300, 40, 100u64);
    let (mut sequential_hits, mut peeking_hits) = (0, 0);
    for _ in 0..experiments {
        let mut converted = [0u64; 2];
        let (mut sequential, mut peeking) = (false, false);
        for look in 1..=looks {
            for c in &mut converted {
                *c += (0..per_look).filter(|_| rng.next_f64() < 0.1).count() as u64;
            }
            // What `analyze` computes for a conversion (checked equal above), without the
            // Bayesian quadrature that would make this test slow.
            let units = look * per_look;
            let (c, t) = (
                Proportion::new(converted[0], units).unwrap(),
                Proportion::new(converted[1], units).unwrap(),
            );
            let (pc, pt) = (c.rate().unwrap(), t.rate().unwrap());
            let tau2 = super::analysis::tau2(pc * (1.0 - pc) + pt * (1.0 - pt), &options).unwrap();
            sequential |= msprt_proportions(&t, &c, tau2, 0.05).unwrap().pvalue() <= 0.05;
            let z = proportions_ztest(&t, &c, ZVariance::Pooled, Alternative::TwoSided).unwrap();
            peeking |= z.pvalue() <= 0.05;
        }
        sequential_hits += usize::from(sequential);
        peeking_hits += usize::from(peeking);
    }
    let rate = |hits: usize| hits as f64 / experiments as f64;
    // 5% plus three standard errors of the estimate.
    assert!(
        rate(sequential_hits) <= 0.05 + 3.0 * (0.05f64 * 0.95 / 300.0).sqrt(),
        "{sequential_hits}"
    );
    assert!(rate(peeking_hits) > 0.12, "{peeking_hits}");
}

/// The SRM check on balanced random splits alarms at about its threshold.
#[test]
fn the_srm_check_rarely_alarms_on_fair_splits() {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
    let options = Options {
        srm_threshold: 0.01,
        ..Options::default()
    };
    let runs = 2_000;
    let mut alarms = 0;
    for _ in 0..runs {
        let a = (0..1_000).filter(|_| rng.next_f64() < 0.5).count() as u64;
        let totals = conversion_totals([a, 1_000 - a], [0, 0]);
        let r = analyze(&totals, &[], &options).unwrap();
        alarms += usize::from(r.srm.unwrap().mismatch);
    }
    // Expected 20 (1%); the binomial's standard deviation is 4.4.
    assert!((5..=35).contains(&alarms), "{alarms}");
}

#[test]
fn replay_logs_carry_the_propensity_of_the_weights_then() {
    use crate::results::bandit::{UnitRecord, named_policy, replay_log};
    let buy = specs()[0].clone();
    let weights = vec![(0, vec![1.0, 1.0]), (100, vec![1.0, 3.0])];
    let unit = |variant, first_ms, events| UnitRecord {
        variant,
        first_ms,
        events,
        total: events as f64 * 2.0,
    };
    let log = replay_log(
        &[unit(0, 50, 1), unit(1, 150, 0), unit(1, -5, 2)],
        &weights,
        &buy,
    );
    let p: Vec<(usize, f64, f64)> = log
        .iter()
        .map(|l| (l.arm, l.propensity, l.reward))
        .collect();
    assert_eq!(p, vec![(0, 0.5, 1.0), (1, 0.75, 0.0), (1, 0.5, 1.0)]);
    let fewer = MetricSpec {
        kind: MetricKind::Mean,
        goal: Goal::Decrease,
        ..buy.clone()
    };
    assert_eq!(
        replay_log(&[unit(0, 50, 2)], &weights, &fewer)[0].reward,
        -4.0
    );
    assert!(replay_log(&[unit(0, 50, 1)], &[], &buy).is_empty());
    for name in ["thompson", "ucb1", "epsilon_greedy", "uniform"] {
        assert!(named_policy(name, &buy).is_ok());
    }
    assert_eq!(
        named_policy("greedy", &buy).unwrap_err().code(),
        "invalid_argument"
    );
}

/// CUPED: units active before their exposure get their pre-exposure total as the covariate;
/// the adjusted figures equal `stats::cuped` on the per-unit (covariate, total) pairs.
#[test]
fn cuped_uses_each_units_activity_before_its_exposure() {
    use crate::stats::{Alternative, CoMoments, cuped};
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
    let mut rollups = Rollups::new(7 * 86_400_000);
    let variants = ["control", "treatment"];
    let mut pairs = [(Vec::new(), Vec::new()), (Vec::new(), Vec::new())];
    for u in 0..2_000usize {
        let v = u % 2;
        let unit = format!("u{u}");
        // A habit: how much the unit buys, before and after.
        let habit = (rng.next_f64() * 10.0).round();
        if habit > 0.0 {
            rollups.apply(&[track(&unit, 0, "buy", habit, T0 - 86_400_000)]);
        }
        rollups.apply(&[exposure(&unit, variants[v], T0)]);
        let after = habit + (rng.next_f64() * 4.0).round() + if v == 1 { 1.0 } else { 0.0 };
        if after > 0.0 {
            rollups.apply(&[track(&unit, 1, "buy", after, T0 + 60_000)]);
        }
        pairs[v].0.push(habit);
        pairs[v].1.push(after);
    }
    let mut timeline = Timeline::new(variants.iter().map(|v| ((*v).to_owned(), 1.0)).collect());
    for ((_, variant, minute), n) in &rollups.exposures {
        timeline.add_exposures(variant, *minute, *n);
    }
    for ((_, variant, metric, minute), r) in &rollups.metrics {
        timeline.add_metric(variant, metric, *minute, r);
    }
    let results = analyze(&timeline.totals(None), &specs(), &Options::default()).unwrap();
    let mean = &results.metrics[1];
    let c = mean.variants[1].comparison.as_ref().unwrap();
    let got = c.cuped.unwrap();
    let [control, treatment] = pairs.map(|(x, y)| CoMoments::from_slices(&x, &y).unwrap());
    let want = cuped(&treatment, &control, 0.05, Alternative::TwoSided).unwrap();
    assert!((got.difference.estimate - want.interval().estimate()).abs() < 1e-9);
    assert!((got.difference.lower - want.interval().lower()).abs() < 1e-9);
    assert!((got.pvalue - want.test().pvalue()).abs() < 1e-9);
    assert!((got.theta - want.theta()).abs() < 1e-9);
    // The habit explains most of the variance: the adjusted interval is much narrower.
    assert!(got.variance_reduction > 0.8, "{got:?}");
    assert!(
        got.difference.upper - got.difference.lower
            < 0.5 * (c.difference.upper - c.difference.lower)
    );
    // CUPED deciding: its p-value (fixed horizon) or its always-valid test (sequential).
    let decide = Options {
        cuped: crate::results::CupedRole::Decide,
        basis: DecisionBasis::FixedHorizon,
        correction: crate::stats::Correction::None,
        ..Options::default()
    };
    let by_cuped = analyze(&timeline.totals(None), &specs(), &decide).unwrap();
    let row = by_cuped.metrics[1].variants[1].comparison.as_ref().unwrap();
    assert_eq!(row.adjusted_pvalue, got.pvalue);
    let sequential = Options {
        basis: DecisionBasis::Sequential,
        ..decide
    };
    let by_cuped = analyze(&timeline.totals(None), &specs(), &sequential).unwrap();
    let row = by_cuped.metrics[1].variants[1].comparison.as_ref().unwrap();
    assert!(
        row.adjusted_pvalue < c.sequential_pvalue,
        "the narrower adjusted difference is surer: {} vs {}",
        row.adjusted_pvalue,
        c.sequential_pvalue
    );
    // Conversions have no CUPED figures.
    assert!(
        results.metrics[0].variants[1]
            .comparison
            .as_ref()
            .unwrap()
            .cuped
            .is_none()
    );
}

#[test]
fn a_funnels_steps_are_results_and_series_of_their_own() {
    let mut timeline = Timeline::new(vec![("a".into(), 1.0), ("b".into(), 1.0)]);
    for (t, n) in [(0, 400), (60_000, 400)] {
        timeline.add_exposures("a", t, n);
        timeline.add_exposures("b", t, n);
        // Step 0: 50% of a, 60% of b; step 1: 20% of a, 30% of b.
        for (variant, first, second) in [("a", 200, 80), ("b", 240, 120)] {
            let rows = |units: u64| crate::events::MetricRollup {
                events: units,
                units,
                ..Default::default()
            };
            timeline.add_metric(variant, "f#0", t, &rows(first));
            timeline.add_metric(variant, "f#1", t, &rows(second));
        }
    }
    let spec = MetricSpec {
        key: "checkout".into(),
        kind: MetricKind::Funnel,
        source: Source {
            rollup: "f".into(),
            steps: Some(2),
            ..Source::default()
        },
        ..MetricSpec::default()
    };
    let options = Options::default();
    let r = analyze(
        &timeline.totals(None),
        std::slice::from_ref(&spec),
        &options,
    )
    .unwrap();
    assert_eq!(r.metrics.len(), 2);
    assert_eq!(r.metrics[1].step.map(|s| (s.index, s.of)), Some((1, 2)));
    assert_eq!(r.metrics[1].variants[1].converted, 240);
    assert_eq!(r.metrics[1].variants[1].of_previous, Some(0.5));
    let series = cumulative(&timeline, &[spec], &options, 2).unwrap();
    let last = series.last().unwrap();
    let steps: Vec<Option<usize>> = last.lifts.iter().map(|l| l.step).collect();
    assert_eq!(steps, vec![Some(0), Some(1)]);
    // Each step's difference is its own.
    assert!((last.lifts[0].difference - 0.1).abs() < 1e-12);
    assert!((last.lifts[1].difference - 0.1).abs() < 1e-12);
    assert!(last.lifts[0].sequential.lower != last.lifts[1].sequential.lower);
}
