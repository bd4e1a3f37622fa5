//! Environments through the API, on every backend: the server's list of environments, SDK
//! keys bound to one (their config document, `/assign`, `/evaluate` and their events are that
//! environment's), results per environment recomputed from the events posted, and promotion
//! with its preview. Bad input (an unknown environment anywhere) is refused with its path and
//! nothing stored changes.
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
    environments_are_listed_created_and_deleted,
    unknown_environments_are_refused_and_nothing_changes,
    sdk_keys_read_and_evaluate_their_environments_document,
    events_and_results_are_kept_per_environment,
    promotion_previews_then_applies_the_differences,
);

async fn create_environment(app: &axum::Router, key: &str) -> Reply {
    send(
        app,
        "POST",
        "/admin/environments",
        Some(KEY),
        Some(json!({"key": key, "name": key.to_uppercase()})),
    )
    .await
}

/// A key with `scopes` in `environment`: its secret.
async fn make_key(app: &axum::Router, environment: &str, scopes: Value) -> String {
    let r = send(
        app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": format!("{environment} app"), "scopes": scopes, "environment": environment})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["environment"], json!(environment));
    r.body["key"].as_str().unwrap().to_owned()
}

async fn sdk_key(app: &axum::Router, environment: &str) -> String {
    make_key(
        app,
        environment,
        json!(["sdk:read", "assign", "events:write"]),
    )
    .await
}

async fn put_flag(app: &axum::Router, key: &str, body: Value) -> Reply {
    let uri = format!("/admin/flags/{key}");
    send(app, "PUT", &uri, Some(KEY), Some(body)).await
}

/// A flag on for everyone in production, off in staging except for a 100 % rollout of
/// `"staging-value"`.
fn banner_flag() -> Value {
    json!({"key": "banner", "type": "string", "default": "none",
        "rules": [{"id": "all", "kind": "force", "value": "production-value"}],
        "environments": {"staging": {"enabled": true, "rules": [
            {"id": "ramp", "kind": "rollout", "percentage": 100, "value": "staging-value"}]}}})
}

async fn environments_are_listed_created_and_deleted<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let list = send(&app, "GET", "/admin/environments", Some(KEY), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["environments"][0]["key"], json!("production"));
    assert_eq!(list.body["environments"].as_array().unwrap().len(), 1);

    let r = create_environment(&app, "staging").await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["environment"]["name"], json!("STAGING"));
    let r = create_environment(&app, "staging").await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&r), "already_exists");
    for bad in ["Staging", "2nd", "a b", ""] {
        let r = create_environment(&app, bad).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert_eq!(r.body["error"]["path"], json!("key"));
    }
    let r = send(
        &app,
        "POST",
        "/admin/environments",
        Some(KEY),
        Some(json!({"key": "qa", "colour": 1})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    let r = create_environment(&app, "development").await;
    assert_eq!(r.status, StatusCode::CREATED);
    let list = send(&app, "GET", "/admin/environments", Some(KEY), None).await;
    let keys: Vec<&str> = list.body["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["production", "development", "staging"]);

    // Production is never deleted; an environment in use is not either.
    let r = send(
        &app,
        "DELETE",
        "/admin/environments/production",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let secret = sdk_key(&app, "staging").await;
    assert_eq!(
        put_flag(&app, "banner", banner_flag()).await.status,
        StatusCode::OK
    );
    let r = send(
        &app,
        "DELETE",
        "/admin/environments/staging",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(error_code(&r), "in_use");
    let message = r.body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("flag \"banner\"") && message.contains("key \""),
        "{message}"
    );
    // Once nothing uses it, it goes.
    let id = secret.split('_').nth(1).unwrap();
    let r = send(
        &app,
        "DELETE",
        &format!("/admin/keys/{id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let mut flag = banner_flag();
    flag.as_object_mut().unwrap().remove("environments");
    assert_eq!(put_flag(&app, "banner", flag).await.status, StatusCode::OK);
    let r = send(
        &app,
        "DELETE",
        "/admin/environments/staging",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
    let r = send(
        &app,
        "DELETE",
        "/admin/environments/staging",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let audit = send(&app, "GET", "/admin/audit?key=staging", Some(KEY), None).await;
    let actions: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["environment.delete", "environment.create"]);
    // Reading needs admin:read, writing admin:write.
    let reader = make_key(&app, "production", json!(["admin:read"])).await;
    let r = send(&app, "GET", "/admin/environments", Some(&reader), None).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = send(
        &app,
        "POST",
        "/admin/environments",
        Some(&reader),
        Some(json!({"key": "qa"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

async fn unknown_environments_are_refused_and_nothing_changes<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    // An overlay naming an environment the server does not have.
    let r = put_flag(&app, "banner", banner_flag()).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
    assert_eq!(error_code(&r), "unknown_reference");
    assert_eq!(
        r.body["error"]["path"],
        json!("flags[banner].environments[staging]")
    );
    let mut exp = experiment("exp", "running");
    exp["environments"] = json!({"qa": {"status": "running"}});
    let r = put_experiment(&app, "exp", exp).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["error"]["path"],
        json!("experiments[exp].environments[qa]")
    );
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(before.etag, after.etag, "nothing was stored");
    let flags = send(&app, "GET", "/admin/flags", Some(KEY), None).await;
    assert_eq!(flags.body["flags"], json!([]));
    // A key of an unknown environment; results and promotions of one.
    let r = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "x", "environment": "qa"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["path"], json!("environment"));
    let keys = send(&app, "GET", "/admin/keys", Some(KEY), None).await;
    assert_eq!(keys.body["keys"], json!([]));
    assert_eq!(
        put_experiment(&app, "exp", experiment("exp", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(&app, "GET", "/results/exp?environment=qa", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &app,
        "POST",
        "/admin/environments/qa/promote",
        Some(KEY),
        Some(json!({"to": "production"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &app,
        "POST",
        "/admin/environments/production/promote",
        Some(KEY),
        Some(json!({"to": "qa"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.body["error"]["path"], json!("to"));
    // An overlay for production itself is core's refusal.
    assert_eq!(
        create_environment(&app, "staging").await.status,
        StatusCode::CREATED
    );
    let mut flag = banner_flag();
    flag["environments"]["production"] = json!({"enabled": false});
    let r = put_flag(&app, "banner", flag).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        r.body["error"]["path"],
        json!("flags[banner].environments[production]")
    );
}

async fn sdk_keys_read_and_evaluate_their_environments_document<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    assert_eq!(
        create_environment(&app, "staging").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        create_environment(&app, "development").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        put_flag(&app, "banner", banner_flag()).await.status,
        StatusCode::OK
    );
    // Running in production, a draft in staging (no overlay).
    assert_eq!(
        put_experiment(&app, "exp", experiment("exp", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let (prod, staging, dev) = (
        sdk_key(&app, "production").await,
        sdk_key(&app, "staging").await,
        sdk_key(&app, "development").await,
    );
    let docs: Vec<Reply> = futures_util::future::join_all(
        [&prod, &staging, &dev].map(|k| send(&app, "GET", "/sdk/config", Some(k), None)),
    )
    .await;
    for d in &docs {
        assert_eq!(d.status, StatusCode::OK);
        assert!(
            !d.body.to_string().contains("\"environments\""),
            "no overlays reach SDKs"
        );
        assert_eq!(d.body["version"], docs[0].body["version"]);
    }
    let flag = |d: &Reply| d.body["flags"][0].clone();
    assert_eq!(
        flag(&docs[0])["rules"][0]["value"],
        json!("production-value")
    );
    assert_eq!(flag(&docs[1])["rules"][0]["value"], json!("staging-value"));
    assert_eq!(flag(&docs[2])["enabled"], json!(false), "no overlay: off");
    assert_eq!(docs[0].body["experiments"][0]["status"], json!("running"));
    assert_eq!(docs[1].body["experiments"][0]["status"], json!("draft"));
    assert_ne!(docs[0].etag, docs[1].etag);
    // Each document is exactly what core projects, and validates on its own.
    for d in &docs {
        litmus_core::Engine::from_json_strict(&d.body.to_string()).unwrap();
    }
    // A 304 for the environment's own ETag, not another's.
    let r = send_with(
        &app,
        "GET",
        "/sdk/config",
        Some(&staging),
        None,
        docs[1].etag.as_deref(),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let r = send_with(
        &app,
        "GET",
        "/sdk/config",
        Some(&staging),
        None,
        docs[0].etag.as_deref(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    // `/evaluate` and `/assign` answer in the key's environment.
    let eval = |k: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/evaluate",
                Some(&k),
                Some(json!({"unit_id": "u1", "flag": "banner"})),
            )
            .await
        }
    };
    assert_eq!(
        eval(prod.clone()).await.body["value"],
        json!("production-value")
    );
    let s = eval(staging.clone()).await;
    assert_eq!(s.body["value"], json!("staging-value"));
    assert_eq!(s.body["reason"], json!("SPLIT"));
    let d = eval(dev.clone()).await;
    assert_eq!(
        (d.body["value"].clone(), d.body["reason"].clone()),
        (json!("none"), json!("DISABLED"))
    );
    let assign = |k: String| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/assign",
                Some(&k),
                Some(json!({"unit_id": "u1", "experiment": "exp"})),
            )
            .await
        }
    };
    assert_eq!(assign(prod).await.body["in_experiment"], json!(true));
    let s = assign(staging).await;
    assert_eq!(
        s.body["in_experiment"],
        json!(false),
        "a draft in staging: {:?}",
        s.body
    );
    // A unit id holding the separator of environments is refused.
    let r = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit_id": "a\u{1f}b"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

/// Exposures and conversions of units `u0..n` in `exp`, each converting when `i % every == 0`,
/// with ids prefixed `tag`, exposed in `country`.
fn traffic(tag: &str, n: usize, every: usize, country: &str) -> Vec<Value> {
    let mut events = Vec::new();
    for i in 0..n {
        let unit = format!("u{i}");
        let variant = if i % 2 == 0 { "control" } else { "treatment" };
        events.push(
            json!({"type": "exposure", "message_id": format!("{tag}-x{i}"), "unit_id": unit,
            "experiment": "exp", "variant": variant, "timestamp": at(T0_MS + i as i64),
            "dimensions": {"country": country}}),
        );
        if i % every == 0 {
            events.push(
                json!({"type": "track", "message_id": format!("{tag}-b{i}"), "unit_id": unit,
                "event": "buy", "value": 2.0, "timestamp": at(T0_MS + 60_000 + i as i64)}),
            );
        }
    }
    events
}

async fn events_and_results_are_kept_per_environment<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(state.clone());
    assert_eq!(
        create_environment(&app, "staging").await.status,
        StatusCode::CREATED
    );
    let mut exp = experiment("exp", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
    exp["dimensions"] = json!([{"key": "country", "max_values": 3}]);
    exp["environments"] = json!({"staging": {"status": "running"}});
    let r = put_experiment(&app, "exp", exp).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let (prod, staging) = (
        sdk_key(&app, "production").await,
        sdk_key(&app, "staging").await,
    );
    // The same unit ids and message ids in both environments: each keeps its own.
    let post = |k: String, events: Vec<Value>| {
        let app = app.clone();
        async move {
            let r = send(
                &app,
                "POST",
                "/events",
                Some(&k),
                Some(json!({"events": events})),
            )
            .await;
            assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
            r
        }
    };
    let r = post(prod.clone(), traffic("m", 40, 4, "FR")).await;
    assert_eq!(r.body["accepted"], json!(50));
    let r = post(staging.clone(), traffic("m", 10, 2, "DE")).await;
    assert_eq!(
        r.body["accepted"],
        json!(15),
        "not duplicates of production's: {:?}",
        r.body
    );
    // Production's events may not hold the separator.
    let bad = json!([{"type": "track", "message_id": "z", "unit_id": "staging\u{1f}u1", "event": "buy"},
                     {"type": "track", "message_id": "z\u{1f}", "unit_id": "u1", "event": "buy"},
                     {"type": "track", "message_id": "ok", "unit_id": "u1", "event": "view"}]);
    let r = send(
        &app,
        "POST",
        "/events",
        Some(&prod),
        Some(json!({"events": bad})),
    )
    .await;
    assert_eq!(r.body["accepted"], json!(1));
    let paths: Vec<&str> = r.body["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["events[0].unit_id", "events[1].message_id"]);
    post_and_apply(&state, &app, &[]).await;

    // Each environment's results, recomputed from what was posted there.
    let results = |q: &'static str| {
        let app = app.clone();
        async move { send(&app, "GET", &format!("/results/exp{q}"), Some(KEY), None).await }
    };
    let counts = |r: &Reply| r.body["results"]["units"].clone();
    let p = results("").await;
    assert_eq!(p.status, StatusCode::OK, "{:?}", p.body);
    assert_eq!(p.body["environment"], json!("production"));
    assert_eq!(counts(&p), json!([["control", 20], ["treatment", 20]]));
    let conversions = |r: &Reply| -> Vec<(u64, u64)> {
        r.body["results"]["metrics"][0]["variants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| {
                (
                    v["units"].as_u64().unwrap(),
                    v["converted"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    // Production: units 0, 4, ..., 36 convert, all even, so control 10/20, treatment 0/20.
    assert_eq!(conversions(&p), [(20, 10), (20, 0)]);
    let s = results("?environment=staging").await;
    assert_eq!(s.status, StatusCode::OK, "{:?}", s.body);
    assert_eq!(s.body["environment"], json!("staging"));
    assert_eq!(counts(&s), json!([["control", 5], ["treatment", 5]]));
    // Staging: units 0, 2, ..., 8 convert: control 5/5, treatment 0/5.
    assert_eq!(conversions(&s), [(5, 5), (5, 0)]);
    // The units export shows staging's units by the ids their clients sent.
    let units = send(
        &app,
        "GET",
        "/admin/experiments/exp/units?environment=staging",
        Some(KEY),
        None,
    )
    .await;
    let text = units
        .body
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| units.body.to_string());
    let ids: Vec<String> = text
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["unit_id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 10);
    assert!(
        ids.iter()
            .all(|u| u.starts_with('u') && !u.contains('\u{1f}')),
        "{ids:?}"
    );
    // Segments are kept per environment too: production's units came from FR, staging's
    // from DE.
    for (q, country, units) in [("", "FR", 40), ("&environment=staging", "DE", 10)] {
        let uri = format!("/results/exp/segments?dimension=country{q}");
        let seg = send(&app, "GET", &uri, Some(KEY), None).await;
        assert_eq!(seg.status, StatusCode::OK, "{:?}", seg.body);
        let segments = seg.body["breakdown"]["segments"].as_array().unwrap();
        assert_eq!(segments.len(), 1, "{q}: {segments:?}");
        assert_eq!(segments[0]["value"], json!(country));
        let total: u64 = segments[0]["results"]["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u[1].as_u64().unwrap())
            .sum();
        assert_eq!(total, units, "{q}");
    }
}

async fn promotion_previews_then_applies_the_differences<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    assert_eq!(
        create_environment(&app, "staging").await.status,
        StatusCode::CREATED
    );
    assert_eq!(
        put_flag(&app, "banner", banner_flag()).await.status,
        StatusCode::OK
    );
    let other = json!({"key": "limit", "type": "number", "default": 5,
        "environments": {"staging": {"enabled": true}}});
    assert_eq!(put_flag(&app, "limit", other).await.status, StatusCode::OK);
    let before = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    let promote = |body: Value| {
        let app = app.clone();
        async move {
            send(
                &app,
                "POST",
                "/admin/environments/staging/promote",
                Some(KEY),
                Some(body),
            )
            .await
        }
    };
    // The preview lists every difference and stores nothing.
    let preview = promote(json!({"to": "production", "dry_run": true})).await;
    assert_eq!(preview.status, StatusCode::OK, "{:?}", preview.body);
    assert_eq!(preview.body["version"], Value::Null);
    let fields: Vec<(String, String)> = preview.body["differences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["flag"].as_str().unwrap().to_owned(),
                d["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // `limit` is enabled (with no rules) in both: no difference.
    assert_eq!(fields, [("banner".to_owned(), "rules".to_owned())]);
    assert_eq!(
        preview.body["differences"][0]["after"][0]["value"],
        json!("staging-value")
    );
    let unchanged = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(unchanged.etag, before.etag);
    // Only some flags; then every flag, for real.
    let some = promote(json!({"to": "production", "flags": ["limit"], "dry_run": true})).await;
    assert_eq!(some.body["differences"], json!([]));
    let bad = promote(json!({"to": "production", "flags": ["nope"]})).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(bad.body["error"]["path"], json!("flags[0]"));
    let done = promote(json!({"to": "production"})).await;
    assert_eq!(done.status, StatusCode::OK, "{:?}", done.body);
    assert_eq!(done.body["differences"], preview.body["differences"]);
    let version = done.body["version"].as_u64().unwrap();
    let after = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(after.body["version"], json!(format!("v{version}")));
    assert_eq!(
        after.body["flags"][0]["rules"][0]["value"],
        json!("staging-value")
    );
    let r = send(
        &app,
        "POST",
        "/evaluate",
        Some(KEY),
        Some(json!({"unit_id": "u", "flag": "banner"})),
    )
    .await;
    assert_eq!(r.body["value"], json!("staging-value"));
    let audit = send(
        &app,
        "GET",
        "/admin/audit?key=banner&limit=1",
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(audit.body["entries"][0]["action"], json!("flag.promote"));
    assert_eq!(audit.body["entries"][0]["version"], json!(version));
    // Promoting again changes nothing and publishes nothing.
    let again = promote(json!({"to": "production"})).await;
    assert_eq!(again.body["differences"], json!([]));
    assert_eq!(again.body["version"], Value::Null);
    let same = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(same.etag, after.etag);
    let itself = promote(json!({"to": "staging"})).await;
    assert_eq!(itself.status, StatusCode::UNPROCESSABLE_ENTITY);
}
