//! The metric kinds against numpy, scipy and statsmodels (`fixtures/stats/metrics.json`):
//! capped means (the percentile cap, the capped means and Welch's p-value), ratios (the
//! delta-method estimates and the z-test) and retention (matured cohorts through core's rollup
//! rules, and the pooled z-test), each through `litmus_core::results::analyze`, to 1e-9
//! relative.

use std::collections::HashMap;

use litmus_core::Timestamp;
use litmus_core::events::unit_state::{Names, Round};
use litmus_core::events::{Event, EventKind, MetricRollup};
use litmus_core::metrics::{Catalogue, Program};
use litmus_core::results::{
    self, MetricKind, MetricSpec, Options, Source, Timeline, UnitValue, VariantTotals,
};
use serde_json::{Value, json};

use super::load;

const REL: f64 = 1e-9;

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= REL * want.abs().max(1e-300)
}

fn variants() -> Vec<(String, f64)> {
    vec![("a".into(), 1.0), ("b".into(), 1.0)]
}

fn spec(kind: MetricKind, source: Source) -> MetricSpec {
    MetricSpec {
        key: "m".into(),
        kind,
        source,
        ..MetricSpec::default()
    }
}

fn options() -> Options {
    Options {
        basis: results::DecisionBasis::FixedHorizon,
        ..Options::default()
    }
}

#[test]
fn capped_means_match_numpy_and_scipy() {
    let cases = load("metrics.json");
    let mut checks = 0;
    for case in cases["capped_means"].as_array().unwrap() {
        let p = case["percentile"].as_f64().unwrap();
        let mut units = Vec::new();
        let mut timeline = Timeline::new(variants());
        for (v, data) in case["variants"].as_array().unwrap().iter().enumerate() {
            let key = ["a", "b"][v];
            let (totals, covariates) = (floats(&data["totals"]), floats(&data["covariates"]));
            timeline.add_exposures(key, 0, totals.len() as u64);
            for (t, c) in totals.iter().zip(&covariates) {
                units.push(UnitValue {
                    variant: key.into(),
                    first_ms: 0,
                    events: u64::from(*t > 0.0),
                    total: *t,
                    covariate: *c,
                });
            }
        }
        let cap = results::percentile_cap(&units, p).unwrap().unwrap();
        assert!(close(cap, case["cap"].as_f64().unwrap()), "cap {cap}");
        timeline.set_unit_values("m", &units, cap, 60_000);
        let source = Source {
            percentile_cap: Some(p),
            ..Source::default()
        };
        let r = results::analyze(
            &timeline.totals(None),
            &[spec(MetricKind::Mean, source)],
            &options(),
        )
        .unwrap();
        let m = &r.metrics[0];
        assert_eq!(m.cap, Some(cap));
        for (v, want) in floats(&case["means"]).iter().enumerate() {
            assert!(close(m.variants[v].value.unwrap(), *want), "mean {v}");
        }
        let pvalue = m.variants[1].comparison.as_ref().unwrap().pvalue;
        assert!(close(pvalue, case["pvalue"].as_f64().unwrap()), "{pvalue}");
        checks += 4;
    }
    assert!(checks >= 24);
}

#[test]
fn ratios_match_the_delta_method_in_numpy() {
    let cases = load("metrics.json");
    for case in cases["ratios"].as_array().unwrap() {
        let mut totals = Vec::new();
        for (v, data) in case["variants"].as_array().unwrap().iter().enumerate() {
            let (y, x) = (floats(&data["numerator"]), floats(&data["denominator"]));
            let mut t = VariantTotals::new(["a", "b"][v], 1.0, y.len() as u64);
            let rows = |values: &[f64]| MetricRollup {
                sum: values.iter().sum(),
                sum_squares: values.iter().map(|v| v * v).sum(),
                ..MetricRollup::default()
            };
            t.metrics.insert("revenue".into(), rows(&y));
            t.metrics.insert("orders".into(), rows(&x));
            let cross = MetricRollup {
                cross: y.iter().zip(&x).map(|(a, b)| a * b).sum(),
                ..MetricRollup::default()
            };
            t.metrics.insert("ratio".into(), cross);
            totals.push(t);
        }
        let source = Source {
            rollup: "ratio".into(),
            numerator: Some("revenue".into()),
            denominator: Some("orders".into()),
            ..Source::default()
        };
        let r = results::analyze(&totals, &[spec(MetricKind::Ratio, source)], &options()).unwrap();
        let m = &r.metrics[0];
        for (v, want) in floats(&case["ratios"]).iter().enumerate() {
            assert!(close(m.variants[v].value.unwrap(), *want), "ratio {v}");
        }
        let c = m.variants[1].comparison.as_ref().unwrap();
        assert!(
            close(c.pvalue, case["pvalue"].as_f64().unwrap()),
            "{}",
            c.pvalue
        );
        assert!(close(
            c.difference.lower,
            case["difference_lower"].as_f64().unwrap()
        ));
        assert!(close(
            c.difference.upper,
            case["difference_upper"].as_f64().unwrap()
        ));
    }
}

