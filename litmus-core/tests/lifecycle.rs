//! The lifecycle check compares the stored config with the next one: a config compared with
//! itself, after a round trip through its stored form, must pass, whatever it holds (else
//! every change would be refused because of an unrelated stopped experiment).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use litmus_core::config::{lifecycle, validate_change, validate_strict};
use serde_json::Value;

/// Every conformance config that validates strictly, with all its experiments `status`.
fn configs(status: &str) -> Vec<(String, String)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/conformance");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let fixture: Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let mut config = fixture["config"].clone();
        if let Some(experiments) = config["experiments"].as_array_mut() {
            for e in experiments {
                e["status"] = Value::from(status);
            }
        }
        if validate_strict(&config.to_string()).is_ok() {
            out.push((path.display().to_string(), config.to_string()));
        }
    }
    assert!(out.len() >= 5, "too few strict configs: {}", out.len());
    out
}

#[test]
fn a_stored_config_compared_with_itself_passes() {
    for status in ["draft", "running", "paused", "stopped"] {
        for (name, text) in configs(status) {
            let stored = validate_strict(&text).unwrap();
            let again = serde_json::to_string(&stored).unwrap();
            let next = validate_change(&stored, &again)
                .unwrap_or_else(|e| panic!("{name} ({status}): {e}"));
            assert_eq!(lifecycle::check(&next, &stored), Ok(()), "{name}");
        }
    }
}

#[test]
fn stopping_every_experiment_is_allowed_and_restarting_is_not() {
    for (name, running) in configs("running") {
        let before = validate_strict(&running).unwrap();
        let (_, stopped) = configs("stopped")
            .into_iter()
            .find(|(n, _)| *n == name)
            .unwrap();
        let after = validate_change(&before, &stopped).unwrap_or_else(|e| panic!("{name}: {e}"));
        if after.experiments.is_empty() {
            continue;
        }
        let back = validate_change(&after, &running).unwrap_err();
        assert_eq!(back.code(), "invalid_transition", "{name}");
    }
}
