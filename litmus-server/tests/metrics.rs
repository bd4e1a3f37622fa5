//! The metric catalogue through the API, on every backend: metrics of every kind defined with
//! `PUT /admin/metrics/{key}`, an experiment referring to them, events posted, and each
//! figure of `GET /results` recomputed here from the raw events as sent (per-unit values
//! computed directly, then the statistics module's tests).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use axum::Router;
use axum::http::StatusCode;
use common::*;
use litmus_core::stats::{Alternative, CoMoments, Moments, exact_quantile, ratio_ztest, ttest_ind};
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(
    metrics_of_every_kind_equal_a_recomputation_from_the_raw_events,
    bad_metrics_are_refused_and_change_nothing,
    changed_definitions_are_recomputed_from_the_stored_events,
);

/// The catalogue the tests define.
fn catalogue() -> Vec<Value> {
    vec![
        json!({"key": "revenue", "kind": "mean", "event": "purchase", "cap": {"absolute": 50},
               "format": "currency", "currency": "EUR"}),
        json!({"key": "orders", "kind": "mean", "event": "purchase", "aggregation": "count"}),
        json!({"key": "revenue_per_order", "kind": "ratio", "numerator": "revenue",
               "denominator": "orders"}),
        json!({"key": "books", "kind": "conversion", "event": "purchase",
               "filter": {"attribute": "category", "op": "eq", "value": "books"}}),
        json!({"key": "top_price", "kind": "mean", "event": "purchase", "property": "price",
               "aggregation": "max"}),
        json!({"key": "p90_load", "kind": "quantile", "event": "page_load", "quantile": 0.9,
               "goal": "decrease", "format": "duration"}),
        json!({"key": "day1", "kind": "retention", "event": "visit",
               "window": {"delay_hours": 24, "hours": 24}}),
        json!({"key": "checkout", "kind": "funnel",
               "steps": [{"event": "cart"}, {"event": "purchase"}]}),
        json!({"key": "revenue_p90_capped", "kind": "mean", "event": "purchase",
               "cap": {"percentile": 0.9}}),
    ]
}

async fn put(app: &Router, collection: &str, key: &str, body: Value) -> Reply {
    let uri = format!("/admin/{collection}/{key}");
    send(app, "PUT", &uri, Some(KEY), Some(body)).await
}

/// A fixed LCG: draws in `0..n`.
struct Draw(u64);

