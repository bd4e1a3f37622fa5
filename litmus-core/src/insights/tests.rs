//! Insights on hand-made results: checks, recommendations and recent anomalies.
#![allow(clippy::indexing_slicing, clippy::unwrap_used)]

use std::collections::BTreeMap;

use super::*;
use crate::events::MetricRollup;
use crate::results::{
    DecisionBasis, Goal, MetricKind, MetricSpec, Options, Timeline, VariantTotals, analyze,
};
use crate::stats::Alternative;
use crate::stats::power::{proportion_effect_size, sample_size};

const DAY: i64 = 86_400_000;

/// Two variants with `units` each and `converted` units with a `buy` (value 1 each), and
/// `errors` units with an `error`.
fn totals(units: [u64; 2], converted: [u64; 2], errors: [u64; 2]) -> Vec<VariantTotals> {
    ["control", "treatment"]
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let mut metrics = BTreeMap::new();
            let c = converted[i] as f64;
            metrics.insert(
                "buy".to_owned(),
                MetricRollup {
                    events: converted[i],
                    units: converted[i],
                    sum: c,
                    sum_squares: c,
                    ..Default::default()
                },
            );
            let e = errors[i] as f64;
            metrics.insert(
                "error".to_owned(),
                MetricRollup {
                    events: errors[i],
                    units: errors[i],
                    sum: e,
                    sum_squares: e,
                    ..Default::default()
                },
            );
            VariantTotals {
                cohort_units: Default::default(),
                caps: Default::default(),
                sketches: Default::default(),
                key: (*key).to_owned(),
                weight: 1.0,
                units: units[i],
                metrics,
            }
        })
        .collect()
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
            key: "error".into(),
            kind: MetricKind::Conversion,
            goal: Goal::Decrease,
            guardrail: true,
            source: Default::default(),
        },
    ]
}

fn run(t: &[VariantTotals], span_ms: i64) -> (Vec<Insight>, Recommendation) {
    let results = analyze(t, &specs(), &Options::default()).unwrap();
    let mut insights: Vec<Insight> = checks::srm(&results).into_iter().collect();
    insights.extend(checks::guardrails(&results));
    (
        insights,
        recommend(&results, t, span_ms, &Options::default()),
    )
}

#[test]
fn too_few_units_is_no_decision() {
    let (insights, r) = run(&totals([150, 150], [10, 30], [1, 1]), DAY);
    assert!(insights.is_empty());
    assert_eq!(r.action, Action::NoData);
    assert!(r.reason.contains("150"), "{}", r.reason);
}

#[test]
fn a_broken_split_says_stop_with_the_shares() {
    let (insights, r) = run(&totals([11_000, 9_000], [1_100, 900], [50, 40]), DAY);
    assert_eq!(insights.len(), 1);
    let srm = &insights[0];
    assert_eq!(
        (srm.kind, srm.severity),
        (InsightKind::Srm, Severity::Critical)
    );
    assert!(
        srm.reason.contains("control 55.0% (expected 50.0%)"),
        "{}",
        srm.reason
    );
    assert!(srm.numbers["pvalue"] < 1e-6);
    assert_eq!(srm.numbers["units.treatment"], 9_000.0);
    assert_eq!(r.action, Action::Stop);
}

#[test]
fn a_harmed_guardrail_says_stop_even_when_the_metric_wins() {
    let (insights, r) = run(&totals([10_000, 10_000], [1_000, 1_300], [100, 200]), DAY);
    assert_eq!(insights.len(), 1);
    let g = &insights[0];
    assert_eq!(
        (g.kind, g.metric.as_deref(), g.variant.as_deref()),
        (InsightKind::Guardrail, Some("error"), Some("treatment"))
    );
    assert!(g.numbers["relative"] > 0.5, "{:?}", g.numbers);
    assert_eq!(
        (r.action, r.variant.as_deref()),
        (Action::Stop, Some("treatment"))
    );
    assert!(r.reason.contains("guardrail error"), "{}", r.reason);
}

