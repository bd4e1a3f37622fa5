//! Engine behaviour through the public API: loading, reasons, uniformity, independence.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::{Attributes, Engine, Error, Kind, NoAttributes, Reason, Status, Timestamp};
use serde_json::json;

const MINIMAL: &str = r#"{"schema_version":1,"experiments":[{"key":"checkout-button","salt":"cb-2026","status":"running","traffic":1.0,"variants":[{"key":"control","weight":1},{"key":"treatment","weight":1}]}]}"#;

fn engine(config: serde_json::Value) -> Engine {
    Engine::from_value(config).expect("config loads")
}

fn running(key: &str, weights: &[f64]) -> serde_json::Value {
    let variants: Vec<_> = weights
        .iter()
        .enumerate()
        .map(|(i, w)| json!({"key": format!("v{i}"), "weight": w}))
        .collect();
    json!({"key": key, "status": "running", "variants": variants})
}

#[test]
fn minimal_document_parses_and_runs() {
    let engine = Engine::from_json(MINIMAL).expect("minimal config");
    assert!(engine.problems().is_empty());
    let exp = engine.experiment("checkout-button").expect("compiled");
    assert_eq!(exp.kind(), Kind::Ab);
    assert_eq!(exp.status(), Status::Running);
    assert_eq!(exp.expected_shares(), vec![0.5, 0.5]);
    let mut seen = [0usize; 2];
    for i in 0..1000 {
        let unit = format!("user-{i}");
        let a = engine.assign("checkout-button", &unit, &NoAttributes);
        assert!(a.in_experiment());
        assert_eq!(a.reason(), Reason::Assigned);
        let v = a.variant().expect("a variant");
        seen[v.index()] += 1;
        // Deterministic: the same answer every time.
        assert_eq!(
            engine
                .assign("checkout-button", &unit, &NoAttributes)
                .variant_key(),
            a.variant_key()
        );
    }
    assert!(seen.iter().all(|&n| n > 400), "{seen:?}");
    // Strict parsing accepts it too.
    assert!(Engine::from_json_strict(MINIMAL).is_ok());
}

#[test]
fn unknown_and_invalid_experiments_are_values() {
    let engine = engine(json!({"schema_version": 1, "experiments": [
        running("good", &[1.0, 1.0]),
        {"key": "bad", "status": "running", "traffic": 2, "variants": [{"key": "a"}]}
    ]}));
    assert_eq!(
        engine.assign("nope", "u", &NoAttributes).reason(),
        Reason::UnknownExperiment
    );
    let bad = engine.assign("bad", "u", &NoAttributes);
    assert_eq!(bad.reason(), Reason::InvalidConfig);
    assert_eq!(bad.variant(), None);
    assert!(!bad.in_experiment());
    assert_eq!(
        engine.assign("good", "u", &NoAttributes).reason(),
        Reason::Assigned
    );
    let [problem] = engine.problems() else {
        panic!("one problem expected: {:?}", engine.problems())
    };
    assert_eq!(problem.code(), "invalid_value");
    assert_eq!(
        problem.path().map(|p| p.as_str()),
        Some("experiments[bad].traffic")
    );
    let listed: Vec<_> = engine.experiments().map(|(k, r)| (k, r.is_ok())).collect();
    assert_eq!(listed, vec![("good", true), ("bad", false)]);
}

#[test]
fn strict_rejects_unknown_fields_everywhere_lenient_ignores_them() {
    let doc = json!({"schema_version": 1, "future": 1, "experiments": [{
        "key": "e", "status": "running", "colour": "red",
        "variants": [{"key": "a", "extra": true}],
        "layer": {"key": "l", "range": [0, 1], "x": 1}
    }], "layers": [{"key": "l", "y": 2}]});
    let text = doc.to_string();
    let lenient = Engine::from_json(&text).expect("lenient");
    assert!(lenient.problems().is_empty());
    assert_eq!(
        lenient.assign("e", "u", &NoAttributes).reason(),
        Reason::Assigned
    );
    let Err(Error::Multiple { errors }) = Engine::from_json_strict(&text) else {
        panic!("strict must fail with every unknown field")
    };
    let mut paths: Vec<_> = errors
        .iter()
        .map(|e| {
            (
                e.code(),
                e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            )
        })
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        vec![
            ("unknown_field", "experiments[e].colour".to_owned()),
            ("unknown_field", "experiments[e].layer.x".to_owned()),
            (
                "unknown_field",
                "experiments[e].variants[0].extra".to_owned()
            ),
            ("unknown_field", "future".to_owned()),
            ("unknown_field", "layers[l].y".to_owned()),
        ]
    );
    let single = json!({"schema_version": 1, "experiments": [{"key": "e", "variants": [{"key": "a", "weight": -1}]}]});
    let err = litmus_core::config::validate_strict(&single.to_string()).expect_err("invalid");
    assert_eq!(err.code(), "invalid_value");
    assert_eq!(
        err.path().map(|p| p.as_str()),
        Some("experiments[e].variants[0].weight")
    );
}

