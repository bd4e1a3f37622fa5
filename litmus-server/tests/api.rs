//! The HTTP API through the router, without a socket. Each test is generic over the backend and
//! runs on all of them (see `common`): the embedded store, PostgreSQL, and PostgreSQL with Redis.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use litmus_server::state::AppState;
use litmus_server::store::sqlite::SqliteStore;
use litmus_server::store::{EventStore, Store};
use serde_json::{Value, json};
use tower::ServiceExt;

on_every_backend!(
    the_api_end_to_end,
    the_stream_pushes_each_new_version,
    two_instances_see_each_others_changes,
    a_new_instance_finds_the_stored_config,
    metrics_count_requests_by_route,
    keys_have_scopes_are_stored_hashed_and_can_be_revoked,
    layers_and_holdouts_are_managed_like_experiments,
    objects_are_deleted_by_the_lifecycle_rules,
    assignments_are_sticky_when_weights_change,
    stored_rollups_equal_a_recomputation,
    one_round_of_every_batch_equals_the_reference,
    an_instance_taking_over_the_rollups_replays_them_since_the_checkpoint,
    events_are_ingested_with_limits_and_retries,
    retention_drops_old_raw_events_and_keeps_rollups,
    results_equal_the_statistics_of_the_raw_events,
);

async fn the_api_end_to_end<S: Store>(env: &Env<S>) {
    let app = env.app().await;

    // Health.
    assert_eq!(
        send(&app, "GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        send(&app, "GET", "/readyz", None, None).await.status,
        StatusCode::OK
    );

    // The empty config, then 304 for its ETag.
    let first = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["version"], "v0");
    let etag0 = first.etag.clone().unwrap();
    let again = send_with(&app, "GET", "/sdk/config", Some(KEY), None, Some(&etag0)).await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);

    // Keys.
    let none = send(&app, "GET", "/admin/experiments", None, None).await;
    assert_eq!(
        (none.status, error_code(&none)),
        (StatusCode::UNAUTHORIZED, "unauthorized")
    );
    let wrong = send(&app, "GET", "/admin/experiments", Some("nope"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);

    // Create, read back, and see it in the next snapshot.
    let put = put_experiment(&app, "checkout", experiment("checkout", "draft")).await;
    assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    assert_eq!(put.body["version"], 1);
    assert_eq!(
        put.body["experiment"]["traffic"], 1.0,
        "defaults are filled in"
    );
    let got = send(&app, "GET", "/admin/experiments/checkout", Some(KEY), None).await;
    assert_eq!(got.body["salt"], "checkout-salt");
    assert_eq!(
        send(&app, "GET", "/admin/experiments/nope", Some(KEY), None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let snap = send_with(&app, "GET", "/sdk/config", Some(KEY), None, Some(&etag0)).await;
    assert_eq!(snap.status, StatusCode::OK);
    assert_eq!(snap.body["version"], "v1");
    assert_ne!(snap.etag.as_deref(), Some(etag0.as_str()));
    let engine = litmus_core::Engine::from_value(snap.body.clone()).unwrap();
    assert!(engine.problems().is_empty());
    assert!(engine.experiment("checkout").is_some());

    // Validation by core: the field is named.
    let mut unknown = experiment("bad", "draft");
    unknown["colour"] = json!("red");
    let r = put_experiment(&app, "bad", unknown).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_field")
    );
    assert_eq!(r.body["error"]["path"], "experiments[bad].colour");
    let mut traffic = experiment("bad", "draft");
    traffic["traffic"] = json!(2.0);
    let r = put_experiment(&app, "bad", traffic).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    assert_eq!(r.body["error"]["path"], "experiments[bad].traffic");
    let r = put_experiment(&app, "other", experiment("checkout", "draft")).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_value")
    );
    let raw = Request::builder()
        .method("PUT")
        .uri("/admin/experiments/x")
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(Body::from("{nope"))
        .unwrap();
    assert_eq!(
        app.clone().oneshot(raw).await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );

    // A second, running experiment for the assignment checks below.
    assert_eq!(
        put_experiment(&app, "e-live", experiment("e-live", "running"))
            .await
            .status,
        StatusCode::OK
    );

    // Lifecycle.
    let ok = put_experiment(&app, "checkout", experiment("checkout", "running")).await;
    assert_eq!(ok.status, StatusCode::OK);
    let back = put_experiment(&app, "checkout", experiment("checkout", "draft")).await;
    assert_eq!(
        (back.status, error_code(&back)),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let mut fewer = experiment("checkout", "running");
    fewer["variants"] = json!([{"key": "control"}]);
    let r = put_experiment(&app, "checkout", fewer).await;
    assert_eq!(error_code(&r), "invalid_transition");
    let mut resalted = experiment("checkout", "running");
    resalted["salt"] = json!("new");
    assert_eq!(
        error_code(&put_experiment(&app, "checkout", resalted).await),
        "invalid_transition"
    );
    let mut zero = experiment("checkout", "paused");
    zero["variants"][1]["weight"] = json!(0);
    assert_eq!(
        put_experiment(&app, "checkout", zero).await.status,
        StatusCode::OK
    );
    assert_eq!(
        put_experiment(&app, "checkout", experiment("checkout", "stopped"))
            .await
            .status,
        StatusCode::OK
    );
    let r = put_experiment(&app, "checkout", experiment("checkout", "running")).await;
    assert_eq!(error_code(&r), "invalid_transition");

    // The audit log: every accepted change, newest first, with before and after.
    let audit = send(&app, "GET", "/admin/audit?limit=10", Some(KEY), None).await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 5);
    assert_eq!(entries[0]["after"]["status"], "stopped");
    assert_eq!(entries[0]["before"]["status"], "paused");
    assert_eq!(entries[4]["action"], "experiment.create");
    assert!(entries[4]["before"].is_null());
    assert_eq!(entries[0]["version"], 5);
    // One object's history.
    let of_checkout: Vec<&Value> = entries.iter().filter(|e| e["key"] == "checkout").collect();
    let only = send(&app, "GET", "/admin/audit?key=checkout", Some(KEY), None).await;
    let only = only.body["entries"].as_array().unwrap();
    assert!(only.len() >= 3 && only.len() < entries.len());
    assert_eq!(only.iter().collect::<Vec<_>>(), of_checkout);

    // Assignment by the server: the same answer as the core on the published snapshot.
    let snapshot = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    let reference = litmus_core::Engine::from_value(snapshot).unwrap();
    for i in 0..50 {
        let unit = format!("user-{i}");
        let one = send(
            &app,
            "POST",
            "/assign",
            Some(KEY),
            Some(json!({"unit_id": unit, "experiment": "e-live"})),
        )
        .await;
        assert_eq!(one.status, StatusCode::OK);
        let want = reference.assign("e-live", &unit, &litmus_core::NoAttributes);
        assert_eq!(one.body["variant"].as_str(), want.variant_key());
        assert_eq!(one.body["reason"], want.reason().code());
    }
    let all = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit_id": "u1", "attributes": {"country": "DE"}})),
    )
    .await;
    let running: Vec<&str> = all.body["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["experiment"].as_str().unwrap())
        .collect();
    assert_eq!(
        running,
        vec!["e-live"],
        "stopped experiments are not assigned"
    );
    let bad = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit": "u1"})),
    )
    .await;
    assert_eq!(
        (bad.status, error_code(&bad)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let unknown = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit_id": "u1", "experiment": "nope"})),
    )
    .await;
    assert_eq!(unknown.body["reason"], "unknown_experiment");

    // Bodies over the limit are refused before they are read.
    let huge = json!({"key": "big", "variants": [{"key": "a", "payload": "x".repeat(litmus_server::BODY_LIMIT)}]});
    assert_eq!(
        put_experiment(&app, "big", huge).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );

    // Concurrent writers: every change lands, each with its own version.
    let writes = (0..8).map(|i| {
        let app = app.clone();
        tokio::spawn(async move {
            let key = format!("e{i}");
            send(
                &app,
                "PUT",
                &format!("/admin/experiments/{key}"),
                Some(KEY),
                Some(experiment(&key, "running")),
            )
            .await
        })
    });
    let mut versions = Vec::new();
    for w in writes {
        let r = w.await.unwrap();
        assert!(
            r.status == StatusCode::OK || error_code(&r) == "conflict",
            "{:?}",
            r.body
        );
        if r.status == StatusCode::OK {
            versions.push(r.body["version"].as_u64().unwrap());
        }
    }
    versions.sort_unstable();
    versions.dedup();
    let list = send(&app, "GET", "/admin/experiments", Some(KEY), None).await;
    let stored = list.body["experiments"].as_array().unwrap().len();
    assert_eq!(
        stored,
        2 + versions.len(),
        "every accepted write is stored once"
    );
    let last = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(last.body["experiments"].as_array().unwrap().len(), stored);
}