#[test]
fn a_clear_winner_is_shipped() {
    let (insights, r) = run(&totals([10_000, 10_000], [1_000, 1_300], [100, 100]), DAY);
    assert!(insights.is_empty());
    assert_eq!(
        (r.action, r.variant.as_deref()),
        (Action::Ship, Some("treatment"))
    );
    let i = r.insight();
    assert_eq!(
        (i.kind, i.title.as_str()),
        (InsightKind::Recommendation, "Ship treatment")
    );
}

#[test]
fn metrics_sharing_an_event_are_named_with_their_kind() {
    // `buy` read both ways: the prose must not say "better on buy, buy".
    let mut both = specs();
    both.insert(
        1,
        MetricSpec {
            key: "buy".into(),
            kind: MetricKind::Mean,
            goal: Goal::Increase,
            guardrail: false,
            source: Default::default(),
        },
    );
    let recommend_for = |t: &[VariantTotals], span_ms: i64| {
        let results = analyze(t, &both, &Options::default()).unwrap();
        recommend(&results, t, span_ms, &Options::default())
    };
    let r = recommend_for(&totals([10_000, 10_000], [1_000, 1_300], [100, 100]), DAY);
    assert_eq!(r.action, Action::Ship, "{}", r.reason);
    assert!(
        r.reason
            .contains("better on buy (conversion rate), buy (mean per unit) and worse"),
        "{}",
        r.reason
    );
    assert!(
        r.reason
            .contains("probability better on buy (conversion rate): "),
        "{}",
        r.reason
    );
    let r = recommend_for(&totals([10_000, 10_000], [1_300, 1_000], [100, 100]), DAY);
    assert_eq!(r.action, Action::Stop, "{}", r.reason);
    assert!(
        r.reason
            .ends_with("worse than the control on buy (conversion rate)."),
        "{}",
        r.reason
    );
    let r = recommend_for(&totals([2_000, 2_000], [200, 216], [20, 20]), 2 * DAY);
    assert_eq!(r.action, Action::KeepRunning, "{}", r.reason);
    assert!(
        r.reason.contains("on buy (conversion rate) so far"),
        "{}",
        r.reason
    );
    // Guardrails too: the insight and the recommendation name the kind.
    let t = totals([10_000, 10_000], [1_000, 1_300], [100, 200]);
    let results = analyze(&t, &both, &Options::default()).unwrap();
    let guardrail = &checks::guardrails(&results)[0];
    assert!(
        guardrail
            .reason
            .starts_with("error (conversion rate) moved "),
        "{}",
        guardrail.reason
    );
    let r = recommend(&results, &t, DAY, &Options::default());
    assert!(
        r.reason
            .contains("harms the guardrail error (conversion rate):"),
        "{}",
        r.reason
    );
}

#[test]
fn a_clear_loser_is_stopped() {
    let (_, r) = run(&totals([10_000, 10_000], [1_300, 1_000], [100, 100]), DAY);
    assert_eq!(r.action, Action::Stop);
    assert!(r.reason.contains("worse"), "{}", r.reason);
}

