//! An experiment's `analysis` settings in the config document: read strictly by the admin
//! path (every bad value and unknown field refused at its path), leniently by SDKs (which
//! still assign the experiment), and carried by the compiled experiment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use litmus_core::config::validate_strict;
use litmus_core::results::{AnalysisSettings, Sides};
use litmus_core::{Engine, Error};
use serde_json::{Value, json};

fn document(analysis: Value) -> String {
    json!({"schema_version": 1, "experiments": [{
        "key": "e", "status": "running", "variants": [{"key": "a"}, {"key": "b"}],
        "analysis": analysis
    }]})
    .to_string()
}

fn first_error(text: &str) -> (String, String) {
    let err = match validate_strict(text).expect_err("invalid") {
        Error::Multiple { errors } => errors.into_iter().next().expect("one error"),
        e => e,
    };
    let path = err
        .path()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    (err.code().to_owned(), path)
}

#[test]
fn an_experiments_settings_reach_its_compiled_form() {
    let text = document(
        json!({"alpha": 0.1, "test": "one_sided", "basis": "fixed_horizon",
                               "priors": {"lift": {"mean": 0, "sd": 0.2}}}),
    );
    validate_strict(&text).expect("valid");
    let engine = Engine::from_json_strict(&text).expect("compiles");
    let settings: &AnalysisSettings = engine.experiment("e").unwrap().analysis();
    assert_eq!(settings.alpha, Some(0.1));
    assert_eq!(settings.options().sides, Sides::One);
    assert_eq!(settings.options().lift_prior.unwrap().sd, 0.2);
    // Without settings: nothing set, so every one comes from below.
    let plain = Engine::from_json_strict(&document(Value::Null)).expect("compiles");
    assert_eq!(
        plain.experiment("e").unwrap().analysis(),
        &AnalysisSettings::default()
    );
}

#[test]
fn bad_settings_are_refused_at_their_path_but_sdks_still_assign() {
    for (analysis, code, path) in [
        (
            json!({"alpha": 0.7}),
            "invalid_value",
            "experiments[e].analysis.alpha",
        ),
        (
            json!({"correction": "sidak"}),
            "invalid_json",
            "experiments[e].analysis.correction",
        ),
        (
            json!({"test": "one_sided"}),
            "invalid_value",
            "experiments[e].analysis.basis",
        ),
        (
            json!({"priors": {"rate": {"alpha": 0, "beta": 1}}}),
            "invalid_value",
            "experiments[e].analysis.priors.rate.alpha",
        ),
        (
            json!({"min_units": 1.5}),
            "invalid_json",
            "experiments[e].analysis.min_units",
        ),
        (
            json!({"alhpa": 0.1}),
            "unknown_field",
            "experiments[e].analysis.alhpa",
        ),
        (
            json!({"priors": {"means": {}}}),
            "unknown_field",
            "experiments[e].analysis.priors.means",
        ),
        (json!([0.05]), "invalid_json", "experiments[e].analysis"),
    ] {
        let text = document(analysis.clone());
        assert_eq!(
            first_error(&text),
            (code.to_owned(), path.to_owned()),
            "{analysis}"
        );
        // An SDK reading the same document still assigns the experiment.
        let engine = Engine::from_json(&text).expect("lenient");
        assert!(engine.experiment("e").is_some(), "{analysis}");
    }
}

/// The shared cases of `fixtures/analysis/settings.json`, which the Python and npm packages'
/// `validate_analysis` / `validateAnalysis` run too.
#[test]
fn validate_analysis_runs_the_shared_fixture() {
    use litmus_core::results::settings::validate_analysis;
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/analysis/settings.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in doc["valid"].as_array().unwrap() {
        let got = validate_analysis(&case["analysis"].to_string()).expect("valid");
        assert_eq!(
            serde_json::to_value(got).unwrap(),
            case["settings"],
            "{}",
            case["name"]
        );
        // The same object in an experiment passes the admin API's check.
        validate_strict(&document(case["analysis"].clone())).expect("valid in a document");
    }
    for case in doc["invalid"].as_array().unwrap() {
        let e = validate_analysis(&case["analysis"].to_string()).expect_err("invalid");
        let path = e.path().map(|p| p.as_str().to_owned()).unwrap_or_default();
        assert_eq!(
            (e.code(), path.as_str()),
            (
                case["code"].as_str().unwrap(),
                case["path"].as_str().unwrap()
            ),
            "{case}"
        );
        // In a document, the same error at the experiment's path.
        let at = case["path"].as_str().unwrap();
        let want = if at.is_empty() {
            "experiments[e].analysis".to_owned()
        } else {
            format!("experiments[e].analysis.{at}")
        };
        assert_eq!(
            first_error(&document(case["analysis"].clone())),
            (e.code().to_owned(), want),
            "{case}"
        );
    }
}
