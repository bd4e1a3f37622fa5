use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

pub const KEY: &str = "test-admin-key";

/// An instant the tests post events at: 2026-06-01T09:00:00Z.
pub const T0_MS: i64 = 1_780_304_400_000;

/// `ms` as an RFC 3339 timestamp, as events carry it.
pub fn at(ms: i64) -> String {
    litmus_core::Timestamp::from_unix_millis(ms)
        .to_rfc3339()
        .unwrap_or_default()
}

/// The wall clock now, in ms since the epoch.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub struct Reply {
    pub status: StatusCode,
    pub etag: Option<String>,
    pub body: Value,
}

pub async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    send_with(app, method, uri, key, body, None).await
}

pub async fn send_with(
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

pub async fn put_experiment(app: &Router, key: &str, body: Value) -> Reply {
    let uri = format!("/admin/experiments/{key}");
    send(app, "PUT", &uri, Some(KEY), Some(body)).await
}

pub fn experiment(key: &str, status: &str) -> Value {
    json!({
        "key": key, "salt": format!("{key}-salt"), "status": status,
        "variants": [{"key": "control"}, {"key": "treatment", "payload": {"color": "green"}}]
    })
}

pub fn error_code(r: &Reply) -> &str {
    r.body["error"]["code"].as_str().unwrap_or("")
}

/// Posts `events` (every one must be accepted) and applies the rollups with the program of
/// the config the instance serves: until the queue is empty, and once more for a round with
/// nothing queued.
pub async fn post_and_apply<S: litmus_server::store::Store>(
    state: &std::sync::Arc<litmus_server::state::AppState<S>>,
    app: &Router,
    events: &[Value],
) {
    if !events.is_empty() {
        let r = send(
            app,
            "POST",
            "/events",
            Some(KEY),
            Some(json!({"events": events})),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(r.body["rejected"], json!([]), "{:?}", r.body);
    }
    litmus_server::jobs::rollups::refresh_program(state, &mut None).await;
    let window = state.ingest.tuning.attribution_window_ms;
    while state.store.apply_rollups(window, 5).await.unwrap().batches > 0 {}
    state.store.apply_rollups(window, 5).await.unwrap();
}
