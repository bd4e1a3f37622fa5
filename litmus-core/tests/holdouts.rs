//! Holdout exposures (`litmus_core::assign::holdout_exposure`) through the shared fixture
//! `fixtures/holdouts/exposures.json`, which the Python and npm engines run too: the exposure
//! events an SDK reports for a sequence of assignments (each (experiment or holdout, unit)
//! once). `LITMUS_BLESS=1` writes the expected events from core.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use litmus_core::assign::holdout_exposure::subject;
use litmus_core::{Attributes, Engine, ExposureMemory};
use serde_json::{Value, json};

const PATH: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../fixtures/holdouts/exposures.json"
);

fn config() -> Value {
    json!({
        "schema_version": 1,
        "experiments": [
            {"key": "checkout", "status": "running", "variants": [{"key": "a"}, {"key": "b"}]},
            {"key": "pricing", "status": "running", "variants": [{"key": "a"}, {"key": "b"}],
             "targeting": {"attribute": "plan", "op": "eq", "value": "pro"}},
            {"key": "search", "status": "running", "variants": [{"key": "a"}]}
        ],
        "holdouts": [{"key": "q4-holdout", "share": 0.25, "experiments": ["checkout", "pricing"]}]
    })
}

/// The events an SDK reports for `calls` (experiment, unit, attributes): `[kind, key,
/// variant]`, kind `experiment` or `holdout`.
fn reported(engine: &Engine, calls: &[(String, String, Value)]) -> Vec<Vec<Value>> {
    let mut memory = ExposureMemory::new(10_000, 7);
    calls
        .iter()
        .map(|(experiment, unit, attributes)| {
            let attrs = Attributes::from_json(attributes).unwrap_or_default();
            let a = engine.assign_at(experiment, unit, &attrs, None);
            let mut out = Vec::new();
            let fresh = a.in_experiment() && memory.first_time(experiment, unit);
            if fresh {
                out.push(json!(["experiment", experiment, a.variant_key()]));
            }
            for (holdout, arm) in engine.holdout_exposures(experiment, unit, a.reason()) {
                if memory.first_time(&subject(holdout), unit) {
                    out.push(json!(["holdout", holdout, arm]));
                }
            }
            out
        })
        .collect()
}

fn calls() -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for i in 0..40 {
        let unit = format!("user-{i}");
        let plan = if i % 3 == 0 {
            json!({"plan": "pro"})
        } else {
            json!({"plan": "free"})
        };
        for experiment in ["checkout", "pricing", "search", "checkout"] {
            out.push((experiment.to_owned(), unit.clone(), plan.clone()));
        }
    }
    out
}

#[test]
fn holdout_exposures_follow_the_shared_fixture() {
    let engine = Engine::from_json_strict(&config().to_string()).unwrap();
    let calls = calls();
    let got = reported(&engine, &calls);
    if std::env::var_os("LITMUS_BLESS").is_some() {
        let cases: Vec<Value> = calls
            .iter()
            .zip(&got)
            .map(|((e, u, a), events)| json!({"experiment": e, "unit_id": u, "attributes": a, "events": events}))
            .collect();
        let doc = json!({
            "description": "The exposure events an SDK engine reports for a sequence of assignments, in order: [kind, key, variant] with kind experiment or holdout. A unit a holdout holds out is reported once to the holdout's `holdout` arm; a unit's first exposure to an experiment the holdout covers also reports it once to the `exposed` arm; a unit outside the targeting is in neither. Written by litmus-core/tests/holdouts.rs (LITMUS_BLESS=1); the Python and npm engines run it.",
            "config": config(),
            "cases": cases,
        });
        std::fs::write(PATH, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(PATH).unwrap()).unwrap();
    assert_eq!(doc["config"], config());
    for (case, events) in doc["cases"].as_array().unwrap().iter().zip(&got) {
        assert_eq!(&case["events"], &json!(events), "{case}");
    }
    // Both arms and the targeting miss occur.
    let all: Vec<&Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["events"].as_array().unwrap())
        .collect();
    for arm in ["holdout", "exposed"] {
        assert!(
            all.iter().any(|e| e[0] == "holdout" && e[2] == arm),
            "{arm}"
        );
    }
}
