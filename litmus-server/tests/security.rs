//! The security review of litmus-server (`docs/security.md`): each test proves one of the rules
//! listed there, on the embedded SQLite store (a file, so the tests can open it directly).
//! Requests go through the router without a socket, except the `/live` WebSocket (served on a
//! loopback port) and the log test (the real binary).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use common::{KEY, error_code, experiment, put_experiment, send};
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use litmus_server::keys::Scope;
use litmus_server::state::AppState;
use litmus_server::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite;
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------------
// What the tests share.
// ---------------------------------------------------------------------------------------------

/// The operations that need no key (`security` absent in the OpenAPI document).
const PUBLIC: [(&str, &str); 4] = [
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    ("GET", "/metrics"),
    ("GET", "/openapi.json"),
];

/// The sign-in routes: no key, by design (they make or read a session, or redeem a one-time
/// link); checked in `tests/people.rs` and by the people rules below.
const SIGN_IN: [(&str, &str); 9] = [
    ("GET", "/auth/sso"),
    ("GET", "/auth/oidc/start"),
    ("GET", "/auth/oidc/callback"),
    ("POST", "/auth/login"),
    ("POST", "/auth/logout"),
    ("GET", "/auth/session"),
    ("POST", "/auth/setup"),
    ("POST", "/auth/token"),
    ("POST", "/auth/accept"),
];

/// The dashboard's routes: public, not in the OpenAPI document (it describes the API only).
const DASHBOARD: [(&str, &str); 3] = [
    ("GET", "/"),
    ("GET", "/dashboard/"),
    ("GET", "/dashboard/{file}"),
];

/// The SDK routes: callable from any origin, and with the key in `?sdk_key=`.
const SDK_ROUTES: [(&str, &str); 6] = [
    ("GET", "/sdk/config"),
    ("GET", "/sdk/stream"),
    ("POST", "/assign"),
    ("POST", "/evaluate"),
    ("POST", "/events"),
    ("POST", "/sdk/usage"),
];

/// Operations that take a key in a query parameter other than `sdk_key` (which the document
/// models as the `sdkKeyQuery` scheme): the WebSocket, since browsers cannot set its headers.
const OTHER_QUERY_KEYS: [(&str, &str, &str); 1] = [("GET", "/live", "key")];