/// A new instance (a restart, or another server) finds the stored config: the same snapshot
/// and ETag, the objects, and migrations not re-run.
async fn a_new_instance_finds_the_stored_config<S: Store>(env: &Env<S>) {
    the_api_end_to_end(env).await;
    let state = env.instance().await;
    let snapshot = state.store.snapshot("default").await.unwrap();
    assert!(snapshot.version >= 6);
    assert!(
        state
            .store
            .objects("default")
            .await
            .unwrap()
            .experiments
            .iter()
            .any(|e| e.key == "checkout")
    );
    let app: Router = litmus_server::app(state);
    let r = send_with(
        &app,
        "GET",
        "/sdk/config",
        Some(KEY),
        None,
        Some(&snapshot.etag),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
}

/// The next SSE event (comments skipped), as its raw text: waits for it, however long it
/// takes (tests prove behaviour, not speed; a stream that never delivers hangs the test,
/// which the harness reports).
async fn next_event(body: &mut Body) -> String {
    let mut text = String::new();
    loop {
        if let Some(end) = text.find("\n\n") {
            let event: String = text.drain(..end + 2).collect();
            if event.lines().all(|l| l.starts_with(':') || l.is_empty()) {
                continue;
            }
            return event;
        }
        let frame = body.frame().await.expect("the stream is open").unwrap();
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
    }
}

async fn open_stream(app: &Router) -> Body {
    let uri = format!("/sdk/stream?sdk_key={KEY}");
    let req = Request::get(uri).body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/event-stream");
    res.into_body()
}

async fn the_stream_pushes_each_new_version<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let mut body = open_stream(&app).await;
    let first = next_event(&mut body).await;
    assert!(
        first.contains("event: config") && first.contains("id: 0"),
        "{first}"
    );
    assert_eq!(
        put_experiment(&app, "a", experiment("a", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let next = next_event(&mut body).await;
    assert!(
        next.contains("id: 1") && next.contains("\"key\":\"a\""),
        "{next}"
    );
}

/// Two instances sharing a store (and a cache): a change written through one reaches the
/// other's stream, through Redis pub/sub when there is Redis (no timer then), else through the
/// timer that re-reads the stored version. The test waits for the event itself: how soon it
/// arrives is measured by the benchmarks, not asserted here.
async fn two_instances_see_each_others_changes<S: Store>(env: &Env<S>) {
    let writer = env.instance().await;
    let reader = env.instance().await;
    if env.has_redis() {
        env.wait_for_subscribers(2).await;
    } else {
        litmus_server::jobs::versions::watch_versions(
            &reader,
            std::time::Duration::from_millis(500),
        );
    }
    let (write_app, read_app) = (litmus_server::app(writer), litmus_server::app(reader));
    let mut body = open_stream(&read_app).await;
    let first = next_event(&mut body).await;
    assert!(first.contains("id: 0"), "{first}");
    assert_eq!(
        put_experiment(&write_app, "x", experiment("x", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let next = next_event(&mut body).await;
    assert!(next.contains("id: 1"), "{next}");
}

async fn metrics_count_requests_by_route<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    for _ in 0..3 {
        send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    }
    put_experiment(&app, "m", experiment("m", "draft")).await;
    put_experiment(&app, "n", experiment("n", "draft")).await;
    send(&app, "GET", "/admin/experiments", Some("wrong"), None).await;
    let req = Request::get("/metrics").body(Body::empty()).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let text =
        String::from_utf8(res.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    for line in [
        r#"litmus_http_requests_total{method="GET",route="/sdk/config",status="200"} 3"#,
        r#"litmus_http_requests_total{method="PUT",route="/admin/{collection}/{key}",status="200"} 2"#,
        r#"litmus_http_requests_total{method="GET",route="/admin/{collection}",status="401"} 1"#,
        "litmus_config_version 2",
        "litmus_live_dropped_total 0",
        "litmus_live_experiments 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
}

async fn keys_have_scopes_are_stored_hashed_and_can_be_revoked<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let made = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "web app"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let sdk = made.body["key"].as_str().unwrap().to_owned();
    assert!(sdk.starts_with("lit_"));
    assert_eq!(
        made.body["scopes"],
        json!(["sdk:read", "assign", "events:write"])
    );
    // An SDK key reads the config and assigns, by header or (for EventSource) by query.
    assert_eq!(
        send(&app, "GET", "/sdk/config", Some(&sdk), None)
            .await
            .status,
        StatusCode::OK
    );
    let by_query = format!("/sdk/config?sdk_key={sdk}");
    assert_eq!(
        send(&app, "GET", &by_query, None, None).await.status,
        StatusCode::OK
    );
    let a = send(
        &app,
        "POST",
        "/assign",
        Some(&sdk),
        Some(json!({"unit_id": "u"})),
    )
    .await;
    assert_eq!(a.status, StatusCode::OK);
    // ... and nothing else.
    let r = send(&app, "GET", "/admin/experiments", Some(&sdk), None).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(
        send(&app, "GET", "/sdk/config", None, None).await.status,
        StatusCode::UNAUTHORIZED
    );
    // A wrong secret with a real id, and a malformed key, are both 401.
    let (id, _) = sdk.trim_start_matches("lit_").split_once('_').unwrap();
    let forged = format!("lit_{id}_{}", "0".repeat(48));
    assert_eq!(
        send(&app, "GET", "/sdk/config", Some(&forged), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(&app, "GET", "/sdk/config", Some("lit_x"), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // An admin key with chosen scopes; listing shows no secret or hash.
    let admin = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "ops", "scopes": ["admin:read", "admin:write"]})),
    )
    .await;
    let admin_key = admin.body["key"].as_str().unwrap().to_owned();
    assert_eq!(
        put_experiment_with(&app, &admin_key, "k", experiment("k", "draft"))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(
        &app,
        "POST",
        "/admin/keys",
        Some(&admin_key),
        Some(json!({"name": "x"})),
    )
    .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "keys:write is needed to make keys"
    );
    let list = send(&app, "GET", "/admin/keys", Some(KEY), None).await;
    let text = list.body.to_string();
    assert!(
        !text.contains(&sdk[sdk.len() - 20..]) && !text.contains("hash"),
        "{text}"
    );
    assert_eq!(list.body["keys"].as_array().unwrap().len(), 2);
    let bad = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "x", "scopes": ["root"]})),
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    // Revoked: refused at once; audited with the actor's name.
    let gone = send(
        &app,
        "DELETE",
        &format!("/admin/keys/{id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(
        send(&app, "GET", "/sdk/config", Some(&sdk), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        send(
            &app,
            "DELETE",
            &format!("/admin/keys/{id}"),
            Some(KEY),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let audit = send(&app, "GET", "/admin/audit", Some(KEY), None).await;
    let actions: Vec<(&str, &str)> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].as_str().unwrap()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("key.revoke", "bootstrap"),
            ("experiment.create", "ops"),
            ("key.create", "bootstrap"),
            ("key.create", "bootstrap")
        ]
    );
}

async fn put_experiment_with(app: &Router, key: &str, name: &str, body: Value) -> Reply {
    send(
        app,
        "PUT",
        &format!("/admin/experiments/{name}"),
        Some(key),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_open_for_sdk_routes_only() {
    let app = litmus_server::app(AppState::new(SqliteStore::in_memory().unwrap(), KEY));
    let preflight = |uri: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri(uri)
            .header(header::ORIGIN, "https://shop.example")
            .header(header::ACCESS_CONTROL_REQUEST_METHOD, "GET")
            .header(header::ACCESS_CONTROL_REQUEST_HEADERS, "authorization")
            .body(Body::empty())
            .unwrap()
    };
    let sdk = app.clone().oneshot(preflight("/sdk/config")).await.unwrap();
    assert_eq!(sdk.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    let admin = app
        .clone()
        .oneshot(preflight("/admin/experiments"))
        .await
        .unwrap();
    assert!(
        admin
            .headers()
            .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
            .is_none()
    );
    let get = Request::get("/sdk/config")
        .header(header::ORIGIN, "https://shop.example")
        .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
        .body(Body::empty())
        .unwrap();
    let res = app.clone().oneshot(get).await.unwrap();
    assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*");
    assert_eq!(
        res.headers()[header::ACCESS_CONTROL_EXPOSE_HEADERS],
        "etag,retry-after"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_lists_every_route_and_each_exists() {
    let app = litmus_server::app(AppState::new(SqliteStore::in_memory().unwrap(), KEY));
    let doc = send(&app, "GET", "/openapi.json", None, None).await.body;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, _) in item
            .as_object()
            .unwrap()
            .iter()
            .filter(|(m, _)| *m != "parameters")
        {
            let uri = path
                .replace("{collection}", "layers")
                .replace("{key}", "x")
                .replace("{id}", "x")
                .replace("{delivery}", "x")
                .replace("{experiment}", "x");
            let req = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::AUTHORIZATION, format!("Bearer {KEY}"))
                .body(Body::from("{}"))
                .unwrap();
            let res = app.clone().oneshot(req).await.unwrap();
            let status = res.status();
            // An unrouted request is axum's bare 404 or a 405; a route of ours answers
            // anything else, or a 404 with our JSON error. (Bodies are read only for 404s:
            // the stream's never ends.)
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
            if status == StatusCode::NOT_FOUND {
                let body = res.into_body().collect().await.unwrap().to_bytes();
                assert!(!body.is_empty(), "{method} {path} is not routed");
            }
            operations += 1;
        }
    }
    // Every route the router serves is documented (keep in step with litmus_server::app).
    let routed = [
        "/healthz",
        "/readyz",
        "/metrics",
        "/openapi.json",
        "/sdk/config",
        "/sdk/stream",
        "/assign",
        "/events",
        "/admin/{collection}",
        "/admin/{collection}/{key}",
        "/admin/audit",
        "/admin/keys",
        "/admin/keys/{id}",
        "/results/{experiment}",
        "/results/{experiment}/replay",
        "/results/{experiment}/segments",
        "/holdouts/{key}/results",
        "/admin/experiments/{key}/units",
        "/planning",
        "/live",
    ];
    for r in routed {
        assert!(paths.contains_key(r), "{r} is not in openapi.json");
    }
    assert_eq!(operations, 54);
}

async fn layers_and_holdouts_are_managed_like_experiments<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let put = |path: &'static str, body: Value| {
        let app = app.clone();
        async move { send(&app, "PUT", path, Some(KEY), Some(body)).await }
    };
    assert_eq!(
        put("/admin/layers/checkout", json!({})).await.status,
        StatusCode::OK
    );
    let mut member = experiment("member", "running");
    member["layer"] = json!({"key": "checkout", "range": [0.0, 0.5]});
    assert_eq!(
        put("/admin/experiments/member", member).await.status,
        StatusCode::OK
    );
    let mut stray = experiment("stray", "draft");
    stray["layer"] = json!({"key": "nope", "range": [0.0, 0.5]});
    let r = put("/admin/experiments/stray", stray).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::UNPROCESSABLE_ENTITY, "unknown_reference")
    );
    let h = put(
        "/admin/holdouts/global",
        json!({"share": 0.05, "all": true}),
    )
    .await;
    assert_eq!(h.status, StatusCode::OK, "{:?}", h.body);
    assert_eq!(h.body["holdout"]["share"], 0.05);
    // A started experiment depends on them: salts and the share stay.
    let r = put("/admin/layers/checkout", json!({"salt": "new"})).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::CONFLICT, "invalid_transition")
    );
    let r = put("/admin/holdouts/global", json!({"share": 0.1, "all": true})).await;
    assert_eq!(error_code(&r), "invalid_transition");
    // Unknown collections and fields.
    assert_eq!(
        put("/admin/widgets/x", json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let r = put("/admin/layers/other", json!({"colour": 1})).await;
    assert_eq!(r.body["error"]["path"], "layers[other].colour");
    // Lists, single reads, the snapshot and the engine see them.
    let layers = send(&app, "GET", "/admin/layers", Some(KEY), None).await;
    assert_eq!(layers.body["layers"][0]["key"], "checkout");
    let one = send(&app, "GET", "/admin/holdouts/global", Some(KEY), None).await;
    assert_eq!(one.body["all"], true);
    let snap = send(&app, "GET", "/sdk/config", Some(KEY), None).await.body;
    let engine = litmus_core::Engine::from_value(snap).unwrap();
    assert_eq!(engine.layer_keys().collect::<Vec<_>>(), vec!["checkout"]);
    assert_eq!(engine.holdout_keys().collect::<Vec<_>>(), vec!["global"]);
    let audit = send(&app, "GET", "/admin/audit", Some(KEY), None).await;
    let actions: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        vec!["holdout.create", "experiment.create", "layer.create"]
    );
}

