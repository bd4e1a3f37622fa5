//! Analysis settings through the API, on every backend: an experiment's `analysis` object
//! shapes its results (shown in `results.settings`), over the server's defaults; bad
//! settings are refused at their path and change nothing stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use axum::http::StatusCode;
use common::*;
use litmus_core::FieldPath;
use litmus_core::results::AnalysisSettings;
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    an_experiments_settings_shape_its_results_over_the_servers_defaults,
    bad_settings_are_refused_and_change_nothing,
);

/// 400 units over two variants; a third of the control's and half of the treatment's buy.
fn events() -> Vec<Value> {
    let mut out = Vec::new();
    for u in 0..400u64 {
        let (variant, buys) = if u % 2 == 0 {
            ("control", u % 6 == 0)
        } else {
            ("treatment", u % 4 == 1)
        };
        out.push(
            json!({"type": "exposure", "message_id": format!("x{u}"), "unit_id": format!("u{u}"),
            "experiment": "shop", "variant": variant, "timestamp": at(T0_MS)}),
        );
        if buys {
            out.push(
                json!({"type": "track", "message_id": format!("b{u}"), "unit_id": format!("u{u}"),
                "event": "buy", "value": 1.0, "timestamp": at(T0_MS + 60_000)}),
            );
        }
    }
    out
}

fn shop(analysis: Value) -> Value {
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
    exp["analysis"] = analysis;
    exp
}

async fn an_experiments_settings_shape_its_results_over_the_servers_defaults<S: Store>(
    env: &Env<S>,
) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let settings = json!({"alpha": 0.1, "test": "one_sided", "basis": "fixed_horizon",
                          "correction": "none", "min_units": 1000,
                          "priors": {"rate": {"alpha": 2, "beta": 8}}});
    let r = put_experiment(&app, "shop", shop(settings)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    post_and_apply(&state, &app, &events()).await;
    let r = send(&app, "GET", "/results/shop", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let shown = &r.body["results"]["settings"];
    assert_eq!(shown["alpha"], 0.1, "{shown}");
    assert_eq!(shown["test"], "one_sided");
    assert_eq!(shown["basis"], "fixed_horizon");
    assert_eq!(shown["correction"], "none");
    assert_eq!(shown["min_units"], 1000);
    assert_eq!(shown["rate_prior"], json!({"alpha": 2.0, "beta": 8.0}));
    let c = &r.body["results"]["metrics"][0]["variants"][1]["comparison"];
    // One-sided toward better, uncorrected: half the two-sided p-value (the treatment leads).
    let (p, decided) = (
        c["pvalue"].as_f64().unwrap_or_else(|| panic!("{}", r.body)),
        c["adjusted_pvalue"].as_f64().unwrap(),
    );
    assert!((decided - p / 2.0).abs() < 1e-12, "{c}");
    assert!(decided < 0.1, "significant at the experiment's alpha: {c}");
    // But 200 units a side is under min_units: no verdict yet.
    assert_eq!(c["below_min_units"], true, "{c}");
    assert_eq!(c["verdict"], "inconclusive");

    // Without its own settings, the experiment takes the server's defaults, then core's.
    let r = put_experiment(&app, "shop", shop(Value::Null)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let defaults = AnalysisSettings::decode(
        &json!({"alpha": 0.2, "correction": "bonferroni", "basis": "fixed_horizon"}),
        &FieldPath::root(),
    )
    .unwrap();
    let engine = state.snapshots.of("default").engine().await.unwrap();
    let value = litmus_server::results::experiment_results(
        state.store.as_ref(),
        &engine,
        &defaults,
        "shop",
        &litmus_server::environments::Stream::production(),
        10,
    )
    .await
    .unwrap();
    let shown = &value["results"]["settings"];
    assert_eq!(
        (shown["alpha"].as_f64(), shown["correction"].as_str()),
        (Some(0.2), Some("bonferroni"))
    );
    assert_eq!(
        (shown["test"].as_str(), shown["basis"].as_str()),
        (Some("two_sided"), Some("fixed_horizon"))
    );
    let c = &value["results"]["metrics"][0]["variants"][1]["comparison"];
    assert_eq!(c["verdict"], "better", "no min_units by default: {c}");
}

async fn bad_settings_are_refused_and_change_nothing<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let r = put_experiment(&app, "shop", shop(json!({"alpha": 0.05}))).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    for (analysis, code, path) in [
        (
            json!({"alpha": 0.7}),
            "invalid_value",
            "experiments[shop].analysis.alpha",
        ),
        (
            json!({"correction": "sidak"}),
            "invalid_json",
            "experiments[shop].analysis.correction",
        ),
        (
            json!({"test": "one_sided"}),
            "invalid_value",
            "experiments[shop].analysis.basis",
        ),
        (
            json!({"priors": {"lift": {"mean": 0, "sd": -1}}}),
            "invalid_value",
            "experiments[shop].analysis.priors.lift.sd",
        ),
        (
            json!({"alhpa": 0.1}),
            "unknown_field",
            "experiments[shop].analysis.alhpa",
        ),
        (
            json!("strict"),
            "invalid_json",
            "experiments[shop].analysis",
        ),
    ] {
        let r = put_experiment(&app, "shop", shop(analysis.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{analysis}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), code, "{analysis}: {:?}", r.body);
        assert_eq!(r.body["error"]["path"], path, "{analysis}: {:?}", r.body);
    }
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(before.body, after.body, "nothing stored changed");
}