static NEXT: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system's temporary one.
fn temp_dir(prefix: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "litmus-security-{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A server over a fresh SQLite file: the router (called without a socket), and the same
/// router served on a loopback port for the WebSocket.
struct Server {
    state: Arc<AppState<SqliteStore>>,
    app: Router,
    addr: SocketAddr,
    dir: PathBuf,
}

impl Server {
    async fn start() -> Server {
        let dir = temp_dir("db");
        let store = SqliteStore::open(&dir.join("litmus.sqlite3")).unwrap();
        let state = AppState::new(store, KEY);
        let app = litmus_server::app(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = app.clone();
        tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
        Server {
            state,
            app,
            addr,
            dir,
        }
    }

    /// The SQLite file.
    fn db(&self) -> PathBuf {
        self.dir.join("litmus.sqlite3")
    }

    /// A second instance over the same file, with a key cache of its own.
    fn other_instance(&self) -> Router {
        litmus_server::app(AppState::new(SqliteStore::open(&self.db()).unwrap(), KEY))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `s` percent-encoded for a path segment or a query value.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// How a request presents a key.
#[derive(Debug, Clone, Copy)]
enum Cred<'a> {
    /// No key.
    None,
    /// `Authorization: Bearer <key>`.
    Bearer(&'a str),
    /// A raw `Authorization` header value.
    Raw(&'a str),
    /// `?<name>=<key>`.
    Query(&'a str, &'a str),
}

/// `uri` with `cred`'s query parameter, if any.
fn with_query(uri: &str, cred: Cred<'_>) -> String {
    match cred {
        Cred::Query(name, key) => {
            let sep = if uri.contains('?') { '&' } else { '?' };
            format!("{uri}{sep}{name}={}", enc(key))
        }
        _ => uri.to_owned(),
    }
}

/// The `Authorization` header value of `cred`, if any.
fn authorization(cred: Cred<'_>) -> Option<String> {
    match cred {
        Cred::Bearer(key) => Some(format!("Bearer {key}")),
        Cred::Raw(value) => Some(value.to_owned()),
        Cred::None | Cred::Query(..) => None,
    }
}

/// One request through the router: the status and headers (the body is not read: a stream's
/// never ends).
async fn request(
    app: &Router,
    method: &str,
    uri: &str,
    cred: Cred<'_>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (StatusCode, HeaderMap) {
    let mut req = Request::builder().method(method).uri(with_query(uri, cred));
    if let Some(a) = authorization(cred) {
        req = req.header(header::AUTHORIZATION, a);
    }
    if body.is_some() {
        req = req.header(header::CONTENT_TYPE, "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    (res.status(), res.headers().clone())
}

/// One request through the router: the status and the body as JSON (or as a string).
async fn request_json(
    app: &Router,
    method: &str,
    uri: &str,
    cred: Cred<'_>,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(with_query(uri, cred));
    if let Some(a) = authorization(cred) {
        req = req.header(header::AUTHORIZATION, a);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(body.map_or_else(Body::empty, Body::from)).unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()));
    (status, body)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens the WebSocket at `path_and_query` on `addr`: the handshake's status, and the socket
/// when it was accepted.
async fn websocket(addr: SocketAddr, path: &str, cred: Cred<'_>) -> (u16, Option<Socket>) {
    use tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}{}", with_query(path, cred))
        .into_client_request()
        .unwrap();
    if let Some(a) = authorization(cred) {
        req.headers_mut()
            .insert("authorization", a.parse().unwrap());
    }
    match tokio_tungstenite::connect_async(req).await {
        Ok((socket, response)) => (response.status().as_u16(), Some(socket)),
        Err(tungstenite::Error::Http(response)) => (response.status().as_u16(), None),
        Err(e) => panic!("GET {path}: {e}"),
    }
}

/// Makes a key with `scopes` (an SDK key's when `None`) through the API, with the bootstrap
/// key: the whole key and its id.
async fn make_key(app: &Router, name: &str, scopes: Option<&[Scope]>) -> (String, String) {
    let mut body = json!({ "name": name });
    if let Some(scopes) = scopes {
        body["scopes"] = json!(scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    }
    let made = send(app, "POST", "/admin/keys", Some(KEY), Some(body)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);
    let key = made.body["key"].as_str().unwrap().to_owned();
    let id = made.body["id"].as_str().unwrap().to_owned();
    (key, id)
}

/// Revokes the key `id` with the bootstrap key.
async fn revoke(app: &Router, id: &str) {
    let r = send(app, "DELETE", &format!("/admin/keys/{id}"), Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{:?}", r.body);
}

/// The secret part of a key `lit_<id>_<secret>`.
fn secret_of(key: &str) -> String {
    litmus_server::keys::split(key).unwrap().1.to_owned()
}

/// SHA-256 of `s`, hex (computed here, not with the server's code).
fn sha256_hex(s: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Every scope but `scope`.
fn all_but(scope: Scope) -> Vec<Scope> {
    Scope::ALL.into_iter().filter(|s| *s != scope).collect()
}

/// A valid track event.
fn track(id: &str, unit: &str) -> Value {
    json!({"type": "track", "message_id": id, "unit_id": unit, "event": "buy", "value": 1.0,
           "timestamp": "2027-01-15T09:00:00Z"})
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

// ---------------------------------------------------------------------------------------------
// The OpenAPI document's operations.
// ---------------------------------------------------------------------------------------------

/// One operation of the OpenAPI document.
#[derive(Debug, Clone)]
struct Operation {
    /// `GET`, `PUT`, ...
    method: String,
    /// The path template (`/admin/{collection}/{key}`).
    path: String,
    /// The scope its summary declares (`(scope admin:read)`); `None` for a public operation.
    scope: Option<Scope>,
    /// Whether its security lets the key come as `?sdk_key=` (the `sdkKeyQuery` scheme).
    sdk_query: bool,
    /// The statuses it documents.
    responses: BTreeSet<String>,
}

impl Operation {
    fn id(&self) -> (String, String) {
        (self.method.clone(), self.path.clone())
    }

    fn name(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// A WebSocket (it documents `101 Switching Protocols`).
    fn websocket(&self) -> bool {
        self.responses.contains("101")
    }

    /// Whether `status` is what a caller allowed to use it may get: not 401 or 403, and one
    /// the document lists.
    fn authorized(&self, status: u16) -> bool {
        status != 401 && status != 403 && self.responses.contains(&status.to_string())
    }
}

fn ids(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
        .collect()
}

/// The scope a summary declares: `(scope admin:read)` or `(scope admin:read; ...)`.
fn declared_scope(summary: &str) -> Option<&str> {
    let rest = summary.split_once("(scope ")?.1;
    let end = rest.find([';', ')']).unwrap_or(rest.len());
    Some(rest[..end].trim())
}

/// Every operation of the OpenAPI document the server serves at `/openapi.json`.
fn operations() -> Vec<Operation> {
    let doc: Value = serde_json::from_str(litmus_server::routes::health::OPENAPI).unwrap();
    let schemes = doc["components"]["securitySchemes"].as_object().unwrap();
    assert_eq!(
        doc["components"]["securitySchemes"]["sdkKeyQuery"]["name"],
        "sdk_key"
    );
    assert!(
        doc.get("security").is_none(),
        "no global security: each operation says"
    );
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ![
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                continue;
            }
            let name = format!("{} {path}", method.to_uppercase());
            let summary = op["summary"].as_str().unwrap_or_default();
            let security = op
                .get("security")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let scope = if security.is_empty() {
                assert!(
                    declared_scope(summary).is_none(),
                    "{name} declares a scope but no security"
                );
                None
            } else {
                let spelled = declared_scope(summary)
                    .unwrap_or_else(|| panic!("{name} has security but declares no (scope ...)"));
                let scope = Scope::parse(spelled)
                    .unwrap_or_else(|| panic!("{name} declares the unknown scope {spelled:?}"));
                // Scopes listed in the requirement itself (OpenAPI 3.1 allows them for any
                // scheme) must say the same.
                for requirement in &security {
                    for (scheme, listed) in requirement.as_object().unwrap() {
                        assert!(schemes.contains_key(scheme), "{name}: no scheme {scheme}");
                        let listed = listed.as_array().unwrap();
                        assert!(
                            listed.is_empty() || listed == &vec![json!(spelled)],
                            "{name}: {scheme} lists {listed:?}, the summary {spelled}"
                        );
                    }
                }
                Some(scope)
            };
            let sdk_query = security.iter().any(|r| r.get("sdkKeyQuery").is_some());
            let responses = op["responses"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            out.push(Operation {
                method: method.to_uppercase(),
                path: path.clone(),
                scope,
                sdk_query,
                responses,
            });
        }
    }
    assert!(out.len() >= 19, "the document lost operations: {out:?}");
    out
}

/// What the operations' path parameters are filled with: objects that exist.
struct Fixtures {
    experiment: String,
    key_id: String,
}

impl Fixtures {
    /// A draft experiment and a key to revoke.
    async fn make(app: &Router) -> Fixtures {
        let (_, key_id) = make_key(app, "to be revoked by the scope check", None).await;
        let fx = Fixtures {
            experiment: "sec-exp".to_owned(),
            key_id,
        };
        fx.reset(app).await;
        fx
    }

    /// Puts the draft experiment back (an operation may have deleted it).
    async fn reset(&self, app: &Router) {
        let body = common::experiment(&self.experiment, "draft");
        let put = put_experiment(app, &self.experiment, body).await;
        assert_eq!(put.status, StatusCode::OK, "{:?}", put.body);
    }

    /// The operation's path with its parameters filled in.
    fn uri(&self, op: &Operation) -> String {
        let uri = op
            .path
            .replace("{collection}", "experiments")
            .replace("{key}", &self.experiment)
            .replace("{experiment}", &self.experiment)
            .replace("{id}", &self.key_id)
            .replace("{delivery}", "no-delivery")
            .replace("{from}", "production")
            .replace("{file}", "app.js");
        assert!(
            !uri.contains('{'),
            "{}: give the new path parameter a value in Fixtures::uri",
            op.name()
        );
        uri
    }

    /// A valid body for the operation, if it takes one.
    fn body(&self, op: &Operation) -> Option<Vec<u8>> {
        let body = match (op.method.as_str(), op.path.as_str()) {
            ("PUT", "/admin/{collection}/{key}") => common::experiment(&self.experiment, "draft"),
            ("POST", "/admin/keys") => json!({"name": "made by the scope check"}),
            ("POST", "/assign") => json!({"unit_id": "u1"}),
            ("POST", "/evaluate") => json!({"unit_id": "u1"}),
            ("POST", "/events") => json!({"events": [track("m-scope", "u1")]}),
            ("POST", "/sdk/usage") => json!({"flags": []}),
            ("PUT" | "POST" | "PATCH", _) => json!({}),
            _ => return None,
        };
        Some(body.to_string().into_bytes())
    }
}

/// The status `op` answers `cred` (over the loopback socket for a WebSocket).
async fn call(server: &Server, fx: &Fixtures, op: &Operation, cred: Cred<'_>) -> u16 {
    let uri = fx.uri(op);
    if op.websocket() {
        return websocket(server.addr, &uri, cred).await.0;
    }
    request(&server.app, &op.method, &uri, cred, &[], fx.body(op))
        .await
        .0
        .as_u16()
}

// ---------------------------------------------------------------------------------------------
// Rule 1: every operation needs a key with its scope.
// ---------------------------------------------------------------------------------------------

/// Rule 1. For every operation of the OpenAPI document: no key, a garbage, forged or revoked
/// key is 401 (except the public operations, listed here and checked to be exactly those
/// without `security`); a key with every scope but the one the document declares is 403; a key
/// with only that scope is let through (a documented status, not 401/403). The key is
/// accepted in `?sdk_key=` exactly where the document says (and in `?key=` on `/live`), and
/// nowhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_requires_the_scope_the_openapi_document_declares() {
    let server = Server::start().await;
    let app = &server.app;
    let ops = operations();
    let fx = Fixtures::make(app).await;

    let sign_in = ids(&SIGN_IN);
    let public: BTreeSet<_> = ops
        .iter()
        .filter(|o| o.scope.is_none())
        .map(Operation::id)
        .filter(|id| !sign_in.contains(id))
        .collect();
    assert_eq!(public, ids(&PUBLIC), "the public operations changed");
    let sdk: BTreeSet<_> = ops
        .iter()
        .filter(|o| o.sdk_query)
        .map(Operation::id)
        .collect();
    assert_eq!(
        sdk,
        ids(&SDK_ROUTES),
        "the operations taking ?sdk_key= changed"
    );

    // Keys with exactly one scope, and with every scope but one.
    let mut only = BTreeMap::new();
    let mut lacking = BTreeMap::new();
    for scope in Scope::ALL {
        let name = scope.as_str();
        only.insert(
            name,
            make_key(app, &format!("only {name}"), Some(&[scope]))
                .await
                .0,
        );
        let but = all_but(scope);
        lacking.insert(
            name,
            make_key(app, &format!("all but {name}"), Some(&but))
                .await
                .0,
        );
    }
    // A revoked key with every scope (used once first, so it was cached), and a forged secret
    // for a real id.
    let (revoked, revoked_id) = make_key(app, "revoked", Some(&Scope::ALL)).await;
    let r = send(app, "GET", "/admin/experiments", Some(&revoked), None).await;
    assert_eq!(r.status, StatusCode::OK);
    revoke(app, &revoked_id).await;
    let (live, live_id) = make_key(app, "live", Some(&Scope::ALL)).await;
    let forged = format!("lit_{live_id}_{}", "0".repeat(secret_of(&live).len()));
    let garbage: Vec<String> = vec![
        "Bearer garbage".into(),
        "Bearer lit_".into(),
        "Bearer lit_x".into(),
        "Bearer lit__x".into(),
        format!("Bearer lit_nosuchid_{}", secret_of(&live)),
        format!("Bearer {forged}"),
        format!("Bearer {revoked}"),
        format!("Bearer {KEY}x"),
        format!("Bearer {}", &KEY[..KEY.len() - 1]),
        format!("Bearer {}", KEY.to_uppercase()),
        format!("Basic {KEY}"),
        KEY.to_owned(),
        format!("Bearer {live}x"),
    ];

    let mut checked = 0;
    for op in &ops {
        let name = op.name();
        let Some(scope) = op.scope else {
            let status = call(&server, &fx, op, Cred::None).await;
            if sign_in.contains(&op.id()) {
                let documented = op.responses.contains(&status.to_string());
                assert!(documented, "{name} without a session: {status}");
            } else {
                assert_eq!(status, 200, "{name} is public");
            }
            continue;
        };
        assert_eq!(
            call(&server, &fx, op, Cred::None).await,
            401,
            "{name} without a key"
        );
        for g in &garbage {
            assert_eq!(
                call(&server, &fx, op, Cred::Raw(g)).await,
                401,
                "{name} with {g:?}"
            );
        }
        let scope = scope.as_str();
        fx.reset(app).await;
        let lacks = call(&server, &fx, op, Cred::Bearer(&lacking[scope])).await;
        assert_eq!(lacks, 403, "{name} with every scope but {scope}");
        let has = call(&server, &fx, op, Cred::Bearer(&only[scope])).await;
        assert!(op.authorized(has), "{name} with only {scope}: {has}");
        // The key in the query string.
        let other = OTHER_QUERY_KEYS
            .iter()
            .find(|(m, p, _)| *m == op.method && *p == op.path)
            .map(|(_, _, q)| *q);
        for param in ["sdk_key", "key"] {
            let accepted = (param == "sdk_key" && op.sdk_query) || other == Some(param);
            fx.reset(app).await;
            let with_scope = call(&server, &fx, op, Cred::Query(param, &only[scope])).await;
            let bootstrap = call(&server, &fx, op, Cred::Query(param, KEY)).await;
            let revoked_q = call(&server, &fx, op, Cred::Query(param, &revoked)).await;
            let forged_q = call(&server, &fx, op, Cred::Query(param, &forged)).await;
            if accepted {
                assert!(
                    op.authorized(with_scope),
                    "{name} with ?{param}=: {with_scope}"
                );
                assert!(op.authorized(bootstrap), "{name} with ?{param}=bootstrap");
                let lacks = call(&server, &fx, op, Cred::Query(param, &lacking[scope])).await;
                assert_eq!(lacks, 403, "{name} with ?{param}= lacking {scope}");
                // The header, when present, is the key: a bad one is not rescued by the query.
                if !op.websocket() {
                    let bad = [("authorization", "Bearer garbage")];
                    let cred = Cred::Query(param, &only[scope]);
                    let (mixed, _) =
                        request(app, &op.method, &fx.uri(op), cred, &bad, fx.body(op)).await;
                    assert_eq!(mixed, StatusCode::UNAUTHORIZED, "{name}: a bad header wins");
                }
            } else {
                assert_eq!(with_scope, 401, "{name} must not accept ?{param}=");
                assert_eq!(bootstrap, 401, "{name} must not accept ?{param}=");
            }
            assert_eq!(revoked_q, 401, "{name} with a revoked ?{param}=");
            assert_eq!(forged_q, 401, "{name} with a forged ?{param}=");
        }
        checked += 1;
    }
    assert_eq!(checked, ops.len() - PUBLIC.len() - SIGN_IN.len());
    assert!(checked >= 15);
}

/// Rule 1, completeness: the routes `litmus_server::app` registers (read from `src/lib.rs`)
/// are exactly the OpenAPI document's operations plus the dashboard's, so a route added to
/// the router without being documented (and so without being checked by the test above)
/// fails here.
#[test]
fn the_router_serves_only_the_documented_operations_and_the_dashboard() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/lib.rs")).unwrap();
    let code = code_only(&src);
    for unsupported in [".nest(", ".nest_service(", ".route_service(", ".fallback("] {
        assert!(
            !code.contains(unsupported),
            "lib.rs uses {unsupported}: teach this test to read it"
        );
    }
    let mut routed = BTreeSet::new();
    let mut at = 0;
    while let Some(found) = code[at..].find(".route(") {
        let open = at + found + ".route".len();
        let close = matching(&code, open);
        let args = &src[open + 1..close];
        let path = args
            .trim_start()
            .strip_prefix('"')
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut methods = 0;
        for (i, _) in args.match_indices('(') {
            let before = &args[..i];
            let word: String = before
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace", "any",
            ]
            .contains(&word.as_str())
            {
                assert_ne!(word, "any", "{path} answers any method: list them");
                routed.insert((word.to_uppercase(), path.to_owned()));
                methods += 1;
            }
        }
        assert!(methods > 0, "no method found for {path}");
        at = close;
    }
    let mut documented: BTreeSet<_> = operations().iter().map(Operation::id).collect();
    documented.extend(ids(&DASHBOARD));
    assert_eq!(routed, documented);
}

// ---------------------------------------------------------------------------------------------
// Rule 2: SDK keys.
// ---------------------------------------------------------------------------------------------

/// Rule 2. A key made with the default scopes (an SDK key: `sdk:read`, `assign`,
/// `events:write`) is let through exactly on the SDK routes; every admin operation (config
/// writes, experiment lists, audit, keys, results, replay, `/live`) answers it 403 and
/// changes nothing; it cannot make a key (so cannot raise its own scopes).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_keys_cannot_write_config_read_admin_data_or_make_keys() {
    let server = Server::start().await;
    let app = &server.app;
    let fx = Fixtures::make(app).await;
    let made = send(
        app,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "web"})),
    )
    .await;
    assert_eq!(
        made.body["scopes"],
        json!(["sdk:read", "assign", "events:write"])
    );
    assert_eq!(
        Scope::SDK.map(Scope::as_str).to_vec(),
        vec!["sdk:read", "assign", "events:write"]
    );
    let sdk = made.body["key"].as_str().unwrap().to_owned();

    let state_of = || async {
        let mut out = Vec::new();
        for uri in [
            "/admin/experiments",
            "/admin/layers",
            "/admin/holdouts",
            "/admin/keys",
            "/admin/audit",
        ] {
            out.push(send(app, "GET", uri, Some(KEY), None).await.body);
        }
        out
    };
    let before = state_of().await;

    let mut allowed = BTreeSet::new();
    let mut forbidden = BTreeSet::new();
    for op in operations().iter().filter(|o| o.scope.is_some()) {
        let status = call(&server, &fx, op, Cred::Bearer(&sdk)).await;
        if op.authorized(status) {
            allowed.insert(op.id());
        } else {
            assert_eq!(status, 403, "{} with an SDK key", op.name());
            forbidden.insert(op.id());
        }
    }
    assert_eq!(allowed, ids(&SDK_ROUTES));
    let must_forbid = ids(&[
        ("PUT", "/admin/{collection}/{key}"),
        ("DELETE", "/admin/{collection}/{key}"),
        ("GET", "/admin/{collection}"),
        ("GET", "/admin/{collection}/{key}"),
        ("GET", "/admin/audit"),
        ("GET", "/admin/keys"),
        ("POST", "/admin/keys"),
        ("DELETE", "/admin/keys/{id}"),
        ("GET", "/results/{experiment}"),
        ("GET", "/results/{experiment}/replay"),
        ("GET", "/results/{experiment}/segments"),
        ("GET", "/holdouts/{key}/results"),
        ("POST", "/planning"),
        ("GET", "/live"),
    ]);
    assert!(forbidden.is_superset(&must_forbid), "{forbidden:?}");

    // Every collection, and a key asking for more scopes.
    for collection in ["experiments", "layers", "holdouts"] {
        let uri = format!("/admin/{collection}/x");
        let r = send(app, "PUT", &uri, Some(&sdk), Some(json!({}))).await;
        assert_eq!(
            (r.status, error_code(&r)),
            (StatusCode::FORBIDDEN, "forbidden")
        );
        let r = send(
            app,
            "DELETE",
            &format!("/admin/{collection}/{}", fx.experiment),
            Some(&sdk),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
        let r = send(
            app,
            "GET",
            &format!("/admin/{collection}"),
            Some(&sdk),
            None,
        )
        .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN);
    }
    let all: Vec<&str> = Scope::ALL.iter().map(|s| s.as_str()).collect();
    let r = send(
        app,
        "POST",
        "/admin/keys",
        Some(&sdk),
        Some(json!({"name": "x", "scopes": all})),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // The WebSocket, by header and by query.
    assert_eq!(
        websocket(server.addr, "/live", Cred::Bearer(&sdk)).await.0,
        403
    );
    assert_eq!(
        websocket(server.addr, "/live", Cred::Query("key", &sdk))
            .await
            .0,
        403
    );
    assert_eq!(state_of().await, before, "an SDK key changed something");
}

/// Rule 2. `/sdk/config` serves the published config document and nothing else: its
/// experiments, layers and holdouts are exactly those the admin API lists (drafts and stopped
/// experiments included, with their status: SDKs need the status, and only running
/// experiments assign; see docs/security.md), with no key material, key names, audit entries,
/// actors or event data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_config_serves_only_the_published_config() {
    let server = Server::start().await;
    let app = &server.app;
    let ok = |r: common::Reply| assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    ok(put_experiment(app, "e-draft", experiment("e-draft", "draft")).await);
    ok(put_experiment(app, "e-running", experiment("e-running", "running")).await);
    ok(put_experiment(app, "e-stopped", experiment("e-stopped", "running")).await);
    ok(put_experiment(app, "e-stopped", experiment("e-stopped", "stopped")).await);
    ok(send(app, "PUT", "/admin/layers/l1", Some(KEY), Some(json!({}))).await);
    ok(send(
        app,
        "PUT",
        "/admin/holdouts/h1",
        Some(KEY),
        Some(json!({"share": 0.05, "all": true})),
    )
    .await);
    let (admin, admin_id) = make_key(app, "ops-team-private-name", Some(&Scope::ALL)).await;
    ok(put_experiment(app, "e-by-ops", experiment("e-by-ops", "draft")).await);
    let r = send(
        app,
        "PUT",
        "/admin/experiments/e-by-ops2",
        Some(&admin),
        Some(experiment("e-by-ops2", "draft")),
    )
    .await;
    ok(r);
    let (sdk, sdk_id) = make_key(app, "browser-private-name", None).await;
    let events = json!({"events": [
        {"type": "exposure", "message_id": "m1", "unit_id": "private-unit-42",
         "experiment": "e-running", "variant": "control", "timestamp": "2027-01-15T09:00:00Z"},
        {"type": "track", "message_id": "m2", "unit_id": "private-unit-42", "event": "buy",
         "properties": {"email": "someone@example.com"}, "timestamp": "2027-01-15T09:00:00Z"}
    ]});
    let (status, body) = request_json(
        app,
        "POST",
        "/events",
        Cred::Bearer(&sdk),
        &[],
        Some(events.to_string().into_bytes()),
    )
    .await;
    assert_eq!((status, &body["accepted"]), (StatusCode::OK, &json!(2)));

    let (status, config) =
        request_json(app, "GET", "/sdk/config", Cred::Bearer(&sdk), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let fields: BTreeSet<&str> = config
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        fields,
        BTreeSet::from([
            "schema_version",
            "version",
            "experiments",
            "layers",
            "holdouts"
        ])
    );
    for collection in ["experiments", "layers", "holdouts"] {
        let listed = send(app, "GET", &format!("/admin/{collection}"), Some(KEY), None).await;
        let by_key = |v: &Value| -> BTreeMap<String, Value> {
            v.as_array()
                .unwrap()
                .iter()
                .map(|o| (o["key"].as_str().unwrap().to_owned(), o.clone()))
                .collect()
        };
        assert_eq!(
            by_key(&config[collection]),
            by_key(&listed.body[collection]),
            "{collection}"
        );
    }
    let statuses: BTreeMap<&str, &str> = config["experiments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["key"].as_str().unwrap(), e["status"].as_str().unwrap()))
        .collect();
    assert_eq!(statuses["e-draft"], "draft");
    assert_eq!(statuses["e-stopped"], "stopped");
    // Only running experiments assign.
    let (_, a) = request_json(
        app,
        "POST",
        "/assign",
        Cred::Bearer(&sdk),
        &[],
        Some(
            json!({"unit_id": "u", "experiment": "e-draft"})
                .to_string()
                .into_bytes(),
        ),
    )
    .await;
    assert_eq!(a["in_experiment"], false, "{a}");

    let text = config.to_string();
    let stored_hash = sha256_hex(&secret_of(&sdk));
    for needle in [
        admin.as_str(),
        &secret_of(&admin),
        &admin_id,
        sdk.as_str(),
        &secret_of(&sdk),
        &sdk_id,
        &stored_hash,
        "lit_",
        "ops-team-private-name",
        "browser-private-name",
        "bootstrap",
        "actor",
        "audit",
        "key.create",
        "experiment.create",
        "private-unit-42",
        "someone@example.com",
        KEY,
    ] {
        assert!(
            !text.contains(needle),
            "/sdk/config contains {needle:?}: {text}"
        );
    }
    // The stream sends the same document.
    let (status, headers) = request(app, "GET", "/sdk/stream", Cred::Bearer(&sdk), &[], None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CONTENT_TYPE], "text/event-stream");
}

// ---------------------------------------------------------------------------------------------
// Rule 3: keys hashed at rest.
// ---------------------------------------------------------------------------------------------

/// Every (table, column, row) of the SQLite file at `db` whose text or blob holds `needle`.
fn cells_containing(db: &Path, needle: &str) -> Vec<String> {
    let c = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.iter().any(|t| t == "keys"), "{tables:?}");
    let mut hits = Vec::new();
    for table in tables {
        let mut stmt = c.prepare(&format!("SELECT * FROM \"{table}\"")).unwrap();
        let columns: Vec<String> = stmt.column_names().into_iter().map(str::to_owned).collect();
        let mut rows = stmt.query([]).unwrap();
        let mut n = 0;
        while let Some(row) = rows.next().unwrap() {
            for (i, column) in columns.iter().enumerate() {
                let bytes = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(b) | rusqlite::types::ValueRef::Blob(b) => b,
                    _ => continue,
                };
                if contains(bytes, needle.as_bytes()) {
                    hits.push(format!("{table}.{column} row {n}"));
                }
            }
            n += 1;
        }
    }
    hits
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Rule 3. A key made through `POST /admin/keys` is stored as the SHA-256 of its secret: the
/// secret (and the whole key) is in no cell of any table of the SQLite file, nor anywhere in
/// its bytes (database and WAL); the hash is in `keys.hash` only; the key list and the audit
/// log never answer the secret or the hash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_stored_as_sha256_of_the_secret_and_never_answered() {
    let server = Server::start().await;
    let app = &server.app;
    let (admin, admin_id) =
        make_key(app, "ops", Some(&[Scope::AdminRead, Scope::AdminWrite])).await;
    let (sdk, sdk_id) = make_key(app, "web", None).await;
    // Used once, so every path a key takes (lookup, cache, audit of a change) has run.
    assert_eq!(
        put_experiment(app, "x", experiment("x", "draft"))
            .await
            .status,
        StatusCode::OK
    );
    let r = send(
        app,
        "PUT",
        "/admin/experiments/y",
        Some(&admin),
        Some(experiment("y", "draft")),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(
        send(app, "GET", "/sdk/config", Some(&sdk), None)
            .await
            .status,
        StatusCode::OK
    );
    let (status, _) = request(
        app,
        "GET",
        "/sdk/config",
        Cred::Query("sdk_key", &sdk),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);

    let db = server.db();
    let raw: Vec<u8> = ["", "-wal", "-journal"]
        .iter()
        .filter_map(|suffix| std::fs::read(format!("{}{suffix}", db.display())).ok())
        .flatten()
        .collect();
    assert!(raw.len() > 4096);
    for (key, id) in [(&admin, &admin_id), (&sdk, &sdk_id)] {
        let secret = secret_of(key);
        assert_eq!(secret.len(), 48, "24 random bytes, hex");
        assert_eq!(
            cells_containing(&db, &secret),
            Vec::<String>::new(),
            "the secret is stored"
        );
        assert_eq!(cells_containing(&db, key), Vec::<String>::new());
        assert!(
            !contains(&raw, secret.as_bytes()),
            "the secret is in the file's bytes"
        );
        let hash = sha256_hex(&secret);
        let c = rusqlite::Connection::open(&db).unwrap();
        let stored: String = c
            .query_row("SELECT hash FROM keys WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        assert_eq!(
            stored, hash,
            "the stored hash is SHA-256 of the secret, hex"
        );
        let hits = cells_containing(&db, &hash);
        assert!(
            hits.len() == 1 && hits[0].starts_with("keys.hash "),
            "the hash is in {hits:?}"
        );
    }

    let list = send(app, "GET", "/admin/keys", Some(KEY), None).await;
    assert_eq!(list.status, StatusCode::OK);
    for entry in list.body["keys"].as_array().unwrap() {
        let fields: BTreeSet<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            BTreeSet::from([
                "id",
                "name",
                "scopes",
                "project",
                "environment",
                "created_ms",
                "revoked_ms"
            ])
        );
    }
    let audit = send(app, "GET", "/admin/audit", Some(KEY), None).await;
    assert_eq!(audit.status, StatusCode::OK);
    for text in [list.body.to_string(), audit.body.to_string()] {
        for key in [&admin, &sdk] {
            let secret = secret_of(key);
            assert!(!text.contains(&secret), "{text}");
            assert!(!text.contains(&sha256_hex(&secret)), "{text}");
        }
        assert!(!text.contains("\"hash\""), "{text}");
    }
}

/// Rule 3. A revoked key is refused at once by the instance that revoked it (though it was
/// cached there as valid), by header, `?sdk_key=` and on `/live`, and by an instance that never
/// saw it; an instance that had cached it refuses it within `KEY_CACHE_TTL`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_stops_working_at_once_on_the_revoking_instance() {
    let server = Server::start().await;
    let app = &server.app;
    let other = server.other_instance();
    let (key, id) = make_key(app, "revoke me", Some(&Scope::ALL)).await;
    for instance in [app, &other] {
        assert_eq!(
            send(instance, "GET", "/sdk/config", Some(&key), None)
                .await
                .status,
            StatusCode::OK
        );
    }
    assert_eq!(
        websocket(server.addr, "/live", Cred::Bearer(&key)).await.0,
        101
    );
    revoke(app, &id).await;
    let fresh = server.other_instance();
    for uri in ["/sdk/config", "/admin/experiments", "/admin/keys"] {
        assert_eq!(
            send(app, "GET", uri, Some(&key), None).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
        assert_eq!(
            send(&fresh, "GET", uri, Some(&key), None).await.status,
            StatusCode::UNAUTHORIZED,
            "{uri}"
        );
    }
    let (status, _) = request(
        app,
        "GET",
        "/sdk/config",
        Cred::Query("sdk_key", &key),
        &[],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        websocket(server.addr, "/live", Cred::Bearer(&key)).await.0,
        401
    );
    assert_eq!(
        websocket(server.addr, "/live", Cred::Query("key", &key))
            .await
            .0,
        401
    );
    // The instance that had it cached: within the cache's lifetime.
    tokio::time::sleep(litmus_server::keys::KEY_CACHE_TTL + Duration::from_millis(200)).await;
    assert_eq!(
        send(&other, "GET", "/sdk/config", Some(&key), None)
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

// ---------------------------------------------------------------------------------------------
// Rule 4: SQL is parameterized.
// ---------------------------------------------------------------------------------------------

/// `src` with comments and the insides of string and char literals blanked (byte for byte, so
/// positions agree with `src`): a search of it sees only code. The quotes stay.
fn code_only(src: &str) -> String {
    let b = src.as_bytes();
    let mut out = b.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for x in &mut out[from..to.min(b.len())] {
            if *x != b'\n' {
                *x = b' ';
            }
        }
    };
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                let end = src[i..].find('\n').map_or(b.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let (mut depth, mut j) = (1, i + 2);
                while j < b.len() && depth > 0 {
                    if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                        depth += 1;
                        j += 1;
                    } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                        depth -= 1;
                        j += 1;
                    }
                    j += 1;
                }
                blank(&mut out, i, j);
                i = j;
            }
            b'"' | b'r' => match string_literal(src, i) {
                Some((_, end)) if b[i] == b'"' || i == 0 || !ident(b[i - 1]) => {
                    let open = src[i..].find('"').map_or(i, |n| i + n);
                    let close = src[..end].rfind('"').unwrap_or(end);
                    blank(&mut out, open + 1, close);
                    i = end;
                }
                _ => i += 1,
            },
            b'\'' => {
                // A char literal ('x', '\n', '"'), or a lifetime.
                let rest = &src[i + 1..];
                let len = if let Some(escaped) = rest.strip_prefix('\\') {
                    escaped.find('\'').map(|n| n + 2)
                } else {
                    rest.chars()
                        .next()
                        .map(char::len_utf8)
                        .filter(|&n| rest[n..].starts_with('\''))
                };
                match len {
                    Some(n) => {
                        blank(&mut out, i + 1, i + 1 + n);
                        i += n + 2;
                    }
                    None => i += 1,
                }
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).unwrap()
}