impl Draw {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// What one unit did, as the test computes each metric from it.
#[derive(Default)]
struct Unit {
    /// Purchases: (value, category is books, price).
    purchases: Vec<(f64, bool, f64)>,
    /// Page loads, in ms.
    loads: Vec<f64>,
    /// Hours after exposure of each visit.
    visits: Vec<i64>,
    /// Whether it added to the cart, and whether its purchases came after that.
    cart: bool,
    bought_after_cart: bool,
}

const HOUR_MS: i64 = 3_600_000;

/// 600 units over two variants and their events.
fn generate() -> ([Vec<Unit>; 2], Vec<Value>) {
    let mut draw = Draw(7);
    let mut units: [Vec<Unit>; 2] = [Vec::new(), Vec::new()];
    let mut events = Vec::new();
    let variants = ["control", "treatment"];
    for u in 0..600u64 {
        let v = (u % 2) as usize;
        let id = format!("u{u}");
        let mut unit = Unit::default();
        events.push(
            json!({"type": "exposure", "message_id": format!("x{u}"), "unit_id": id,
            "experiment": "shop", "variant": variants[v], "timestamp": at(T0_MS)}),
        );
        let mut n = 0;
        let mut event = |name: &str, t: i64, value: f64, props: Value| {
            n += 1;
            json!({"type": "track", "message_id": format!("{name}-{u}-{n}"), "unit_id": id,
                "event": name, "value": value, "timestamp": at(t), "properties": props})
        };
        // The cart first for most, after the purchase for a few.
        unit.cart = draw.next(100) < [40, 50][v];
        let cart_late = draw.next(10) == 0;
        if unit.cart && !cart_late {
            events.push(event("cart", T0_MS + 60_000, 1.0, json!({})));
        }
        let buys = if draw.next(100) < [25, 35][v] {
            1 + draw.next(3)
        } else {
            0
        };
        for i in 0..buys {
            let value = (1 + draw.next(40)) as f64;
            let books = draw.next(3) == 0;
            let price = (5 + draw.next(30)) as f64;
            let cat = if books { "books" } else { "music" };
            events.push(event(
                "purchase",
                T0_MS + 120_000 + i as i64 * 1_000,
                value,
                json!({"category": cat, "price": price}),
            ));
            unit.purchases.push((value, books, price));
        }
        if unit.cart && cart_late {
            events.push(event("cart", T0_MS + 600_000, 1.0, json!({})));
        }
        unit.bought_after_cart = unit.cart && !cart_late && buys > 0;
        for _ in 0..draw.next(4) {
            let load = (100 + draw.next(900) + [0, 50][v] * draw.next(3)) as f64;
            events.push(event("page_load", T0_MS + 30_000, load, json!({})));
            unit.loads.push(load);
        }
        // Visits the next day (in day-1's window) or the same day (not).
        for _ in 0..draw.next(3) {
            let hours = if draw.next(2) == 0 { 30 } else { 2 };
            events.push(event("visit", T0_MS + hours * HOUR_MS, 1.0, json!({})));
            unit.visits.push(hours);
        }
        units[v].push(unit);
    }
    (units, events)
}

fn close(a: &Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

/// The result of metric `key` (its funnel `step`), by key.
fn result<'a>(results: &'a Value, key: &str, step: Option<u64>) -> &'a Value {
    results["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["key"] == key && m["step"]["index"].as_u64() == step)
        .unwrap_or_else(|| panic!("no result for {key} {step:?}"))
}

async fn metrics_of_every_kind_equal_a_recomputation_from_the_raw_events<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    for m in catalogue() {
        let key = m["key"].as_str().unwrap().to_owned();
        let r = put(&app, "metrics", &key, m).await;
        assert_eq!(r.status, StatusCode::OK, "{key}: {:?}", r.body);
    }
    let listed = send(&app, "GET", "/admin/metrics", Some(KEY), None).await;
    assert_eq!(listed.body["metrics"].as_array().unwrap().len(), 9);
    let mut exp = experiment("shop", "running");
    exp["metrics"] = catalogue()
        .iter()
        .map(|m| json!({"metric": m["key"]}))
        .collect();
    assert_eq!(
        put_experiment(&app, "shop", exp).await.status,
        StatusCode::OK
    );

