//! Property tests of invariants. Failing inputs proptest finds are kept in
//! `tests/properties.proptest-regressions` and replayed first on every run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::{Attributes, Engine, NoAttributes, Reason, Timestamp};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Arbitrary JSON values, nested a few levels.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "running",
            "ab",
            "multivariate",
            "bandit",
            "key",
            "eq",
            "in",
            "regex",
            "1.2.3"
        ])
        .prop_map(|s| Value::String(s.to_owned())),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "key",
                    "salt",
                    "status",
                    "kind",
                    "traffic",
                    "variants",
                    "weight",
                    "payload",
                    "factors",
                    "levels",
                    "targeting",
                    "attribute",
                    "op",
                    "value",
                    "all",
                    "any",
                    "not",
                    "layer",
                    "range",
                    "overrides",
                    "start_time",
                    "end_time",
                    "hash_version",
                    "share",
                    "experiments",
                    "layers",
                    "holdouts",
                    "schema_version",
                    "x",
                ])
                .prop_map(str::to_owned),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Experiment-shaped objects whose fields take arbitrary values: reaches the compiler's checks.
fn arb_document() -> impl Strategy<Value = Value> {
    let experiment = (
        arb_json(),
        arb_json(),
        arb_json(),
        arb_json(),
        arb_json(),
        any::<bool>(),
    )
        .prop_map(
            |(traffic, variants, targeting, layer, overrides, running)| {
                json!({
                    "key": "e", "status": if running { "running" } else { "paused" },
                    "traffic": traffic, "variants": variants, "targeting": targeting,
                    "layer": layer, "overrides": overrides
                })
            },
        );
    (prop::collection::vec(experiment, 0..3), arb_json(), arb_json()).prop_map(|(experiments, layers, holdouts)| {
        json!({"schema_version": 1, "experiments": experiments, "layers": layers, "holdouts": holdouts})
    })
}

fn exercise(text: &str, units: &[String], attrs: &Value) {
    let _ = Engine::from_json_strict(text);
    let _ = litmus_core::config::validate_strict(text);
    if let Ok(engine) = Engine::from_json(text) {
        for unit in units {
            for (key, _) in engine.experiments() {
                let a = engine.assign_at(key, unit, attrs, Some(Timestamp::from_unix_millis(0)));
                assert_eq!(a.in_experiment(), a.reason() == Reason::Assigned);
            }
            let _ = engine.assign_all(unit, attrs).count();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parser_never_panics_on_arbitrary_json(doc in arb_json(), units in prop::collection::vec(".{0,8}", 1..3), attrs in arb_json()) {
        exercise(&doc.to_string(), &units, &attrs);
        let wrapped = json!({"schema_version": 1, "experiments": [doc.clone()], "layers": [doc.clone()], "holdouts": [doc]});
        exercise(&wrapped.to_string(), &units, &attrs);
    }

    #[test]
    fn compiler_never_panics_on_experiment_shaped_input(doc in arb_document(), units in prop::collection::vec(".{0,8}", 1..3), attrs in arb_json()) {
        exercise(&doc.to_string(), &units, &attrs);
    }

    #[test]
    fn parser_never_panics_on_arbitrary_text(text in ".{0,200}") {
        let _ = Engine::from_json(&text);
        let _ = Timestamp::parse_rfc3339(&text);
    }

    #[test]
    fn assignment_is_deterministic(salt in ".{0,16}", unit in ".{0,64}", weights in prop::collection::vec(0.0f64..100.0, 1..8)) {
        prop_assume!(weights.iter().sum::<f64>() > 0.0);
        let variants: Vec<_> = weights.iter().enumerate().map(|(i, w)| json!({"key": format!("v{i}"), "weight": w})).collect();
        let doc = json!({"schema_version": 1, "experiments": [{"key": "e", "salt": salt, "status": "running", "variants": variants}]}).to_string();
        let first = Engine::from_json(&doc).expect("valid");
        let second = Engine::from_json(&doc).expect("valid");
        let a = first.assign("e", &unit, &NoAttributes);
        let b = second.assign("e", &unit, &NoAttributes);
        prop_assert_eq!(a.variant_key(), b.variant_key());
        let v = a.variant().expect("assigned");
        prop_assert!(weights[v.index()] > 0.0, "a zero-weight variant was chosen");
    }

    #[test]
    fn raising_traffic_keeps_units_and_variants(x in 0.0f64..=1.0, y in 0.0f64..=1.0, units in prop::collection::vec(".{0,24}", 1..40)) {
        let (low, high) = if x <= y { (x, y) } else { (y, x) };
        let doc = |traffic: f64| json!({"schema_version": 1, "experiments": [{"key": "e", "salt": "s", "status": "running", "traffic": traffic,
            "variants": [{"key": "a", "weight": 1}, {"key": "b", "weight": 2}, {"key": "c", "weight": 3}]}]}).to_string();
        let small = Engine::from_json(&doc(low)).expect("valid");
        let large = Engine::from_json(&doc(high)).expect("valid");
        for unit in &units {
            let before = small.assign("e", unit, &NoAttributes);
            let after = large.assign("e", unit, &NoAttributes);
            if before.in_experiment() {
                prop_assert!(after.in_experiment());
                prop_assert_eq!(before.variant_key(), after.variant_key());
            }
        }
    }

    #[test]
    fn moving_one_boundary_moves_only_neighbours(w0 in 0.1f64..10.0, w1 in 0.1f64..10.0, shift in -0.09f64..0.09, units in prop::collection::vec("[a-z0-9]{1,12}", 1..60)) {
        // Changing the weights of two adjacent variants only moves units between those two.
        let doc = |a: f64, b: f64| json!({"schema_version": 1, "experiments": [{"key": "e", "status": "running",
            "variants": [{"key": "a", "weight": a}, {"key": "b", "weight": b}, {"key": "c", "weight": 10.0}]}]}).to_string();
        let before = Engine::from_json(&doc(w0, w1)).expect("valid");
        let after = Engine::from_json(&doc(w0 + shift, w1 - shift)).expect("valid");
        for unit in &units {
            let x = before.assign("e", unit, &NoAttributes).variant_key();
            let y = after.assign("e", unit, &NoAttributes).variant_key();
            if x != y {
                prop_assert!(matches!((x, y), (Some("a"), Some("b")) | (Some("b"), Some("a"))), "{x:?} -> {y:?}");
            }
        }
    }

    #[test]
    fn targeting_never_panics_on_arbitrary_attributes(op in prop::sample::select(vec![
            "eq", "ne", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "starts_with", "ends_with",
            "regex", "exists", "version_eq", "version_gt", "version_lte"]),
        value in arb_json(), attr in arb_json()) {
        let doc = json!({"schema_version": 1, "experiments": [{"key": "e", "status": "running", "variants": [{"key": "a"}],
            "targeting": {"attribute": "x", "op": op, "value": value}}]}).to_string();
        if let Ok(engine) = Engine::from_json(&doc) {
            let attrs = json!({"x": attr.clone()});
            let a = engine.assign("e", "u", &attrs);
            prop_assert!(matches!(a.reason(), Reason::Assigned | Reason::TargetingMiss | Reason::InvalidConfig));
            if let Some(owned) = Attributes::from_json(&attrs) {
                let b = engine.assign("e", "u", &owned);
                if !matches!(attr, Value::Object(_)) && !contains_object(&attr) {
                    prop_assert_eq!(a.reason(), b.reason());
                }
            }
        }
    }
}

fn contains_object(v: &Value) -> bool {
    match v {
        Value::Object(_) => true,
        Value::Array(a) => a.iter().any(contains_object),
        _ => false,
    }
}