/// The string literal (`"..."`, `r"..."`, `r#"..."#`) starting at byte `at` of `src`: its
/// content (escapes as written) and the index after it.
fn string_literal(src: &str, at: usize) -> Option<(String, usize)> {
    let rest = &src[at..];
    if let Some(body) = rest.strip_prefix('"') {
        let mut escaped = false;
        for (n, c) in body.char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => return Some((body[..n].to_owned(), at + 1 + n + 1)),
                _ => {}
            }
        }
        return None;
    }
    let raw = rest.strip_prefix('r')?;
    let hashes = raw.len() - raw.trim_start_matches('#').len();
    let body = raw[hashes..].strip_prefix('"')?;
    let close = format!("\"{}", "#".repeat(hashes));
    let n = body.find(&close)?;
    Some((body[..n].to_owned(), at + 1 + hashes + 1 + n + close.len()))
}

/// The index of the bracket closing the one at `open` in `code` (from [`code_only`]).
fn matching(code: &str, open: usize) -> usize {
    let mut depth = 0usize;
    for (n, c) in code[open..].char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return open + n;
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced bracket at {open}");
}

/// The line of byte `at` of `src`.
fn line_of(src: &str, at: usize) -> usize {
    src[..at].matches('\n').count() + 1
}

/// Whether a template reads as SQL: a keyword as a whole word, in any case.
fn looks_like_sql(template: &str) -> bool {
    let upper = template.to_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .collect();
    [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "FROM",
        "WHERE",
        "VALUES",
        "JOIN",
        "CREATE",
        "DROP",
        "ALTER",
        "COPY",
        "LIMIT",
        "ORDER",
        "GROUP",
        "SET",
        "RETURNING",
    ]
    .iter()
    .any(|k| words.contains(k))
}

