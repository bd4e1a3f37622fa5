//! The HTTP API through the router, without a socket. The suite is generic over the store, so
//! every backend runs the same checks (the embedded SQLite store here; PostgreSQL joins it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use litmus_server::state::AppState;
use litmus_server::store::Store;
use litmus_server::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tower::ServiceExt;

const KEY: &str = "test-admin-key";

struct Reply {
    status: StatusCode,
    etag: Option<String>,
    body: Value,
}

async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    send_with(app, method, uri, key, body, None).await
}

async fn send_with(
    app: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
    if_none_match: Option<&str>,
) -> Reply {
    let mut req = Request::builder().method(method).uri(uri);
    if let Some(k) = key {
        req = req.header(header::AUTHORIZATION, format!("Bearer {k}"));
    }
    if let Some(t) = if_none_match {
        req = req.header(header::IF_NONE_MATCH, t);
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let etag = res
        .headers()
        .get(header::ETAG)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    Reply { status, etag, body }
}

async fn put_experiment(app: &Router, key: &str, body: Value) -> Reply {
    let uri = format!("/admin/experiments/{key}");
    send(app, "PUT", &uri, Some(KEY), Some(body)).await
}

fn experiment(key: &str, status: &str) -> Value {
    json!({
        "key": key, "salt": format!("{key}-salt"), "status": status,
        "variants": [{"key": "control"}, {"key": "treatment", "payload": {"color": "green"}}]
    })
}

fn error_code(r: &Reply) -> &str {
    r.body["error"]["code"].as_str().unwrap_or("")
}

async fn suite<S: Store>(store: S) {
    let app = litmus_server::app(AppState::new(store, KEY));

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
    let first = send(&app, "GET", "/sdk/config", None, None).await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.body["version"], "v0");
    let etag0 = first.etag.clone().unwrap();
    let again = send_with(&app, "GET", "/sdk/config", None, None, Some(&etag0)).await;
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
    let snap = send_with(&app, "GET", "/sdk/config", None, None, Some(&etag0)).await;
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

    // Assignment by the server: the same answer as the core on the published snapshot.
    let snapshot = send(&app, "GET", "/sdk/config", None, None).await.body;
    let reference = litmus_core::Engine::from_value(snapshot).unwrap();
    for i in 0..50 {
        let unit = format!("user-{i}");
        let one = send(
            &app,
            "POST",
            "/assign",
            None,
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
        None,
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
    let bad = send(&app, "POST", "/assign", None, Some(json!({"unit": "u1"}))).await;
    assert_eq!(
        (bad.status, error_code(&bad)),
        (StatusCode::BAD_REQUEST, "bad_request")
    );
    let unknown = send(
        &app,
        "POST",
        "/assign",
        None,
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
    let last = send(&app, "GET", "/sdk/config", None, None).await;
    assert_eq!(last.body["experiments"].as_array().unwrap().len(), stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory() {
    suite(SqliteStore::in_memory().unwrap()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_survives_a_restart() {
    let dir = std::env::temp_dir().join(format!("litmus-server-test-{}", std::process::id()));
    let path = dir.join("litmus.sqlite3");
    let _ = std::fs::remove_dir_all(&dir);
    suite(SqliteStore::open(&path).unwrap()).await;
    // Reopened: the same snapshot and experiments, migrations not re-run.
    let store = SqliteStore::open(&path).unwrap();
    let snapshot = store.snapshot().await.unwrap();
    assert!(snapshot.version >= 6);
    assert!(store.experiment("checkout").await.unwrap().is_some());
    let app: Router = litmus_server::app(AppState::new(store, KEY));
    let r = send_with(&app, "GET", "/sdk/config", None, None, Some(&snapshot.etag)).await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);
    let _ = std::fs::remove_dir_all(&dir);
}
