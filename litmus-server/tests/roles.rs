//! The route × role matrix: every operation of the API, listed here with the least role that
//! may call it, is called over a real socket by a signed-in viewer, editor, project admin and
//! instance admin. A role at or above the listed one is let through (any status but 401 and
//! 403); a role below it gets 403. An operation added to the API without a line here fails
//! the test, and so does a line whose role disagrees with the scope the OpenAPI document
//! declares for it.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::BTreeSet;
use std::net::SocketAddr;

use common::KEY;
use litmus_server::keys::Scope;
use litmus_server::service::people::welcome_first_admin;
use litmus_server::state::AppState;
use litmus_server::store::sqlite::SqliteStore;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Least {
    /// Anyone, signed in or not.
    Public,
    /// The sign-in routes: no role (they make, read or end a session).
    SignIn,
    /// A viewer and above.
    Viewer,
    /// An editor and above.
    Editor,
    /// An admin of the project (by role or by the project's override) and above.
    ProjectAdmin,
    /// An instance admin only.
    InstanceAdmin,
    /// No person: SDK keys only.
    KeyOnly,
}

/// Every operation and the least role that may call it.
const MATRIX: [(&str, &str, Least); 54] = [
    ("GET", "/admin/webhooks", Least::ProjectAdmin),
    ("POST", "/admin/webhooks", Least::ProjectAdmin),
    ("GET", "/admin/webhooks/{id}", Least::ProjectAdmin),
    ("PATCH", "/admin/webhooks/{id}", Least::ProjectAdmin),
    ("DELETE", "/admin/webhooks/{id}", Least::ProjectAdmin),
    ("POST", "/admin/webhooks/{id}/test", Least::ProjectAdmin),
    (
        "GET",
        "/admin/webhooks/{id}/deliveries",
        Least::ProjectAdmin,
    ),
    (
        "POST",
        "/admin/webhooks/{id}/deliveries/{delivery}/retry",
        Least::ProjectAdmin,
    ),
    ("GET", "/auth/sso", Least::SignIn),
    ("GET", "/auth/oidc/start", Least::SignIn),
    ("GET", "/auth/oidc/callback", Least::SignIn),
    ("GET", "/healthz", Least::Public),
    ("GET", "/readyz", Least::Public),
    ("GET", "/metrics", Least::Public),
    ("GET", "/openapi.json", Least::Public),
    ("POST", "/auth/login", Least::SignIn),
    ("POST", "/auth/logout", Least::SignIn),
    ("GET", "/auth/session", Least::SignIn),
    ("POST", "/auth/setup", Least::SignIn),
    ("POST", "/auth/token", Least::SignIn),
    ("POST", "/auth/accept", Least::SignIn),
    ("GET", "/sdk/config", Least::KeyOnly),
    ("GET", "/sdk/stream", Least::KeyOnly),
    ("POST", "/events", Least::KeyOnly),
    ("POST", "/sdk/usage", Least::KeyOnly),
    ("POST", "/assign", Least::Editor),
    ("POST", "/evaluate", Least::Editor),
    ("GET", "/admin/{collection}", Least::Viewer),
    ("GET", "/admin/{collection}/{key}", Least::Viewer),
    ("PUT", "/admin/{collection}/{key}", Least::Editor),
    ("DELETE", "/admin/{collection}/{key}", Least::Editor),
    ("GET", "/admin/audit", Least::Viewer),
    ("GET", "/admin/keys", Least::ProjectAdmin),
    ("POST", "/admin/keys", Least::ProjectAdmin),
    ("DELETE", "/admin/keys/{id}", Least::ProjectAdmin),
    ("GET", "/results/{experiment}", Least::Viewer),
    ("GET", "/results/{experiment}/replay", Least::Viewer),
    ("GET", "/results/{experiment}/segments", Least::Viewer),
    ("GET", "/holdouts/{key}/results", Least::Viewer),
    ("GET", "/live", Least::Viewer),
    ("GET", "/admin/experiments/{key}/units", Least::Viewer),
    ("POST", "/planning", Least::Viewer),
    ("GET", "/admin/environments", Least::Viewer),
    ("POST", "/admin/environments", Least::Editor),
    ("DELETE", "/admin/environments/{key}", Least::Editor),
    ("POST", "/admin/environments/{from}/promote", Least::Editor),
    ("GET", "/admin/projects", Least::Viewer),
    ("POST", "/admin/projects", Least::InstanceAdmin),
    ("GET", "/admin/flag-usage", Least::Viewer),
    ("GET", "/admin/users", Least::InstanceAdmin),
    ("POST", "/admin/users/invitations", Least::InstanceAdmin),
    (
        "DELETE",
        "/admin/users/invitations/{id}",
        Least::InstanceAdmin,
    ),
    ("PATCH", "/admin/users/{id}", Least::InstanceAdmin),
    ("POST", "/admin/users/{id}/reset", Least::InstanceAdmin),
];