#[test]
fn validate_strict_fills_defaults() {
    let wire = litmus_core::config::validate_strict(
        r#"{"schema_version":1,"experiments":[{"key":"e","variants":[{"key":"a"}]}]}"#,
    )
    .expect("valid");
    let exp = &wire.experiments[0];
    assert_eq!(
        (exp.traffic, exp.hash_version, exp.status),
        (1.0, 1, Status::Draft)
    );
    assert_eq!(exp.variants[0].weight, 1.0);
}

#[test]
fn time_windows_need_a_time() {
    let engine = engine(json!({"schema_version": 1, "experiments": [{
        "key": "w", "status": "running", "variants": [{"key": "a"}],
        "start_time": "2026-06-01T00:00:00Z", "end_time": "2026-07-01T00:00:00Z"
    }]}));
    let at = |t: &str| Timestamp::parse_rfc3339(t);
    assert_eq!(
        engine.assign("w", "u", &NoAttributes).reason(),
        Reason::NotRunning
    );
    assert_eq!(
        engine
            .assign_at("w", "u", &NoAttributes, at("2026-06-15T00:00:00Z"))
            .reason(),
        Reason::Assigned
    );
    engine.set_now(at("2026-05-31T23:59:59.999Z").expect("time"));
    assert_eq!(
        engine.assign("w", "u", &NoAttributes).reason(),
        Reason::NotRunning
    );
    engine.set_now(at("2026-06-01T00:00:00Z").expect("time"));
    assert_eq!(
        engine.assign("w", "u", &NoAttributes).reason(),
        Reason::Assigned
    );
    assert_eq!(engine.now(), at("2026-06-01T00:00:00Z"));
    engine.set_now(at("2026-07-01T00:00:00Z").expect("time"));
    assert_eq!(
        engine.assign("w", "u", &NoAttributes).reason(),
        Reason::NotRunning
    );
}

#[test]
fn assign_all_covers_running_experiments_in_order() {
    let engine = engine(json!({"schema_version": 1, "experiments": [
        running("a", &[1.0]),
        {"key": "draft", "variants": [{"key": "x"}]},
        running("b", &[1.0, 1.0]),
        {"key": "targeted", "status": "running", "variants": [{"key": "x"}],
         "targeting": {"attribute": "plan", "op": "eq", "value": "pro"}}
    ]}));
    let attrs = Attributes::new().with("plan", "free");
    let all: Vec<_> = engine
        .assign_all("user-1", &attrs)
        .map(|a| (a.experiment().map(|e| e.key()), a.reason()))
        .collect();
    assert_eq!(
        all,
        vec![
            (Some("a"), Reason::Assigned),
            (Some("b"), Reason::Assigned),
            (Some("targeted"), Reason::TargetingMiss),
        ]
    );
}

#[test]
fn multivariate_cells_carry_levels_and_payloads() {
    let engine = engine(json!({"schema_version": 1, "experiments": [{
        "key": "mv", "kind": "multivariate", "status": "running",
        "factors": [
            {"key": "color", "levels": [{"key": "red", "payload": "#f00"}, {"key": "green", "weight": 3}]},
            {"key": "headline", "levels": [{"key": "short"}, {"key": "long"}]}
        ]
    }]}));
    let exp = engine.experiment("mv").expect("compiled");
    let keys: Vec<_> = exp.variants().iter().map(|v| v.key()).collect();
    assert_eq!(
        keys,
        vec![
            "color=red,headline=short",
            "color=red,headline=long",
            "color=green,headline=short",
            "color=green,headline=long"
        ]
    );
    assert_eq!(exp.expected_shares(), vec![0.125, 0.125, 0.375, 0.375]);
    let red = exp.variant("color=red,headline=long").expect("cell");
    assert_eq!(red.payload(), Some(&json!({"color": "#f00"})));
    assert_eq!(red.level("headline"), Some("long"));
    assert_eq!(
        red.factors().collect::<Vec<_>>(),
        vec![("color", "red"), ("headline", "long")]
    );
    let mut counts = [0usize; 4];
    for i in 0..40_000 {
        let a = engine.assign("mv", &format!("u{i}"), &NoAttributes);
        counts[a.variant().expect("assigned").index()] += 1;
    }
    for (count, share) in counts.iter().zip(exp.expected_shares()) {
        let expected = 40_000.0 * share;
        assert!(
            (*count as f64 - expected).abs() < 5.0 * expected.sqrt(),
            "{counts:?}"
        );
    }
}

