//! Rounds with a metric program against a reference that recomputes every unit's values from
//! its whole event history (no deltas): the rows summed over minutes must be its sums.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use serde_json::json;

use crate::Timestamp;
use crate::events::event::{Event, EventKind};
use crate::events::rollup::MetricRollup;
use crate::events::unit_state::{Names, Round};
use crate::metrics::Window;
use crate::metrics::program::{Program, Shape, capped};
use crate::metrics::{Catalogue, Metric, Rule};

const WINDOW: i64 = 300_000;

fn catalogue() -> Catalogue {
    let defs = json!([
        {"key": "a", "kind": "mean", "event": "m0", "aggregation": "max",
         "filter": {"attribute": "c", "op": "eq", "value": "a"}, "cap": {"absolute": 4}},
        {"key": "b", "kind": "mean", "event": "m1", "property": "k",
         "window": {"delay_hours": 0.01, "hours": 0.05}},
        {"key": "c", "kind": "conversion", "event": "m0",
         "filter": {"attribute": "k", "op": "gte", "value": 1}},
        {"key": "d", "kind": "retention", "event": "m1",
         "window": {"delay_hours": 0.02, "hours": 0.03}},
        {"key": "f", "kind": "funnel", "steps": [
            {"event": "m0", "filter": {"attribute": "c", "op": "eq", "value": "a"}},
            {"event": "m1"},
            {"event": "m0", "filter": {"attribute": "c", "op": "eq", "value": "b"}}]},
        {"key": "n", "kind": "mean", "event": "m1", "aggregation": "count"},
        {"key": "m0", "kind": "mean", "event": "m0"},
        {"key": "r", "kind": "ratio", "numerator": "m0", "denominator": "b"},
        {"key": "s", "kind": "ratio", "numerator": "n", "denominator": "a"},
        {"key": "q", "kind": "quantile", "event": "m1", "quantile": 0.9},
        {"key": "qu", "kind": "quantile", "event": "m0", "quantile": 0.5, "level": "unit",
         "aggregation": "sum", "window": {"hours": 0.05}}
    ]);
    let defs: Vec<crate::metrics::MetricDefinition> =
        serde_json::from_value::<crate::config::wire::WireConfig>(
            json!({"schema_version": 1, "metrics": defs}),
        )
        .unwrap()
        .metrics;
    let (c, problems) = Catalogue::compile(&defs);
    assert!(problems.is_empty(), "{problems:?}");
    c
}

fn uses() -> Vec<(&'static str, Vec<Metric>)> {
    let c = catalogue();
    let pick = |keys: &[&str]| keys.iter().map(|k| c.get(k).unwrap().clone()).collect();
    vec![
        ("e0", pick(&["a", "b", "c", "d", "f", "r", "q"])),
        ("e1", pick(&["a", "n", "s", "qu"])),
    ]
}

/// The sums of every derived row, by (experiment, variant, id).
type Sums = BTreeMap<(String, String, String), MetricRollup>;

/// Sketch counts by (experiment, variant, id, bucket key), zeros left out.
type Sketches = BTreeMap<(String, String, String, i32), i64>;

fn by_rounds(program: &Program, batches: &[Vec<Event>], per_round: usize) -> (Sums, Sketches) {
    let mut names = Names::default();
    let mut units = HashMap::new();
    let mut sums = Sums::new();
    let mut sketches = Sketches::new();
    for chunk in batches.chunks(per_round.max(1)) {
        let bound = super::Bound::new(program, &mut names);
        let mut round = Round::default();
        for b in chunk {
            round.apply_with(
                &bound,
                &mut Default::default(),
                &mut names,
                &mut units,
                b,
                WINDOW,
            );
        }
        for u in &round.changed {
            units.get_mut(u).unwrap().changed = false;
        }
        for ((e, v, k, _), r) in round.metrics {
            let key = (
                names.name(e).into(),
                names.name(v).into(),
                names.name(k).into(),
            );
            sums.entry(key).or_default().add(&r);
        }
        for ((e, v, k, _, b), n) in round.sketches {
            let key = (
                names.name(e).into(),
                names.name(v).into(),
                names.name(k).into(),
                b,
            );
            *sketches.entry(key).or_default() += n;
        }
    }
    sums.retain(|(_, _, id), _| id.starts_with(crate::metrics::DERIVED_PREFIX));
    sketches.retain(|_, n| *n != 0);
    (sums, sketches)
}