async fn delete(app: &Router, uri: &str, key: &str) -> Reply {
    send(app, "DELETE", uri, Some(key), None).await
}

async fn objects_are_deleted_by_the_lifecycle_rules<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    assert_eq!(
        put_experiment(&app, "draft", experiment("draft", "draft"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        put_experiment(&app, "live", experiment("live", "running"))
            .await
            .status,
        StatusCode::OK
    );
    // Only admin:write may delete.
    let made = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "sdk"})),
    )
    .await;
    let sdk = made.body["key"].as_str().unwrap().to_owned();
    let refused = delete(&app, "/admin/experiments/draft", &sdk).await;
    assert_eq!(
        (refused.status, error_code(&refused)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    assert_eq!(
        send(&app, "DELETE", "/admin/experiments/draft", None, None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    // A draft goes; the next snapshot lacks it; the audit log keeps what it was.
    let gone = delete(&app, "/admin/experiments/draft", KEY).await;
    assert_eq!(gone.status, StatusCode::OK, "{:?}", gone.body);
    assert_eq!(gone.body["deleted"]["key"], "draft");
    assert_eq!(gone.body["version"], 3);
    let snap = send(&app, "GET", "/sdk/config", Some(KEY), None).await;
    assert_eq!(snap.body["version"], "v3");
    let keys: Vec<&str> = snap.body["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["live"]);
    let audit = send(&app, "GET", "/admin/audit?limit=1", Some(KEY), None).await;
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["action"], "experiment.delete");
    assert_eq!(entry["before"]["key"], "draft");
    assert!(entry["after"].is_null());
    assert_eq!(entry["version"], 3);
    let again = delete(&app, "/admin/experiments/draft", KEY).await;
    assert_eq!(
        (again.status, error_code(&again)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(
        delete(&app, "/admin/nothing/draft", KEY).await.status,
        StatusCode::NOT_FOUND
    );

    // A running experiment is stopped first.
    let live = delete(&app, "/admin/experiments/live", KEY).await;
    assert_eq!(
        (live.status, error_code(&live)),
        (StatusCode::CONFLICT, "invalid_transition"),
        "{:?}",
        live.body
    );
    assert_eq!(
        put_experiment(&app, "live", experiment("live", "stopped"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        delete(&app, "/admin/experiments/live", KEY).await.status,
        StatusCode::OK
    );

    // A layer an experiment refers to stays (core names the reference); unused, it goes.
    let put = |uri: &'static str, body: Value| {
        let app = app.clone();
        async move { send(&app, "PUT", uri, Some(KEY), Some(body)).await }
    };
    assert_eq!(
        put("/admin/layers/l", json!({})).await.status,
        StatusCode::OK
    );
    let mut member = experiment("member", "draft");
    member["layer"] = json!({"key": "l", "range": [0.0, 0.5]});
    assert_eq!(
        put_experiment(&app, "member", member).await.status,
        StatusCode::OK
    );
    let used = delete(&app, "/admin/layers/l", KEY).await;
    assert_eq!(
        used.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        used.body
    );
    assert!(used.body.to_string().contains("member"), "{:?}", used.body);
    assert_eq!(
        delete(&app, "/admin/experiments/member", KEY).await.status,
        StatusCode::OK
    );
    assert_eq!(
        delete(&app, "/admin/layers/l", KEY).await.status,
        StatusCode::OK
    );

    // A holdout covering a started experiment stays.
    assert_eq!(
        put("/admin/holdouts/h", json!({"share": 0.05, "all": true}))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        put_experiment(&app, "covered", experiment("covered", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let covering = delete(&app, "/admin/holdouts/h", KEY).await;
    assert_eq!(covering.status, StatusCode::CONFLICT, "{:?}", covering.body);
}

async fn assign(app: &Router, unit: &str) -> Value {
    let body = json!({"unit_id": unit, "experiment": "arm"});
    let r = send(app, "POST", "/assign", Some(KEY), Some(body)).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    r.body
}

/// Units keep their first variant when the weights change (a bandit moving traffic), on this
/// instance and, when they share Redis, on every instance; units new since get the new weights.
async fn assignments_are_sticky_when_weights_change<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let weighted = |w: [f64; 2]| {
        json!({
            "key": "arm", "salt": "arm-salt", "status": "running",
            "variants": [{"key": "a", "weight": w[0]}, {"key": "b", "weight": w[1]}]
        })
    };
    assert_eq!(
        put_experiment(&app, "arm", weighted([1.0, 0.0]))
            .await
            .status,
        StatusCode::OK
    );
    let units: Vec<String> = (0..40).map(|i| format!("user-{i}")).collect();
    for u in &units {
        let a = assign(&app, u).await;
        assert_eq!(
            (a["variant"].as_str(), a["reason"].as_str()),
            (Some("a"), Some("assigned"))
        );
    }
    assert_eq!(
        put_experiment(&app, "arm", weighted([0.0, 1.0]))
            .await
            .status,
        StatusCode::OK
    );
    for u in &units {
        let a = assign(&app, u).await;
        assert_eq!(
            (a["variant"].as_str(), a["reason"].as_str()),
            (Some("a"), Some("sticky")),
            "{u}"
        );
    }
    let newcomer = assign(&app, "user-new").await;
    assert_eq!(newcomer["variant"], "b");
    // Every running experiment at once: the same answers.
    let all = send(
        &app,
        "POST",
        "/assign",
        Some(KEY),
        Some(json!({"unit_id": "user-1"})),
    )
    .await;
    assert_eq!(all.body["assignments"][0]["variant"], "a");
    assert_eq!(all.body["assignments"][0]["reason"], "sticky");
    if env.has_redis() {
        // Another instance sharing Redis keeps them too.
        let other = env.app().await;
        for u in &units {
            assert_eq!(assign(&other, u).await["variant"], "a", "{u}");
        }
        assert_eq!(assign(&other, "user-new").await["reason"], "sticky");
    }
}

/// A deterministic stream of events: exposures and purchases of 60 units in 2 experiments
/// over 20 minutes, with retried (duplicate) batches and events before exposure.
fn event_batches() -> Vec<Vec<litmus_core::events::Event>> {
    use litmus_core::Timestamp;
    use litmus_core::events::{Event, EventKind};
    let mut state: u64 = 42;
    let mut next = move |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    let t0 = 1_800_000_000_000_i64;
    let mut batches = Vec::new();
    let mut id = 0;
    for _ in 0..12 {
        let mut batch = Vec::new();
        for _ in 0..40 {
            id += 1;
            let unit = format!("u{}", next(60));
            let time = Timestamp::from_unix_millis(t0 + (next(20 * 60) * 1_000) as i64);
            let experiment = ["e1", "e2"][next(2) as usize].to_owned();
            let kind = if next(3) == 0 {
                EventKind::Exposure {
                    experiment,
                    variant: ["a", "b"][next(2) as usize].to_owned(),
                    dimensions: Vec::new(),
                }
            } else {
                EventKind::Track {
                    event: ["buy", "click"][next(2) as usize].to_owned(),
                    value: (next(1000) as f64) / 10.0,
                    properties: None,
                }
            };
            batch.push(Event {
                message_id: format!("m{id}"),
                unit_id: unit,
                time,
                client_time: Some(time),
                kind,
            });
        }
        batches.push(batch);
    }
    // A client retries the third batch whole, and part of the fifth inside the sixth.
    let retry = batches[2].clone();
    batches.push(retry);
    let partial: Vec<_> = batches[4][..10].to_vec();
    batches[5].extend(partial);
    batches
}

fn assert_same_rollups(
    got: &litmus_server::store::RollupTables,
    want_exposures: &std::collections::BTreeMap<(String, String, i64), u64>,
    want_metrics: &std::collections::BTreeMap<
        (String, String, String, i64),
        litmus_core::events::MetricRollup,
    >,
) {
    assert_eq!(&got.exposures, want_exposures);
    assert_eq!(
        got.metrics.keys().collect::<Vec<_>>(),
        want_metrics.keys().collect::<Vec<_>>()
    );
    for (k, want) in want_metrics {
        let g = &got.metrics[k];
        assert_eq!((g.events, g.units), (want.events, want.units), "{k:?}");
        assert!(
            (g.sum - want.sum).abs() < 1e-6,
            "{k:?}: {} vs {}",
            g.sum,
            want.sum
        );
        assert!(
            (g.sum_squares - want.sum_squares).abs() < 1e-6 * want.sum_squares.abs().max(1.0),
            "{k:?}: {} vs {}",
            g.sum_squares,
            want.sum_squares
        );
        // The CUPED sums.
        for (got, expected) in [
            (g.covariate_sum, want.covariate_sum),
            (g.covariate_squares, want.covariate_squares),
            (g.cross, want.cross),
        ] {
            assert!(
                (got - expected).abs() < 1e-6 * expected.abs().max(1.0),
                "{k:?}: {got} vs {expected}"
            );
        }
    }
}

/// The attribution window of the rollup tests.
const WINDOW_MS: i64 = 10 * 60 * 1_000;

/// Core's reference rollups of `batches` as a store keeps them: each message_id once.
fn reference_rollups(batches: &[Vec<litmus_core::events::Event>]) -> litmus_core::events::Rollups {
    let mut seen = std::collections::HashSet::new();
    let mut reference = litmus_core::events::Rollups::new(WINDOW_MS);
    for events in batches {
        let fresh: Vec<_> = events
            .iter()
            .filter(|e| seen.insert(e.message_id.clone()))
            .cloned()
            .collect();
        reference.apply(&fresh);
    }
    reference
}

/// Batches queued before migration 3 carry no rows for the rollup worker: it reads them back
/// from the events hypertable, with the same result.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_batches_queued_without_rollup_rows_are_read_from_the_events() {
    let Some(env) = common::postgres(false).await else {
        return;
    };
    let state = env.instance().await;
    let batches = event_batches();
    for events in &batches {
        let batch = litmus_server::store::EventBatch {
            events: events.clone(),
            received_ms: 1_800_000_000_000,
        };
        state.store.ingest(batch).await.unwrap();
    }
    let (client, conn) = tokio_postgres::connect(env.database().unwrap(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let legacy = client
        .execute("UPDATE pending_batches SET rows = NULL", &[])
        .await
        .unwrap();
    assert!(legacy >= 6, "{legacy} batches queued");
    while state
        .store
        .apply_rollups(WINDOW_MS, 2)
        .await
        .unwrap()
        .batches
        > 0
    {}
    let reference = reference_rollups(&batches);
    let tables = state.store.rollups().await.unwrap();
    assert_same_rollups(&tables, &reference.exposures, &reference.metrics);
}

/// Each message_id is stored once, and the rollups the store maintains equal core's reference
/// recomputed from the raw events it stored, and from the batches as sent.
async fn stored_rollups_equal_a_recomputation<S: Store>(env: &Env<S>) {
    use litmus_core::events::Rollups;
    use litmus_server::store::EventBatch;
    let state = env.instance().await;
    let window = WINDOW_MS;
    let batches = event_batches();
    let mut seen = std::collections::HashSet::new();
    let (mut stored, mut duplicates) = (0, 0);
    for events in &batches {
        let fresh = events
            .iter()
            .filter(|e| seen.insert(e.message_id.clone()))
            .count();
        let report = state
            .store
            .ingest(EventBatch {
                events: events.clone(),
                received_ms: 1_800_000_000_000,
            })
            .await
            .unwrap();
        assert_eq!(report.stored, fresh);
        // The rollups of every other batch are applied later, two at once.
        if report.stored % 2 == 0 {
            while state.store.apply_rollups(window, 2).await.unwrap().batches > 0 {}
        }
        stored += report.stored;
        duplicates += report.duplicates;
    }
    assert_eq!((stored, duplicates), (480, 50));
    while state.store.apply_rollups(window, 2).await.unwrap().batches > 0 {}
    let tables = state.store.rollups().await.unwrap();
    assert!(tables.metrics.len() > 20 && tables.exposures.len() > 20);
    let reference = reference_rollups(&batches);
    // Some units were active before their exposure: the covariates are exercised.
    assert!(
        reference
            .metrics
            .values()
            .filter(|m| m.covariate_sum > 0.0)
            .count()
            > 5
    );
    assert!(reference.metrics.values().any(|m| m.cross > 0.0));
    assert_same_rollups(&tables, &reference.exposures, &reference.metrics);
    // From the raw events as stored.
    let raw = state.store.stored_events().await.unwrap();
    assert_eq!(raw.iter().map(Vec::len).sum::<usize>(), 480);
    let mut again = Rollups::new(window);
    for batch in &raw {
        again.apply(batch);
    }
    assert_same_rollups(&tables, &again.exposures, &again.metrics);
}

/// Every batch applied in one round (a store may share its reads and writes across a round's
/// batches) gives the rollups of applying them one by one: batch order and rule 5 kept.
async fn one_round_of_every_batch_equals_the_reference<S: Store>(env: &Env<S>) {
    use litmus_server::store::EventBatch;
    let state = env.instance().await;
    let batches = event_batches();
    for events in &batches {
        let batch = EventBatch {
            events: events.clone(),
            received_ms: 1_800_000_000_000,
        };
        state.store.ingest(batch).await.unwrap();
    }
    let applied = state.store.apply_rollups(WINDOW_MS, 1_000).await.unwrap();
    assert!(
        applied.batches >= 6,
        "{} batches in the round",
        applied.batches
    );
    assert_eq!(
        state
            .store
            .apply_rollups(WINDOW_MS, 1_000)
            .await
            .unwrap()
            .batches,
        0
    );
    let tables = state.store.rollups().await.unwrap();
    let reference = reference_rollups(&batches);
    assert_same_rollups(&tables, &reference.exposures, &reference.metrics);
}

/// Unit states are written at checkpoints; an instance whose memory of them is not current
/// (it starts, or another instance applied batches since its last round) replays the batches
/// applied since the last checkpoint before applying more. Instances taking turns, one batch
/// at a time (so the queue is never found empty and no checkpoint is taken), give the
/// reference's rollups.
async fn an_instance_taking_over_the_rollups_replays_them_since_the_checkpoint<S: Store>(
    env: &Env<S>,
) {
    use litmus_server::store::EventBatch;
    let (a, b) = (env.instance().await, env.instance().await);
    let batches = event_batches();
    for events in &batches {
        let batch = EventBatch {
            events: events.clone(),
            received_ms: 1_800_000_000_000,
        };
        a.store.ingest(batch).await.unwrap();
    }
    // Until one finds the queue empty (and takes the checkpoint).
    let turns = [&a, &a, &b, &a, &b, &b];
    let mut rounds = 0;
    for instance in turns.iter().cycle() {
        if instance
            .store
            .apply_rollups(WINDOW_MS, 1)
            .await
            .unwrap()
            .batches
            == 0
        {
            break;
        }
        rounds += 1;
    }
    assert!(rounds >= 6, "{rounds} rounds");
    let tables = b.store.rollups().await.unwrap();
    let reference = reference_rollups(&batches);
    assert_same_rollups(&tables, &reference.exposures, &reference.metrics);
    // A third instance starts from the checkpoint alone, and goes on from there exactly.
    let c = env.instance().await;
    let again: Vec<Vec<_>> = batches
        .iter()
        .map(|events| {
            events
                .iter()
                .map(|e| litmus_core::events::Event {
                    message_id: format!("again-{}", e.message_id),
                    ..e.clone()
                })
                .collect()
        })
        .collect();
    for events in &again {
        let batch = EventBatch {
            events: events.clone(),
            received_ms: 1_800_000_000_000,
        };
        c.store.ingest(batch).await.unwrap();
    }
    let mut rounds = 0;
    while c.store.apply_rollups(WINDOW_MS, 2).await.unwrap().batches > 0 {
        rounds += 1;
    }
    assert!(rounds >= 3, "{rounds} rounds");
    let twice: Vec<_> = batches.iter().chain(again.iter()).cloned().collect();
    let reference = reference_rollups(&twice);
    let tables = a.store.rollups().await.unwrap();
    assert_same_rollups(&tables, &reference.exposures, &reference.metrics);
}

async fn post_events(app: &Router, key: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::post("/events").header(header::AUTHORIZATION, format!("Bearer {key}"));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let retry = res
        .headers()
        .get(header::RETRY_AFTER)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    Reply {
        status,
        etag: retry,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn track_event(id: &str, unit: &str, value: f64) -> Value {
    json!({"type": "track", "message_id": id, "unit_id": unit, "event": "buy", "value": value,
           "timestamp": "2027-01-15T09:00:00Z"})
}

/// `POST /events`: auth, partial rejection, retries stored once, gzip, limits after
/// decompression, clock skew, attribution into the rollups, and 429 when saturated.
async fn events_are_ingested_with_limits_and_retries<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let json_type = [("content-type", "application/json")];
    // Keys: an SDK key may send events; a key without the scope may not.
    let sdk = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "web"})),
    )
    .await;
    let sdk = sdk.body["key"].as_str().unwrap().to_owned();
    let reader = send(
        &app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "reader", "scopes": ["sdk:read"]})),
    )
    .await;
    let reader = reader.body["key"].as_str().unwrap().to_owned();
    let body = json!({"sent_at": "2027-01-15T09:00:05Z", "events": [
        {"type": "exposure", "message_id": "x1", "unit_id": "u1", "experiment": "e",
         "variant": "b", "timestamp": "2027-01-15T08:59:00Z"},
        track_event("t1", "u1", 10.0),
        {"type": "track", "message_id": "t2", "unit_id": "u1"},
        track_event("t3", "u1", 5.0),
    ]});
    let denied = post_events(&app, &reader, body.to_string().into_bytes(), &json_type).await;
    assert_eq!(
        (denied.status, error_code(&denied)),
        (StatusCode::FORBIDDEN, "forbidden")
    );
    let nobody = post_events(&app, "nope", body.to_string().into_bytes(), &json_type).await;
    assert_eq!(nobody.status, StatusCode::UNAUTHORIZED);

    // Partial rejection: the valid events are kept, the invalid one named.
    let r = post_events(&app, &sdk, body.to_string().into_bytes(), &json_type).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(
        (r.body["accepted"].as_u64(), r.body["duplicates"].as_u64()),
        (Some(3), Some(0))
    );
    assert_eq!(r.body["rejected"][0]["index"], 2);
    assert_eq!(r.body["rejected"][0]["code"], "missing_field");
    assert_eq!(r.body["rejected"][0]["path"], "events[2].event");
    // The retry of the same batch (gzip this time) stores nothing new.
    let again = post_events(
        &app,
        &sdk,
        gzip(body.to_string().as_bytes()),
        &[
            ("content-type", "application/json"),
            ("content-encoding", "gzip"),
        ],
    )
    .await;
    assert_eq!(
        (
            again.body["accepted"].as_u64(),
            again.body["duplicates"].as_u64()
        ),
        (Some(0), Some(3))
    );

    // The lag as a figure: the batch is acknowledged but not yet in the rollups (no job runs
    // here), so /metrics and /readyz show it waiting; once applied, nothing waits.
    let backlog = |text: &str, name: &str| -> Option<f64> {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.parse().ok())
    };
    let metrics = send(&app, "GET", "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        backlog(&text, "litmus_rollup_backlog_batches"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        backlog(&text, "litmus_rollup_backlog_events"),
        Some(3.0),
        "{text}"
    );
    assert!(backlog(&text, "litmus_rollup_backlog_age_seconds").is_some_and(|a| a >= 0.0));
    let ready = send(&app, "GET", "/readyz", None, None).await;
    assert_eq!(
        ready.body["rollups"]["backlog"]["batches"], 1,
        "{:?}",
        ready.body
    );
    assert_eq!(ready.body["rollups"]["backlog"]["events"], 3);
    assert!(
        ready.body["rollups"]["backlog"]["oldest_age_ms"]
            .as_i64()
            .is_some_and(|a| a >= 0)
    );

    // Clock skew: sent 5 s after the event on the client's clock, so 5 s before receipt.
    let window = state.ingest.tuning.attribution_window_ms;
    while state.store.apply_rollups(window, 16).await.unwrap().batches > 0 {}
    let metrics = send(&app, "GET", "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    assert_eq!(
        backlog(&text, "litmus_rollup_backlog_batches"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        backlog(&text, "litmus_rollup_backlog_age_seconds"),
        Some(0.0),
        "{text}"
    );
    let ready = send(&app, "GET", "/readyz", None, None).await;
    assert_eq!(
        ready.body["rollups"]["backlog"],
        json!({"batches": 0, "events": 0, "oldest_age_ms": 0})
    );
    let stored = state.store.stored_events().await.unwrap();
    let t1 = stored
        .iter()
        .flatten()
        .find(|e| e.message_id == "t1")
        .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let skew = now - t1.time.unix_millis();
    assert!((4_000..60_000).contains(&skew), "{skew} ms");
    // Attribution: the exposure came 65 s before the purchases (corrected the same way).
    let rollups = state.store.rollups().await.unwrap();
    let total: f64 = rollups.metrics.values().map(|m| m.sum).sum();
    assert_eq!(total, 15.0);
    assert_eq!(rollups.metrics.values().map(|m| m.units).sum::<u64>(), 1);

    // NDJSON with the send time in a header.
    let ndjson = format!(
        "{}\n{}\n",
        track_event("n1", "u9", 1.0),
        track_event("n2", "u9", 1.0)
    );
    let nd = post_events(
        &app,
        &sdk,
        ndjson.into_bytes(),
        &[
            ("content-type", "application/x-ndjson"),
            ("litmus-sent-at", "2027-01-15T09:00:00Z"),
        ],
    )
    .await;
    assert_eq!(nd.body["accepted"], 2, "{:?}", nd.body);
    // The header in epoch milliseconds, as event timestamps may be (it was refused with 400,
    // and a client sending it that way lost every batch).
    let ndjson = format!("{}\n", track_event("n3", "u9", 1.0));
    let ms = "1800003600000"; // 2027-01-15T09:00:00Z
    let nd = post_events(
        &app,
        &sdk,
        ndjson.into_bytes(),
        &[
            ("content-type", "application/x-ndjson"),
            ("litmus-sent-at", ms),
        ],
    )
    .await;
    assert_eq!(nd.body["accepted"], 1, "{:?}", nd.body);
    let bad = post_events(
        &app,
        &sdk,
        format!("{}\n", track_event("n4", "u9", 1.0)).into_bytes(),
        &[
            ("content-type", "application/x-ndjson"),
            ("litmus-sent-at", "soon"),
        ],
    )
    .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST, "{:?}", bad.body);
    assert!(bad.body.to_string().contains("sent_at"), "{:?}", bad.body);

    // Limits: 2,501 events; 1 MB after decompression (a small gzip of a large body); not JSON;
    // an unknown encoding.
    let many: Vec<Value> = (0..2_501)
        .map(|i| track_event(&format!("m{i}"), "u", 1.0))
        .collect();
    let r = post_events(&app, &sdk, serde_json::to_vec(&many).unwrap(), &json_type).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_many_events")
    );
    let bomb = gzip(&vec![b' '; 2 * 1024 * 1024]);
    assert!(bomb.len() < 10_000);
    let r = post_events(&app, &sdk, bomb, &[("content-encoding", "gzip")]).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
    );
    let r = post_events(&app, &sdk, b"hello".to_vec(), &json_type).await;
    assert_eq!(
        (r.status, error_code(&r)),
        (StatusCode::BAD_REQUEST, "invalid_json")
    );
    let r = post_events(&app, &sdk, b"[]".to_vec(), &[("content-encoding", "br")]).await;
    assert_eq!(r.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);

    // Saturated: every permit held, a batch waits its turn and then is told to retry.
    let permits = u32::try_from(state.ingest.tuning.ingest_permits).unwrap();
    let held = state.ingest.slots.acquire_many(permits).await.unwrap();
    let busy = post_events(&app, &sdk, b"[]".to_vec(), &json_type).await;
    assert_eq!(
        (busy.status, error_code(&busy)),
        (StatusCode::TOO_MANY_REQUESTS, "busy")
    );
    assert_eq!(busy.etag.as_deref(), Some("1"), "Retry-After");
    drop(held);
    let metrics = send(&app, "GET", "/metrics", None, None).await;
    let text = metrics.body.as_str().unwrap_or_default().to_owned();
    for line in [
        r#"litmus_events_total{outcome="accepted"} 6"#,
        r#"litmus_events_total{outcome="duplicate"} 3"#,
        r#"litmus_events_total{outcome="throttled"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "{line} not in\n{text}");
    }
}

