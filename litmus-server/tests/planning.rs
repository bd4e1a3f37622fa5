//! `POST /planning` on every backend: a plan from a baseline given (the shared fixture's
//! cases), and from an experiment's control recomputed here from the raw events posted;
//! bad requests answer 4xx naming the field.
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
use litmus_core::results::AnalysisSettings;
use litmus_core::results::planning::plan_json;
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    plans_from_a_baseline_given_and_from_an_experiments_control,
    bad_planning_requests_name_their_field,
);

const DAY_MS: i64 = 86_400_000;

async fn plan(app: &axum::Router, body: Value) -> Reply {
    send(app, "POST", "/planning", Some(KEY), Some(body)).await
}

async fn plans_from_a_baseline_given_and_from_an_experiments_control<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/planning/cases.json");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    for case in doc["valid"].as_array().unwrap() {
        let r = plan(&app, case["request"].clone()).await;
        assert_eq!(r.status, StatusCode::OK, "{}: {:?}", case["name"], r.body);
        assert_eq!(
            r.body["plan"]["units_per_variant"], case["units_per_variant"],
            "{}",
            case["name"]
        );
        assert_eq!(r.body["source"], Value::Null);
    }

    // An experiment over two days: 300 units, a third of the control's buying.
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
    exp["analysis"] = json!({"basis": "fixed_horizon", "alpha": 0.1});
    assert_eq!(
        put_experiment(&app, "shop", exp).await.status,
        StatusCode::OK
    );
    let (mut events, mut control, mut bought) = (Vec::new(), 0u64, 0u64);
    for u in 0..300u64 {
        let variant = if u % 2 == 0 { "control" } else { "treatment" };
        let time = T0_MS + (u as i64) * (2 * DAY_MS / 300);
        events.push(
            json!({"type": "exposure", "message_id": format!("x{u}"), "unit_id": format!("u{u}"),
            "experiment": "shop", "variant": variant, "timestamp": at(time)}),
        );
        let buys = u % 3 == 0;
        if variant == "control" {
            control += 1;
            bought += u64::from(buys);
        }
        if buys {
            events.push(
                json!({"type": "track", "message_id": format!("b{u}"), "unit_id": format!("u{u}"),
                "event": "buy", "value": 1.0, "timestamp": at(time + 1_000)}),
            );
        }
    }
    post_and_apply(&state, &app, &events).await;

    let r = plan(
        &app,
        json!({"experiment": "shop", "metric": "buy", "lift": 0.2}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let rate = bought as f64 / control as f64;
    assert_eq!(
        r.body["baseline"],
        json!({"kind": "rate", "rate": rate}),
        "{:?}",
        r.body
    );
    let source = &r.body["source"];
    assert_eq!(
        (source["experiment"].as_str(), source["units"].as_u64()),
        (Some("shop"), Some(300))
    );
    let days = source["days"].as_f64().unwrap();
    // The data span is whole minutes from the first exposure to the last.
    assert!(days > 1.99 && days < 2.01, "{days}");
    // The experiment's settings (fixed horizon, alpha 0.1) and the units a day it had.
    assert_eq!(r.body["settings"]["basis"], "fixed_horizon");
    let want = plan_json(
        &json!({"baseline": {"kind": "rate", "rate": rate}, "lift": 0.2, "units_per_day": 300.0 / days,
                "variants": 2, "analysis": {"basis": "fixed_horizon", "alpha": 0.1}}),
        &AnalysisSettings::default(),
    )
    .unwrap();
    assert_eq!(r.body["plan"], serde_json::to_value(want.plan).unwrap());
    // What the body sets wins over what the experiment gives.
    let r = plan(
        &app,
        json!({"experiment": "shop", "metric": "buy", "lift": 0.2, "units_per_day": 1000,
                              "analysis": {"basis": "sequential"}}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["settings"]["basis"], "sequential");
    assert_eq!(
        r.body["settings"]["alpha"], 0.1,
        "the experiment's alpha stays"
    );
    let p = &r.body["plan"];
    assert!(
        (p["days"].as_f64().unwrap() - p["total_units"].as_f64().unwrap() / 1000.0).abs() < 1e-9
    );
    assert!(p["units_per_variant"].as_f64() > p["fixed_horizon_units"].as_f64());
}

async fn bad_planning_requests_name_their_field<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp).await.status,
        StatusCode::OK
    );
    for (body, status, code, path) in [
        (json!({"lift": 0.1}), 422, "missing_field", "baseline"),
        (
            json!({"baseline": {"kind": "rate", "rate": 1.5}, "lift": 0.1}),
            422,
            "invalid_value",
            "baseline.rate",
        ),
        (
            json!({"baseline": {"kind": "rate", "rate": 0.5}, "lift": 0.1, "power": 2}),
            422,
            "invalid_value",
            "power",
        ),
        (
            json!({"baseline": {"kind": "rate", "rate": 0.5}, "lift": 0.1, "mde": 1}),
            422,
            "unknown_field",
            "mde",
        ),
        (
            json!({"experiment": "shop", "lift": 0.1}),
            422,
            "missing_field",
            "metric",
        ),
        (
            json!({"experiment": "shop", "metric": "nope", "lift": 0.1}),
            422,
            "invalid_value",
            "metric",
        ),
        (
            json!({"experiment": "shop", "metric": "buy", "lift": 0.1}),
            422,
            "invalid_value",
            "metric",
        ),
        (
            json!({"experiment": 3, "lift": 0.1}),
            422,
            "invalid_value",
            "experiment",
        ),
        (
            json!({"experiment": "gone", "metric": "buy", "lift": 0.1}),
            404,
            "not_found",
            "",
        ),
        (json!([1]), 422, "invalid_value", ""),
    ] {
        let r = plan(&app, body.clone()).await;
        assert_eq!(r.status.as_u16(), status, "{body}: {:?}", r.body);
        assert_eq!(error_code(&r), code, "{body}: {:?}", r.body);
        assert_eq!(
            r.body["error"]["path"].as_str().unwrap_or(""),
            path,
            "{body}: {:?}",
            r.body
        );
    }
    // A body that is not JSON: 400.
    use tower::ServiceExt;
    let req = axum::http::Request::builder()
        .method("POST")
        .uri("/planning")
        .header("authorization", format!("Bearer {KEY}"))
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
}