/// The least role a scope stands for.
fn least_of(scope: Option<Scope>) -> Option<Least> {
    Some(match scope? {
        Scope::AdminRead => Least::Viewer,
        Scope::AdminWrite | Scope::Assign => Least::Editor,
        Scope::KeysWrite | Scope::WebhooksWrite => Least::ProjectAdmin,
        Scope::UsersWrite | Scope::ProjectsWrite => Least::InstanceAdmin,
        Scope::SdkRead | Scope::EventsWrite => Least::KeyOnly,
    })
}

/// Every operation of the OpenAPI document with the scope its summary declares.
fn documented() -> Vec<(String, String, Option<Scope>)> {
    let doc: Value = serde_json::from_str(litmus_server::routes::health::OPENAPI).unwrap();
    let mut out = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if method == "parameters" {
                continue;
            }
            let summary = op["summary"].as_str().unwrap_or_default();
            let secured = op.get("security").is_some();
            let scope = summary
                .split_once("(scope ")
                .map(|(_, rest)| rest[..rest.find([';', ')']).unwrap()].trim())
                .filter(|_| secured)
                .map(|s| Scope::parse(s).unwrap());
            out.push((method.to_uppercase(), path.clone(), scope));
        }
    }
    out
}

/// A signed-in person: the `Cookie` and `X-CSRF-Token` header values.
struct Person {
    name: &'static str,
    rank: Least,
    cookie: String,
    csrf: String,
}

/// The status line's code of one request over a new connection (only the status is read:
/// streams never end).
async fn status(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if path.starts_with("/live") {
        head.push_str("Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n");
    } else {
        head.push_str("Connection: close\r\n");
    }
    head.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(head.as_bytes()).await.unwrap();
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\r\n") {
        if s.read(&mut byte).await.unwrap() == 0 {
            break;
        }
        line.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&line);
    line.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