/// Retention drops raw events older than the cutoff (whole days on TimescaleDB) and keeps the
/// rollups; a dropped event's id may be stored again afterwards (the deduplication window is
/// the retention).
async fn retention_drops_old_raw_events_and_keeps_rollups<S: Store>(env: &Env<S>) {
    use litmus_core::Timestamp;
    use litmus_core::events::{Event, EventKind};
    use litmus_server::store::EventBatch;
    let state = env.instance().await;
    let day = 86_400_000_i64;
    let now = 1_800_000_000_000_i64;
    let event = |id: &str, kind: EventKind, t: i64| Event {
        message_id: id.into(),
        unit_id: "u".into(),
        time: Timestamp::from_unix_millis(t),
        client_time: Some(Timestamp::from_unix_millis(t)),
        kind,
    };
    let exposure = || EventKind::Exposure {
        experiment: "e".into(),
        variant: "a".into(),
        dimensions: Vec::new(),
    };
    let buy = || EventKind::Track {
        event: "buy".into(),
        value: 2.0,
        properties: None,
    };
    for (received, events) in [
        (
            now - 100 * day,
            vec![
                event("old-x", exposure(), now - 100 * day),
                event("old-b", buy(), now - 100 * day + 1),
            ],
        ),
        (now, vec![event("new-b", buy(), now)]),
    ] {
        state
            .store
            .ingest(EventBatch {
                events,
                received_ms: received,
            })
            .await
            .unwrap();
    }
    let window = 200 * day;
    while state.store.apply_rollups(window, 16).await.unwrap().batches > 0 {}
    let before = state.store.rollups().await.unwrap();
    let dropped = state.store.retain(now - 90 * day).await.unwrap();
    assert!(dropped > 0);
    let left: Vec<String> = state
        .store
        .stored_events()
        .await
        .unwrap()
        .into_iter()
        .flatten()
        .map(|e| e.message_id)
        .collect();
    assert_eq!(left, ["new-b"]);
    assert_eq!(
        state.store.rollups().await.unwrap(),
        before,
        "the rollups stay"
    );
    assert_eq!(before.metrics.values().map(|m| m.sum).sum::<f64>(), 4.0);
}

