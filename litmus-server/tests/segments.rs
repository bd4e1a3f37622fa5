//! Segment breakdowns through the API, on every backend: exposures carry dimension values,
//! the rollups keep each segment's rows (values past the cap in `(other)`, absent ones in
//! `(missing)`), and `GET /results/{experiment}/segments` equals a direct computation from the
//! raw events posted; bad dimensions are refused at their path and change nothing stored.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::BTreeMap;

use axum::http::StatusCode;
use common::*;
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    segment_results_equal_a_direct_computation_from_the_raw_events,
    bad_dimensions_are_refused_and_change_nothing,
);

const COUNTRIES: [&str; 4] = ["FR", "US", "DE", "JP"];

/// Unit `u`'s country (none for every seventh), platform, variant, and whether it buys (and
/// how much it spends).
fn unit(
    u: u64,
) -> (
    Option<&'static str>,
    &'static str,
    &'static str,
    Option<f64>,
) {
    let country = (u % 7 != 0).then(|| COUNTRIES[(u / 7 % 4) as usize]);
    let platform = if u % 3 == 0 { "ios" } else { "web" };
    let variant = if u % 2 == 0 { "control" } else { "treatment" };
    let buys = (u * 7 + u / 5) % 5 < if variant == "control" { 1 } else { 2 };
    (
        country,
        platform,
        variant,
        buys.then_some((u % 13) as f64 + 1.0),
    )
}

const UNITS: u64 = 600;

fn events() -> Vec<Value> {
    let mut out = Vec::new();
    for u in 0..UNITS {
        let (country, platform, variant, spend) = unit(u);
        let mut dimensions = json!({"platform": platform});
        if let Some(c) = country {
            dimensions["country"] = json!(c);
        }
        out.push(json!({"type": "exposure", "message_id": format!("x{u}"),
            "unit_id": format!("u{u}"), "experiment": "shop", "variant": variant,
            "timestamp": at(T0_MS + (u as i64) * 1_000), "dimensions": dimensions}));
        // A later exposure with another country changes nothing: the first one counts.
        out.push(json!({"type": "exposure", "message_id": format!("y{u}"),
            "unit_id": format!("u{u}"), "experiment": "shop", "variant": variant,
            "timestamp": at(T0_MS + 4_000_000), "dimensions": {"country": "ZZ"}}));
        if let Some(v) = spend {
            out.push(json!({"type": "track", "message_id": format!("b{u}"),
                "unit_id": format!("u{u}"), "event": "buy", "value": v,
                "timestamp": at(T0_MS + 3_600_000)}));
        }
    }
    out
}

fn shop() -> Value {
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"},
                            {"key": "spend", "kind": "mean", "event": "buy"}]);
    exp["dimensions"] = json!([{"key": "country", "max_values": 3},
                               {"key": "platform", "attribute": "os", "values": ["ios"]}]);
    exp
}

/// What a segment should show, from the raw units: per variant (units, buyers, spend).
fn direct(
    segment_of: impl Fn(u64) -> String,
) -> BTreeMap<String, BTreeMap<&'static str, (u64, u64, f64)>> {
    let mut out: BTreeMap<String, BTreeMap<&str, (u64, u64, f64)>> = BTreeMap::new();
    for u in 0..UNITS {
        let (_, _, variant, spend) = unit(u);
        let row = out
            .entry(segment_of(u))
            .or_default()
            .entry(variant)
            .or_default();
        row.0 += 1;
        if let Some(v) = spend {
            row.1 += 1;
            row.2 += v;
        }
    }
    out
}

fn check(body: &Value, want: &BTreeMap<String, BTreeMap<&str, (u64, u64, f64)>>) {
    let segments = body["breakdown"]["segments"].as_array().unwrap();
    let shown: Vec<&str> = segments
        .iter()
        .map(|s| s["value"].as_str().unwrap())
        .collect();
    assert_eq!(shown.len(), want.len(), "{shown:?}");
    for s in segments {
        let value = s["value"].as_str().unwrap();
        let want = &want[value];
        let metrics = s["results"]["metrics"].as_array().unwrap();
        for (i, variant) in ["control", "treatment"].into_iter().enumerate() {
            let (units, buyers, spend) = want.get(variant).copied().unwrap_or_default();
            let buy = &metrics[0]["variants"][i];
            assert_eq!(buy["units"], units, "{value} {variant}: {buy}");
            assert_eq!(buy["converted"], buyers, "{value} {variant}: {buy}");
            let mean = &metrics[1]["variants"][i];
            if units > 0 {
                let got = mean["value"].as_f64().unwrap();
                assert!(
                    (got - spend / units as f64).abs() < 1e-9,
                    "{value} {variant}: {mean}"
                );
            }
        }
        assert_eq!(
            s["units"],
            want.values().map(|r| r.0).sum::<u64>(),
            "{value}"
        );
    }
}

