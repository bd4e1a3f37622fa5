//! Feature flags through the API, on every backend: the admin API stores flags validated by
//! core (bad ones refused at their path, nothing stored), SDK snapshots carry them, and
//! `POST /evaluate` answers core's evaluation, with experiment rules sticky in the cache.
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
use serde_json::{Value, json};

on_every_backend!(
    flags_are_stored_published_and_evaluated_as_core_evaluates_them,
    bad_flags_are_refused_at_their_path_and_nothing_changes,
    experiment_rules_are_sticky_across_weight_changes,
    evaluate_refuses_bad_requests,
);

/// `PUT /admin/flags/{key}` with the admin key.
async fn put_flag(app: &axum::Router, key: &str, body: Value) -> Reply {
    send(
        app,
        "PUT",
        &format!("/admin/flags/{key}"),
        Some(KEY),
        Some(body),
    )
    .await
}

/// `POST /evaluate` with the admin key.
async fn evaluate(app: &axum::Router, body: Value) -> Reply {
    send(app, "POST", "/evaluate", Some(KEY), Some(body)).await
}

fn checkout_flag() -> Value {
    json!({"key": "new-checkout", "type": "boolean", "default": false, "description": "one-page checkout",
    "rules": [
        {"id": "staff", "kind": "force", "condition": {"attribute": "email", "op": "ends_with", "value": "@litmus.dev"}, "value": true},
        {"id": "ramp", "kind": "rollout", "percentage": 25, "value": true}
    ]})
}