/// The expressions a `format!` template interpolates, given its arguments (after the
/// template): `{}` and `{0}` take positional arguments, `{name}` a named argument or the
/// variable `name`.
fn interpolations(template: &str, args: &[String]) -> Vec<String> {
    let mut positional = Vec::new();
    let mut named = BTreeMap::new();
    for a in args {
        match a.split_once('=') {
            Some((name, expr))
                if !expr.starts_with('=')
                    && !name.trim().is_empty()
                    && name
                        .trim()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_') =>
            {
                named.insert(name.trim().to_owned(), expr.trim().to_owned());
            }
            _ => positional.push(a.trim().to_owned()),
        }
    }
    let mut out = Vec::new();
    let mut next = 0;
    let mut rest = template;
    while let Some(i) = rest.find(['{', '}']) {
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            rest = &tail[2..];
            continue;
        }
        if let Some(after) = tail.strip_prefix('}') {
            rest = after;
            continue;
        }
        let end = tail.find('}').unwrap_or(tail.len());
        let inner = &tail[1..end];
        let arg = inner.split(':').next().unwrap_or_default().trim();
        let expr = if arg.is_empty() {
            next += 1;
            positional.get(next - 1).cloned()
        } else if let Ok(n) = arg.parse::<usize>() {
            positional.get(n).cloned()
        } else {
            Some(named.get(arg).cloned().unwrap_or_else(|| arg.to_owned()))
        };
        out.push(expr.unwrap_or_else(|| format!("<missing argument for {{{inner}}}>")));
        rest = &tail[(end + 1).min(tail.len())..];
    }
    out
}

/// What a SQL string may interpolate: identifiers fixed when the server is compiled.
/// - `kind.table()`: `Kind::table` answers one of three literals (checked by the test);
/// - `KEY_COLUMNS`, `EVENT_COLUMNS`: `const &str` column lists (checked in each file);
/// - `bucket`: a fragment made from a placeholder literal by a `bucket_sql` function (`?2`,
///   `$2`; each call is checked);
/// - `tier.*()`: the names of a rollup tier's tables and time columns (`store::tiers::Tier`,
///   fixed strings chosen by the bucket size).
const SQL_IDENTIFIERS: [&str; 9] = [
    "kind.table()",
    "KEY_COLUMNS",
    "EVENT_COLUMNS",
    "bucket",
    "tier.time()",
    "tier.exposures()",
    "tier.metrics()",
    "tier.sketch_time()",
    "tier.sketches()",
];

