//! Flag usage and stale flags through the API, on every backend: `/evaluate` and the SDKs'
//! usage reports (`POST /sdk/usage`) count each flag's evaluations per project and
//! environment; `GET /admin/flag-usage` lists every flag with its usage and whether it is
//! stale (never evaluated, unused for N days, fully rolled out, off). Bad reports are refused
//! at their path and count nothing.
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
use litmus_server::store::Store;
use litmus_server::usage::UsageRow;
use serde_json::{Value, json};

on_every_backend!(
    evaluations_and_reports_are_counted_and_stale_flags_listed,
    bad_usage_reports_are_refused_and_count_nothing,
);

async fn put_flag(app: &axum::Router, body: Value) {
    let uri = format!("/admin/flags/{}", body["key"].as_str().unwrap());
    let r = send(app, "PUT", &uri, Some(KEY), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

async fn sdk_key(app: &axum::Router, environment: &str) -> String {
    let r = send(
        app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "sdk", "environment": environment})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    r.body["key"].as_str().unwrap().to_owned()
}

/// The usage rows by flag.
async fn usage(app: &axum::Router, query: &str) -> std::collections::BTreeMap<String, Value> {
    let r = send(
        app,
        "GET",
        &format!("/admin/flag-usage{query}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["flag"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

fn reasons(row: &Value) -> Vec<&str> {
    row["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap())
        .collect()
}

async fn evaluations_and_reports_are_counted_and_stale_flags_listed<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(state.clone());
    let rollout = |key: &str| {
        json!({"key": key, "type": "boolean", "default": false,
        "rules": [{"kind": "rollout", "percentage": 50, "value": true}]})
    };
    put_flag(&app, rollout("ramp")).await;
    put_flag(&app, rollout("never")).await;
    put_flag(&app, rollout("old")).await;
    put_flag(
        &app,
        json!({"key": "done", "type": "string", "default": "a",
        "rules": [{"kind": "force", "value": "b"}]}),
    )
    .await;
    put_flag(
        &app,
        json!({"key": "off", "type": "boolean", "default": true, "enabled": false}),
    )
    .await;
    let r = send(
        &app,
        "POST",
        "/admin/environments",
        Some(KEY),
        Some(json!({"key": "staging"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (prod, staging) = (
        sdk_key(&app, "production").await,
        sdk_key(&app, "staging").await,
    );

    // Server-side evaluations count, each flag once per evaluation.
    for flag in ["ramp", "done", "ramp"] {
        let r = send(
            &app,
            "POST",
            "/evaluate",
            Some(&prod),
            Some(json!({"unit_id": "u", "flag": flag})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK);
    }
    let r = send(
        &app,
        "POST",
        "/evaluate",
        Some(&prod),
        Some(json!({"unit_id": "u", "flag": "ghost"})),
    )
    .await;
    assert_eq!(r.body["error"], json!("flag_not_found"));
    // An SDK's report: flags the document does not have are not counted.
    let report = json!({"flags": [{"flag": "ramp", "evaluations": 40}, {"flag": "ghost", "evaluations": 3}]});
    let r = send(&app, "POST", "/sdk/usage", Some(&prod), Some(report)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    // Staging's evaluations are staging's.
    let report = json!({"flags": [{"flag": "ramp", "evaluations": 7}]});
    let r = send(&app, "POST", "/sdk/usage", Some(&staging), Some(report)).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    // A flag last evaluated 40 days ago.
    let long_ago = wall_ms() - 40 * 86_400_000;
    state
        .store
        .record_usage(vec![UsageRow {
            project: "default".into(),
            environment: "production".into(),
            flag: "old".into(),
            evaluations: 9,
            last_ms: long_ago,
        }])
        .await
        .unwrap();
    assert_eq!(
        state
            .ingest
            .usage
            .flush(state.store.as_ref())
            .await
            .unwrap(),
        3
    );

    let rows = usage(&app, "").await;
    assert_eq!(rows.len(), 5, "ghost is no flag: {rows:?}");
    assert_eq!(rows["ramp"]["evaluations"], json!(42));
    assert!(rows["ramp"]["last_evaluated_ms"].as_i64().unwrap() > wall_ms() - 3_600_000);
    assert_eq!(rows["ramp"]["stale"], json!(false));
    assert_eq!(reasons(&rows["never"]), ["never_evaluated"]);
    assert_eq!(rows["never"]["last_evaluated_ms"], Value::Null);
    assert_eq!(reasons(&rows["old"]), ["unused"]);
    assert_eq!(reasons(&rows["done"]), ["fully_rolled_out"]);
    assert_eq!(rows["done"]["serves_everyone"], json!("b"));
    assert_eq!(rows["done"]["evaluations"], json!(1));
    assert_eq!(reasons(&rows["off"]), ["never_evaluated", "off"]);
    assert_eq!(rows["off"]["serves_everyone"], json!(true));
    // Stale ones first.
    let r = send(&app, "GET", "/admin/flag-usage", Some(KEY), None).await;
    let order: Vec<bool> = r.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["stale"].as_bool().unwrap())
        .collect();
    assert_eq!(order, [true, true, true, true, false]);
    // A longer horizon: "old" is fresh enough.
    assert_eq!(usage(&app, "?days=60").await["old"]["stale"], json!(false));
    // Staging: the flags' state there (no overlay: off) and staging's own counts.
    let staged = usage(&app, "?environment=staging").await;
    assert_eq!(staged["ramp"]["evaluations"], json!(7));
    assert_eq!(reasons(&staged["ramp"]), ["off"]);
    assert_eq!(reasons(&staged["never"]), ["never_evaluated", "off"]);
    // Unknown environments and bad days.
    let r = send(
        &app,
        "GET",
        "/admin/flag-usage?environment=qa",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    for q in ["?days=0", "?days=5000"] {
        let r = send(
            &app,
            "GET",
            &format!("/admin/flag-usage{q}"),
            Some(KEY),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!(r.body["error"]["path"], json!("days"));
    }
    let r = send(&app, "GET", "/admin/flag-usage?days=x", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

async fn bad_usage_reports_are_refused_and_count_nothing<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(state.clone());
    put_flag(
        &app,
        json!({"key": "f", "type": "boolean", "default": false,
        "rules": [{"kind": "rollout", "percentage": 50, "value": true}]}),
    )
    .await;
    let key = sdk_key(&app, "production").await;
    let too_many: Vec<Value> = (0..5_001)
        .map(|i| json!({"flag": format!("f{i}"), "evaluations": 1}))
        .collect();
    for (body, status, path) in [
        (
            json!({"flags": [{"flag": "f", "evaluations": 1}, {"flag": "f", "evaluations": 2}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "flags[1].flag",
        ),
        (
            json!({"flags": [{"flag": "f", "evaluations": 0}]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "flags[0].evaluations",
        ),
        (
            json!({"flags": too_many}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "flags",
        ),
        (
            json!({"flags": [{"flag": "f", "evaluations": -1}]}),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (
            json!({"flags": [{"flag": "f", "evaluations": 1, "extra": 1}]}),
            StatusCode::BAD_REQUEST,
            "",
        ),
        (json!([1, 2]), StatusCode::BAD_REQUEST, ""),
    ] {
        let r = send(&app, "POST", "/sdk/usage", Some(&key), Some(body)).await;
        assert_eq!(r.status, status, "{:?}", r.body);
        if !path.is_empty() {
            assert_eq!(r.body["error"]["path"], json!(path));
        }
    }
    let r = send(&app, "POST", "/sdk/usage", None, Some(json!({"flags": []}))).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        state
            .ingest
            .usage
            .flush(state.store.as_ref())
            .await
            .unwrap(),
        0,
        "nothing counted"
    );
    let rows = send(&app, "GET", "/admin/flag-usage", Some(KEY), None).await;
    assert_eq!(rows.body["flags"][0]["evaluations"], json!(0));
}