/// Signs `email` in: their cookie and CSRF token.
async fn sign_in(addr: SocketAddr, email: &str, password: &str) -> (String, String) {
    let body = json!({"email": email, "password": password}).to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    let cookie = text
        .lines()
        .find_map(|l| l.strip_prefix("set-cookie: "))
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let json: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    (cookie, json["csrf"].as_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_admits_exactly_the_roles_its_line_names() {
    // The table covers the document, and agrees with each operation's declared scope.
    let ops = documented();
    let listed: BTreeSet<_> = MATRIX
        .iter()
        .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
        .collect();
    let doc: BTreeSet<_> = ops.iter().map(|(m, p, _)| (m.clone(), p.clone())).collect();
    assert_eq!(
        listed, doc,
        "every operation needs a line in MATRIX, and only those"
    );
    for (method, path, scope) in &ops {
        let (_, _, least) = MATRIX
            .iter()
            .find(|(m, p, _)| m == method && p == path)
            .unwrap();
        match least_of(*scope) {
            Some(by_scope) => assert_eq!(*least, by_scope, "{method} {path}"),
            None => assert!(
                matches!(least, Least::Public | Least::SignIn),
                "{method} {path}"
            ),
        }
    }

    // A server with a person of each role.
    let state = AppState::new(SqliteStore::in_memory().unwrap(), KEY);
    let first = Some((
        "admin@example.com".to_owned(),
        "admin passphrase 1".to_owned(),
    ));
    welcome_first_admin(&state.access, first, "x")
        .await
        .unwrap();
    let app = litmus_server::app(state).into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let bootstrap = format!("Bearer {KEY}");
    let admin_call = |method: &'static str, path: &'static str, body: Value| {
        let bootstrap = bootstrap.clone();
        async move {
            let body = body.to_string();
            status(
                addr,
                method,
                path,
                &[("Authorization", bootstrap.as_str())],
                &body,
            )
            .await
        }
    };
    assert_eq!(
        admin_call(
            "PUT",
            "/admin/experiments/mx",
            common::experiment("mx", "running")
        )
        .await,
        200
    );
    let roles = [
        ("viewer", json!({"role": "viewer"}), Least::Viewer),
        ("editor", json!({"role": "editor"}), Least::Editor),
        (
            "project-admin",
            json!({"role": "viewer", "projects": {"default": "admin"}}),
            Least::ProjectAdmin,
        ),
    ];
    let mut people = Vec::new();
    for (name, role, rank) in roles {
        let email = format!("{name}@example.com");
        let mut invite = role.clone();
        invite["email"] = json!(email);
        let client = post_as_bootstrap(addr, "/admin/users/invitations", &bootstrap, &invite).await;
        let token = client["link"]
            .as_str()
            .unwrap()
            .split_once('=')
            .unwrap()
            .1
            .to_owned();
        let accept = json!({"token": token, "password": format!("{name} passphrase 1")});
        assert_eq!(
            status(addr, "POST", "/auth/accept", &[], &accept.to_string()).await,
            200
        );
        let (cookie, csrf) = sign_in(addr, &email, &format!("{name} passphrase 1")).await;
        people.push(Person {
            name,
            rank,
            cookie,
            csrf,
        });
    }
    let (cookie, csrf) = sign_in(addr, "admin@example.com", "admin passphrase 1").await;
    people.push(Person {
        name: "instance-admin",
        rank: Least::InstanceAdmin,
        cookie,
        csrf,
    });

    let mut checked = 0;
    for (method, path, least) in MATRIX {
        if matches!(least, Least::SignIn) {
            continue;
        }
        let uri = path
            .replace("{collection}", "experiments")
            .replace("{key}", "mx")
            .replace("{experiment}", "mx")
            .replace("{id}", "nobody")
            .replace("{delivery}", "nothing")
            .replace("{from}", "production");
        for person in &people {
            let headers = [
                ("Cookie", person.cookie.as_str()),
                ("X-CSRF-Token", person.csrf.as_str()),
            ];
            let got = status(addr, method, &uri, &headers, "{}").await;
            let may = match least {
                Least::Public => true,
                Least::KeyOnly => false,
                least => person.rank >= least,
            };
            if may {
                assert!(
                    got != 401 && got != 403 && got != 0,
                    "{} {method} {uri}: {got}",
                    person.name
                );
            } else {
                assert_eq!(got, 403, "{} {method} {uri}", person.name);
            }
            checked += 1;
        }
    }
    let sign_in = MATRIX
        .iter()
        .filter(|(_, _, l)| *l == Least::SignIn)
        .count();
    assert_eq!(checked, (MATRIX.len() - sign_in) * people.len());
}

/// A POST with the bootstrap key, answering the JSON body.
async fn post_as_bootstrap(addr: SocketAddr, path: &str, bootstrap: &str, body: &Value) -> Value {
    let body = body.to_string();
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nAuthorization: {bootstrap}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).await.unwrap();
    serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap()
}