    let (units, events) = generate();
    for chunk in events.chunks(1_000) {
        let r = send(
            &app,
            "POST",
            "/events",
            Some(KEY),
            Some(json!({"events": chunk})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["rejected"], json!([]));
    }
    // The worker's program comes from the config it serves, as the rollup job sets it.
    litmus_server::jobs::rollups::refresh_program(&state, &mut None).await;
    let window = state.ingest.tuning.attribution_window_ms;
    while state.store.apply_rollups(window, 3).await.unwrap().batches > 0 {}

    let r = send(&app, "GET", "/results/shop", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let res = &r.body["results"];
    assert_eq!(res["units"], json!([["control", 300], ["treatment", 300]]));

    // Per-unit values, computed here.
    let per_unit = |f: &dyn Fn(&Unit) -> f64| -> Vec<Vec<f64>> {
        units.iter().map(|us| us.iter().map(f).collect()).collect()
    };
    let revenue = per_unit(&|u| u.purchases.iter().map(|p| p.0).sum::<f64>().min(50.0));
    let orders = per_unit(&|u| u.purchases.len() as f64);
    let top = per_unit(&|u| u.purchases.iter().map(|p| p.2).fold(0.0, f64::max));

    // Capped revenue: a mean of min(total, 50).
    let m: Vec<Moments> = revenue
        .iter()
        .map(|v| Moments::from_slice(v).unwrap())
        .collect();
    let shown = result(res, "revenue", None);
    assert_eq!(shown["cap"], 50.0);
    assert_eq!(
        (shown["format"].as_str(), shown["currency"].as_str()),
        (Some("currency"), Some("EUR"))
    );
    assert!(close(&shown["variants"][0]["value"], m[0].mean()));
    assert!(close(&shown["variants"][1]["value"], m[1].mean()));
    let t = ttest_ind(&m[1], &m[0], false, Alternative::TwoSided).unwrap();
    assert!(close(
        &shown["variants"][1]["comparison"]["pvalue"],
        t.pvalue()
    ));

    // The largest price property per unit.
    let m: Vec<Moments> = top
        .iter()
        .map(|v| Moments::from_slice(v).unwrap())
        .collect();
    let shown = result(res, "top_price", None);
    assert!(
        close(&shown["variants"][1]["value"], m[1].mean()),
        "{shown}"
    );

    // Revenue per order: the delta method on (orders, revenue) per unit.
    let co: Vec<CoMoments> = (0..2)
        .map(|v| CoMoments::from_slices(&orders[v], &revenue[v]).unwrap())
        .collect();
    let z = ratio_ztest(&co[1], &co[0], 0.05, Alternative::TwoSided).unwrap();
    let shown = result(res, "revenue_per_order", None);
    assert!(
        close(&shown["variants"][0]["value"], z.control().ratio()),
        "{shown}"
    );
    assert!(close(&shown["variants"][1]["value"], z.treatment().ratio()));
    let c = &shown["variants"][1]["comparison"];
    assert!(close(&c["pvalue"], z.pvalue()), "{c}");
    assert!(close(&c["difference"]["lower"], z.difference().lower()));

    // Books only: units with a purchase in that category.
    let shown = result(res, "books", None);
    for v in 0..2 {
        let n = units[v]
            .iter()
            .filter(|u| u.purchases.iter().any(|p| p.1))
            .count();
        assert_eq!(shown["variants"][v]["converted"], n as u64);
    }

    // p90 page-load time over events: within the sketch's 1% of the exact quantile.
    let shown = result(res, "p90_load", None);
    assert_eq!(shown["goal"], "decrease");
    for v in 0..2 {
        let loads: Vec<f64> = units[v].iter().flat_map(|u| u.loads.clone()).collect();
        let exact = exact_quantile(&loads, 0.9).unwrap();
        let got = shown["variants"][v]["value"].as_f64().unwrap();
        assert!((got - exact).abs() <= 0.01 * exact, "{got} vs {exact}");
        assert_eq!(shown["variants"][v]["events"], loads.len() as u64);
    }
    assert!(
        shown["variants"][1]["comparison"]["pvalue"]
            .as_f64()
            .is_some()
    );

    // Day-1 retention: a visit 24 to 48 hours after exposure; every cohort has matured.
    let shown = result(res, "day1", None);
    for v in 0..2 {
        let n = units[v].iter().filter(|u| u.visits.contains(&30)).count();
        assert_eq!(shown["variants"][v]["converted"], n as u64);
        assert_eq!(shown["variants"][v]["units"], 300);
    }

    // The funnel: the cart, then a purchase at or after it.
    for v in 0..2 {
        let carts = units[v].iter().filter(|u| u.cart).count() as u64;
        let bought = units[v].iter().filter(|u| u.bought_after_cart).count() as u64;
        let first = result(res, "checkout", Some(0));
        let second = result(res, "checkout", Some(1));
        assert_eq!(first["variants"][v]["converted"], carts);
        assert_eq!(second["variants"][v]["converted"], bought);
        assert!(close(
            &second["variants"][v]["of_previous"],
            bought as f64 / carts as f64
        ));
    }
    // Revenue capped at the 90th percentile of the buyers' totals (numpy's "lower"),
    // pooled across variants.
    let totals: Vec<f64> = units
        .iter()
        .flatten()
        .filter(|u| !u.purchases.is_empty())
        .map(|u| u.purchases.iter().map(|p| p.0).sum())
        .collect();
    let cap = exact_quantile(&totals, 0.9).unwrap();
    let capped = per_unit(&|u| u.purchases.iter().map(|p| p.0).sum::<f64>().min(cap));
    let m: Vec<Moments> = capped
        .iter()
        .map(|v| Moments::from_slice(v).unwrap())
        .collect();
    let shown = result(res, "revenue_p90_capped", None);
    assert_eq!(shown["cap"], cap);
    assert!(
        close(&shown["variants"][0]["value"], m[0].mean()),
        "{shown}"
    );
    assert!(close(&shown["variants"][1]["value"], m[1].mean()));
    let t = ttest_ind(&m[1], &m[0], false, Alternative::TwoSided).unwrap();
    assert!(close(
        &shown["variants"][1]["comparison"]["pvalue"],
        t.pvalue()
    ));

    // The CSV: a row per metric (funnel step) and variant.
    let csv = send_raw(&app, "/results/shop.csv").await;
    assert!(csv.starts_with("metric,kind,step,variant,"), "{csv}");
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows.len(), 1 + 2 * 10, "9 metrics, the funnel twice");
    assert!(
        rows.iter()
            .any(|r| r.starts_with("checkout,funnel,1,treatment,300,"))
    );

    // The per-unit export: a line per unit with each metric's value.
    let lines = send_raw(&app, "/admin/experiments/shop/units").await;
    let lines: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 600);
    let u7 = lines.iter().find(|l| l["unit_id"] == "u7").unwrap();
    let unit = &units[1][3];
    assert_eq!(u7["variant"], "treatment");
    let revenue_u7: f64 = unit.purchases.iter().map(|p| p.0).sum();
    assert_eq!(u7["metrics"]["revenue"]["value"], revenue_u7);
    assert_eq!(
        u7["metrics"]["orders"]["value"],
        unit.purchases.len() as f64
    );
    assert_eq!(
        u7["metrics"]["revenue_per_order"]["denominator"],
        unit.purchases.len() as f64
    );
    let steps = u64::from(unit.cart) + u64::from(unit.bought_after_cart);
    assert_eq!(u7["metrics"]["checkout"]["steps_reached"], steps);
    let anonymous = send(&app, "GET", "/admin/experiments/shop/units", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

/// The body of an admin GET as text.
async fn send_raw(app: &Router, uri: &str) -> String {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = axum::http::Request::get(uri)
        .header(axum::http::header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(axum::body::Body::empty())
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    String::from_utf8(bytes.to_vec()).unwrap()
}

async fn bad_metrics_are_refused_and_change_nothing<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    for m in catalogue() {
        let key = m["key"].as_str().unwrap().to_owned();
        assert_eq!(put(&app, "metrics", &key, m).await.status, StatusCode::OK);
    }
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"metric": "revenue_per_order"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp).await.status,
        StatusCode::OK
    );
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    let cases = [
        (
            "x",
            json!({"kind": "ratio", "numerator": "revenue", "denominator": "x"}),
            "invalid_value",
            "metrics[x].denominator",
        ),
        (
            "x",
            json!({"kind": "funnel", "steps": []}),
            "invalid_value",
            "metrics[x].steps",
        ),
        (
            "x",
            json!({"kind": "funnel", "steps": [{"event": "a"}, {"event": "a"}]}),
            "invalid_value",
            "metrics[x].steps[1]",
        ),
        (
            "x",
            json!({"kind": "mean", "event": "p", "cap": {"absolute": -5}}),
            "invalid_value",
            "metrics[x].cap.absolute",
        ),
        (
            "x",
            json!({"kind": "mean", "event": "p", "filter": {"op": "eq", "value": 1}}),
            "missing_field",
            "metrics[x].filter.attribute",
        ),
        (
            "x",
            json!({"kind": "mean", "event": "p", "shape": "round"}),
            "unknown_field",
            "metrics[x].shape",
        ),
    ];
    for (key, body, code, path) in cases {
        let r = put(&app, "metrics", key, body.clone()).await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), code, "{body}: {:?}", r.body);
        assert_eq!(r.body["error"]["path"], path, "{body}: {:?}", r.body);
    }
    // A metric an experiment uses (here through a ratio) cannot go, nor lose its parts.
    let r = send(
        &app,
        "DELETE",
        "/admin/metrics/revenue_per_order",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(
        r.body["error"]["path"],
        "experiments[shop].metrics[0].metric"
    );
    let r = send(&app, "DELETE", "/admin/metrics/orders", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    let r = put(
        &app,
        "experiments",
        "other",
        json!({"key": "other", "variants": [{"key": "a"}],
        "metrics": [{"metric": "nope"}]}),
    )
    .await;
    assert_eq!(
        (r.status, r.body["error"]["path"].as_str()),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("experiments[other].metrics[0].metric")
        )
    );
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(before.body, after.body, "nothing stored changed");
    // A metric no experiment uses can go.
    let r = send(&app, "DELETE", "/admin/metrics/books", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
}

/// The control's and treatment's mean of `key` in `/results/shop`, and its `history`.
async fn means(app: &Router, key: &str) -> (f64, f64, Value) {
    let r = send(app, "GET", "/results/shop", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let m = result(&r.body["results"], key, None).clone();
    (
        m["variants"][0]["value"].as_f64().unwrap(),
        m["variants"][1]["value"].as_f64().unwrap(),
        m["history"].clone(),
    )
}

/// Purchases of 40 units over two variants: unit `u` buys `u % 7 * 5` at `at_ms`.
fn purchases(round: u64, at_ms: i64) -> (Vec<Value>, Vec<[f64; 2]>) {
    let mut events = Vec::new();
    let mut values = Vec::new();
    for u in 0..40u64 {
        let value = (u % 7 * 5) as f64;
        events.push(
            json!({"type": "track", "message_id": format!("b{round}-{u}"),
            "unit_id": format!("u{u}"), "event": "purchase", "value": value,
            "timestamp": at(at_ms)}),
        );
        values.push([(u % 2) as f64, value]);
    }
    (events, values)
}

/// The mean per variant of each unit's summed values, capped at `cap`.
fn expected(all: &[Vec<[f64; 2]>], cap: f64) -> (f64, f64) {
    let mut totals = [[0.0f64; 40]; 2];
    for round in all {
        for (u, [v, value]) in round.iter().enumerate() {
            totals[*v as usize][u] += value;
        }
    }
    let mean = |v: usize| {
        let units: Vec<f64> = (0..40)
            .filter(|u| u % 2 == v)
            .map(|u| totals[v][u].min(cap))
            .collect();
        units.iter().sum::<f64>() / units.len() as f64
    };
    (mean(0), mean(1))
}

async fn changed_definitions_are_recomputed_from_the_stored_events<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let exposures: Vec<Value> = (0..40u64)
        .map(|u| {
            let variant = ["control", "treatment"][(u % 2) as usize];
            json!({"type": "exposure", "message_id": format!("x{u}"),
                "unit_id": format!("u{u}"), "experiment": "shop",
                "variant": variant, "timestamp": at(T0_MS)})
        })
        .collect();
    let mut exp = experiment("shop", "running");
    exp["metrics"] = json!([{"key": "purchase", "kind": "mean"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp.clone()).await.status,
        StatusCode::OK
    );
    let (first, v1) = purchases(1, T0_MS + HOUR_MS);
    post_and_apply(&state, &app, &[exposures, first].concat()).await;

    // A metric added later counts the events applied before it.
    let capped = json!({"kind": "mean", "event": "purchase", "cap": {"absolute": 20}});
    assert_eq!(
        put(&app, "metrics", "capped", capped).await.status,
        StatusCode::OK
    );
    exp["metrics"] = json!([{"key": "purchase", "kind": "mean"}, {"metric": "capped"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp.clone()).await.status,
        StatusCode::OK
    );
    let (second, v2) = purchases(2, T0_MS + 2 * HOUR_MS);
    post_and_apply(&state, &app, &second).await;
    let (c, t, history) = means(&app, "capped").await;
    let want = expected(&[v1.clone(), v2.clone()], 20.0);
    assert!(
        (c - want.0).abs() < 1e-9 && (t - want.1).abs() < 1e-9,
        "{c} {t} {want:?}"
    );
    assert_eq!(history, Value::Null, "complete");

    // A changed definition is recomputed from all the stored events.
    let capped = json!({"kind": "mean", "event": "purchase", "cap": {"absolute": 12}});
    assert_eq!(
        put(&app, "metrics", "capped", capped).await.status,
        StatusCode::OK
    );
    post_and_apply(&state, &app, &[]).await;
    let (c, t, _) = means(&app, "capped").await;
    let want = expected(&[v1.clone(), v2.clone()], 12.0);
    assert!(
        (c - want.0).abs() < 1e-9 && (t - want.1).abs() < 1e-9,
        "{c} {t} {want:?}"
    );

    // Left out of the experiment while events come, then used again: recomputed, counting
    // those events once.
    exp["metrics"] = json!([{"key": "purchase", "kind": "mean"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp.clone()).await.status,
        StatusCode::OK
    );
    let (third, v3) = purchases(3, T0_MS + 3 * HOUR_MS);
    post_and_apply(&state, &app, &third).await;
    exp["metrics"] = json!([{"key": "purchase", "kind": "mean"}, {"metric": "capped"}]);
    assert_eq!(
        put_experiment(&app, "shop", exp.clone()).await.status,
        StatusCode::OK
    );
    post_and_apply(&state, &app, &[]).await;
    let (c, t, _) = means(&app, "capped").await;
    let want = expected(&[v1.clone(), v2.clone(), v3.clone()], 12.0);
    assert!(
        (c - want.0).abs() < 1e-9 && (t - want.1).abs() < 1e-9,
        "{c} {t} {want:?}"
    );

    // After retention deleted the first purchases, a change is recomputed from what is left,
    // and the results say so.
    state.store.retain(T0_MS + HOUR_MS + 1).await.unwrap();
    let capped = json!({"kind": "mean", "event": "purchase", "cap": {"absolute": 13}});
    assert_eq!(
        put(&app, "metrics", "capped", capped).await.status,
        StatusCode::OK
    );
    post_and_apply(&state, &app, &[]).await;
    let (c, t, history) = means(&app, "capped").await;
    if history != Value::Null {
        // SQLite deletes events one by one; TimescaleDB drops whole days of them, so on
        // PostgreSQL nothing this young went and the recomputation is complete.
        assert_eq!(history["complete"], false, "{history}");
        assert_eq!(history["since_ms"], T0_MS + HOUR_MS + 1);
        let want = expected(&[v2, v3], 13.0);
        assert!(
            (c - want.0).abs() < 1e-9 && (t - want.1).abs() < 1e-9,
            "{c} {t} {want:?}"
        );
    } else {
        let want = expected(&[v1, v2, v3], 13.0);
        assert!(
            (c - want.0).abs() < 1e-9 && (t - want.1).abs() < 1e-9,
            "{c} {t} {want:?}"
        );
    }
}
