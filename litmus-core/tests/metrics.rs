//! The metric catalogue: definitions of every kind check, and bad ones are refused with the
//! field's path, in the config document and inline in experiments.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::Error;
use litmus_core::config::validate_strict;
use litmus_core::metrics::{Catalogue, Program};
use litmus_core::results::MetricKind;
use serde_json::{Value, json};

fn catalogue() -> Value {
    json!([
        {"key": "revenue", "kind": "mean", "event": "purchase", "format": "currency",
         "currency": "USD", "cap": {"absolute": 1000}},
        {"key": "orders", "kind": "mean", "event": "purchase", "aggregation": "count"},
        {"key": "revenue_per_order", "kind": "ratio", "numerator": "revenue",
         "denominator": "orders", "format": "currency", "currency": "USD"},
        {"key": "p90_load", "kind": "quantile", "event": "page_load", "quantile": 0.9,
         "format": "duration", "goal": "decrease"},
        {"key": "checkout_24h", "kind": "conversion", "event": "checkout",
         "window": {"hours": 24}},
        {"key": "day7", "kind": "retention", "event": "session",
         "window": {"delay_hours": 168, "hours": 24}},
        {"key": "books", "kind": "conversion", "event": "purchase",
         "filter": {"attribute": "category", "op": "eq", "value": "books"}},
        {"key": "checkout_funnel", "kind": "funnel", "steps": [
            {"event": "view_cart"}, {"event": "begin_checkout"}, {"event": "purchase"}]},
        {"key": "capped_revenue", "kind": "mean", "event": "purchase",
         "cap": {"percentile": 0.99}}
    ])
}

fn document(metrics: Value, experiment_metrics: Value) -> String {
    json!({"schema_version": 1, "metrics": metrics, "experiments": [{
        "key": "e", "variants": [{"key": "a"}, {"key": "b"}], "metrics": experiment_metrics
    }]})
    .to_string()
}

fn first_error(text: &str) -> (String, String) {
    let err = validate_strict(text).expect_err("invalid");
    let err = match err {
        Error::Multiple { errors } => errors.into_iter().next().expect("one error"),
        e => e,
    };
    (
        err.code().to_owned(),
        err.path()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default(),
    )
}

#[test]
fn a_catalogue_of_every_kind_is_valid_and_experiments_refer_to_it() {
    let text = document(
        catalogue(),
        json!([
            {"metric": "revenue_per_order"}, {"metric": "p90_load", "guardrail": true},
            {"metric": "checkout_funnel"}, {"metric": "day7"},
            {"key": "signup", "kind": "conversion"}
        ]),
    );
    let config = validate_strict(&text).expect("valid");
    assert_eq!(config.metrics.len(), 9);
    let engine = litmus_core::Engine::from_json_strict(&text).expect("compiles");
    let specs = engine.experiment("e").expect("compiled").metrics();
    let kinds: Vec<MetricKind> = specs.iter().map(|s| s.kind).collect();
    assert_eq!(
        kinds,
        [
            MetricKind::Ratio,
            MetricKind::Quantile,
            MetricKind::Funnel,
            MetricKind::Retention,
            MetricKind::Conversion
        ]
    );
    // The reference's role overrides the catalogue's; the plain inline metric reads its
    // event's own rows; derived ones rows of their own.
    assert!(specs[1].guardrail);
    assert_eq!(specs[4].rollup(), "signup");
    assert!(
        specs[0]
            .rollup()
            .starts_with(litmus_core::metrics::DERIVED_PREFIX)
    );
    assert_eq!(specs[2].source.steps, Some(3));
    assert_eq!(specs[3].source.matures_after_ms, Some(192 * 3_600_000));
    // Round trip: the stored document is what was written.
    let back = serde_json::to_value(&config).expect("serializable");
    assert_eq!(back["metrics"][0]["cap"], json!({"absolute": 1000.0}));
    assert_eq!(
        back["experiments"][0]["metrics"][0],
        json!({"metric": "revenue_per_order"})
    );
}