/// Each unit's applied steps, in the order the rules apply them: per batch, its exposures,
/// then its metric events.
fn in_order(batches: &[Vec<Event>]) -> Vec<&Event> {
    let mut out = Vec::new();
    for b in batches {
        out.extend(
            b.iter()
                .filter(|e| matches!(e.kind, EventKind::Exposure { .. })),
        );
        out.extend(
            b.iter()
                .filter(|e| matches!(e.kind, EventKind::Track { .. })),
        );
    }
    out
}

/// A metric's value for a unit from its whole history: `(value, events, covariate)`.
fn unit_value(
    m: &Metric,
    steps: &[&Event],
    unit: &str,
    exp_at: usize,
    first: i64,
) -> (f64, u64, f64) {
    let Rule::Events {
        rule,
        aggregation,
        window,
        ..
    } = m.rule()
    else {
        unreachable!()
    };
    let (mut value, mut events, mut before, mut before_events) = (0.0, 0u64, 0.0, 0u64);
    for (i, e) in steps.iter().enumerate() {
        let EventKind::Track {
            event,
            value: v,
            properties,
        } = &e.kind
        else {
            continue;
        };
        if e.unit_id != unit || *event != rule.event {
            continue;
        }
        let Some(v) = rule.value(*v, properties.as_ref()) else {
            continue;
        };
        let t = e.time.unix_millis();
        if i < exp_at {
            before = aggregation.add(before, before_events, v);
            before_events += 1;
            continue;
        }
        let counts = Window::counts(*window, first, t, WINDOW);
        if counts {
            value = aggregation.add(value, events, v);
            events += 1;
        }
    }
    (value, events, before)
}

fn cap_of(m: &Metric) -> Option<f64> {
    match m.rule() {
        Rule::Events {
            cap: Some(crate::metrics::Cap::Absolute(c)),
            ..
        } => Some(*c),
        _ => None,
    }
}

/// The bucket key of a value.
fn bucket(v: f64) -> i32 {
    crate::stats::sketch::key(v, crate::stats::sketch::DEFAULT_RELATIVE_ACCURACY).unwrap()
}

/// The attributed values of a metric's events for a unit, in order.
fn attributed_values(
    m: &Metric,
    steps: &[&Event],
    unit: &str,
    exp_at: usize,
    first: i64,
) -> Vec<f64> {
    let Rule::Events { rule, window, .. } = m.rule() else {
        unreachable!()
    };
    let mut out = Vec::new();
    for e in steps.iter().skip(exp_at) {
        if let EventKind::Track {
            event,
            value,
            properties,
        } = &e.kind
        {
            let t = e.time.unix_millis();
            let counts = Window::counts(*window, first, t, WINDOW);
            if e.unit_id == unit && *event == rule.event && counts {
                out.extend(rule.value(*value, properties.as_ref()));
            }
        }
    }
    out
}