#[test]
fn retention_through_the_rollup_rules_matches_statsmodels() {
    let cases = load("metrics.json");
    for case in cases["retention"].as_array().unwrap() {
        let (delay, hours) = (case["delay_hours"].clone(), case["hours"].clone());
        let defs = serde_json::from_value::<litmus_core::config::wire::WireConfig>(json!({
            "schema_version": 1,
            "metrics": [{"key": "r", "kind": "retention", "event": "visit",
                         "window": {"delay_hours": delay, "hours": hours}}]
        }))
        .unwrap()
        .metrics;
        let (catalogue, problems) = Catalogue::compile(&defs);
        assert!(problems.is_empty());
        let metric = catalogue.get("r").unwrap().clone();
        let program = Program::new([("e", std::slice::from_ref(&metric))]);
        // Every unit's exposure, then its events, as batches.
        let mut batch = Vec::new();
        for (i, u) in case["units"].as_array().unwrap().iter().enumerate() {
            let unit = format!("u{i}");
            let at = |ms: i64| Timestamp::from_unix_millis(ms);
            let variant = ["a", "b"][u["variant"].as_u64().unwrap() as usize];
            batch.push(Event {
                message_id: format!("x{i}"),
                unit_id: unit.clone(),
                time: at(u["exposed_ms"].as_i64().unwrap()),
                client_time: None,
                kind: EventKind::Exposure {
                    experiment: "e".into(),
                    variant: variant.into(),
                    dimensions: Vec::new(),
                },
            });
            for (j, t) in u["events_ms"].as_array().unwrap().iter().enumerate() {
                batch.push(Event {
                    message_id: format!("v{i}-{j}"),
                    unit_id: unit.clone(),
                    time: at(t.as_i64().unwrap()),
                    client_time: None,
                    kind: EventKind::Track {
                        event: "visit".into(),
                        value: 1.0,
                        properties: None,
                    },
                });
            }
        }
        let mut names = Names::default();
        let mut states = HashMap::new();
        let bound = litmus_core::events::derived::Bound::new(&program, &mut names);
        let mut round = Round::default();
        round.apply_with(
            &bound,
            &mut Default::default(),
            &mut names,
            &mut states,
            &batch,
            i64::MAX,
        );
        let mut timeline = Timeline::new(variants());
        for ((_, v, minute), n) in &round.exposures {
            timeline.add_exposures(names.name(*v), *minute, *n);
        }
        for ((_, v, k, minute), r) in &round.metrics {
            timeline.add_metric(names.name(*v), names.name(*k), *minute, r);
        }
        let spec = metric.spec();
        let now = case["now_ms"].as_i64().unwrap();
        timeline.add_cohort(
            spec.rollup(),
            spec.source.matures_after_ms.unwrap(),
            now,
            60_000,
        );
        let r = results::analyze(&timeline.totals(None), &[spec], &options()).unwrap();
        let m = &r.metrics[0];
        for v in 0..2 {
            assert_eq!(
                m.variants[v].converted,
                case["converted"][v].as_u64().unwrap(),
                "converted {v}"
            );
            assert_eq!(m.variants[v].units, case["matured"][v].as_u64().unwrap());
        }
        let c = m.variants[1].comparison.as_ref().unwrap();
        assert!(
            close(c.pvalue, case["pvalue"].as_f64().unwrap()),
            "{}",
            c.pvalue
        );
    }
}
