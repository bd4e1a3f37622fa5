//! Single sign-on against a real OpenID Connect provider process on loopback
//! (`scripts/oidc/provider.mjs`, which issues RS256-signed ID tokens), on every backend: the
//! authorization code flow with PKCE through the server's real socket; who may sign in (linked
//! identity, existing email, invitation, default role, nobody); and the refusals: wrong
//! audience, expired token, bad signature, wrong issuer, unknown key, `alg: none`, the wrong
//! nonce, an unverified email, a replayed callback (state and nonce used once), another
//! browser's state; and the provider's key rotation followed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::net::SocketAddr;
use std::process::Stdio;

use common::*;
use litmus_server::oidc::OidcSettings;
use litmus_server::people::{PeopleSettings, Role};
use litmus_server::store::Store;
use serde_json::{Value, json};

on_every_backend!(people_sign_in_by_sso_and_every_bad_token_is_refused);

/// The provider process (killed when dropped; its stdin closing ends it too) and its issuer.
struct Provider {
    child: std::process::Child,
    issuer: String,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Provider {
    fn start() -> Provider {
        use std::io::BufRead;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/oidc/provider.mjs");
        let mut child = std::process::Command::new("node")
            .args([
                script,
                "--port",
                "0",
                "--client-id",
                "litmus",
                "--client-secret",
                "s3cret",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs scripts/oidc/provider.mjs");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap();
        let started: Value = serde_json::from_str(&line).unwrap();
        Provider {
            child,
            issuer: started["issuer"].as_str().unwrap().to_owned(),
        }
    }

    async fn control(&self, body: Value) {
        let r = http()
            .post(format!("{}/_control", self.issuer))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// A server instance of `env` with single sign-on to `issuer`, on a real socket.
async fn serve<S: Store>(env: &Env<S>, issuer: &str, default_role: Option<Role>) -> SocketAddr {
    let settings = PeopleSettings {
        public_url: None,
        trust_proxy: false,
        sso: Some(OidcSettings {
            issuer: issuer.to_owned(),
            client_id: "litmus".into(),
            client_secret: "s3cret".into(),
            name: "Test SSO".into(),
            default_role,
            domains: vec!["example.com".into()],
        }),
    };
    let tuning = litmus_server::state::Tuning {
        people: settings,
        ..Default::default()
    };
    let app = litmus_server::app(env.instance_with(tuning).await)
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// The value of cookie `name` a response sets, if any.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn location(r: &reqwest::Response) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// How one sign-in went: the session cookie, or the `#sso-error=` code; with the callback URL
/// and state cookie (to replay them).
struct Outcome {
    session: Option<String>,
    error: Option<String>,
    callback: String,
    state: String,
}

/// One sign-in through the server and the provider, as a browser follows the redirects.
async fn sign_in(addr: SocketAddr) -> Outcome {
    let base = format!("http://{addr}");
    let start = http()
        .get(format!("{base}/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    assert_eq!(start.status(), 302);
    let state = set_cookie(&start, "litmus_oidc").expect("the state cookie");
    let authorize = location(&start);
    assert!(
        authorize.contains("code_challenge_method=S256"),
        "{authorize}"
    );
    assert!(authorize.contains(&format!("state={state}")));
    let at_provider = http().get(&authorize).send().await.unwrap();
    assert_eq!(at_provider.status(), 302, "{:?}", at_provider.text().await);
    let callback = location(&at_provider);
    assert!(
        callback.starts_with(&format!("{base}/auth/oidc/callback?")),
        "{callback}"
    );
    let back = callback_with(&callback, &state).await;
    Outcome {
        session: back.0,
        error: back.1,
        callback,
        state,
    }
}

/// The callback requested with `state` in the cookie: the session cookie or the error code.
async fn callback_with(callback: &str, state: &str) -> (Option<String>, Option<String>) {
    let back = http()
        .get(callback)
        .header("cookie", format!("litmus_oidc={state}"))
        .send()
        .await
        .unwrap();
    assert_eq!(back.status(), 302);
    let to = location(&back);
    match to.strip_prefix("/dashboard/#sso-error=") {
        Some(code) => (None, Some(code.to_owned())),
        None => {
            assert_eq!(to, "/dashboard/");
            (
                Some(set_cookie(&back, "litmus_session").expect("a session")),
                None,
            )
        }
    }
}

/// The person a session cookie signs in.
async fn whoami(addr: SocketAddr, session: &str) -> Value {
    let r = http()
        .get(format!("http://{addr}/auth/session"))
        .header("cookie", format!("litmus_session={session}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    serde_json::from_str::<Value>(&r.text().await.unwrap()).unwrap()["user"].clone()
}

async fn people_sign_in_by_sso_and_every_bad_token_is_refused<S: Store>(env: &Env<S>) {
    let provider = Provider::start();
    let user = |sub: &str, email: &str| json!({"user": {"sub": sub, "email": email, "email_verified": true, "name": "Sam"}});

    // Without a default role, an unknown person is not let in.
    let closed = serve(env, &provider.issuer, None).await;
    let info: Value = serde_json::from_str(
        &http()
            .get(format!("http://{closed}/auth/sso"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(info, json!({"enabled": true, "name": "Test SSO"}));
    provider.control(user("sam-1", "sam@example.com")).await;
    let out = sign_in(closed).await;
    assert_eq!(out.error.as_deref(), Some("not_invited"));

    // An invitation lets them in with its role, once.
    let app = env.app().await;
    let inv = send(
        &app,
        "POST",
        "/admin/users/invitations",
        Some(KEY),
        Some(json!({"email": "sam@example.com", "role": "editor"})),
    )
    .await;
    assert_eq!(inv.status, 201, "{:?}", inv.body);
    let out = sign_in(closed).await;
    let me = whoami(closed, out.session.as_deref().expect("signed in")).await;
    assert_eq!(me["email"], json!("sam@example.com"));
    assert_eq!(me["role"], json!("editor"));
    let pending = send(&app, "GET", "/admin/users", Some(KEY), None).await;
    assert_eq!(pending.body["invitations"], json!([]));

    // The same identity again is the same person, even with another email at the provider.
    provider.control(user("sam-1", "samuel@example.com")).await;
    let again = sign_in(closed).await;
    assert_eq!(
        whoami(closed, again.session.as_deref().unwrap()).await["id"],
        me["id"]
    );

    // Replaying the callback (same code, state and nonce) is refused: each is used once.
    let (session, error) = callback_with(&again.callback, &again.state).await;
    assert_eq!((session, error.as_deref()), (None, Some("expired")));
    // Another browser's state (or none) is refused before anything else.
    provider.control(user("sam-1", "sam@example.com")).await;
    let base = format!("http://{closed}");
    let start = http()
        .get(format!("{base}/auth/oidc/start"))
        .send()
        .await
        .unwrap();
    let at_provider = http().get(location(&start)).send().await.unwrap();
    let (session, error) = callback_with(&location(&at_provider), "someone-elses-state").await;
    assert_eq!((session, error.as_deref()), (None, Some("invalid_state")));

    // An existing person (by password) is found by their verified email and linked.
    let invite = send(
        &app,
        "POST",
        "/admin/users/invitations",
        Some(KEY),
        Some(json!({"email": "pat@example.com"})),
    )
    .await;
    let token = invite.body["link"]
        .as_str()
        .unwrap()
        .split_once('=')
        .unwrap()
        .1
        .to_owned();
    let joined = http()
        .post(format!("{base}/auth/accept"))
        .header("content-type", "application/json")
        .body(json!({"token": token, "password": "pat passphrase 1"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(joined.status(), 200);
    provider.control(user("pat-9", "PAT@example.com")).await;
    let pat = sign_in(closed).await;
    let pat_me = whoami(closed, pat.session.as_deref().unwrap()).await;
    assert_eq!(
        (pat_me["email"].clone(), pat_me["role"].clone()),
        (json!("pat@example.com"), json!("viewer"))
    );

    // With a default role, a new person of an allowed domain joins with it; others do not.
    let open = serve(env, &provider.issuer, Some(Role::Viewer)).await;
    provider.control(user("new-1", "new@example.com")).await;
    let new = sign_in(open).await;
    assert_eq!(
        whoami(open, new.session.as_deref().unwrap()).await["role"],
        json!("viewer")
    );
    provider.control(user("out-1", "out@elsewhere.org")).await;
    assert_eq!(sign_in(open).await.error.as_deref(), Some("not_invited"));

    // The provider rotates its keys: the new key is fetched and accepted.
    provider.control(json!({"rotate_keys": true})).await;
    provider.control(user("new-1", "new@example.com")).await;
    assert!(
        sign_in(open).await.session.is_some(),
        "a token signed by the new key"
    );

    // Every bad token is refused, and signs nobody in.
    for (fault, code) in [
        ("wrong_audience", "invalid_token"),
        ("expired", "invalid_token"),
        ("bad_signature", "invalid_token"),
        ("wrong_issuer", "invalid_token"),
        ("wrong_nonce", "invalid_token"),
        ("missing_nonce", "invalid_token"),
        ("alg_none", "invalid_token"),
        ("unknown_kid", "invalid_token"),
        ("email_unverified", "email_unverified"),
    ] {
        provider
            .control(user(&format!("f-{fault}"), &format!("{fault}@example.com")))
            .await;
        provider.control(json!({"fault": fault})).await;
        let out = sign_in(open).await;
        assert_eq!(
            (out.session, out.error.as_deref()),
            (None, Some(code)),
            "{fault}"
        );
    }
    let users = send(&app, "GET", "/admin/users", Some(KEY), None).await;
    let emails: Vec<_> = users.body["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["email"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        emails,
        ["new@example.com", "pat@example.com", "sam@example.com"]
    );

    // A disabled person cannot sign in by SSO either.
    let sam_id = me["id"].as_str().unwrap();
    let off = send(
        &app,
        "PATCH",
        &format!("/admin/users/{sam_id}"),
        Some(KEY),
        Some(json!({"disabled": true})),
    )
    .await;
    assert_eq!(off.status, 200);
    provider.control(user("sam-1", "sam@example.com")).await;
    assert_eq!(sign_in(closed).await.error.as_deref(), Some("disabled"));
}