fn reference(uses: &[(&str, Vec<Metric>)], batches: &[Vec<Event>]) -> (Sums, Sketches) {
    let mut sketches = Sketches::new();
    let steps = in_order(batches);
    // First exposures: (experiment, unit) -> (variant, time, position).
    let mut first: BTreeMap<(String, String), (String, i64, usize)> = BTreeMap::new();
    for (i, e) in steps.iter().enumerate() {
        if let EventKind::Exposure {
            experiment,
            variant,
            ..
        } = &e.kind
        {
            first
                .entry((experiment.clone(), e.unit_id.clone()))
                .or_insert((variant.clone(), e.time.unix_millis(), i));
        }
    }
    let mut sums = Sums::new();
    for ((exp, unit), (variant, f, at)) in &first {
        let Some((_, metrics)) = uses.iter().find(|(k, _)| k == exp) else {
            continue;
        };
        let mut parts: Vec<&Metric> = Vec::new();
        for m in metrics {
            if let Rule::Ratio {
                numerator,
                denominator,
            } = m.rule()
            {
                parts.push(numerator);
                parts.push(denominator);
            }
            parts.push(m);
        }
        let mut seen = std::collections::BTreeSet::new();
        parts.retain(|m| seen.insert(m.rollup().to_owned()));
        for m in parts {
            if m.is_plain() {
                continue;
            }
            let key = (exp.clone(), variant.clone(), m.rollup().to_owned());
            let row = sums.entry(key).or_default();
            match m.rule() {
                Rule::Events { quantile, .. } => {
                    let (value, events, before) = unit_value(m, &steps, unit, *at, *f);
                    let id = m.rollup().to_owned();
                    let mut count = |b: i32| {
                        *sketches
                            .entry((exp.clone(), variant.clone(), id.clone(), b))
                            .or_default() += 1;
                    };
                    match quantile {
                        Some((_, crate::metrics::QuantileLevel::Event)) => {
                            for v in attributed_values(m, &steps, unit, *at, *f) {
                                count(bucket(v));
                            }
                        }
                        Some((_, crate::metrics::QuantileLevel::Unit)) if events > 0 => {
                            count(bucket(capped(value, cap_of(m))));
                        }
                        _ => {}
                    }
                    let cap = cap_of(m);
                    let (y, x) = (capped(value, cap), capped(before, cap));
                    row.events += events;
                    row.units += u64::from(events > 0);
                    row.sum += y;
                    row.sum_squares += y * y;
                    let keeps = matches!(
                        Program::new([(exp.as_str(), std::slice::from_ref(m))])
                            .derived()
                            .first()
                            .map(|d| &d.shape),
                        Some(Shape::Total {
                            covariate: true,
                            ..
                        })
                    );
                    if keeps && x != 0.0 {
                        row.covariate_sum += x;
                        row.covariate_squares += x * x;
                        row.cross += x * y;
                    }
                }
                Rule::Ratio {
                    numerator,
                    denominator,
                } => {
                    let (y, _, _) = unit_value(numerator, &steps, unit, *at, *f);
                    let (x, _, _) = unit_value(denominator, &steps, unit, *at, *f);
                    row.cross += capped(y, cap_of(numerator)) * capped(x, cap_of(denominator));
                }
                Rule::Funnel {
                    steps: rules,
                    window,
                } => {
                    let (mut reached, mut last) = (0usize, *f);
                    for e in steps.iter().skip(*at) {
                        let EventKind::Track {
                            event,
                            value,
                            properties,
                        } = &e.kind
                        else {
                            continue;
                        };
                        let t = e.time.unix_millis();
                        let counts = Window::counts(*window, *f, t, WINDOW);
                        let Some(next) = rules.get(reached) else {
                            break;
                        };
                        if e.unit_id == *unit
                            && counts
                            && *event == next.event
                            && next.value(*value, properties.as_ref()).is_some()
                            && t >= last
                        {
                            reached += 1;
                            last = t;
                        }
                    }
                    for k in 0..reached {
                        let id = crate::metrics::step_id(m.rollup(), k);
                        let r = sums.entry((exp.clone(), variant.clone(), id)).or_default();
                        r.units += 1;
                        r.events += 1;
                    }
                }
            }
        }
    }
    // Rows no unit contributed to do not exist.
    sums.retain(|_, r| *r != MetricRollup::default());
    (sums, sketches)
}

fn event(i: usize, unit: u8, t: i64, kind: EventKind) -> Event {
    Event {
        message_id: format!("m{i}"),
        unit_id: format!("u{unit}"),
        time: Timestamp::from_unix_millis(t),
        client_time: None,
        kind,
    }
}

type Raw = (u8, i64, u8, u8, bool, i8, u8, bool);

fn raw_events() -> impl Strategy<Value = Vec<Raw>> {
    prop::collection::vec(
        (
            0u8..4,
            0i64..400_000,
            0u8..2,
            0u8..2,
            any::<bool>(),
            -3i8..6,
            0u8..4,
            any::<bool>(),
        ),
        0..50,
    )
}

fn to_batch(offset: usize, raw: &[Raw]) -> Vec<Event> {
    raw.iter()
        .enumerate()
        .map(|(i, &(unit, t, a, b, exposure, v, k, c))| {
            let kind = if exposure {
                EventKind::Exposure {
                    experiment: format!("e{a}"),
                    variant: format!("v{b}"),
                    dimensions: Vec::new(),
                }
            } else {
                let mut props = serde_json::Map::new();
                if k < 3 {
                    props.insert("k".into(), json!(k));
                }
                props.insert("c".into(), json!(if c { "a" } else { "b" }));
                EventKind::Track {
                    event: format!("m{b}"),
                    value: f64::from(v),
                    properties: Some(props),
                }
            };
            event(offset + i, unit, t, kind)
        })
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + b.abs())
}

