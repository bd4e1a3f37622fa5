//! Closed-loop bandits and the demo, on every backend: weights recomputed from the rollups
//! are published as a new config version and logged; the demo creates its experiments and
//! its traffic reaches the results.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    bandit_weights_follow_the_rewards_and_are_published,
    a_bandits_comparisons_are_stratified_by_its_weight_periods,
    the_demo_creates_its_experiments_and_traffic
);

/// Units of a bandit in one period: `n` units, a share `to_b` of them in `b`, everyone
/// converting at `rate` (the same in both arms: no real difference), at `time_ms`.
fn period_events(
    first: usize,
    n: usize,
    to_b: usize,
    rate_per_10: usize,
    time_ms: i64,
) -> Vec<Value> {
    let at = at(time_ms);
    let mut out = Vec::new();
    for i in first..first + n {
        let variant = if (i - first) % 10 < to_b { "b" } else { "a" };
        out.push(json!({"type": "exposure", "message_id": format!("x{i}"),
            "unit_id": format!("u{i}"), "experiment": "headline", "variant": variant,
            "timestamp": at}));
        // Conversion by another digit than the variant's: independent of the arm.
        if i / 10 % 10 < rate_per_10 {
            out.push(json!({"type": "track", "message_id": format!("c{i}"),
                "unit_id": format!("u{i}"), "event": "click", "timestamp": at}));
        }
    }
    out
}

/// The period-weighted difference (b - a) of the conversion rates, computed directly.
fn stratified_difference(periods: &[&[Value]]) -> f64 {
    let total: usize = periods.iter().map(|p| exposures(p).len()).sum();
    let mut d = 0.0;
    for p in periods {
        let units = exposures(p);
        let clicked: std::collections::HashSet<&str> = p
            .iter()
            .filter(|e| e["type"] == "track")
            .map(|e| e["unit_id"].as_str().unwrap())
            .collect();
        let rate = |arm: &str| {
            let mine: Vec<&&Value> = units.iter().filter(|e| e["variant"] == arm).collect();
            let n = mine.len() as f64;
            mine.iter()
                .filter(|e| clicked.contains(e["unit_id"].as_str().unwrap()))
                .count() as f64
                / n
        };
        d += units.len() as f64 / total as f64 * (rate("b") - rate("a"));
    }
    d
}

fn exposures(events: &[Value]) -> Vec<&Value> {
    events.iter().filter(|e| e["type"] == "exposure").collect()
}

async fn a_bandits_comparisons_are_stratified_by_its_weight_periods<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(Arc::clone(&state));
    let bandit = |wa: f64, wb: f64| {
        json!({"key": "headline", "kind": "bandit", "status": "running",
               "variants": [{"key": "a", "weight": wa}, {"key": "b", "weight": wb}],
               "metrics": [{"key": "click", "kind": "conversion"}]})
    };
    assert_eq!(
        put_experiment(&app, "headline", bandit(1.0, 1.0))
            .await
            .status,
        StatusCode::OK
    );
    // Period 1 (before the weights move), 50/50, 10% convert; the exposures are an hour old.
    let now = wall_ms();
    let first = period_events(0, 1_000, 5, 1, now - 3_600_000);
    post_and_apply(&state, &app, &first).await;
    // The weights move to 10/90 (as the bandit loop would), and the rate drifts to 40%.
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert_eq!(
        put_experiment(&app, "headline", bandit(0.1, 0.9))
            .await
            .status,
        StatusCode::OK
    );
    tokio::time::sleep(Duration::from_millis(5)).await;
    let second = period_events(1_000, 2_000, 9, 4, wall_ms());
    for chunk in second.chunks(2_000) {
        post_and_apply(&state, &app, chunk).await;
    }

    let r = send(&app, "GET", "/results/headline", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        r.body["results"]["inference"],
        "stratified_by_weight_period"
    );
    let c = &r.body["results"]["metrics"][0]["variants"][1]["comparison"];
    let want = stratified_difference(&[&first, &second]);
    let got = c["difference"]["estimate"].as_f64().unwrap();
    assert!((got - want).abs() < 1e-12, "{got} vs {want}: {c}");
    // The recommendation reads the stratified difference: none, not the pooled lead.
    let recommendation = &r.body["recommendation"];
    assert_eq!(recommendation["action"], "keep_running", "{recommendation}");
    assert!(
        recommendation["reason"]
            .as_str()
            .unwrap()
            .starts_with("No difference"),
        "{recommendation}"
    );
    assert!(want.abs() < 0.01, "no real difference: {want}");
    // Pooled, b would look far better (most of its units came in the good period); the
    // stratified test finds nothing.
    assert_eq!(c["verdict"], "inconclusive", "{c}");
    let inference = &r.body["bandit"]["inference"];
    assert_eq!(inference["method"], "stratified_by_weight_period");
    assert_eq!(inference["metrics"][0]["periods"], 2, "{inference}");
    assert_eq!(
        inference["metrics"][0]["arms"][1]["units"],
        500 + 1_800,
        "{inference}"
    );
    // Pooled over both periods, b's rate would lead a's by more than 7 points.
    let all: Vec<Value> = first.iter().chain(&second).cloned().collect();
    let pooled = stratified_difference(&[&all]);
    assert!(pooled > 0.07, "pooled {pooled}");
}