#[test]
fn a_changed_definition_gets_rows_of_its_own_and_an_unchanged_one_keeps_them() {
    let (a, _) = Catalogue::compile(
        &serde_json::from_value::<litmus_core::config::wire::WireConfig>(json!({
            "schema_version": 1, "metrics": catalogue()}))
        .unwrap()
        .metrics,
    );
    let mut changed = catalogue();
    changed[6]["filter"]["value"] = json!("music");
    changed[0]["name"] = json!("Revenue (renamed)");
    let (b, _) = Catalogue::compile(
        &serde_json::from_value::<litmus_core::config::wire::WireConfig>(json!({
            "schema_version": 1, "metrics": changed}))
        .unwrap()
        .metrics,
    );
    let id = |c: &Catalogue, k: &str| c.get(k).unwrap().rollup().to_owned();
    assert_ne!(id(&a, "books"), id(&b, "books"), "the filter changed");
    assert_eq!(
        id(&a, "revenue"),
        id(&b, "revenue"),
        "only the name changed"
    );
    assert_eq!(id(&a, "revenue_per_order"), id(&b, "revenue_per_order"));
}

#[test]
fn the_program_computes_only_what_experiments_use() {
    let config: litmus_core::config::wire::WireConfig =
        serde_json::from_value(json!({"schema_version": 1, "metrics": catalogue()})).unwrap();
    let (c, problems) = Catalogue::compile(&config.metrics);
    assert!(problems.is_empty(), "{problems:?}");
    let used = [c.get("revenue_per_order").unwrap().clone()];
    let program = Program::new([("e", &used[..])]);
    // The ratio and its two parts, both derived (a cap; a count).
    assert_eq!(program.derived().len(), 2);
    assert_eq!(program.ratios().len(), 1);
    assert_eq!(program.feeds("purchase").len(), 2);
    assert!(program.feeds("page_load").is_empty());
    assert!(program.uses("other").is_none());
}