#[test]
fn changing_one_factor_keeps_the_other() {
    let config = |headline_levels: serde_json::Value| {
        engine(json!({"schema_version": 1, "experiments": [{
            "key": "mv", "kind": "multivariate", "status": "running",
            "factors": [
                {"key": "color", "levels": [{"key": "red"}, {"key": "green"}, {"key": "blue"}]},
                {"key": "headline", "levels": headline_levels}
            ]
        }]}))
    };
    let before = config(json!([{"key": "short"}, {"key": "long"}]));
    let after = config(json!([{"key": "short", "weight": 5}, {"key": "long"}, {"key": "new"}]));
    for i in 0..2_000 {
        let unit = format!("u{i}");
        let level = |e: &Engine| {
            e.assign("mv", &unit, &NoAttributes)
                .variant()
                .and_then(|v| v.level("color"))
                .map(str::to_owned)
        };
        assert_eq!(level(&before), level(&after));
    }
}

/// Chi-squared statistic of observed counts against expected shares.
fn chi_squared(counts: &[u64], shares: &[f64]) -> f64 {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .zip(shares)
        .map(|(&c, &s)| {
            let e = n as f64 * s;
            (c as f64 - e).powi(2) / e
        })
        .sum()
}

/// Upper 0.001 quantiles of the chi-squared distribution (scipy.stats.chi2.ppf(0.999, df)).
fn critical_0_001(df: usize) -> f64 {
    match df {
        1 => 10.827566170662733,
        2 => 13.815510557964274,
        9 => 27.877164871256568,
        _ => panic!("no critical value for df={df}"),
    }
}

#[test]
fn uniform_over_a_million_ids_for_uneven_weights() {
    for weights in [
        &[1.0, 3.0][..],
        &[0.2, 0.3, 0.5],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0],
    ] {
        let engine = engine(json!({"schema_version": 1, "experiments": [running("u", weights)]}));
        let shares = engine.experiment("u").expect("compiled").expected_shares();
        let mut counts = vec![0u64; weights.len()];
        let mut unit = String::new();
        for i in 0..1_000_000u32 {
            unit.clear();
            use std::fmt::Write;
            let _ = write!(unit, "user-{i}");
            let v = engine
                .assign("u", &unit, &NoAttributes)
                .variant()
                .expect("assigned");
            counts[v.index()] += 1;
        }
        let stat = chi_squared(&counts, &shares);
        assert!(
            stat < critical_0_001(weights.len() - 1),
            "weights {weights:?}: chi2 {stat} (p < 0.001), counts {counts:?}"
        );
    }
}

#[test]
fn experiments_with_different_salts_are_independent() {
    let engine = engine(json!({"schema_version": 1, "experiments": [
        running("first", &[1.0, 1.0]), running("second", &[1.0, 1.0])
    ]}));
    let mut table = [[0u64; 2]; 2];
    for i in 0..1_000_000u32 {
        let unit = format!("{i:08x}");
        let a = engine
            .assign("first", &unit, &NoAttributes)
            .variant()
            .expect("a")
            .index();
        let b = engine
            .assign("second", &unit, &NoAttributes)
            .variant()
            .expect("b")
            .index();
        table[a][b] += 1;
    }
    // Chi-squared test of independence on the 2x2 table.
    let n: u64 = table.iter().flatten().sum();
    let rows = [table[0][0] + table[0][1], table[1][0] + table[1][1]];
    let cols = [table[0][0] + table[1][0], table[0][1] + table[1][1]];
    let mut stat = 0.0;
    for r in 0..2 {
        for c in 0..2 {
            let e = rows[r] as f64 * cols[c] as f64 / n as f64;
            stat += (table[r][c] as f64 - e).powi(2) / e;
        }
    }
    assert!(stat < critical_0_001(1), "chi2 {stat}, table {table:?}");
}