async fn flags_are_stored_published_and_evaluated_as_core_evaluates_them<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let r = put_flag(&app, "new-checkout", checkout_flag()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["flag"]["enabled"], json!(true), "defaults filled in");
    let r = put_flag(&app, "limit", json!({"type": "number", "default": 5})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let listed = send(&app, "GET", "/admin/flags", Some(KEY), None).await;
    let keys: Vec<&str> = listed.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["limit", "new-checkout"]);
    // SDKs get the flags in their snapshot, and evaluate them as the server does.
    let snapshot = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(snapshot.status, StatusCode::OK);
    let engine = litmus_core::Engine::from_value(snapshot.body.clone()).unwrap();
    assert!(engine.problems().is_empty());
    for i in 0..200 {
        let unit = format!("user-{i}");
        let r = evaluate(&app, json!({"unit_id": unit, "flag": "new-checkout"})).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let e = engine.evaluate_at("new-checkout", &unit, &litmus_core::NoAttributes, None);
        assert_eq!(r.body["value"], *e.value().unwrap());
        assert_eq!(r.body["reason"], e.reason().code());
        assert_eq!(r.body["rule"], json!(e.rule_id()));
        assert_eq!(r.body["assignment"], Value::Null);
    }
    let staff = evaluate(
        &app,
        json!({"unit_id": "u", "attributes": {"email": "ada@litmus.dev"}, "flag": "new-checkout"}),
    )
    .await;
    assert_eq!(
        (
            staff.body["value"].clone(),
            staff.body["reason"].clone(),
            staff.body["variant"].clone()
        ),
        (json!(true), json!("TARGETING_MATCH"), json!("staff"))
    );
    // Every flag, in config order; a list; an unknown flag is an error value, not a failure.
    let all = evaluate(&app, json!({"unit_id": "u"})).await;
    let flags: Vec<&str> = all.body["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["flag"].as_str().unwrap())
        .collect();
    let published: Vec<&str> = engine.flags().map(|(k, _)| k).collect();
    assert_eq!(flags, published);
    assert_eq!(flags.len(), 2);
    let some = evaluate(&app, json!({"unit_id": "u", "flags": ["limit", "nope"]})).await;
    assert_eq!(some.body["flags"][0]["value"].as_f64(), Some(5.0));
    assert_eq!(some.body["flags"][1]["reason"], "ERROR");
    assert_eq!(some.body["flags"][1]["error"], "flag_not_found");
    // Another environment's overlay is stored with the flag, validated at its path, and kept
    // out of the SDK document (which is the default environment's).
    let r = send(
        &app,
        "POST",
        "/admin/environments",
        Some(KEY),
        Some(json!({"key": "staging"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut staged = checkout_flag();
    staged["environments"] =
        json!({"staging": {"enabled": true, "rules": [{"kind": "force", "value": true}]}});
    let r = put_flag(&app, "new-checkout", staged.clone()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["flag"]["environments"]["staging"]["enabled"],
        json!(true)
    );
    let sdk = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    assert!(!sdk.to_string().contains("environments"), "{sdk}");
    staged["environments"]["staging"]["rules"][0]["value"] = json!("yes");
    let r = put_flag(&app, "new-checkout", staged).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["path"], "flags[new-checkout].environments[staging].rules[0].value",
        "{:?}",
        r.body
    );
    // The audit names the change; deleting the flag republishes without it.
    let audit = send(
        &app,
        "GET",
        "/admin/audit?key=new-checkout",
        Some(KEY),
        None,
    )
    .await;
    let actions: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["flag.update", "flag.create"], "{:?}", audit.body);
    let r = send(&app, "DELETE", "/admin/flags/limit", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let gone = evaluate(&app, json!({"unit_id": "u", "flag": "limit"})).await;
    assert_eq!(gone.body["error"], "flag_not_found");
}

async fn bad_flags_are_refused_at_their_path_and_nothing_changes<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let r = put_experiment(&app, "exp", experiment("exp", "running")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = put_flag(&app, "parent", json!({"type": "boolean", "default": false})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    let cases = [
        (
            json!({"type": "boolean", "default": "yes"}),
            "invalid_value",
            "flags[f].default",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "rollout", "percentage": 150, "value": true}]}),
            "invalid_value",
            "flags[f].rules[0].percentage",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "force", "value": 3}]}),
            "invalid_value",
            "flags[f].rules[0].value",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "experiment", "experiment": "ghost", "values": {}}]}),
            "unknown_reference",
            "flags[f].rules[0].experiment",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "prerequisite", "flag": "ghost", "is": true, "value": true}]}),
            "unknown_reference",
            "flags[f].rules[0].flag",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "force", "value": true, "bogus": 1}]}),
            "unknown_field",
            "flags[f].rules[0].bogus",
        ),
        (
            json!({"type": "boolean", "default": true, "rules": [{"kind": "prerequisite", "flag": "f", "is": true, "value": true}]}),
            "prerequisite_cycle",
            "flags[f].rules[0].flag",
        ),
    ];
    for (body, code, path) in cases {
        let r = send(&app, "PUT", "/admin/flags/f", Some(KEY), Some(body.clone())).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), code, "{body}: {:?}", r.body);
        assert_eq!(r.body["error"]["path"], path, "{body}: {:?}", r.body);
    }
    // A cycle through two flags: the second change is refused, naming the cycle.
    let r = put_flag(
        &app,
        "child",
        json!({"type": "boolean", "default": false,
        "rules": [{"kind": "prerequisite", "flag": "parent", "is": true, "value": true}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = put_flag(
        &app,
        "parent",
        json!({"type": "boolean", "default": false,
        "rules": [{"kind": "prerequisite", "flag": "child", "is": true, "value": true}]}),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert!(
        r.body.to_string().contains("prerequisite_cycle"),
        "{:?}",
        r.body
    );
    // An experiment a flag depends on cannot be deleted from under it.
    let r = put_flag(&app, "uses-exp", json!({"type": "boolean", "default": false,
        "rules": [{"kind": "experiment", "experiment": "exp", "values": {"control": false, "treatment": true}}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = put_experiment(&app, "exp", experiment("exp", "stopped")).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = send(&app, "DELETE", "/admin/experiments/exp", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["path"], "flags[uses-exp].rules[0].experiment",
        "{:?}",
        r.body
    );
    // Nothing the refused changes touched was stored.
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    let flag_keys = |doc: &Value| -> Vec<String> {
        doc["flags"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| f["key"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(flag_keys(&before), ["parent"]);
    assert_eq!(flag_keys(&after), ["child", "parent", "uses-exp"]);
    assert_eq!(
        after["flags"][1]["rules"],
        Value::Null,
        "parent unchanged: {after}"
    );
}

async fn experiment_rules_are_sticky_across_weight_changes<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let exp = |weights: [f64; 2]| {
        json!({"key": "color-test", "status": "running",
        "variants": [{"key": "control", "weight": weights[0]}, {"key": "green", "weight": weights[1]}]})
    };
    let r = put_experiment(&app, "color-test", exp([1.0, 1.0])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = put_flag(&app, "button-color", json!({"type": "string", "default": "grey",
        "rules": [{"id": "test", "kind": "experiment", "experiment": "color-test", "values": {"control": "grey", "green": "green"}}]})).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut first = Vec::new();
    for i in 0..60 {
        let r = evaluate(
            &app,
            json!({"unit_id": format!("u{i}"), "flag": "button-color"}),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["reason"], "SPLIT");
        assert_eq!(r.body["assignment"]["experiment"], "color-test");
        first.push(r.body["variant"].as_str().unwrap().to_owned());
    }
    assert!(first.iter().any(|v| v == "control") && first.iter().any(|v| v == "green"));
    // All weight to green: units already assigned keep their variant (and value).
    let r = put_experiment(&app, "color-test", exp([0.0, 1.0])).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for (i, was) in first.iter().enumerate() {
        let r = evaluate(
            &app,
            json!({"unit_id": format!("u{i}"), "flag": "button-color"}),
        )
        .await;
        assert_eq!(r.body["variant"], json!(was), "u{i}");
        assert_eq!(r.body["assignment"]["reason"], "sticky");
        assert_eq!(
            r.body["value"],
            json!(if was == "green" { "green" } else { "grey" })
        );
    }
    // /assign sees the same memory.
    let a = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit_id": "u0", "experiment": "color-test"})),
    )
    .await;
    assert_eq!(a.body["variant"], json!(first[0]));
    let fresh = evaluate(&app, json!({"unit_id": "new-unit", "flag": "button-color"})).await;
    assert_eq!(fresh.body["variant"], "green");
}

async fn evaluate_refuses_bad_requests<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let bad = [
        json!({"flag": "f"}),
        json!({"unit_id": 5}),
        json!({"unit_id": "u", "flag": "a", "flags": ["b"]}),
        json!({"unit_id": "u", "bogus": true}),
        json!({"unit_id": "u", "attributes": [1]}),
        json!({"unit_id": "x".repeat(300)}),
        json!({"unit_id": "u", "flags": vec!["f"; 1001]}),
    ];
    for body in bad {
        let r = send(&app, "POST", "/evaluate", Some(KEY), Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {:?}", r.body);
    }
    let r = send(
        &app,
        "POST",
        "/evaluate",
        None,
        Some(json!({"unit_id": "u"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
}