async fn bandit_weights_follow_the_rewards_and_are_published<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(Arc::clone(&state));
    let bandit = json!({"key": "headline", "kind": "bandit", "status": "running",
        "variants": [{"key": "a"}, {"key": "b"}],
        "metrics": [{"key": "click", "kind": "conversion"}]});
    assert_eq!(
        put_experiment(&app, "headline", bandit).await.status,
        StatusCode::OK
    );
    // Nothing to learn from yet: equal weights stay.
    assert!(
        litmus_server::jobs::bandits::reweigh_all(&state)
            .await
            .unwrap()
            .is_empty()
    );

    // 300 units per arm; a is clicked 5% of the time, b 20%.
    let mut events = Vec::new();
    for i in 0..600 {
        let (variant, clicks) = if i % 2 == 0 {
            ("a", i % 40 == 0)
        } else {
            ("b", i % 10 == 1)
        };
        events.push(json!({"type": "exposure", "message_id": format!("x{i}"),
            "unit_id": format!("u{i}"), "experiment": "headline", "variant": variant,
            "timestamp": "2027-01-15T09:00:00Z"}));
        if clicks {
            events.push(json!({"type": "track", "message_id": format!("c{i}"),
                "unit_id": format!("u{i}"), "event": "click",
                "timestamp": "2027-01-15T09:01:00Z"}));
        }
    }
    let r = send(
        &app,
        "POST",
        "/events",
        Some(KEY),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let window = state.ingest.tuning.attribution_window_ms;
    while state.store.apply_rollups(window, 8).await.unwrap().batches > 0 {}
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body["version"].clone();

    assert_eq!(
        litmus_server::jobs::bandits::reweigh_all(&state)
            .await
            .unwrap(),
        vec!["headline".to_owned()]
    );
    let stored = send(&app, "GET", "/admin/experiments/headline", Some(KEY), None).await;
    let weights: Vec<f64> = stored.body["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["weight"].as_f64().unwrap())
        .collect();
    assert!(
        (weights[0] - 0.01).abs() < 1e-3 && (weights[1] - 0.99).abs() < 1e-3,
        "{weights:?}"
    );
    // A new config version for SDKs, and the change in the audit log by the bandit.
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    assert_ne!(after["version"], before);
    let audit = send(&app, "GET", "/admin/audit", Some(KEY), None)
        .await
        .body;
    let newest = &audit["entries"][0];
    assert_eq!(
        (newest["actor"].as_str(), newest["key"].as_str()),
        (Some("bandit"), Some("headline"))
    );
    // Already published: the next round changes nothing.
    assert!(
        litmus_server::jobs::bandits::reweigh_all(&state)
            .await
            .unwrap()
            .is_empty()
    );

    // The results carry the weights' history and the probability of being best.
    let r = send(&app, "GET", "/results/headline", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let history = r.body["bandit"]["weights"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["actor"], "bandit");
    assert!(history[1]["weights"]["b"].as_f64().unwrap() > 0.98);
    let best = r.body["bandit"]["probability_best"].as_array().unwrap();
    assert!(best.last().unwrap()["values"]["b"].as_f64().unwrap() > 0.99);
    // Bandits are not checked for a sample ratio mismatch (their split moves on purpose).
    assert_eq!(r.body["results"]["srm"], Value::Null);

    // Policies replayed offline on the logged units.
    let r = send(
        &app,
        "GET",
        "/results/headline/replay?policies=thompson,uniform",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["logged"], 600);
    assert!((r.body["logged_value"].as_f64().unwrap() - 0.125).abs() < 1e-9);
    let policies = r.body["policies"].as_array().unwrap();
    assert_eq!(policies.len(), 2);
    for p in policies {
        let e = &p["estimate"];
        assert!(e["accepted"].as_u64().unwrap() > 0, "{p}");
        let value = e["value"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&value), "{p}");
    }
    let bad = send(
        &app,
        "GET",
        "/results/headline/replay?policies=greedy",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(
        (bad.status, error_code(&bad)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_argument")
    );
}

async fn the_demo_creates_its_experiments_and_traffic<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    litmus_server::jobs::rollups::apply_rollups(&state, Duration::from_millis(50));
    litmus_server::demo::start(&state, Duration::from_millis(20))
        .await
        .unwrap();
    let app = litmus_server::app(Arc::clone(&state));
    let list = send(&app, "GET", "/admin/experiments", Some(KEY), None)
        .await
        .body;
    let keys: Vec<&str> = list["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, vec!["demo-checkout", "demo-headline"]);
    // Wait for the simulated traffic to reach the results (however long it takes).
    loop {
        let r = send(&app, "GET", "/results/demo-checkout", Some(KEY), None)
            .await
            .body;
        let units: u64 = r["results"]["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u[1].as_u64().unwrap())
            .sum();
        if units >= 100 {
            // Seven metrics, the funnel's two steps each a row.
            assert_eq!(r["results"]["metrics"].as_array().unwrap().len(), 8);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A second start (a restart) leaves the experiments as they are.
    litmus_server::demo::start(&state, Duration::from_secs(3_600))
        .await
        .unwrap();
    let audit = send(&app, "GET", "/admin/audit", Some(KEY), None)
        .await
        .body;
    // Six catalogue metrics and two experiments.
    assert_eq!(audit["entries"].as_array().unwrap().len(), 8);
}
