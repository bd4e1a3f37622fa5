//! A holdout's readout through the API, on every backend: held-out units are logged as
//! exposures to the holdout's `holdout` arm and units entering a covered experiment to its
//! `exposed` arm, and `GET /holdouts/{key}/results` equals a direct computation from the raw
//! events posted; bad holdout exposures are refused at their path.
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
use litmus_core::assign::holdout_exposure;
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    a_holdouts_readout_equals_a_direct_computation,
    assign_logs_each_units_holdout_exposure_once,
    bad_holdout_exposures_are_refused_at_their_path,
);

async fn assign_logs_each_units_holdout_exposure_once<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    for key in ["a", "b"] {
        let r = put_experiment(&app, key, experiment(key, "running")).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    let r = send(
        &app,
        "PUT",
        "/admin/holdouts/h",
        Some(KEY),
        Some(json!({"key": "h", "share": 0.3, "experiments": ["a"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (mut held, mut exposed) = (0u64, 0u64);
    for round in 0..2 {
        for i in 0..300 {
            let r = send(
                &app,
                "POST",
                "/assign",
                Some(KEY),
                Some(json!({"unit_id": format!("u{i}")})),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            let a = r.body["assignments"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["experiment"] == "a")
                .unwrap()
                .clone();
            if round == 0 {
                match a["reason"].as_str().unwrap() {
                    "holdout" => held += 1,
                    "assigned" => exposed += 1,
                    other => panic!("{other}"),
                }
            }
        }
    }
    post_and_apply(&state, &app, &[]).await;
    let r = send(&app, "GET", "/holdouts/h/results", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["experiments"], json!(["a"]));
    // Each unit once, in its arm, however many times it was assigned.
    assert_eq!(
        r.body["results"]["units"],
        json!([["holdout", held], ["exposed", exposed]])
    );
    assert!(held > 50 && exposed > 150, "{held} {exposed}");
}

const UNITS: usize = 1_000;

async fn a_holdouts_readout_equals_a_direct_computation<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let r = send(
        &app,
        "PUT",
        "/admin/holdouts/h",
        Some(KEY),
        Some(json!({"key": "h", "share": 0.3, "all": true})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    for key in ["a", "b"] {
        let mut exp = experiment(key, "running");
        exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
        let r = put_experiment(&app, key, exp).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    // What an SDK logs, from core's decisions: each unit's experiment exposure when it is in,
    // and its holdout exposure once. Held-out units buy less.
    let engine = state.snapshots.of("default").engine().await.unwrap();
    let (mut events, mut want) = (Vec::new(), std::collections::BTreeMap::new());
    for i in 0..UNITS {
        let unit = format!("u{i}");
        let mut arm = None;
        for experiment in ["a", "b"] {
            let a = engine.assign_at(experiment, &unit, &litmus_core::NoAttributes, None);
            if let Some(v) = a.variant_key() {
                events.push(json!({"type": "exposure", "message_id": format!("{experiment}-{i}"),
                    "unit_id": unit, "experiment": experiment, "variant": v, "timestamp": at(T0_MS)}));
            }
            for (holdout, this) in engine.holdout_exposures(experiment, &unit, a.reason()) {
                assert_eq!(holdout, "h");
                arm = Some(this);
            }
        }
        let arm = arm.unwrap();
        events.push(
            json!({"type": "exposure", "message_id": format!("h-{i}"), "unit_id": unit,
            "holdout": "h", "variant": arm, "timestamp": at(T0_MS)}),
        );
        let buys = i % if arm == holdout_exposure::HELD_OUT {
            10
        } else {
            5
        } == 0;
        if buys {
            events.push(
                json!({"type": "track", "message_id": format!("b-{i}"), "unit_id": unit,
                "event": "buy", "timestamp": at(T0_MS + 60_000)}),
            );
        }
        let row: &mut (u64, u64) = want.entry(arm).or_default();
        row.0 += 1;
        row.1 += u64::from(buys);
    }
    for chunk in events.chunks(2_000) {
        post_and_apply(&state, &app, chunk).await;
    }
    let r = send(&app, "GET", "/holdouts/h/results", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["experiments"], json!(["a", "b"]));
    assert_eq!(r.body["share"], 0.3);
    let metric = &r.body["results"]["metrics"][0];
    assert_eq!(metric["key"], "buy");
    for (i, arm) in [holdout_exposure::HELD_OUT, holdout_exposure::EXPOSED]
        .into_iter()
        .enumerate()
    {
        let row = &metric["variants"][i];
        assert_eq!(row["variant"], arm);
        assert_eq!(
            (row["units"].as_u64(), row["converted"].as_u64()),
            (Some(want[arm].0), Some(want[arm].1)),
            "{arm}: {row}"
        );
    }
    let held = want[holdout_exposure::HELD_OUT].0 as f64 / UNITS as f64;
    assert!((0.25..0.35).contains(&held), "held out {held}");
    // The exposed units buy twice as often: the experiments' combined effect shows.
    let c = &metric["variants"][1]["comparison"];
    assert!(c["difference"]["estimate"].as_f64().unwrap() > 0.05, "{c}");
    assert!(
        r.body["results"]["srm"].is_null(),
        "no SRM check for a holdout"
    );

    let r = send(&app, "GET", "/holdouts/nope/results", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "{:?}", r.body);
}

async fn bad_holdout_exposures_are_refused_at_their_path<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let base = json!({"type": "exposure", "message_id": "m", "unit_id": "u", "variant": "holdout"});
    let with = |extra: Value| {
        let mut e = base.clone();
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    };
    for (event, code, path) in [
        (
            with(json!({"holdout": "h", "variant": "treatment"})),
            "invalid_value",
            "events[0].variant",
        ),
        (
            with(json!({"holdout": "h", "experiment": "a"})),
            "invalid_value",
            "events[0].holdout",
        ),
        (
            with(json!({"holdout": ""})),
            "invalid_value",
            "events[0].holdout",
        ),
    ] {
        let r = send(&app, "POST", "/events", Some(KEY), Some(json!([event]))).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let rejected = &r.body["rejected"][0];
        assert_eq!(
            (rejected["code"].as_str(), rejected["path"].as_str()),
            (Some(code), Some(path)),
            "{event}: {rejected}"
        );
    }
}