proptest! {
    /// Rows of every derived shape, summed, are the sums of the units' values recomputed
    /// from their histories, however the batches are grouped into rounds.
    #[test]
    fn derived_rows_sum_to_the_units_values(
        a in raw_events(), b in raw_events(), c in raw_events(), per_round in 1usize..4,
    ) {
        let uses = uses();
        let program = Program::new(uses.iter().map(|(k, m)| (*k, m.as_slice())));
        let batches = vec![to_batch(0, &a), to_batch(100, &b), to_batch(200, &c)];
        let (got, got_sketches) = by_rounds(&program, &batches, per_round);
        let (want, want_sketches) = reference(&uses, &batches);
        prop_assert_eq!(got_sketches, want_sketches);
        let keys = |s: &Sums| s.iter().filter(|(_, r)| {
            r.units > 0 || r.sum != 0.0 || r.cross != 0.0 || r.covariate_sum != 0.0
        }).map(|(k, _)| k.clone()).collect::<Vec<_>>();
        prop_assert_eq!(keys(&got), keys(&want));
        for (k, w) in &want {
            let g = got.get(k).copied().unwrap_or_default();
            prop_assert_eq!(g.units, w.units, "{:?}", k);
            if !k.2.contains("r@") && !k.2.contains("s@") {
                prop_assert_eq!(g.events, w.events, "{:?}", k);
            }
            for (x, y, what) in [
                (g.sum, w.sum, "sum"),
                (g.sum_squares, w.sum_squares, "sum_squares"),
                (g.covariate_sum, w.covariate_sum, "covariate_sum"),
                (g.covariate_squares, w.covariate_squares, "covariate_squares"),
                (g.cross, w.cross, "cross"),
            ] {
                prop_assert!(close(x, y), "{:?} {}: {} vs {}", k, what, x, y);
            }
        }
    }
}

#[test]
fn retention_rows_sit_at_the_exposure_minute_and_funnels_need_order() {
    let uses = uses();
    let program = Program::new(uses.iter().map(|(k, m)| (*k, m.as_slice())));
    let expose = |i, t| {
        event(
            i,
            1,
            t,
            EventKind::Exposure {
                experiment: "e0".into(),
                variant: "v0".into(),
                dimensions: Vec::new(),
            },
        )
    };
    let track = |i, name: &str, c: &str, t| {
        event(
            i,
            1,
            t,
            EventKind::Track {
                event: name.into(),
                value: 1.0,
                properties: Some(serde_json::Map::from_iter([("c".to_owned(), json!(c))])),
            },
        )
    };
    // Exposed at 0:30; m1 at 2:00 is in retention's window (72 s to 180 s after).
    // The funnel: m1 before m0(a) does not count; m0(a), m1, m0(b) in order do.
    let batches = vec![
        vec![expose(0, 30_000)],
        vec![track(1, "m1", "a", 40_000)],
        vec![track(2, "m0", "a", 50_000), track(3, "m1", "a", 120_000)],
        vec![track(4, "m0", "b", 130_000)],
    ];
    let mut names = Names::default();
    let mut units = HashMap::new();
    let bound = super::Bound::new(&program, &mut names);
    let mut round = Round::default();
    for b in &batches {
        round.apply_with(
            &bound,
            &mut Default::default(),
            &mut names,
            &mut units,
            b,
            WINDOW,
        );
    }
    let d = catalogue().get("d").unwrap().rollup().to_owned();
    let f = catalogue().get("f").unwrap().rollup().to_owned();
    let rows: BTreeMap<(String, i64), MetricRollup> = round
        .metrics
        .iter()
        .map(|((_, _, k, m), r)| ((names.name(*k).to_owned(), *m), *r))
        .collect();
    assert_eq!(rows[&(d.clone(), 0)].units, 1, "the cohort's minute");
    assert!(!rows.contains_key(&(d, 120_000)));
    for (k, minute) in [(0, 0), (1, 120_000), (2, 120_000)] {
        let id = crate::metrics::step_id(&f, k);
        assert_eq!(rows[&(id, minute)].units, 1, "step {k}");
    }
}