async fn segment_results_equal_a_direct_computation_from_the_raw_events<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let r = put_experiment(&app, "shop", shop()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    post_and_apply(&state, &app, &events()).await;

    // Countries: the first three met (in the order applied) have segments of their own.
    let r = send(
        &app,
        "GET",
        "/results/shop/segments?dimension=country",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["values"], json!({"max_values": 3}));
    assert_eq!(r.body["breakdown"]["correction"], "holm");
    let mut met: Vec<&str> = Vec::new();
    for u in 0..UNITS {
        if let (Some(c), ..) = unit(u) {
            if !met.contains(&c) {
                met.push(c);
            }
        }
    }
    let admitted: Vec<&str> = met.into_iter().take(3).collect();
    let want = direct(|u| match unit(u).0 {
        None => "(missing)".to_owned(),
        Some(c) if admitted.contains(&c) => c.to_owned(),
        Some(_) => "(other)".to_owned(),
    });
    check(&r.body, &want);
    let s = &r.body["breakdown"]["segments"][0];
    assert!(
        s["results"]["srm"]["pvalue"].as_f64().is_some(),
        "SRM per segment: {s}"
    );
    assert!(
        r.body["breakdown"]["note"]
            .as_str()
            .unwrap()
            .contains("exploratory")
    );

    // Platforms: only the listed value has its own segment.
    let r = send(
        &app,
        "GET",
        "/results/shop/segments?dimension=platform",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["values"], json!({"listed": ["ios"]}));
    check(
        &r.body,
        &direct(|u| {
            if unit(u).1 == "ios" {
                "ios".to_owned()
            } else {
                "(other)".to_owned()
            }
        }),
    );

    // The experiment's own results are unchanged by its segments.
    let whole = send(&app, "GET", "/results/shop", Some(KEY), None).await;
    let buy = &whole.body["results"]["metrics"][0]["variants"];
    let all = direct(|_| "all".to_owned());
    assert_eq!(buy[0]["units"], all["all"]["control"].0);
    assert_eq!(buy[1]["converted"], all["all"]["treatment"].1);
}

async fn bad_dimensions_are_refused_and_change_nothing<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let r = put_experiment(&app, "shop", shop()).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    let six: Vec<Value> = (0..6).map(|i| json!({"key": format!("d{i}")})).collect();
    for (dimensions, code, path) in [
        (json!(six), "limit_exceeded", "experiments[shop].dimensions"),
        (
            json!([{"key": "country", "max_values": 500}]),
            "invalid_value",
            "experiments[shop].dimensions[0].max_values",
        ),
        (
            json!([{"key": "os", "values": ["a", "b"], "max_values": 1}]),
            "limit_exceeded",
            "experiments[shop].dimensions[0].values",
        ),
        (
            json!([{"key": "country"}, {"key": "country"}]),
            "duplicate_key",
            "experiments[shop].dimensions[1].key",
        ),
        (
            json!([{"key": "country", "bucket": 3}]),
            "unknown_field",
            "experiments[shop].dimensions[0].bucket",
        ),
    ] {
        let mut body = shop();
        body["dimensions"] = dimensions.clone();
        let r = put_experiment(&app, "shop", body).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{dimensions}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), code, "{dimensions}: {:?}", r.body);
        assert_eq!(r.body["error"]["path"], path, "{dimensions}: {:?}", r.body);
    }
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(before.body, after.body, "nothing stored changed");

    // Results by a dimension the experiment does not declare, or by none.
    for (uri, code) in [
        ("/results/shop/segments?dimension=browser", "invalid_value"),
        ("/results/shop/segments", "missing_field"),
    ] {
        let r = send(&app, "GET", uri, Some(KEY), None).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), code, "{uri}");
        assert_eq!(r.body["error"]["path"], "dimension", "{uri}");
    }
    let r = send(
        &app,
        "GET",
        "/results/nope/segments?dimension=country",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // An exposure whose dimension values are not text is refused at its path (alone: the
    // others of its batch are stored).
    for (dimensions, code) in [
        (json!({"country": 3}), "invalid_json"),
        (json!({"country": ""}), "invalid_value"),
        (json!({"bad key": "x"}), "invalid_value"),
        (json!({"country": "x".repeat(65)}), "invalid_value"),
    ] {
        let bad = json!([{"type": "exposure", "message_id": "m1", "unit_id": "u1",
                          "experiment": "shop", "variant": "control", "dimensions": dimensions}]);
        let r = send(&app, "POST", "/events", Some(KEY), Some(bad)).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let rejected = &r.body["rejected"][0];
        assert_eq!(rejected["code"], code, "{dimensions}: {rejected}");
        assert!(
            rejected["path"]
                .as_str()
                .unwrap()
                .starts_with("events[0].dimensions"),
            "{rejected}"
        );
    }
}