#[test]
fn layers_are_mutually_exclusive_and_holdouts_consistent() {
    let engine = engine(json!({"schema_version": 1,
    "layers": [{"key": "checkout"}],
    "holdouts": [{"key": "global", "share": 0.1, "all": true}],
    "experiments": [
        {"key": "x", "status": "running", "variants": [{"key": "a"}], "layer": {"key": "checkout", "range": [0, 0.5]}},
        {"key": "y", "status": "running", "variants": [{"key": "a"}], "layer": {"key": "checkout", "range": [0.5, 1]}},
        running("z", &[1.0])
    ]}));
    let (mut held, mut n) = (0, 0);
    for i in 0..20_000 {
        let unit = format!("user-{i}");
        let r: Vec<_> = ["x", "y", "z"]
            .iter()
            .map(|e| engine.assign(e, &unit, &NoAttributes).reason())
            .collect();
        if r[2] == Reason::Holdout {
            held += 1;
            assert!(r.iter().all(|&x| x == Reason::Holdout), "{unit}: {r:?}");
            continue;
        }
        n += 1;
        let inside = r[..2].iter().filter(|&&x| x == Reason::Assigned).count();
        assert_eq!(inside, 1, "{unit}: exactly one layer member, got {r:?}");
        assert!(r[..2].contains(&Reason::OtherLayerMember));
    }
    assert!(
        (1_700..2_300).contains(&held),
        "held out {held} of {}",
        held + n
    );
}

#[test]
fn overlapping_layer_ranges_reject_the_later_experiment() {
    let engine = engine(
        json!({"schema_version": 1, "layers": [{"key": "l"}], "experiments": [
            {"key": "x", "status": "running", "variants": [{"key": "a"}], "layer": {"key": "l", "range": [0, 0.6]}},
            {"key": "y", "status": "running", "variants": [{"key": "a"}], "layer": {"key": "l", "range": [0.5, 1]}}
        ]}),
    );
    assert!(engine.experiment("x").is_some());
    assert!(engine.experiment("y").is_none());
    assert_eq!(engine.problems()[0].code(), "overlapping_ranges");
    assert_eq!(
        engine.problems()[0].path().map(|p| p.as_str()),
        Some("experiments[y].layer.range")
    );
}

#[test]
fn a_broken_holdout_rejects_the_experiments_it_guards() {
    let engine = engine(json!({"schema_version": 1,
        "holdouts": [{"key": "h", "share": 7, "experiments": ["guarded"]}],
        "experiments": [running("guarded", &[1.0]), running("free", &[1.0])]}));
    assert_eq!(
        engine.assign("guarded", "u", &NoAttributes).reason(),
        Reason::InvalidConfig
    );
    assert_eq!(
        engine.assign("free", "u", &NoAttributes).reason(),
        Reason::Assigned
    );
    assert_eq!(
        engine.problems()[0].path().map(|p| p.as_str()),
        Some("holdouts[h].share")
    );
}

#[test]
fn targeting_miss_reports_why() {
    let engine = engine(json!({"schema_version": 1, "experiments": [{
        "key": "t", "status": "running", "variants": [{"key": "a"}],
        "targeting": {"attribute": "age", "op": "gte", "value": 18}
    }]}));
    let miss = |attrs: serde_json::Value| engine.assign("t", "u", &attrs).miss().map(|m| m.code());
    assert_eq!(miss(json!({"age": 21})), None);
    assert_eq!(miss(json!({"age": 12})), Some("false"));
    assert_eq!(miss(json!({})), Some("attribute_missing"));
    assert_eq!(miss(json!({"age": "21"})), Some("type_mismatch"));
}

#[test]
fn engine_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Engine>();
}