#[test]
fn bad_definitions_are_refused_with_their_field() {
    let bad = |patch: Value| {
        let mut metrics = catalogue();
        metrics.as_array_mut().unwrap().push(patch);
        first_error(&document(metrics, json!([])))
    };
    let cases = [
        (
            json!({"key": "x", "kind": "ratio", "numerator": "revenue", "denominator": "x"}),
            "invalid_value",
            "metrics[x].denominator",
        ),
        (
            json!({"key": "x", "kind": "ratio", "numerator": "revenue", "denominator": "nope"}),
            "unknown_reference",
            "metrics[x].denominator",
        ),
        (
            json!({"key": "x", "kind": "ratio", "numerator": "revenue", "denominator": "revenue"}),
            "invalid_value",
            "metrics[x].denominator",
        ),
        (
            json!({"key": "x", "kind": "ratio", "numerator": "p90_load", "denominator": "orders"}),
            "invalid_value",
            "metrics[x].numerator",
        ),
        (
            json!({"key": "x", "kind": "funnel", "steps": []}),
            "invalid_value",
            "metrics[x].steps",
        ),
        (
            json!({"key": "x", "kind": "funnel", "steps": [{"event": "a"}, {"event": "b"}, {"event": "a"}]}),
            "invalid_value",
            "metrics[x].steps[2]",
        ),
        (
            json!({"key": "x", "kind": "funnel", "steps": [{"event": "a"}, {"event": "b", "filter": {"op": "eq"}}]}),
            "missing_field",
            "metrics[x].steps[1].filter.attribute",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "cap": {"absolute": -1}}),
            "invalid_value",
            "metrics[x].cap.absolute",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "cap": {"percentile": 1.5}}),
            "invalid_value",
            "metrics[x].cap.percentile",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "cap": {"absolute": 1, "percentile": 0.5}}),
            "invalid_value",
            "metrics[x].cap",
        ),
        (
            json!({"key": "x", "kind": "mean"}),
            "missing_field",
            "metrics[x].event",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "filter": {"attribute": "a", "op": "near", "value": 1}}),
            "invalid_value",
            "metrics[x].filter.op",
        ),
        (
            json!({"key": "x", "kind": "retention", "event": "p"}),
            "missing_field",
            "metrics[x].window",
        ),
        (
            json!({"key": "x", "kind": "conversion", "event": "p", "window": {"hours": 0}}),
            "invalid_value",
            "metrics[x].window.hours",
        ),
        (
            json!({"key": "x", "kind": "quantile", "event": "p", "quantile": 1}),
            "invalid_value",
            "metrics[x].quantile",
        ),
        (
            json!({"key": "x", "kind": "conversion", "event": "p", "aggregation": "sum"}),
            "invalid_value",
            "metrics[x].aggregation",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "format": "currency"}),
            "invalid_value",
            "metrics[x].currency",
        ),
        (
            json!({"key": "x y", "kind": "mean", "event": "p"}),
            "invalid_value",
            "metrics[x y].key",
        ),
        (
            json!({"key": "revenue", "kind": "mean", "event": "p"}),
            "duplicate_key",
            "metrics[revenue].key",
        ),
        (
            json!({"key": "x", "kind": "mean", "event": "p", "colour": "red"}),
            "unknown_field",
            "metrics[x].colour",
        ),
        (
            json!({"key": "x", "kind": "median", "event": "p"}),
            "invalid_json",
            "metrics[x].kind",
        ),
    ];
    let wrong: Vec<String> = cases
        .iter()
        .filter_map(|(patch, code, path)| {
            let got = bad(patch.clone());
            (got != ((*code).to_owned(), (*path).to_owned())).then(|| format!("{patch}: {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn experiments_refer_only_to_metrics_that_exist() {
    let cases = [
        (
            json!([{"metric": "nope"}]),
            "unknown_reference",
            "experiments[e].metrics[0].metric",
        ),
        (
            json!([{"metric": "revenue"}, {"metric": "revenue"}]),
            "duplicate_key",
            "experiments[e].metrics[1].metric",
        ),
        (
            json!([{"metric": "revenue", "colour": 1}]),
            "unknown_field",
            "experiments[e].metrics[0].colour",
        ),
        (
            json!([{"key": "x", "kind": "funnel", "steps": [{"event": "a"}]}]),
            "invalid_value",
            "experiments[e].metrics[0].steps",
        ),
    ];
    for (metrics, code, path) in cases {
        assert_eq!(
            first_error(&document(catalogue(), metrics.clone())),
            (code.to_owned(), path.to_owned()),
            "{metrics}"
        );
    }
    // An SDK still assigns an experiment whose metrics do not resolve.
    let lenient = document(json!([]), json!([{"metric": "nope"}]));
    let lenient = lenient.replace("\"variants\"", "\"status\":\"running\",\"variants\"");
    let engine = litmus_core::Engine::from_json(&lenient).expect("lenient");
    assert!(engine.experiment("e").is_some());
}

/// The shared cases of `fixtures/metrics/catalogues.json`, which the Python and npm packages'
/// `validate_metrics` / `validateMetrics` run too.
#[test]
fn validate_catalogue_runs_the_shared_fixture() {
    use litmus_core::metrics::{DERIVED_PREFIX, validate_catalogue};
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/metrics/catalogues.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let valid = &doc["valid"]["catalogue"];
    let metrics = validate_catalogue(&valid.to_string()).expect("the valid catalogue");
    let expected = doc["valid"]["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), expected.len());
    for (m, want) in metrics.iter().zip(expected) {
        assert_eq!(m.key(), want["key"], "{want}");
        assert_eq!(m.kind().as_str(), want["kind"], "{want}");
        match want["rollup"].as_str() {
            Some(event) => assert_eq!(m.rollup(), event, "{want}"),
            None => assert!(
                m.rollup()
                    .starts_with(&format!("{DERIVED_PREFIX}{}@", m.key())),
                "{want}"
            ),
        }
    }
    let with = |extra: &[Value]| {
        let mut c = valid.as_array().unwrap().clone();
        c.extend_from_slice(extra);
        let e = validate_catalogue(&Value::Array(c.clone()).to_string()).expect_err("invalid");
        // The very error the admin API's strict validation of the document gives.
        let document = json!({"schema_version": 1, "metrics": c}).to_string();
        assert_eq!(Some(&e), validate_strict(&document).err().as_ref());
        e
    };
    let path_of = |e: &Error| e.path().map(|p| p.as_str().to_owned());
    for case in doc["invalid"].as_array().unwrap() {
        let e = with(std::slice::from_ref(&case["definition"]));
        assert_eq!(e.code(), case["code"], "{}: {e}", case["name"]);
        assert_eq!(
            path_of(&e).as_deref(),
            case["path"].as_str(),
            "{}",
            case["name"]
        );
    }
    let multiple = &doc["multiple"];
    match with(multiple["definitions"].as_array().unwrap()) {
        Error::Multiple { errors } => {
            let got: Vec<Value> = errors
                .iter()
                .map(|e| json!({"code": e.code(), "path": path_of(e)}))
                .collect();
            assert_eq!(Value::Array(got), multiple["problems"]);
        }
        other => panic!("{other:?}"),
    }
    // Not an array, not JSON.
    assert_eq!(validate_catalogue("{}").unwrap_err().code(), "invalid_json");
    assert_eq!(validate_catalogue("[").unwrap_err().code(), "invalid_json");
    assert_eq!(validate_catalogue("[]").map(|m| m.len()), Ok(0));
}