/// The ways `src` (the file `file`) builds SQL from anything but [`SQL_IDENTIFIERS`]: a
/// `format!` whose template reads as SQL (or is made in a `*_sql` function) interpolating
/// anything else, or strings built by concatenation, `push_str` or `write!`. (`concat!` takes
/// literals only, so it cannot carry a value.)
fn sql_problems(file: &str, src: &str) -> Vec<String> {
    let code = code_only(src);
    let mut problems = Vec::new();
    for pattern in [
        "push_str(",
        "write!(",
        "writeln!(",
        "+ &",
        "+ \"",
        "+= &",
        "+= \"",
        "format_args!(",
    ] {
        for (i, _) in code.match_indices(pattern) {
            problems.push(format!(
                "{file}:{}: a string built with `{pattern}`",
                line_of(src, i)
            ));
        }
    }
    for (i, _) in code.match_indices("format!(") {
        if i > 0 && code.as_bytes()[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let line = line_of(src, i);
        let open = i + "format!".len();
        let close = matching(&code, open);
        let start = open + 1 + (src[open + 1..].len() - src[open + 1..].trim_start().len());
        let Some((template, after)) = string_literal(src, start) else {
            problems.push(format!("{file}:{line}: format! without a literal template"));
            continue;
        };
        // The arguments after the template, split at top-level commas.
        let mut args = Vec::new();
        let (mut depth, mut from) = (0i32, after);
        for (n, c) in code[after..close].char_indices() {
            match c {
                '(' | '[' | '{' => depth += 1,
                ')' | ']' | '}' => depth -= 1,
                ',' if depth == 0 => {
                    args.push(src[from..after + n].to_owned());
                    from = after + n + 1;
                }
                _ => {}
            }
        }
        args.push(src[from..close].to_owned());
        let args: Vec<String> = args
            .into_iter()
            .map(|a| a.trim().to_owned())
            .filter(|a| !a.is_empty())
            .collect();
        let function = code[..i]
            .rfind("fn ")
            .map(|f| {
                code[f + 3..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .unwrap_or_default();
        if !looks_like_sql(&template) && !function.ends_with("_sql") {
            continue;
        }
        for expr in interpolations(&template, &args) {
            if !SQL_IDENTIFIERS.contains(&expr.as_str()) {
                problems.push(format!(
                    "{file}:{line}: SQL interpolates `{expr}` (bind it as a parameter)"
                ));
            } else if expr.ends_with("_COLUMNS") && !code.contains(&format!("const {expr}: &str ="))
            {
                problems.push(format!(
                    "{file}:{line}: `{expr}` is not a `const &str` here"
                ));
            }
        }
    }
    let calls = ["bucket_sql("]
        .into_iter()
        .flat_map(|f| code.match_indices(f).map(move |(i, _)| (i, f)));
    for (i, f) in calls {
        if code[..i].ends_with("fn ") {
            continue;
        }
        let arg = string_literal(src, i + f.len()).map(|(s, _)| s);
        let placeholder = arg.as_deref().is_some_and(|a| {
            (a.starts_with('?') || a.starts_with('$'))
                && a.len() > 1
                && a[1..].chars().all(|c| c.is_ascii_digit())
        });
        if !placeholder {
            problems.push(format!(
                "{file}:{}: bucket_sql takes a placeholder literal, not {arg:?}",
                line_of(src, i)
            ));
        }
    }
    problems
}

/// Rule 4a. The store's SQL is parameterized: in `src/store/*.rs`, no SQL string is made by
/// `format!` from anything but fixed identifiers (table names from `Kind::table`, `const`
/// column lists, the placeholder-only bucket fragment), and none by concatenation; and no
/// module outside `src/store` talks to a database.
#[test]
fn store_sql_interpolates_only_fixed_identifiers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let store = root.join("store");
    let mut problems = Vec::new();
    let mut sql_formats = 0;
    for path in &files {
        let src = std::fs::read_to_string(path).unwrap();
        let name = path.strip_prefix(&root).unwrap().display().to_string();
        if path.starts_with(&store) {
            problems.extend(sql_problems(&name, &src));
            let code = code_only(&src);
            sql_formats += code.matches("format!(").count();
        } else {
            let code = code_only(&src);
            for client in ["rusqlite", "tokio_postgres", "deadpool_postgres"] {
                if code.contains(client) {
                    problems.push(format!("{name} uses {client} outside src/store"));
                }
            }
        }
    }
    assert!(files.iter().any(|f| f.ends_with("store/sqlite/config.rs")));
    assert!(
        files
            .iter()
            .any(|f| f.ends_with("store/postgres/config.rs"))
    );
    assert!(
        sql_formats >= 10,
        "the scan found only {sql_formats} format! calls"
    );
    assert_eq!(problems, Vec::<String>::new());
    // What `kind.table()` may answer.
    use litmus_server::store::Kind;
    let tables: Vec<&str> = Kind::ALL.map(Kind::table).to_vec();
    assert_eq!(
        tables,
        ["experiments", "layers", "holdouts", "metrics", "flags"]
    );
}

/// Rule 4a. The check above catches values spliced into SQL (so it is not vacuous), and lets
/// today's shapes through.
#[test]
fn the_sql_check_catches_spliced_values() {
    let bad = [
        r#"fn f() { c.query(&format!("SELECT body FROM experiments WHERE key = '{}'", key), &[]); }"#,
        r#"fn f() { c.execute(&format!("DELETE FROM {} WHERE key = '{key}'", kind.table()), []); }"#,
        r#"fn f() { let q = format!("select * from keys where id = {id}"); }"#,
        r#"fn f() { let q = format!("SELECT * FROM {0} WHERE x = {1}", kind.table(), x); }"#,
        r#"fn f() { let q = format!("SELECT * FROM keys WHERE id = {id}", id = input); }"#,
        r#"fn f() { let q = "SELECT * FROM keys WHERE id = '".to_owned() + &id + "'"; }"#,
        r#"fn f() { let mut q = String::from("SELECT * FROM keys WHERE id = "); q.push_str(id); }"#,
        r#"fn f() { let q = format!(r"SELECT {}", name); }"#,
        r#"fn order_sql(by: &str) -> String { format!("{by} DESC") }"#,
        r#"fn f() { let b = bucket_sql(user_input); }"#,
    ];
    for src in bad {
        assert!(!sql_problems("x.rs", src).is_empty(), "not caught: {src}");
    }
    let good = [
        r#"fn f() { c.query(&format!("SELECT body FROM {} WHERE key = ?1", kind.table()), [&key]); }"#,
        r#"const KEY_COLUMNS: &str = "SELECT id FROM keys"; fn f() { format!("{KEY_COLUMNS} WHERE id = $1"); }"#,
        r#"fn f() { let b = bucket_sql("?2"); format!("SELECT {bucket} FROM t"); }"#,
        r#"fn f() { format!("v{version}"); let s = "a + \"b\" + &c"; } // x + &y"#,
        r#"fn f() { let q = concat!("SELECT ", "1"); let c = '"'; let d = "'{}'"; }"#,
    ];
    for src in good {
        assert_eq!(sql_problems("x.rs", src), Vec::<String>::new(), "{src}");
    }
}

/// Rows of `sql` with `params` on the SQLite file at `db`, each column as text (NULL as
/// "NULL").
fn rows(db: &Path, sql: &str, params: &[&dyn rusqlite::ToSql]) -> Vec<Vec<String>> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut stmt = c.prepare(sql).unwrap();
    let n = stmt.column_count();
    stmt.query_map(params, |r| {
        (0..n)
            .map(|i| {
                Ok(match r.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => "NULL".to_owned(),
                    rusqlite::types::ValueRef::Integer(x) => x.to_string(),
                    rusqlite::types::ValueRef::Real(x) => x.to_string(),
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                        String::from_utf8_lossy(t).into_owned()
                    }
                })
            })
            .collect()
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// The tables of the SQLite file and their row counts.
fn tables(db: &Path) -> BTreeMap<String, usize> {
    rows(
        db,
        "SELECT name FROM sqlite_master WHERE type = 'table'",
        &[],
    )
    .into_iter()
    .map(|r| {
        let n = rows(db, &format!("SELECT count(*) FROM \"{}\"", r[0]), &[]);
        (r[0].clone(), n[0][0].parse().unwrap())
    })
    .collect()
}

/// Strings a careless query would run as SQL.
fn injections() -> Vec<String> {
    vec![
        "'; DROP TABLE experiments; --".into(),
        "x' OR '1'='1".into(),
        "\"; DROP TABLE keys; --".into(),
        "Robert'); DELETE FROM audit; --".into(),
        "?1 $1 :name @x %_ \\' \\\"".into(),
        "ünïcödé 🚀 \u{202e}rtl \u{feff}".into(),
        "1; UPDATE keys SET revoked_ms = NULL".into(),
    ]
}

/// Rule 4b. Inputs made to break SQL (quotes, `; DROP TABLE`, comments, placeholders,
/// unicode) are kept as data wherever free text is taken: key names (and so audit actors),
/// event unit ids, message ids, event names and properties, exposures' experiment keys,
/// assignment requests; as experiment keys in paths they are refused by core's key format
/// (422) or not found (404), and as an audit filter they find nothing. Every table is still
/// there afterwards, with its rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn injection_inputs_are_kept_as_data() {
    let server = Server::start().await;
    let app = &server.app;
    litmus_server::jobs::rollups::apply_rollups(&server.state, Duration::from_millis(20));
    assert_eq!(
        put_experiment(app, "sec-live", experiment("sec-live", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let (sdk, _) = make_key(app, "sdk", None).await;
    let db = server.db();
    let before = tables(&db);
    assert!(
        before.contains_key("experiments") && before.contains_key("keys"),
        "{before:?}"
    );

    for (n, inj) in injections().iter().enumerate() {
        let e = enc(inj);
        // As an experiment key: core's format refuses it; lookups find nothing.
        let r = send(
            app,
            "PUT",
            &format!("/admin/experiments/{e}"),
            Some(KEY),
            Some(json!({"variants": [{"key": "a"}]})),
        )
        .await;
        assert_eq!(
            r.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{inj:?}: {:?}",
            r.body
        );
        assert_eq!(error_code(&r), "invalid_value", "{inj:?}: {:?}", r.body);
        for (method, uri) in [
            ("GET", format!("/admin/experiments/{e}")),
            ("DELETE", format!("/admin/experiments/{e}")),
            ("DELETE", format!("/admin/layers/{e}")),
            ("GET", format!("/results/{e}")),
            ("GET", format!("/results/{e}/replay")),
            ("GET", format!("/results/{e}/segments?dimension=country")),
            ("DELETE", format!("/admin/keys/{e}")),
        ] {
            let r = send(app, method, &uri, Some(KEY), None).await;
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{method} {uri}: {:?}",
                r.body
            );
        }
        let r = send(
            app,
            "GET",
            &format!("/admin/audit?key={e}"),
            Some(KEY),
            None,
        )
        .await;
        assert_eq!(
            (r.status, &r.body["entries"]),
            (StatusCode::OK, &json!([])),
            "{inj:?}"
        );

        // As a key's name: stored and answered as is, and audited as the actor of its changes.
        let (key, id) = make_key(app, inj, Some(&[Scope::AdminWrite])).await;
        let listed = send(app, "GET", "/admin/keys", Some(KEY), None).await;
        let name = listed.body["keys"]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["id"] == id.as_str())
            .unwrap()["name"]
            .clone();
        assert_eq!(name, json!(inj));
        let object = format!("inj-{n}");
        let r = send(
            app,
            "PUT",
            &format!("/admin/experiments/{object}"),
            Some(&key),
            Some(experiment(&object, "draft")),
        )
        .await;
        assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
        let audit = send(
            app,
            "GET",
            &format!("/admin/audit?key={object}"),
            Some(KEY),
            None,
        )
        .await;
        assert_eq!(audit.body["entries"][0]["actor"], json!(inj));

        // In events: unit ids, message ids, event names, properties, exposures' experiments.
        let unit = format!("{inj}#{n}");
        let batch = json!({"events": [
            {"type": "exposure", "message_id": format!("{inj}-x{n}"), "unit_id": unit,
             "experiment": inj, "variant": inj, "timestamp": "2027-01-15T09:00:00Z"},
            {"type": "exposure", "message_id": format!("{inj}-y{n}"), "unit_id": unit,
             "experiment": "sec-live", "variant": "control", "timestamp": "2027-01-15T09:00:00Z"},
            {"type": "track", "message_id": format!("{inj}-t{n}"), "unit_id": unit, "event": inj,
             "properties": {inj: inj, "list": [inj]}, "timestamp": "2027-01-15T09:01:00Z"}
        ]});
        let (status, body) = request_json(
            app,
            "POST",
            "/events",
            Cred::Bearer(&sdk),
            &[],
            Some(batch.to_string().into_bytes()),
        )
        .await;
        assert_eq!(
            (status, &body["accepted"]),
            (StatusCode::OK, &json!(3)),
            "{inj:?}: {body}"
        );
        let stored = rows(
            &db,
            "SELECT message_id, kind, experiment, variant, metric, properties FROM events
             WHERE unit_id = ?1 ORDER BY seq",
            &[&unit],
        );
        assert_eq!(stored.len(), 3, "{inj:?}");
        assert_eq!(stored[0][0], format!("{inj}-x{n}"));
        assert_eq!((&stored[0][2], &stored[0][3]), (inj, inj));
        assert_eq!(stored[2][4], *inj);
        let props: Value = serde_json::from_str(&stored[2][5]).unwrap();
        assert_eq!(props, json!({inj: inj, "list": [inj]}));

        // Assignment: the unit and attributes are data; an unknown experiment is reported.
        let body = json!({"unit_id": unit, "attributes": {inj: inj}, "experiment": "sec-live"});
        let (status, first) = request_json(
            app,
            "POST",
            "/assign",
            Cred::Bearer(&sdk),
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{first}");
        assert_eq!(first["in_experiment"], true, "{first}");
        let (_, again) = request_json(
            app,
            "POST",
            "/assign",
            Cred::Bearer(&sdk),
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await;
        assert_eq!(
            (again["variant"].clone(), again["reason"].clone()),
            (first["variant"].clone(), json!("sticky"))
        );
        let body = json!({"unit_id": unit, "experiment": inj});
        let (status, r) = request_json(
            app,
            "POST",
            "/assign",
            Cred::Bearer(&sdk),
            &[],
            Some(body.to_string().into_bytes()),
        )
        .await;
        assert_eq!(
            (status, &r["reason"]),
            (StatusCode::OK, &json!("unknown_experiment"))
        );
    }

    // The rollups took the exposures, their strange keys included.
    let mut waited = 0;
    while rows(&db, "SELECT count(*) FROM pending_batches", &[])[0][0] != "0" {
        assert!(waited < 200, "the rollups were not applied");
        tokio::time::sleep(Duration::from_millis(25)).await;
        waited += 1;
    }
    for inj in injections() {
        let sql = "SELECT variant FROM exposures WHERE experiment = ?1";
        let found = rows(&db, sql, &[&inj]);
        assert_eq!(found.len(), 1, "{inj:?}");
        assert_eq!(found[0][0], inj);
    }
    let after = tables(&db);
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    for (table, n) in &before {
        assert!(
            after[table] >= *n,
            "{table} lost rows: {n} -> {}",
            after[table]
        );
    }
    let n = injections().len();
    assert_eq!(after["keys"], before["keys"] + n);
    assert_eq!(after["experiments"], before["experiments"] + n);
    let results = send(app, "GET", "/results/sec-live", Some(KEY), None).await;
    assert_eq!(results.status, StatusCode::OK, "{:?}", results.body);
    assert_eq!(
        send(app, "GET", "/readyz", None, None).await.status,
        StatusCode::OK
    );
}

/// Rule 4b, and one store's limit: U+0000 (NUL), which PostgreSQL cannot keep in `text` or
/// `jsonb`, is refused where it would be stored, alike on SQLite and PostgreSQL: an event
/// holding it anywhere is rejected on its own (its batch is stored, so a client never retries a
/// poisoned batch forever), a config holding it is 422 with the path, a key name holding it 400.
/// Before, PostgreSQL answered these 503, and SDKs retried the batch without end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nul_is_refused_where_it_would_be_stored_on_every_store() {
    let sqlite = common::sqlite();
    let postgres = common::postgres(false).await;
    let mut apps = vec![("sqlite", sqlite.app().await)];
    if let Some(env) = &postgres {
        apps.push(("postgres", env.app().await));
    }
    for (store, app) in &apps {
        let batch = json!({"events": [
            {"type": "track", "message_id": "ok-1", "unit_id": "u1", "event": "buy"},
            {"type": "track", "message_id": "nul-unit", "unit_id": "u\u{0}1", "event": "buy"},
            {"type": "track", "message_id": "nul-prop", "unit_id": "u1", "event": "buy",
             "properties": {"a": ["x", {"b": "\u{0}"}]}},
            {"type": "track", "message_id": "nul-key", "unit_id": "u1", "event": "buy",
             "properties": {"a\u{0}": 1}},
            {"type": "exposure", "message_id": "nul-variant", "unit_id": "u1",
             "experiment": "e", "variant": "\u{0}"},
            {"type": "track", "message_id": "ok-2", "unit_id": "u1", "event": "buy"}
        ]});
        let r = send(app, "POST", "/events", Some(KEY), Some(batch)).await;
        assert_eq!(r.status, StatusCode::OK, "{store}: {:?}", r.body);
        assert_eq!(r.body["accepted"], 2, "{store}: {:?}", r.body);
        let rejected: Vec<(u64, String)> = r.body["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["index"].as_u64().unwrap(),
                    x["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        assert_eq!(
            rejected,
            [
                (1, "events[1].unit_id".to_owned()),
                (2, "events[2].properties.a[1].b".to_owned()),
                (3, "events[3].properties.a\u{0}".to_owned()),
                (4, "events[4].variant".to_owned()),
            ],
            "{store}: {:?}",
            r.body
        );
        for (field, body) in [
            (
                "salt",
                json!({"salt": "a\u{0}b", "variants": [{"key": "a"}]}),
            ),
            (
                "variants[0].payload.x",
                json!({"variants": [{"key": "a", "payload": {"x": "\u{0}"}}]}),
            ),
        ] {
            let r = send(app, "PUT", "/admin/experiments/nul", Some(KEY), Some(body)).await;
            assert_eq!(
                r.status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{store}: {:?}",
                r.body
            );
            assert!(
                r.body["error"].to_string().contains(field),
                "{store}, {field}: {:?}",
                r.body
            );
        }
        let r = send(
            app,
            "POST",
            "/admin/keys",
            Some(KEY),
            Some(json!({"name": "a\u{0}b"})),
        )
        .await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{store}: {:?}", r.body);
        assert_eq!(
            send(app, "GET", "/readyz", None, None).await.status,
            StatusCode::OK
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 5: limits.
// ---------------------------------------------------------------------------------------------

/// Rule 5. Body limits hold after decompression: gzip bombs to `/events` (2 MB and 32 MB
/// inflated) are 413; a plain body over 1 MB is 413 on admin PUT,
/// `POST /admin/keys`, `/assign` and `/events`; other routes do not inflate bodies at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn body_limits_hold_after_decompression() {
    let server = Server::start().await;
    let app = &server.app;
    let (sdk, _) = make_key(app, "sdk", None).await;
    let gz = [("content-encoding", "gzip")];
    for size in [2 << 20, 32 << 20] {
        let bomb = gzip(&vec![b' '; size]);
        assert!(
            bomb.len() < litmus_server::BODY_LIMIT,
            "it must pass the raw limit"
        );
        let (status, body) =
            request_json(app, "POST", "/events", Cred::Bearer(&sdk), &gz, Some(bomb)).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
        );
    }
    // A valid batch just under the limit once inflated is taken.
    let small = json!({"events": [track("m-gz", "u")]}).to_string();
    let (status, body) = request_json(
        app,
        "POST",
        "/events",
        Cred::Bearer(&sdk),
        &gz,
        Some(gzip(small.as_bytes())),
    )
    .await;
    assert_eq!((status, &body["accepted"]), (StatusCode::OK, &json!(1)));

    let over = |prefix: &str| {
        let mut b = prefix.as_bytes().to_vec();
        b.resize(litmus_server::BODY_LIMIT + 1, b' ');
        b
    };
    for (method, uri, key) in [
        ("PUT", "/admin/experiments/big", KEY),
        ("PUT", "/admin/layers/big", KEY),
        ("POST", "/admin/keys", KEY),
        ("POST", "/assign", sdk.as_str()),
        ("POST", "/events", sdk.as_str()),
    ] {
        let (status, _) = request(
            app,
            method,
            uri,
            Cred::Bearer(key),
            &[],
            Some(over("{\"a\": 1}")),
        )
        .await;
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{method} {uri}");
    }
    // `/assign` does not inflate: a gzip body is not JSON to it.
    let body = gzip(json!({"unit_id": "u"}).to_string().as_bytes());
    let (status, _) = request(app, "POST", "/assign", Cred::Bearer(&sdk), &gz, Some(body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        send(app, "GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
}

/// JSON nested `depth` deep: arrays around `1`.
fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

/// Rule 5. Deeply nested JSON (100,000 levels, closed or not, arrays or objects) is a 4xx on
/// `/events` (each shape), `/assign`, admin PUT and `POST /admin/keys`: serde_json's depth
/// limit holds, nothing overflows the stack, and the server keeps serving. Nesting the admin
/// API accepts stays servable: after each accepted config, `/sdk/config` and `/assign` work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deeply_nested_json_is_refused_without_a_crash() {
    let server = Server::start().await;
    let app = &server.app;
    let (sdk, _) = make_key(app, "sdk", None).await;
    assert_eq!(
        put_experiment(app, "live", experiment("live", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let deep = 100_000;
    let shapes = [
        nested(deep),
        "[".repeat(deep),
        "{\"a\":".repeat(deep),
        format!("{}1{}", "{\"a\":".repeat(deep), "}".repeat(deep)),
    ];
    let mut bodies: Vec<(&str, &str, String, String)> = Vec::new();
    for s in &shapes {
        bodies.push(("POST", "/events", sdk.clone(), s.clone()));
        bodies.push((
            "POST",
            "/events",
            sdk.clone(),
            format!("{{\"events\": [{s}]}}"),
        ));
        let event = r#"{"type": "track", "message_id": "m", "unit_id": "u", "event": "e", "properties": {"p": "#;
        bodies.push(("POST", "/events", sdk.clone(), format!("{event}{s}}}}}")));
        bodies.push((
            "POST",
            "/events",
            sdk.clone(),
            format!("{}\n{s}\n", track("m-nd", "u")),
        ));
        bodies.push(("POST", "/assign", sdk.clone(), s.clone()));
        bodies.push((
            "POST",
            "/assign",
            sdk.clone(),
            format!("{{\"unit_id\": \"u\", \"attributes\": {{\"a\": {s}}}}}"),
        ));
        bodies.push(("PUT", "/admin/experiments/deep", KEY.to_owned(), s.clone()));
        bodies.push((
            "PUT",
            "/admin/experiments/deep",
            KEY.to_owned(),
            format!("{{\"variants\": [{{\"key\": \"a\", \"payload\": {s}}}]}}"),
        ));
        bodies.push(("POST", "/admin/keys", KEY.to_owned(), s.clone()));
    }
    for (method, uri, key, body) in bodies {
        let (status, answer) = request_json(
            app,
            method,
            uri,
            Cred::Bearer(&key),
            &[],
            Some(body.clone().into_bytes()),
        )
        .await;
        let shape = &body[..40.min(body.len())];
        if status == StatusCode::OK {
            // A batch keeps its valid events (the NDJSON one's first line) and rejects the
            // deep one by itself: over 32 KB, or not readable JSON.
            assert_eq!(uri, "/events", "{method} {uri} {shape}: {answer}");
            let valid = usize::from(body.starts_with('{') && body.contains('\n'));
            let kept =
                answer["accepted"].as_u64().unwrap() + answer["duplicates"].as_u64().unwrap();
            assert_eq!(kept, valid as u64, "{shape}: {answer}");
            let rejected = answer["rejected"].as_array().unwrap();
            assert_eq!(rejected.len(), 1, "{shape}: {answer}");
            let code = rejected[0]["code"].as_str().unwrap();
            assert!(
                ["limit_exceeded", "invalid_json"].contains(&code),
                "{shape}: {answer}"
            );
        } else {
            assert!(
                status.is_client_error(),
                "{method} {uri} {shape}: {status} {answer}"
            );
        }
    }
    assert_eq!(
        send(app, "GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );

    // The deepest payloads the admin API takes are still served and compiled.
    let (mut accepted, mut refused) = (0, 0);
    for depth in 100..=130 {
        let body = json!({"variants": [{"key": "a"}, {"key": "b"}]})
            .to_string()
            .replace(
                "{\"key\":\"b\"}",
                &format!("{{\"key\":\"b\",\"payload\":{}}}", nested(depth)),
            );
        let (status, answer) = request_json(
            app,
            "PUT",
            "/admin/experiments/deep",
            Cred::Bearer(KEY),
            &[],
            Some(body.into_bytes()),
        )
        .await;
        if status == StatusCode::OK {
            accepted += 1;
            let (s, config) =
                request_json(app, "GET", "/sdk/config", Cred::Bearer(&sdk), &[], None).await;
            assert_eq!(s, StatusCode::OK, "after a payload {depth} deep: {config}");
            let assign = json!({"unit_id": "u"}).to_string().into_bytes();
            let (s, a) = request_json(
                app,
                "POST",
                "/assign",
                Cred::Bearer(&sdk),
                &[],
                Some(assign),
            )
            .await;
            assert_eq!(s, StatusCode::OK, "after a payload {depth} deep: {a}");
        } else {
            assert!(status.is_client_error(), "depth {depth}: {status} {answer}");
            refused += 1;
        }
    }
    assert!(
        accepted > 0 && refused > 0,
        "{accepted} accepted, {refused} refused"
    );
}

/// Rule 5. Attributes are bounded by the 1 MB body (413 past it; within it they are only
/// evaluated, never stored); a unit id over 256 characters is a 400 on `/assign`, as it is an
/// invalid event on `/events`, so the sticky-assignment cache never holds larger keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_and_unit_ids_are_bounded() {
    let server = Server::start().await;
    let app = &server.app;
    let (sdk, _) = make_key(app, "sdk", None).await;
    assert_eq!(
        put_experiment(app, "live", experiment("live", "running"))
            .await
            .status,
        StatusCode::OK
    );
    let assign = |body: Value| {
        let app = app.clone();
        let sdk = sdk.clone();
        async move {
            request_json(
                &app,
                "POST",
                "/assign",
                Cred::Bearer(&sdk),
                &[],
                Some(body.to_string().into_bytes()),
            )
            .await
        }
    };
    let many: serde_json::Map<String, Value> =
        (0..40_000).map(|i| (format!("a{i}"), json!(i))).collect();
    let body = json!({"unit_id": "u", "experiment": "live", "attributes": many});
    assert!(body.to_string().len() < litmus_server::BODY_LIMIT);
    let (status, a) = assign(body).await;
    assert_eq!(
        (status, &a["in_experiment"]),
        (StatusCode::OK, &json!(true)),
        "{a}"
    );
    let too_many: serde_json::Map<String, Value> = (0..100_000)
        .map(|i| (format!("attribute{i}"), json!(i)))
        .collect();
    let (status, _) = assign(json!({"unit_id": "u", "attributes": too_many})).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);

    let (status, a) = assign(json!({"unit_id": "é".repeat(256), "experiment": "live"})).await;
    assert_eq!(
        (status, &a["in_experiment"]),
        (StatusCode::OK, &json!(true)),
        "{a}"
    );
    for unit in ["é".repeat(257), "u".repeat(900_000)] {
        let (status, a) = assign(json!({"unit_id": unit, "experiment": "live"})).await;
        assert_eq!(
            (status, error_code_of(&a)),
            (StatusCode::BAD_REQUEST, "bad_request"),
            "{a}"
        );
        let (status, a) = assign(json!({"unit_id": unit})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{a}");
    }
    let batch = json!({"events": [track("m-long", &"u".repeat(257)), track("m-ok", "u")]});
    let (status, r) = request_json(
        app,
        "POST",
        "/events",
        Cred::Bearer(&sdk),
        &[],
        Some(batch.to_string().into_bytes()),
    )
    .await;
    assert_eq!((status, &r["accepted"]), (StatusCode::OK, &json!(1)), "{r}");
    assert_eq!(r["rejected"][0]["path"], "events[0].unit_id", "{r}");
}

fn error_code_of(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

// ---------------------------------------------------------------------------------------------
// Rule 6: no secret in the logs.
// ---------------------------------------------------------------------------------------------

/// The server binary, killed and waited for when dropped (if it did not stop by itself).
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 request on a new connection: the status and the body (or what came within
/// 2 s, for a stream).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
) -> (u16, String) {
    common::raw_request_as(port, method, path, auth, body, Some(Duration::from_secs(2)))
        .await
        .unwrap()
}

/// Rule 6. The real binary, logging at `trace` (stdout and stderr captured), is given the
/// bootstrap admin key and made keys in the `Authorization` header, in `?sdk_key=` and in
/// `/live?key=`, and wrong secrets for real key ids (header and query) and a wrong admin key;
/// afterwards no key, secret, or secret's hash appears anywhere in what it logged (which does
/// hold its requests' effects: the listening address and the saved change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_logs() {
    let dir = temp_dir("logs");
    let log_path = dir.join("server.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let admin = format!("bootstrap-{}", litmus_server::keys::random_hex(16).unwrap());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Process(
        std::process::Command::new(env!("CARGO_BIN_EXE_litmus-server"))
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env("LITMUS_LISTEN", format!("127.0.0.1:{port}"))
            .env("LITMUS_DATA", &dir)
            .env("LITMUS_ADMIN_KEY", &admin)
            .env("RUST_LOG", "trace")
            .env("NO_COLOR", "1")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let mut ready = false;
    for _ in 0..400 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
            && http(port, "GET", "/readyz", None, "").await.0 == 200
        {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(
        ready,
        "the server did not start: {}",
        std::fs::read_to_string(&log_path).unwrap_or_default()
    );

    let bearer = |k: &str| format!("Bearer {k}");
    let a = Some(bearer(&admin));
    let a = a.as_deref();
    // The bootstrap key: header, query, WebSocket query.
    assert_eq!(
        http(
            port,
            "PUT",
            "/admin/experiments/logged",
            a,
            &experiment("logged", "running").to_string()
        )
        .await
        .0,
        200
    );
    assert_eq!(http(port, "GET", "/admin/experiments", a, "").await.0, 200);
    assert_eq!(
        http(
            port,
            "GET",
            &format!("/sdk/config?sdk_key={admin}"),
            None,
            ""
        )
        .await
        .0,
        200
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    assert_eq!(
        websocket(addr, "/live", Cred::Query("key", &admin)).await.0,
        101
    );
    // Made keys.
    let (s, made) = http(port, "POST", "/admin/keys", a, r#"{"name": "web"}"#).await;
    assert_eq!(s, 201, "{made}");
    let sdk = serde_json::from_str::<Value>(&made).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let (s, made) = http(
        port,
        "POST",
        "/admin/keys",
        a,
        r#"{"name": "reader", "scopes": ["admin:read"]}"#,
    )
    .await;
    assert_eq!(s, 201, "{made}");
    let reader = serde_json::from_str::<Value>(&made).unwrap()["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let s = Some(bearer(&sdk));
    let s = s.as_deref();
    assert_eq!(http(port, "GET", "/sdk/config", s, "").await.0, 200);
    assert_eq!(
        http(port, "GET", &format!("/sdk/config?sdk_key={sdk}"), None, "")
            .await
            .0,
        200
    );
    assert_eq!(
        http(port, "GET", &format!("/sdk/stream?sdk_key={sdk}"), None, "")
            .await
            .0,
        200
    );
    let assign = json!({"unit_id": "u1", "experiment": "logged"}).to_string();
    assert_eq!(
        http(
            port,
            "POST",
            &format!("/assign?sdk_key={sdk}"),
            None,
            &assign
        )
        .await
        .0,
        200
    );
    let events = json!({"events": [track("m1", "u1"), {"type": "nope"}]}).to_string();
    assert_eq!(http(port, "POST", "/events", s, &events).await.0, 200);
    assert_eq!(
        http(
            port,
            "POST",
            &format!("/events?sdk_key={sdk}"),
            None,
            &events
        )
        .await
        .0,
        200
    );
    assert_eq!(http(port, "GET", "/admin/experiments", s, "").await.0, 403);
    assert_eq!(
        http(port, "GET", "/admin/audit", Some(&bearer(&reader)), "")
            .await
            .0,
        200
    );
    assert_eq!(
        websocket(addr, "/live", Cred::Query("key", &reader))
            .await
            .0,
        101
    );
    assert_eq!(websocket(addr, "/live", Cred::Bearer(&reader)).await.0, 101);
    // Wrong secrets for real ids, and a wrong admin key.
    let wrong = |key: &str| {
        let (id, _) = litmus_server::keys::split(key).unwrap();
        format!("lit_{id}_{}", litmus_server::keys::random_hex(24).unwrap())
    };
    let (wrong_sdk, wrong_reader) = (wrong(&sdk), wrong(&reader));
    let wrong_admin = format!("{admin}-wrong");
    assert_eq!(
        http(port, "GET", "/sdk/config", Some(&bearer(&wrong_sdk)), "")
            .await
            .0,
        401
    );
    assert_eq!(
        http(
            port,
            "GET",
            &format!("/sdk/config?sdk_key={wrong_sdk}"),
            None,
            ""
        )
        .await
        .0,
        401
    );
    assert_eq!(
        http(
            port,
            "GET",
            "/admin/experiments",
            Some(&bearer(&wrong_admin)),
            ""
        )
        .await
        .0,
        401
    );
    assert_eq!(
        websocket(addr, "/live", Cred::Query("key", &wrong_reader))
            .await
            .0,
        401
    );
    // Revoked, then used.
    let (id, _) = litmus_server::keys::split(&sdk).unwrap();
    assert_eq!(
        http(port, "DELETE", &format!("/admin/keys/{id}"), a, "")
            .await
            .0,
        204
    );
    assert_eq!(http(port, "GET", "/sdk/config", s, "").await.0, 401);

    // Stop it (SIGTERM to the process this test started), so everything is written.
    let pid = server.0.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    for _ in 0..200 {
        if server.0.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    drop(server);
    let logged = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    for expected in ["litmus-server listening", "saved", "stopped"] {
        assert!(
            logged.contains(expected),
            "{expected:?} not logged:\n{logged}"
        );
    }
    let mut secrets = vec![
        admin.clone(),
        wrong_admin,
        wrong_sdk.clone(),
        wrong_reader.clone(),
    ];
    for key in [&sdk, &reader, &wrong_sdk, &wrong_reader] {
        let secret = secret_of(key);
        secrets.push(key.clone());
        secrets.push(sha256_hex(&secret));
        secrets.push(secret);
    }
    secrets.push(sha256_hex(&admin));
    for secret in secrets {
        assert!(
            !logged.contains(&secret),
            "{secret:?} is in the logs:\n{logged}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 7: CORS.
// ---------------------------------------------------------------------------------------------

/// Rule 7. For every operation of the OpenAPI document and the dashboard's routes: the SDK
/// routes answer a preflight from any origin with `*` (never the origin echoed), their method
/// and the headers SDKs send, and their answers carry `*` and expose ETag; every other route
/// answers neither a preflight nor a request with any `Access-Control-Allow-*` header; no
/// answer allows credentials.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cors_is_open_on_sdk_routes_only_for_every_route() {
    let server = Server::start().await;
    let app = &server.app;
    let fx = Fixtures::make(app).await;
    let mut routes: Vec<Operation> = operations();
    for (method, path) in DASHBOARD {
        routes.push(Operation {
            method: method.into(),
            path: path.into(),
            scope: None,
            sdk_query: false,
            responses: BTreeSet::new(),
        });
    }
    let origin = "https://evil.example";
    let sdk = ids(&SDK_ROUTES);
    for op in &routes {
        let name = op.name();
        let uri = fx.uri(op);
        let preflight = [
            ("origin", origin),
            ("access-control-request-method", op.method.as_str()),
            (
                "access-control-request-headers",
                "authorization,content-type",
            ),
        ];
        let (pre_status, pre) = request(app, "OPTIONS", &uri, Cred::None, &preflight, None).await;
        fx.reset(app).await;
        let (_, res) = request(
            app,
            &op.method,
            &uri,
            Cred::Bearer(KEY),
            &[("origin", origin)],
            fx.body(op),
        )
        .await;
        for h in [&pre, &res] {
            assert!(
                h.get("access-control-allow-credentials").is_none(),
                "{name} allows credentials"
            );
        }
        if sdk.contains(&op.id()) {
            assert!(pre_status.is_success(), "{name} preflight: {pre_status}");
            assert_eq!(pre["access-control-allow-origin"], "*", "{name}");
            let methods = pre["access-control-allow-methods"]
                .to_str()
                .unwrap()
                .to_ascii_uppercase();
            assert!(
                methods.split(',').any(|m| m.trim() == op.method),
                "{name}: {methods}"
            );
            let headers = pre["access-control-allow-headers"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            for h in [
                "authorization",
                "content-type",
                "if-none-match",
                "content-encoding",
                "last-event-id",
                "litmus-sent-at",
            ] {
                assert!(
                    headers.split(',').any(|x| x.trim() == h),
                    "{name}: {h} not in {headers}"
                );
            }
            assert_eq!(res["access-control-allow-origin"], "*", "{name}");
            let exposed = res["access-control-expose-headers"]
                .to_str()
                .unwrap()
                .to_ascii_lowercase();
            assert!(
                exposed.split(',').any(|x| x.trim() == "etag"),
                "{name}: {exposed}"
            );
        } else {
            for (which, h) in [("preflight", &pre), ("request", &res)] {
                let cors: Vec<_> = h
                    .keys()
                    .filter(|k| k.as_str().starts_with("access-control-"))
                    .collect();
                assert!(cors.is_empty(), "{name} {which} sends {cors:?}");
            }
            assert!(
                !pre_status.is_success(),
                "{name} preflight answered {pre_status}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rule 8: the dashboard's policy, the WebSocket.
// ---------------------------------------------------------------------------------------------

/// Rule 8. Every dashboard answer (the page, each file it loads, a 304 revalidation) carries
/// the Content-Security-Policy (this origin only; no inline or eval'd script; no framing;
/// no plugins), `nosniff`, `X-Frame-Options: DENY` and `Referrer-Policy: no-referrer`; `/`
/// redirects to the page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_sends_its_content_security_policy() {
    let server = Server::start().await;
    let app = &server.app;
    let (status, headers) = request(app, "GET", "/", Cred::None, &[], None).await;
    assert!(status.is_redirection());
    assert_eq!(headers[header::LOCATION], "/dashboard/");
    let (status, page) = request_json(app, "GET", "/dashboard/", Cred::None, &[], None).await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap().to_owned();
    let mut files = BTreeSet::new();
    for attr in ["src=\"", "href=\""] {
        for part in page.split(attr).skip(1) {
            let target = part.split('"').next().unwrap();
            assert!(
                !target.contains("//"),
                "the page loads {target} from elsewhere"
            );
            files.insert(
                target
                    .trim_start_matches("./")
                    .trim_start_matches("/dashboard/")
                    .to_owned(),
            );
        }
    }
    assert!(files.iter().any(|f| f.ends_with(".js")), "{files:?}");
    assert!(!page.contains("<script>"), "an inline script");
    let policy = litmus_server::routes::dashboard::CONTENT_SECURITY_POLICY;
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    ] {
        assert!(policy.contains(directive), "{directive} not in {policy}");
    }
    for loose in ["unsafe-inline", "unsafe-eval", "*", "http:", "https:"] {
        assert!(!policy.contains(loose), "{loose} in {policy}");
    }
    let mut uris: Vec<String> = files.iter().map(|f| format!("/dashboard/{f}")).collect();
    uris.push("/dashboard/".into());
    for uri in &uris {
        let (status, h) = request(app, "GET", uri, Cred::None, &[], None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        let etag = h[header::ETAG].to_str().unwrap().to_owned();
        let (again, h304) = request(
            app,
            "GET",
            uri,
            Cred::None,
            &[("if-none-match", &etag)],
            None,
        )
        .await;
        assert_eq!(again, StatusCode::NOT_MODIFIED, "{uri}");
        for h in [&h, &h304] {
            assert_eq!(h[header::CONTENT_SECURITY_POLICY], policy, "{uri}");
            assert_eq!(h[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{uri}");
            assert_eq!(h[header::X_FRAME_OPTIONS], "DENY", "{uri}");
            assert_eq!(h[header::REFERRER_POLICY], "no-referrer", "{uri}");
        }
    }
}

/// The next message, as JSON, when it is a text message within 5 s.
async fn next_text(socket: &mut Socket) -> Option<Value> {
    match tokio::time::timeout(Duration::from_secs(5), socket.next()).await {
        Ok(Some(Ok(tungstenite::Message::Text(t)))) => Some(serde_json::from_str(&t).unwrap()),
        _ => None,
    }
}

/// Rule 8. `/live` needs `admin:read`, by header or `?key=` (never `?sdk_key=`): no key,
/// garbage or forged keys are 401; SDK, `admin:write`-only and `keys:write`-only keys 403;
/// `admin:read` and the bootstrap key connect. On a connection, a message that is not a live
/// message (100,000 levels deep included) is answered with an error and the connection
/// stays; one over 64 KB closes it; the server keeps serving.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_websocket_requires_admin_read() {
    let server = Server::start().await;
    let app = &server.app;
    let addr = server.addr;
    let (sdk, _) = make_key(app, "sdk", None).await;
    let (writer, _) = make_key(app, "writer", Some(&[Scope::AdminWrite])).await;
    let (keys, _) = make_key(app, "keys", Some(&[Scope::KeysWrite])).await;
    let (reader, reader_id) = make_key(app, "reader", Some(&[Scope::AdminRead])).await;
    let forged = format!("lit_{reader_id}_{}", "f".repeat(48));
    assert_eq!(websocket(addr, "/live", Cred::None).await.0, 401);
    for bad in ["garbage", forged.as_str(), "lit_x_y"] {
        assert_eq!(
            websocket(addr, "/live", Cred::Bearer(bad)).await.0,
            401,
            "{bad}"
        );
        assert_eq!(
            websocket(addr, "/live", Cred::Query("key", bad)).await.0,
            401,
            "{bad}"
        );
    }
    for other in [&sdk, &writer, &keys] {
        assert_eq!(websocket(addr, "/live", Cred::Bearer(other)).await.0, 403);
        assert_eq!(
            websocket(addr, "/live", Cred::Query("key", other)).await.0,
            403
        );
    }
    assert_eq!(
        websocket(addr, "/live", Cred::Query("sdk_key", &reader))
            .await
            .0,
        401
    );
    assert_eq!(websocket(addr, "/live", Cred::Bearer(KEY)).await.0, 101);
    assert_eq!(
        websocket(addr, "/live", Cred::Query("key", &reader))
            .await
            .0,
        101
    );
    let (status, socket) = websocket(addr, "/live", Cred::Bearer(&reader)).await;
    assert_eq!(status, 101);
    let mut socket = socket.unwrap();
    assert_eq!(next_text(&mut socket).await.unwrap()["type"], "hello");
    for bad in [
        "[".repeat(60_000),
        "{\"type\": \"nope\"}".into(),
        "not json".into(),
    ] {
        socket.send(tungstenite::Message::text(bad)).await.unwrap();
        let reply = next_text(&mut socket).await.unwrap();
        assert_eq!(
            (reply["type"].as_str(), reply["code"].as_str()),
            (Some("error"), Some("bad_request")),
            "{reply}"
        );
    }
    let subscribe = json!({"type": "subscribe", "experiments": ["nope"]}).to_string();
    socket
        .send(tungstenite::Message::text(subscribe))
        .await
        .unwrap();
    // Over 64 KB: the connection is closed.
    let _ = socket
        .send(tungstenite::Message::text("x".repeat(70_000)))
        .await;
    let closed = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match socket.next().await {
                None | Some(Err(_)) | Some(Ok(tungstenite::Message::Close(_))) => return true,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert_eq!(closed, Ok(true));
    assert_eq!(websocket(addr, "/live", Cred::Bearer(&reader)).await.0, 101);
    assert_eq!(
        send(app, "GET", "/healthz", None, None).await.status,
        StatusCode::OK
    );
}

// ---------------------------------------------------------------------------------------------
// People: sessions, CSRF, privilege escalation, user enumeration.
// ---------------------------------------------------------------------------------------------

/// A request with the headers given (a session cookie, a CSRF token) and a JSON body: the
/// status, the body and the `Set-Cookie` header.
async fn people_call(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: Option<Value>,
) -> (StatusCode, Value, Option<String>) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .map(|v| v.to_str().unwrap().to_owned());
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        cookie,
    )
}

/// Signs `email` in: the `Cookie` header value and the CSRF token.
async fn people_sign_in(
    app: &Router,
    email: &str,
    password: &str,
    before: &[(&str, &str)],
) -> (String, String) {
    let body = json!({"email": email, "password": password});
    let (status, me, cookie) = people_call(app, "POST", "/auth/login", before, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{me:?}");
    let cookie = cookie.unwrap().split(';').next().unwrap().to_owned();
    (cookie, me["csrf"].as_str().unwrap().to_owned())
}

/// People's sessions: a session id planted before sign-in is never adopted (fixation); a
/// change by cookie without the session's CSRF token, with another session's token or marked
/// cross-site is refused 403 `csrf_failed` and changes nothing; a viewer cannot write and an
/// editor cannot make themself (or anyone) an admin or manage keys; sign-in answers an unknown
/// email exactly as a wrong password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_resist_fixation_csrf_escalation_and_enumeration() {
    let server = Server::start().await;
    let app = &server.app;
    let first = Some((
        "root@example.com".to_owned(),
        "root passphrase 1".to_owned(),
    ));
    litmus_server::service::people::welcome_first_admin(&server.state.access, first, "x")
        .await
        .unwrap();
    let bootstrap = format!("Bearer {KEY}");
    let auth = [("authorization", bootstrap.as_str())];
    let mut ids = BTreeMap::new();
    for (email, role) in [("ed@example.com", "editor"), ("vi@example.com", "viewer")] {
        let invite = json!({"email": email, "role": role});
        let (s, inv, _) =
            people_call(app, "POST", "/admin/users/invitations", &auth, Some(invite)).await;
        assert_eq!(s, StatusCode::CREATED);
        let token = inv["link"]
            .as_str()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        let accept = json!({"token": token, "password": format!("{role} passphrase 1")});
        let (s, me, _) = people_call(app, "POST", "/auth/accept", &[], Some(accept)).await;
        assert_eq!(s, StatusCode::OK, "{me:?}");
        ids.insert(role, me["user"]["id"].as_str().unwrap().to_owned());
    }

    // Fixation: the planted session id is not the one given, and it opens nothing.
    let planted = format!("litmus_session={}", "ab".repeat(32));
    let (cookie, csrf) = people_sign_in(
        app,
        "ed@example.com",
        "editor passphrase 1",
        &[("cookie", &planted)],
    )
    .await;
    assert_ne!(cookie, planted);
    let (s, _, _) = people_call(app, "GET", "/auth/session", &[("cookie", &planted)], None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // CSRF: every way of leaving the token out or faking it is refused, and nothing changes.
    let (_, other_csrf) = people_sign_in(app, "vi@example.com", "viewer passphrase 1", &[]).await;
    let body = common::experiment("csrf-exp", "draft");
    for headers in [
        vec![("cookie", cookie.as_str())],
        vec![("cookie", cookie.as_str()), ("x-csrf-token", "0000")],
        vec![
            ("cookie", cookie.as_str()),
            ("x-csrf-token", other_csrf.as_str()),
        ],
        vec![
            ("cookie", cookie.as_str()),
            ("x-csrf-token", csrf.as_str()),
            ("sec-fetch-site", "cross-site"),
        ],
    ] {
        let (s, e, _) = people_call(
            app,
            "PUT",
            "/admin/experiments/csrf-exp",
            &headers,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{headers:?}");
        assert_eq!(e["error"]["code"], json!("csrf_failed"));
    }
    let (s, _, _) = people_call(app, "GET", "/admin/experiments/csrf-exp", &auth, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "nothing was stored");
    let good = [
        ("cookie", cookie.as_str()),
        ("x-csrf-token", csrf.as_str()),
        ("sec-fetch-site", "same-origin"),
    ];
    let (s, _, _) = people_call(app, "PUT", "/admin/experiments/csrf-exp", &good, Some(body)).await;
    assert_eq!(s, StatusCode::OK);

    // Escalation: the editor cannot raise anyone's role, invite, or make keys or projects.
    let editor_id = ids["editor"].clone();
    for (method, uri, body) in [
        (
            "PATCH",
            format!("/admin/users/{editor_id}"),
            json!({"role": "admin"}),
        ),
        (
            "PATCH",
            format!("/admin/users/{editor_id}"),
            json!({"projects": {"default": "admin"}}),
        ),
        (
            "POST",
            "/admin/users/invitations".to_owned(),
            json!({"email": "x@example.com", "role": "admin"}),
        ),
        (
            "POST",
            "/admin/keys".to_owned(),
            json!({"name": "mine", "scopes": ["admin:write"]}),
        ),
        ("POST", "/admin/projects".to_owned(), json!({"key": "mine"})),
    ] {
        let (s, e, _) = people_call(app, method, &uri, &good, Some(body)).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{method} {uri}: {e:?}");
    }
    let (_, me, _) = people_call(app, "GET", "/auth/session", &good, None).await;
    assert_eq!(me["user"]["role"], json!("editor"));
    assert_eq!(me["user"]["projects"], json!({}));
    // The viewer cannot write.
    let (vcookie, vcsrf) = people_sign_in(app, "vi@example.com", "viewer passphrase 1", &[]).await;
    let viewer = [
        ("cookie", vcookie.as_str()),
        ("x-csrf-token", vcsrf.as_str()),
    ];
    let (s, _, _) = people_call(app, "DELETE", "/admin/experiments/csrf-exp", &viewer, None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _, _) = people_call(
        app,
        "POST",
        "/evaluate",
        &viewer,
        Some(json!({"unit_id": "u"})),
    )
    .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Enumeration: an unknown email is answered as a wrong password.
    let (s1, b1, c1) = people_call(
        app,
        "POST",
        "/auth/login",
        &[],
        Some(json!({"email": "nobody@example.com", "password": "x x x x x x"})),
    )
    .await;
    let (s2, b2, c2) = people_call(
        app,
        "POST",
        "/auth/login",
        &[],
        Some(json!({"email": "ed@example.com", "password": "x x x x x x"})),
    )
    .await;
    assert_eq!((s1, &b1, &c1), (s2, &b2, &c2));
    assert_eq!(s1, StatusCode::UNAUTHORIZED);
}

// ---------------------------------------------------------------------------------------------
// Webhooks: server-side request forgery.
// ---------------------------------------------------------------------------------------------

/// Webhooks pointed at this machine, its network or a cloud metadata address are never
/// reached, whether the URL writes the address (IPv4, IPv6, IPv4-mapped, unspecified) or a name
/// that resolves to it (`localhost`); each attempt is logged as refused. An operator's
/// allowance (`LITMUS_WEBHOOK_ALLOW`) opens exactly the addresses it names.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_cannot_reach_internal_addresses() {
    use litmus_server::jobs::webhooks::{Settings, round};
    use litmus_server::webhooks::outbound::{self, Policy};
    let server = Server::start().await;
    let app = &server.app;
    // A listener on loopback stands for an internal service: it must see no connection.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicU32::new(0));
    let seen = Arc::clone(&hits);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    let targets = [
        format!("http://127.0.0.1:{port}/hook"),
        format!("http://localhost:{port}/hook"),
        format!("http://[::1]:{port}/hook"),
        format!("http://[::ffff:127.0.0.1]:{port}/hook"),
        format!("http://0.0.0.0:{port}/hook"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
        "http://192.168.1.1/hook".to_owned(),
    ];
    let mut ids = Vec::new();
    for url in &targets {
        let body = json!({"url": url, "events": ["webhook.test"]});
        let r = send(app, "POST", "/admin/webhooks", Some(KEY), Some(body)).await;
        assert_eq!(r.status, StatusCode::CREATED, "{url}: {:?}", r.body);
        ids.push(r.body["webhook"]["id"].as_str().unwrap().to_owned());
    }
    let test_all = || async {
        for id in &ids {
            let r = send(
                app,
                "POST",
                &format!("/admin/webhooks/{id}/test"),
                Some(KEY),
                None,
            )
            .await;
            assert_eq!(r.status, StatusCode::ACCEPTED);
        }
    };
    test_all().await;
    let refused = Settings::new(Policy::default(), None);
    let client = outbound::client(&refused.policy, Duration::from_secs(2)).unwrap();
    round(&server.state, &refused, &client, "security-test", false)
        .await
        .unwrap();
    for (url, id) in targets.iter().zip(&ids) {
        let log = send(
            app,
            "GET",
            &format!("/admin/webhooks/{id}/deliveries"),
            Some(KEY),
            None,
        )
        .await;
        let d = &log.body["deliveries"][0];
        assert_eq!(d["attempts"], json!(1), "{url}: {d}");
        assert_eq!(d["status"], json!("pending"), "{url}");
        assert_eq!(d["last_status"], Value::Null, "{url}");
        let error = d["last_error"].as_str().unwrap();
        assert!(error.contains("deliveries may"), "{url}: {error}");
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no connection reached loopback"
    );
    // Allowing 127.0.0.1 opens that address only.
    let allowed = Settings::new(
        Policy {
            allow_private: false,
            allowed: Policy::ranges("127.0.0.1").unwrap(),
        },
        None,
    );
    let client = outbound::client(&allowed.policy, Duration::from_secs(2)).unwrap();
    test_all().await;
    round(&server.state, &allowed, &client, "security-test", false)
        .await
        .unwrap();
    assert!(
        hits.load(Ordering::SeqCst) >= 1,
        "the allowed address was reached"
    );
    let ipv6 = send(
        app,
        "GET",
        &format!("/admin/webhooks/{}/deliveries", ids[2]),
        Some(KEY),
        None,
    )
    .await;
    let newest = &ipv6.body["deliveries"][0];
    assert!(
        newest["last_error"]
            .as_str()
            .unwrap()
            .contains("deliveries may"),
        "{newest}"
    );
}