#[test]
fn keep_running_estimates_the_days_to_a_decision() {
    // 1,000 units a day per variant for 2 days; 10% vs 10.8%.
    let t = totals([2_000, 2_000], [200, 216], [20, 20]);
    let (_, r) = run(&t, 2 * DAY);
    assert_eq!(
        (r.action, r.variant.as_deref()),
        (Action::KeepRunning, Some("treatment"))
    );
    assert!(r.reason.contains("8.0%"), "{}", r.reason);
    // The always-valid test (the default basis) reaches alpha at the predicted units if the
    // effect holds, and not a hundred units before.
    let needed = 2_000.0 + r.expected_days.unwrap() * 1_000.0;
    let p_at = |n: f64| {
        let n = n.round() as u64;
        let (c, tr) = (
            crate::stats::Proportion::new(n / 10, n).unwrap(),
            crate::stats::Proportion::new(n * 108 / 1_000, n).unwrap(),
        );
        let variance = 0.1 * 0.9 + 0.108 * 0.892;
        let tau2 = crate::results::analysis::tau2(variance, &Options::default()).unwrap();
        crate::stats::msprt_proportions(&tr, &c, tau2, 0.05)
            .unwrap()
            .pvalue()
    };
    assert!(
        p_at(needed + 5.0) <= 0.05 && p_at(needed - 100.0) > 0.05,
        "{needed}"
    );
    // With fixed-horizon decisions: the sample size for 80% power.
    let options = Options {
        basis: DecisionBasis::FixedHorizon,
        ..Options::default()
    };
    let results = analyze(&t, &specs(), &options).unwrap();
    let r = recommend(&results, &t, 2 * DAY, &options);
    let h = proportion_effect_size(0.108, 0.1).unwrap();
    let fixed = sample_size(h, 0.8, 1.0, 0.05, Alternative::TwoSided).unwrap();
    let days = r.expected_days.unwrap();
    assert!((days - (fixed - 2_000.0) / 1_000.0).abs() < 1e-6, "{days}");
    assert!(
        needed > fixed,
        "the always-valid test needs more: {needed} vs {fixed}"
    );
}

#[test]
fn no_difference_gives_the_detectable_lift_and_a_tiny_one_suggests_stopping() {
    let (_, r) = run(&totals([2_000, 2_000], [200, 200], [20, 20]), 2 * DAY);
    assert_eq!((r.action, r.expected_days), (Action::KeepRunning, None));
    assert!(
        r.reason.contains("could detect a lift of about"),
        "{}",
        r.reason
    );
    // 10.00% vs 10.05% with 100 units a day: decades away.
    let (_, r) = run(
        &totals([20_000, 20_000], [2_000, 2_010], [20, 20]),
        200 * DAY,
    );
    assert_eq!((r.action, r.expected_days), (Action::KeepRunning, None));
    assert!(r.reason.contains("Consider stopping"), "{}", r.reason);
}

/// Per-minute exposures: `per_minute(i)` units in minute i of both variants.
fn minutes(count: usize, per_minute: impl Fn(usize) -> u64) -> Timeline {
    let mut t = Timeline::new(vec![("control".into(), 1.0), ("treatment".into(), 1.0)]);
    for i in 0..count {
        for v in ["control", "treatment"] {
            let n = per_minute(i);
            if n > 0 {
                t.add_exposures(v, i as i64 * 60_000, n);
            }
        }
    }
    t
}

#[test]
fn an_outage_is_a_drop_in_the_recent_minutes() {
    let steady = |i: usize| 20 + (i % 7) as u64;
    let variants = ["control".to_owned(), "treatment".to_owned()];
    // 120 steady minutes, then nothing for 3 minutes (no rows at all).
    let t = minutes(120, steady);
    let found = recent::anomalies(&t, &variants, 123 * 60_000, 30, 10);
    assert!(!found.is_empty());
    let newest = &found[0];
    assert_eq!(newest.kind, InsightKind::Anomaly);
    assert!(
        newest.title.starts_with("Drop in units exposed"),
        "{}",
        newest.title
    );
    assert!(newest.time_ms.unwrap() >= 120 * 60_000);
    assert_eq!(newest.numbers["value"], 0.0);
    assert!(newest.numbers["baseline"] > 19.0);
    // Judged only up to the complete minutes: the same rows with the end at minute 120 are
    // clean, and so are minutes older than the report window.
    assert!(recent::anomalies(&t, &variants, 120 * 60_000, 30, 10).is_empty());
    let mut spiked = minutes(120, |i| if i == 40 { 200 } else { steady(i) });
    assert!(recent::anomalies(&spiked, &variants, 120 * 60_000, 30, 10).is_empty());
    spiked.add_exposures("treatment", 110 * 60_000, 300);
    let found = recent::anomalies(&spiked, &variants, 120 * 60_000, 30, 10);
    assert_eq!(found.len(), 1);
    assert_eq!(
        (found[0].variant.as_deref(), found[0].time_ms),
        (Some("treatment"), Some(110 * 60_000))
    );
    assert!(found[0].title.starts_with("Spike"));
}