#[test]
fn experiments_declare_their_metrics() {
    let with = |metrics: serde_json::Value| {
        json!({"schema_version": 1, "experiments": [{
            "key": "e", "status": "running", "variants": [{"key": "a"}, {"key": "b"}],
            "metrics": metrics
        }]})
        .to_string()
    };
    let ok = with(json!([
        {"key": "purchase", "kind": "conversion"},
        {"key": "purchase", "kind": "mean"},
        {"key": "error", "kind": "conversion", "goal": "decrease", "guardrail": true}
    ]));
    let config = litmus_core::config::validate_strict(&ok).expect("valid metrics");
    let metrics = &config.experiments[0].metrics;
    assert_eq!(metrics.len(), 3);
    let litmus_core::config::wire::WireMetric::Inline(guard) = &metrics[2] else {
        panic!("an inline metric");
    };
    assert!(guard.guardrail && guard.goal == litmus_core::results::Goal::Decrease);
    // Round trip: serialized as given (defaults left out).
    let back = serde_json::to_value(&config.experiments[0].metrics).expect("serializable");
    assert_eq!(
        back[0],
        json!({"key": "purchase", "kind": "conversion", "goal": "increase"})
    );
    assert_eq!(back[2]["guardrail"], true);

    let cases = [
        (
            json!([{"key": "p", "kind": "mean"}, {"key": "p", "kind": "mean"}]),
            "duplicate_key",
            "experiments[e].metrics[1].key",
        ),
        (
            json!([{"key": "", "kind": "mean"}]),
            "invalid_value",
            "experiments[e].metrics[0].key",
        ),
        (
            json!([{"key": "p", "kind": "mean", "weight": 3}]),
            "unknown_field",
            "experiments[e].metrics[0].weight",
        ),
    ];
    for (metrics, code, path) in cases {
        let err =
            litmus_core::config::validate_strict(&with(metrics.clone())).expect_err("invalid");
        let err = match err {
            Error::Multiple { errors } => errors.into_iter().next().expect("one error"),
            e => e,
        };
        assert_eq!(
            (err.code(), err.path().map(|p| p.as_str().to_owned())),
            (code, Some(path.to_owned())),
            "{metrics}"
        );
    }
}

#[test]
fn assigning_by_position_is_assigning_by_key() {
    let bad = json!({"key": "bad", "status": "running", "variants": []});
    let mut targeted = running("targeted", &[1.0, 1.0]);
    targeted["targeting"] = json!({"all": [
        {"attribute": "country", "op": "eq", "value": "US"},
        {"not": {"attribute": "plan", "op": "in", "value": ["free"]}},
        {"any": [{"attribute": "age", "op": "gte", "value": 18}, {"attribute": "country", "op": "exists"}]}
    ]});
    targeted["start_time"] = json!("2026-01-01T00:00:00Z");
    targeted["dimensions"] = json!([{"key": "country"}, {"key": "platform", "attribute": "os"}]);
    let e = engine(json!({"schema_version": 1, "experiments": [
        running("plain", &[1.0, 2.0, 3.0]), bad, targeted
    ]}));
    assert_eq!(e.experiment_position("plain"), Some(0));
    assert_eq!(
        e.experiment_position("bad"),
        Some(1),
        "a rejected experiment keeps its place"
    );
    assert_eq!(e.experiment_position("targeted"), Some(2));
    assert_eq!(e.experiment_position("nope"), None);
    assert_eq!(e.experiment("targeted").map(|x| x.position()), Some(2));
    assert_eq!(
        e.experiment("targeted").map(|x| x.attribute_names()),
        Some(vec!["country", "plan", "age", "os"]),
        "each attribute once: the targeting's in the order it reads them, then the dimensions'"
    );
    assert!(e.experiment("targeted").is_some_and(|x| x.windowed()));
    assert!(
        e.experiment("plain")
            .is_some_and(|x| !x.windowed() && x.attribute_names().is_empty())
    );
    let now = Some(Timestamp::parse_rfc3339("2026-06-01T00:00:00Z").unwrap());
    let us = Attributes::new().with("country", "US").with("plan", "pro");
    for i in 0..2000 {
        let unit = format!("user-{i}");
        for key in ["plain", "bad", "targeted"] {
            let position = e.experiment_position(key).unwrap();
            for kept in [None, Some("v1")] {
                let by_key = e.assign_sticky_at(key, &unit, &us, now, kept);
                let by_position = e.assign_position_at(position, &unit, &us, now, kept);
                let seen = |a: litmus_core::Assignment<'_>| {
                    let experiment = a.experiment().map(|x| x.key().to_owned());
                    (
                        experiment,
                        a.variant_key().map(str::to_owned),
                        a.reason(),
                        a.miss(),
                        a.in_experiment(),
                    )
                };
                assert_eq!(seen(by_key), seen(by_position), "{key} {unit} {kept:?}");
            }
        }
    }
    let past = e.assign_position_at(3, "u", &NoAttributes, None, None);
    assert_eq!(past.reason(), Reason::UnknownExperiment);
}
