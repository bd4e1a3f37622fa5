//! Runs the shared conformance suite `fixtures/conformance/*.json` (the same files the Python
//! and JavaScript packages run). The expected values are generated independently of this
//! crate by `scripts/spec/gen_conformance.py` from the Python reference of the bucketing spec.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use litmus_core::{Engine, Timestamp};
use serde_json::Value;

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance")
}

fn load_files() -> Vec<(String, Value)> {
    let mut files: Vec<_> = std::fs::read_dir(fixtures_dir())
        .expect("fixtures/conformance exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("readable fixture");
            let name = p
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, value)
        })
        .collect()
}

/// Runs every case of one file; returns the failures as messages and the number of cases.
fn run_file(name: &str, file: &Value) -> (Vec<String>, usize) {
    let engine = Engine::from_value(file["config"].clone())
        .unwrap_or_else(|e| panic!("{name}: config must load leniently: {e}"));
    let mut failures = Vec::new();

    let expected_problems: Vec<(String, String)> = file["problems"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|p| {
                    (
                        p["code"].as_str().unwrap_or("").to_owned(),
                        p["path"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let actual_problems: Vec<(String, String)> = engine
        .problems()
        .iter()
        .map(|e| {
            (
                e.code().to_owned(),
                e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            )
        })
        .collect();
    if expected_problems != actual_problems {
        failures.push(format!(
            "{name}: problems differ\n  expected {expected_problems:?}\n  actual   {actual_problems:?}"
        ));
    }

    let cases = file["cases"].as_array().cloned().unwrap_or_default();
    for case in &cases {
        let case_name = case["name"].as_str().unwrap_or("?");
        if case.get("flag").is_some() {
            if let Some(failure) = run_flag_case(&engine, name, case) {
                failures.push(failure);
            }
            continue;
        }
        let experiment = case["experiment"].as_str().unwrap_or_default();
        let unit = case["unit"].as_str().unwrap_or_default();
        let attributes = case.get("attributes").cloned().unwrap_or(Value::Null);
        let now = case["now"].as_str().map(|t| {
            Timestamp::parse_rfc3339(t).unwrap_or_else(|| panic!("{name}/{case_name}: bad now {t}"))
        });
        let remembered = case["remembered"].as_str();
        let a = engine.assign_sticky_at(experiment, unit, &attributes, now, remembered);
        if remembered.is_none() {
            // Without a remembered variant the sticky entry point is exactly assign_at.
            let plain = engine.assign_at(experiment, unit, &attributes, now);
            assert_eq!(
                (plain.variant_key(), plain.reason()),
                (a.variant_key(), a.reason()),
                "{name}/{case_name}"
            );
        }
        let expected = &case["expected"];
        let actual = serde_json::json!({
            "variant": a.variant_key(),
            "in_experiment": a.in_experiment(),
            "reason": a.reason().code(),
        });
        let mut want = serde_json::json!({
            "variant": expected["variant"],
            "in_experiment": expected["in_experiment"],
            "reason": expected["reason"],
        });
        let mut got = actual;
        if let Some(miss) = expected.get("miss") {
            want["miss"] = miss.clone();
            got["miss"] = a.miss().map(|m| m.code()).into();
        }
        if want != got {
            failures.push(format!("{name}/{case_name}: expected {want}, got {got}"));
        }
    }
    (failures, cases.len())
}

/// One flag case: `evaluate` (or the typed `evaluate_as` with `type`) against its expected
/// value, reason, rule, variant, error and assignment.
fn run_flag_case(engine: &Engine, name: &str, case: &Value) -> Option<String> {
    let case_name = case["name"].as_str().unwrap_or("?");
    let flag = case["flag"].as_str().unwrap_or_default();
    let unit = case["unit"].as_str().unwrap_or_default();
    let attributes = case.get("attributes").cloned().unwrap_or(Value::Null);
    let now = case["now"].as_str().and_then(Timestamp::parse_rfc3339);
    let r = match case["type"].as_str() {
        Some(t) => {
            let wanted = litmus_core::FlagType::parse(t).expect("a flag type");
            engine.evaluate_as(flag, unit, &attributes, now, wanted)
        }
        None => engine.evaluate_at(flag, unit, &attributes, now),
    };
    let got = serde_json::json!({
        "value": r.value(),
        "reason": r.reason().code(),
        "rule": r.rule_id(),
        "variant": r.variant(),
        "error": r.error().map(|e| e.code()),
        "assignment": r.assignment().map(|a| serde_json::json!({
            "experiment": a.experiment().map(|e| e.key()),
            "variant": a.variant_key(),
            "in_experiment": a.in_experiment(),
        })),
    });
    let want = &case["expected"];
    // Numbers compare by value (the fixture may write 10 where the config says 10.0).
    let same = got.as_object().is_some_and(|g| {
        g.iter().all(|(k, v)| match (v, &want[k]) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        })
    });
    (!same).then(|| format!("{name}/{case_name}: expected {want}, got {got}"))
}

#[test]
fn conformance_suite() {
    let files = load_files();
    assert!(!files.is_empty(), "no conformance fixtures found");
    let mut failures = Vec::new();
    let mut total = 0;
    for (name, file) in &files {
        let (f, n) = run_file(name, file);
        failures.extend(f);
        total += n;
    }
    assert!(total >= 400, "only {total} conformance cases");
    assert!(
        failures.is_empty(),
        "{} of {total} conformance checks failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