/// `GET /results/{experiment}`: the figures equal the statistics module's on the per-unit
/// totals computed directly from the raw events posted (units without events count as 0).
async fn results_equal_the_statistics_of_the_raw_events<S: Store>(env: &Env<S>) {
    use litmus_core::stats::{
        Alternative, Moments, Proportion, ZVariance, diff_means_confint, proportions_ztest,
        ttest_ind,
    };
    let state = env.instance().await;
    let app = litmus_server::app(std::sync::Arc::clone(&state));
    let mut exp = experiment("checkout", "running");
    exp["metrics"] = json!([
        {"key": "purchase", "kind": "conversion"},
        {"key": "purchase", "kind": "mean"},
        {"key": "error", "kind": "conversion", "goal": "decrease", "guardrail": true}
    ]);
    assert_eq!(
        put_experiment(&app, "checkout", exp).await.status,
        StatusCode::OK
    );
    let before = send(&app, "GET", "/results/checkout", Some(KEY), None).await;
    assert_eq!(before.status, StatusCode::OK, "{:?}", before.body);
    assert_eq!(before.body["results"]["units"][0][1], 0);

    // 800 units, alternating variants; purchases and errors drawn by a fixed LCG.
    let variants = ["control", "treatment"];
    let mut seed: u64 = 42;
    let mut next = move |n: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % n
    };
    let mut purchases = [Vec::new(), Vec::new()];
    let mut errors = [0u64, 0];
    let mut events = Vec::new();
    for u in 0..800u64 {
        let v = (u % 2) as usize;
        let unit = format!("u{u}");
        events.push(
            json!({"type": "exposure", "message_id": format!("x{u}"), "unit_id": unit,
            "experiment": "checkout", "variant": variants[v], "timestamp": "2027-01-15T09:00:00Z"}),
        );
        let mut total = 0.0;
        // Treatment buys more often.
        let buys = if next(100) < [20, 30][v] {
            1 + next(3)
        } else {
            0
        };
        for i in 0..buys {
            let value = (1 + next(40)) as f64;
            total += value;
            events.push(json!({"type": "track", "message_id": format!("p{u}-{i}"),
                "unit_id": unit, "event": "purchase", "value": value,
                "timestamp": format!("2027-01-15T09:{:02}:00Z", 1 + (u % 50))}));
        }
        purchases[v].push(total);
        if next(100) < 5 {
            errors[v] += 1;
            events.push(
                json!({"type": "track", "message_id": format!("e{u}"), "unit_id": unit,
                "event": "error", "timestamp": "2027-01-15T09:30:00Z"}),
            );
        }
        // An event before the unit's exposure window opens is not attributed.
        events.push(
            json!({"type": "track", "message_id": format!("early{u}"), "unit_id": unit,
            "event": "purchase", "value": 1000.0, "timestamp": "2027-01-15T08:00:00Z"}),
        );
    }
    let json_type = [("content-type", "application/json")];
    for chunk in events.chunks(1_000) {
        let body = json!({"events": chunk}).to_string().into_bytes();
        let r = post_events(&app, KEY, body, &json_type).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    }
    // Stored, not yet applied: the results say what they do not count yet.
    let waiting = send(&app, "GET", "/results/checkout", Some(KEY), None).await;
    let lag = &waiting.body["lag"];
    assert_eq!(lag["events"].as_u64(), Some(events.len() as u64), "{lag}");
    assert!(lag["batches"].as_u64().is_some_and(|b| b > 0));
    assert!(lag["as_of_ms"].as_i64().is_some() && lag["oldest_age_ms"].as_i64().is_some());
    let window = state.ingest.tuning.attribution_window_ms;
    while state.store.apply_rollups(window, 8).await.unwrap().batches > 0 {}

    let r = send(&app, "GET", "/results/checkout?points=20", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    assert_eq!(r.body["lag"]["events"], 0);
    assert_eq!(r.body["lag"]["oldest_age_ms"], 0);
    let res = &r.body["results"];
    assert_eq!(res["control"], "control");
    assert_eq!(res["units"], json!([["control", 400], ["treatment", 400]]));
    assert_eq!(res["srm"]["mismatch"], false);
    let close = |a: &Value, b: f64| (a.as_f64().unwrap() - b).abs() <= 1e-9 * b.abs().max(1.0);

    let moments: Vec<Moments> = purchases
        .iter()
        .map(|p| Moments::from_slice(p).unwrap())
        .collect();
    let converted: Vec<Proportion> = purchases
        .iter()
        .map(|p| Proportion::new(p.iter().filter(|x| **x > 0.0).count() as u64, 400).unwrap())
        .collect();
    let metrics = res["metrics"].as_array().unwrap();
    assert_eq!(metrics.len(), 3);
    // purchase as a conversion.
    let conv = &metrics[0];
    assert_eq!(
        (conv["key"].as_str(), conv["kind"].as_str()),
        (Some("purchase"), Some("conversion"))
    );
    assert_eq!(conv["variants"][1]["converted"], converted[1].successes());
    let z = proportions_ztest(
        &converted[1],
        &converted[0],
        ZVariance::Pooled,
        Alternative::TwoSided,
    )
    .unwrap();
    let c = &conv["variants"][1]["comparison"];
    assert!(close(&c["pvalue"], z.pvalue()), "{c}");
    // purchase as a mean.
    let mean = &metrics[1];
    assert!(close(&mean["variants"][0]["value"], moments[0].mean()));
    assert!(close(&mean["variants"][1]["value"], moments[1].mean()));
    let t = ttest_ind(&moments[1], &moments[0], false, Alternative::TwoSided).unwrap();
    let d = diff_means_confint(&moments[1], &moments[0], 0.05, false).unwrap();
    let c = &mean["variants"][1]["comparison"];
    assert!(close(&c["pvalue"], t.pvalue()), "{c}");
    assert!(close(&c["difference"]["lower"], d.lower()));
    assert!(close(&c["difference"]["upper"], d.upper()));
    assert!(c["probability_better"].as_f64().unwrap() > 0.5);
    // The guardrail.
    let guard = &metrics[2];
    assert_eq!(guard["guardrail"], true);
    assert_eq!(guard["variants"][0]["converted"], errors[0]);
    assert_eq!(guard["variants"][1]["converted"], errors[1]);
    // The series ends at the totals.
    let series = r.body["series"].as_array().unwrap();
    assert!(!series.is_empty() && series.len() <= 21);
    assert_eq!(series.last().unwrap()["units"], json!([400, 400]));

    // Unknown and unauthorized.
    let missing = send(&app, "GET", "/results/nope", Some(KEY), None).await;
    assert_eq!(
        (missing.status, error_code(&missing)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let anonymous = send(&app, "GET", "/results/checkout", None, None).await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}
