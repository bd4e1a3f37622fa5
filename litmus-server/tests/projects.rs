//! Projects through the API, on every backend: projects are made with `projects:write`; each
//! has its own config, versions, environments, keys, audit log, events and results; a key acts
//! only in its own project (every route with another project's name answers 403
//! `wrong_project`, and another project's objects are 404 to it); the same experiment key,
//! unit ids and message ids in two projects never meet.
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
use litmus_server::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

on_every_backend!(
    projects_are_made_listed_and_refused_when_bad,
    another_projects_key_is_refused_on_every_route,
    projects_keep_their_config_keys_audit_events_and_results_apart,
);

/// A request with `key`, naming `project` in `Litmus-Project` when given.
async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    key: &str,
    project: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {key}"));
    if let Some(p) = project {
        req = req.header("litmus-project", p);
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
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    Reply { status, etag, body }
}

/// A key of `project` (made by the bootstrap key naming it) with `scopes`: its secret and id.
async fn key_of(app: &Router, project: &str, scopes: Value) -> (String, String) {
    let r = call(
        app,
        "POST",
        "/admin/keys",
        KEY,
        Some(project),
        Some(json!({"name": format!("{project} key"), "scopes": scopes})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    assert_eq!(r.body["project"], json!(project));
    (
        r.body["key"].as_str().unwrap().to_owned(),
        r.body["id"].as_str().unwrap().to_owned(),
    )
}

const EVERY_SCOPE: [&str; 6] = [
    "admin:read",
    "admin:write",
    "keys:write",
    "sdk:read",
    "assign",
    "events:write",
];

async fn make_project(app: &Router, key: &str) {
    let r = call(
        app,
        "POST",
        "/admin/projects",
        KEY,
        None,
        Some(json!({"key": key, "name": key.to_uppercase()})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
}

async fn projects_are_made_listed_and_refused_when_bad<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    let list = call(&app, "GET", "/admin/projects", KEY, None, None).await;
    assert_eq!(list.body["projects"][0]["key"], json!("default"));
    make_project(&app, "shop").await;
    let list = call(&app, "GET", "/admin/projects", KEY, None, None).await;
    let keys: Vec<&str> = list.body["projects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["key"].as_str().unwrap())
        .collect();
    assert_eq!(keys, ["default", "shop"]);
    // A new project starts with production, no config and its own version 0.
    let envs = call(&app, "GET", "/admin/environments", KEY, Some("shop"), None).await;
    assert_eq!(envs.body["environments"][0]["key"], json!("production"));
    let doc = call(&app, "GET", "/sdk/config", KEY, Some("shop"), None).await;
    assert_eq!(doc.body["version"], json!("v0"));
    assert_eq!(doc.body["experiments"], json!([]));
    // Bad input, and nothing stored changes.
    for (body, status, path) in [
        (
            json!({"key": "Shop"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "key",
        ),
        (json!({"key": "shop"}), StatusCode::CONFLICT, ""),
        (
            json!({"key": "x", "name": ""}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (json!({"key": "x", "owner": 1}), StatusCode::BAD_REQUEST, ""),
    ] {
        let r = call(
            &app,
            "POST",
            "/admin/projects",
            KEY,
            None,
            Some(body.clone()),
        )
        .await;
        assert_eq!(r.status, status, "{body}: {:?}", r.body);
        if !path.is_empty() {
            assert_eq!(r.body["error"]["path"], json!(path));
        }
    }
    let r = call(&app, "GET", "/admin/experiments", KEY, Some("nope"), None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "an unknown project");
    // A project's key sees its own project only and cannot make projects.
    let (shop_admin, _) = key_of(&app, "shop", json!(EVERY_SCOPE)).await;
    let mine = call(&app, "GET", "/admin/projects", &shop_admin, None, None).await;
    assert_eq!(mine.body["projects"].as_array().unwrap().len(), 1);
    assert_eq!(mine.body["projects"][0]["key"], json!("shop"));
    let r = call(
        &app,
        "POST",
        "/admin/projects",
        &shop_admin,
        None,
        Some(json!({"key": "x"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let (maker, _) = key_of(&app, "default", json!(["admin:read", "projects:write"])).await;
    let r = call(
        &app,
        "POST",
        "/admin/projects",
        &maker,
        None,
        Some(json!({"key": "ads"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let all = call(&app, "GET", "/admin/projects", &maker, None, None).await;
    assert_eq!(all.body["projects"].as_array().unwrap().len(), 3);
    let audit = call(
        &app,
        "GET",
        "/admin/audit?key=shop",
        KEY,
        Some("shop"),
        None,
    )
    .await;
    assert_eq!(audit.body["entries"][0]["action"], json!("project.create"));
}

async fn another_projects_key_is_refused_on_every_route<S: Store>(env: &Env<S>) {
    let app = env.app().await;
    make_project(&app, "shop").await;
    // The default project's objects.
    let mut exp = experiment("only-default", "running");
    exp["metrics"] = json!([{"key": "buy", "kind": "conversion"}]);
    exp["dimensions"] = json!([{"key": "country"}]);
    assert_eq!(
        put_experiment(&app, "only-default", exp).await.status,
        StatusCode::OK
    );
    let flag = json!({"key": "only-flag", "type": "boolean", "default": false});
    let r = call(&app, "PUT", "/admin/flags/only-flag", KEY, None, Some(flag)).await;
    assert_eq!(r.status, StatusCode::OK);
    let r = call(
        &app,
        "PUT",
        "/admin/holdouts/only-holdout",
        KEY,
        None,
        Some(json!({"key": "only-holdout", "share": 0.1, "experiments": ["only-default"]})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let r = call(
        &app,
        "POST",
        "/admin/environments",
        KEY,
        None,
        Some(json!({"key": "staging"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED);
    let (_, default_key_id) = key_of(&app, "default", json!(["sdk:read"])).await;
    let (shop, _) = key_of(&app, "shop", json!(EVERY_SCOPE)).await;

    // Every operation of the API with the shop's key naming the default project: 403.
    let doc: Value = serde_json::from_str(litmus_server::routes::health::OPENAPI).unwrap();
    let mut checked = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" || op["security"].as_array().is_none_or(Vec::is_empty) {
                continue;
            }
            if path == "/live" {
                continue; // A WebSocket: checked below over a socket.
            }
            let uri = path
                .replace("{collection}", "experiments")
                .replace("{key}", "only-default")
                .replace("{experiment}", "only-default")
                .replace("{id}", &default_key_id)
                .replace("{from}", "production");
            let body = matches!(method.as_str(), "post" | "put").then(|| json!({}));
            let r = call(
                &app,
                &method.to_uppercase(),
                &uri,
                &shop,
                Some("default"),
                body,
            )
            .await;
            assert_eq!(
                r.status,
                StatusCode::FORBIDDEN,
                "{method} {uri}: {:?}",
                r.body
            );
            assert_eq!(error_code(&r), "wrong_project", "{method} {uri}");
            checked += 1;
        }
    }
    assert!(checked >= 25, "{checked} operations checked");

    // Without naming a project the key acts in its own, where the default's objects are not.
    for (method, uri, body) in [
        ("GET", "/admin/experiments/only-default".to_owned(), None),
        ("DELETE", "/admin/experiments/only-default".to_owned(), None),
        ("GET", "/admin/flags/only-flag".to_owned(), None),
        ("DELETE", "/admin/flags/only-flag".to_owned(), None),
        ("GET", "/admin/holdouts/only-holdout".to_owned(), None),
        ("GET", "/results/only-default".to_owned(), None),
        ("GET", "/results/only-default.csv".to_owned(), None),
        (
            "GET",
            "/results/only-default/segments?dimension=country".to_owned(),
            None,
        ),
        ("GET", "/results/only-default/replay".to_owned(), None),
        ("GET", "/holdouts/only-holdout/results".to_owned(), None),
        (
            "GET",
            "/admin/experiments/only-default/units".to_owned(),
            None,
        ),
        (
            "GET",
            "/results/only-default?environment=staging".to_owned(),
            None,
        ),
        ("DELETE", format!("/admin/keys/{default_key_id}"), None),
        ("DELETE", "/admin/environments/staging".to_owned(), None),
        (
            "POST",
            "/admin/environments/staging/promote".to_owned(),
            Some(json!({"to": "production"})),
        ),
        (
            "POST",
            "/planning".to_owned(),
            Some(json!({"experiment": "only-default", "baseline": 0.1, "lift": 0.1})),
        ),
    ] {
        let r = call(&app, method, &uri, &shop, None, body).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {uri}: {:?}",
            r.body
        );
    }
    let listed = call(&app, "GET", "/admin/experiments", &shop, None, None).await;
    assert_eq!(listed.body["experiments"], json!([]));
    let keys = call(&app, "GET", "/admin/keys", &shop, None, None).await;
    assert!(
        keys.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["project"] == "shop")
    );
    let audit = call(&app, "GET", "/admin/audit", &shop, None, None).await;
    assert!(
        audit.body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["key"] != "only-default")
    );
    let r = call(
        &app,
        "POST",
        "/evaluate",
        &shop,
        None,
        Some(json!({"unit_id": "u", "flag": "only-flag"})),
    )
    .await;
    assert_eq!(r.body["error"], json!("flag_not_found"));
    let r = call(
        &app,
        "POST",
        "/assign",
        &shop,
        None,
        Some(json!({"unit_id": "u", "experiment": "only-default"})),
    )
    .await;
    assert_eq!(r.body["in_experiment"], json!(false), "{:?}", r.body);
    let doc = call(&app, "GET", "/sdk/config", &shop, None, None).await;
    assert!(!doc.body.to_string().contains("only-"), "{}", doc.body);
    // Nothing of the default project changed.
    let still = call(
        &app,
        "GET",
        "/admin/experiments/only-default",
        KEY,
        None,
        None,
    )
    .await;
    assert_eq!(still.status, StatusCode::OK);
    let key_list = call(&app, "GET", "/admin/keys", KEY, None, None).await;
    assert!(
        key_list.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == json!(default_key_id) && k["revoked_ms"].is_null())
    );
    // The live WebSocket: the handshake is refused for another project.
    let state = env.instance().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, litmus_server::app(state))
            .await
            .unwrap();
    });
    let refused =
        tokio_tungstenite::connect_async(format!("ws://{addr}/live?key={shop}&project=default"))
            .await;
    assert!(refused.is_err());
    let own = tokio_tungstenite::connect_async(format!("ws://{addr}/live?key={shop}")).await;
    assert!(own.is_ok());
}

/// Exposures of `n` units (`u0`..) in `exp`, each even unit converting, with message ids
/// `m0`.. (the same in every project).
fn traffic(n: usize) -> Vec<Value> {
    let mut events = Vec::new();
    for i in 0..n {
        let variant = if i % 2 == 0 { "control" } else { "treatment" };
        events.push(
            json!({"type": "exposure", "message_id": format!("m{i}"), "unit_id": format!("u{i}"),
            "experiment": "exp", "variant": variant, "timestamp": at(T0_MS + i as i64)}),
        );
        if i % 2 == 0 {
            events.push(
                json!({"type": "track", "message_id": format!("b{i}"), "unit_id": format!("u{i}"),
                "event": "buy", "timestamp": at(T0_MS + 60_000 + i as i64)}),
            );
        }
    }
    events
}

async fn projects_keep_their_config_keys_audit_events_and_results_apart<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let app = litmus_server::app(state.clone());
    make_project(&app, "shop").await;
    // The same experiment key in both projects, with different variants.
    for (project, treatment) in [("default", "treatment"), ("shop", "treatment")] {
        let body = json!({"key": "exp", "salt": format!("{project}-salt"), "status": "running",
            "variants": [{"key": "control"}, {"key": treatment}],
            "metrics": [{"key": "buy", "kind": "conversion"}]});
        let r = call(
            &app,
            "PUT",
            "/admin/experiments/exp",
            KEY,
            Some(project),
            Some(body),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            r.body["version"],
            json!(1),
            "each project has its own versions"
        );
    }
    let (default_sdk, _) = key_of(
        &app,
        "default",
        json!(["sdk:read", "assign", "events:write"]),
    )
    .await;
    let (shop_sdk, _) = key_of(&app, "shop", json!(["sdk:read", "assign", "events:write"])).await;
    // Each SDK key reads its project's document.
    let a = call(&app, "GET", "/sdk/config", &default_sdk, None, None).await;
    let b = call(&app, "GET", "/sdk/config", &shop_sdk, None, None).await;
    assert_eq!(a.body["experiments"][0]["salt"], json!("default-salt"));
    assert_eq!(b.body["experiments"][0]["salt"], json!("shop-salt"));
    // The same units and message ids in both projects: each keeps its own.
    let r = call(
        &app,
        "POST",
        "/events",
        &default_sdk,
        None,
        Some(json!({"events": traffic(40)})),
    )
    .await;
    assert_eq!(r.body["accepted"], json!(60), "{:?}", r.body);
    let r = call(
        &app,
        "POST",
        "/events",
        &shop_sdk,
        None,
        Some(json!({"events": traffic(10)})),
    )
    .await;
    assert_eq!(
        r.body["accepted"],
        json!(15),
        "not duplicates of the default project's: {:?}",
        r.body
    );
    post_and_apply(&state, &app, &[]).await;
    for (project, units, converted) in [("default", 20, 20), ("shop", 5, 5)] {
        let r = call(&app, "GET", "/results/exp", KEY, Some(project), None).await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        assert_eq!(
            r.body["results"]["units"],
            json!([["control", units], ["treatment", units]]),
            "{project}"
        );
        let control = &r.body["results"]["metrics"][0]["variants"][0];
        assert_eq!(control["converted"], json!(converted), "{project}");
        let lines = call(
            &app,
            "GET",
            "/admin/experiments/exp/units",
            KEY,
            Some(project),
            None,
        )
        .await;
        let text = lines.body.as_str().map(str::to_owned).unwrap_or_default();
        assert_eq!(text.lines().count(), 2 * units, "{project}");
        assert!(!text.contains('\u{1f}'), "unit ids as sent");
    }
    // Sticky assignments are each project's own.
    let r = call(
        &app,
        "POST",
        "/assign",
        &shop_sdk,
        None,
        Some(json!({"unit_id": "u1", "experiment": "exp"})),
    )
    .await;
    assert_eq!(r.body["in_experiment"], json!(true));
    // Audit logs and keys are apart.
    let audit = call(&app, "GET", "/admin/audit", KEY, Some("shop"), None).await;
    let actions: Vec<&str> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["key.create", "experiment.create", "project.create"]
    );
    let keys = call(&app, "GET", "/admin/keys", KEY, None, None).await;
    assert!(
        keys.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["project"] == "default")
    );
    // A change in one project publishes only that project's version.
    let before = call(&app, "GET", "/sdk/config", &default_sdk, None, None).await;
    let flag = json!({"key": "f", "type": "boolean", "default": true});
    let r = call(&app, "PUT", "/admin/flags/f", KEY, Some("shop"), Some(flag)).await;
    assert_eq!(r.body["version"], json!(2));
    let after = call(&app, "GET", "/sdk/config", &default_sdk, None, None).await;
    assert_eq!(before.etag, after.etag);
    let shop_doc = call(&app, "GET", "/sdk/config", &shop_sdk, None, None).await;
    assert_eq!(shop_doc.body["version"], json!("v2"));
    let e = call(
        &app,
        "POST",
        "/evaluate",
        &shop_sdk,
        None,
        Some(json!({"unit_id": "u", "flag": "f"})),
    )
    .await;
    assert_eq!(e.body["value"], json!(true));
    let e = call(
        &app,
        "POST",
        "/evaluate",
        &default_sdk,
        None,
        Some(json!({"unit_id": "u", "flag": "f"})),
    )
    .await;
    assert_eq!(e.body["error"], json!("flag_not_found"));
}
