//! People through the API, on every backend: the first admin (from the environment, or by the
//! one-time set-up link), sign-in with a session cookie and its CSRF token, invitations and
//! roles (a viewer reads, an editor changes experiments, only an admin manages keys and
//! people), per-project roles, the audit log naming the person with their session's address
//! and agent, throttling and lockout, and sessions ending at sign-out, when a person is
//! disabled and when their password is reset.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode, header};
use common::*;
use http_body_util::BodyExt;
use litmus_server::service::people::welcome_first_admin;
use litmus_server::store::Store;
use serde_json::{Value, json};
use tower::ServiceExt;

on_every_backend!(
    the_first_admin_invites_people_whose_roles_limit_what_they_do,
    the_set_up_link_makes_one_first_admin,
    sign_in_is_throttled_locked_and_tells_no_one_who_exists,
    sessions_end_at_sign_out_when_disabled_and_at_a_password_reset,
);

const ADMIN: &str = "admin@example.com";
const PASSWORD: &str = "a long admin passphrase";

/// A signed-in browser: its session cookie and CSRF token.
#[derive(Clone, Debug)]
struct Browser {
    cookie: String,
    csrf: String,
}

/// An answer: status, JSON body, the `Set-Cookie` and `Retry-After` headers.
struct Answer {
    status: StatusCode,
    body: Value,
    set_cookie: Option<String>,
    retry_after: Option<String>,
}

/// A request from a browser at `ip` (signed in when `who` is given; the CSRF token is sent
/// when `csrf`), with a JSON body.
async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    who: Option<&Browser>,
    body: Option<Value>,
    ip: [u8; 4],
) -> Answer {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::USER_AGENT, "people-test/1.0")
        .header(header::HOST, "litmus.test");
    if let Some(b) = who {
        req = req
            .header(header::COOKIE, format!("litmus_session={}", b.cookie))
            .header("x-csrf-token", &b.csrf);
    }
    let mut req = req
        .body(body.map_or_else(Body::empty, |b| Body::from(b.to_string())))
        .unwrap();
    req.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from((ip, 40_000))));
    let res = app.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let header_of = |name| {
        res.headers()
            .get(name)
            .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let set_cookie = header_of(header::SET_COOKIE);
    let retry_after = header_of(header::RETRY_AFTER);
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer {
        status,
        body,
        set_cookie,
        retry_after,
    }
}

/// The session token a `Set-Cookie` gives.
fn session_of(set_cookie: &str) -> String {
    let value = set_cookie
        .strip_prefix("litmus_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    value.to_owned()
}

/// Signs in as `email` from `ip`; panics unless it works.
async fn sign_in(app: &Router, email: &str, password: &str, ip: [u8; 4]) -> Browser {
    let a = call(
        app,
        "POST",
        "/auth/login",
        None,
        Some(json!({"email": email, "password": password})),
        ip,
    )
    .await;
    assert_eq!(a.status, StatusCode::OK, "{:?}", a.body);
    browser(&a)
}

/// The browser an answer signed in.
fn browser(a: &Answer) -> Browser {
    let set = a.set_cookie.as_deref().expect("a session cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax"),
        "{set}"
    );
    Browser {
        cookie: session_of(set),
        csrf: a.body["csrf"].as_str().unwrap().to_owned(),
    }
}

/// The token in a link's fragment (`.../dashboard/#invite=TOKEN`).
fn token_of(link: &str) -> String {
    link.split_once('=').unwrap().1.to_owned()
}

/// A router over a new instance of `env` whose first admin exists.
async fn with_admin<S: Store>(env: &Env<S>) -> Router {
    let state = env.instance().await;
    let first = Some((ADMIN.to_owned(), PASSWORD.to_owned()));
    let made = welcome_first_admin(&state.access, first, "127.0.0.1:8080").await;
    assert_eq!(made.unwrap(), None, "no set-up link once an admin is made");
    litmus_server::app(state)
}

/// Invites `email` as `body` says and has them accept with `password`: their browser.
async fn join(app: &Router, admin: &Browser, invite: Value, password: &str) -> Browser {
    let a = call(
        app,
        "POST",
        "/admin/users/invitations",
        Some(admin),
        Some(invite.clone()),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(a.status, StatusCode::CREATED, "{:?}", a.body);
    let link = a.body["link"].as_str().unwrap();
    assert!(
        link.starts_with("http://litmus.test/dashboard/#invite="),
        "{link}"
    );
    let token = token_of(link);
    let info = call(
        app,
        "POST",
        "/auth/token",
        None,
        Some(json!({"token": token})),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(info.status, StatusCode::OK, "{:?}", info.body);
    assert_eq!(info.body["kind"], json!("invite"));
    assert_eq!(info.body["email"], invite["email"]);
    let joined = call(
        app,
        "POST",
        "/auth/accept",
        None,
        Some(json!({"token": token, "name": "New Person", "password": password})),
        [10, 0, 0, 2],
    )
    .await;
    assert_eq!(joined.status, StatusCode::OK, "{:?}", joined.body);
    assert_eq!(joined.body["user"]["email"], invite["email"]);
    // The link works once.
    let again = call(
        app,
        "POST",
        "/auth/accept",
        None,
        Some(json!({"token": token, "name": "Twice", "password": password})),
        [10, 0, 0, 3],
    )
    .await;
    assert_eq!(
        again.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        again.body
    );
    assert_eq!(again.body["error"]["path"], json!("token"));
    browser(&joined)
}

async fn the_first_admin_invites_people_whose_roles_limit_what_they_do<S: Store>(env: &Env<S>) {
    let app = with_admin(env).await;
    let admin = sign_in(&app, "  Admin@Example.com ", PASSWORD, [10, 0, 0, 1]).await;
    let me = call(
        &app,
        "GET",
        "/auth/session",
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.body["user"]["email"], json!(ADMIN));
    assert_eq!(me.body["user"]["role"], json!("admin"));
    assert!(me.body["user"].get("password_hash").is_none());

    // A project for per-project roles.
    let made = call(
        &app,
        "POST",
        "/admin/projects",
        Some(&admin),
        Some(json!({"key": "shop"})),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{:?}", made.body);

    let editor = join(
        &app,
        &admin,
        json!({"email": "ed@example.com", "role": "editor", "projects": {"shop": "viewer"}}),
        "editor passphrase 1",
    )
    .await;
    let viewer = join(
        &app,
        &admin,
        json!({"email": "vi@example.com"}),
        "viewer passphrase 1",
    )
    .await;

    // The editor changes experiments in the default project; the viewer reads them only.
    let put = |who: &Browser, key: &str, project: &str| {
        let (app, who, key, project) =
            (app.clone(), who.clone(), key.to_owned(), project.to_owned());
        async move {
            let mut req = Request::builder()
                .method("PUT")
                .uri(format!("/admin/experiments/{key}"))
                .header(header::COOKIE, format!("litmus_session={}", who.cookie))
                .header("x-csrf-token", &who.csrf)
                .header("litmus-project", project)
                .body(Body::from(experiment(&key, "draft").to_string()))
                .unwrap();
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::from(([10, 0, 0, 9], 1))));
            app.oneshot(req).await.unwrap().status()
        }
    };
    assert_eq!(put(&editor, "by-editor", "default").await, StatusCode::OK);
    assert_eq!(
        put(&viewer, "by-viewer", "default").await,
        StatusCode::FORBIDDEN
    );
    // In `shop` the editor is a viewer, by their project role.
    assert_eq!(put(&editor, "in-shop", "shop").await, StatusCode::FORBIDDEN);
    assert_eq!(put(&admin, "in-shop", "shop").await, StatusCode::OK);
    let read = call(
        &app,
        "GET",
        "/admin/experiments",
        Some(&viewer),
        None,
        [10, 0, 0, 3],
    )
    .await;
    assert_eq!(read.status, StatusCode::OK);
    assert!(read.body.to_string().contains("by-editor"));

    // Keys and people are the admin's.
    for who in [&editor, &viewer] {
        for (method, uri) in [
            ("GET", "/admin/keys"),
            ("GET", "/admin/users"),
            ("POST", "/admin/users/invitations"),
        ] {
            let a = call(
                &app,
                method,
                uri,
                Some(who),
                Some(json!({"email": "x@example.com"})),
                [10, 0, 0, 3],
            )
            .await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{method} {uri}: {:?}",
                a.body
            );
            assert_eq!(a.body["error"]["code"], json!("forbidden"));
        }
    }
    // The editor cannot make themself an admin.
    let list = call(
        &app,
        "GET",
        "/admin/users",
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(list.status, StatusCode::OK);
    let users = list.body["users"].as_array().unwrap();
    assert_eq!(users.len(), 3);
    assert!(
        !list.body.to_string().contains("argon2"),
        "no hash is answered"
    );
    let ed_id = users
        .iter()
        .find(|u| u["email"] == json!("ed@example.com"))
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let up = call(
        &app,
        "PATCH",
        &format!("/admin/users/{ed_id}"),
        Some(&editor),
        Some(json!({"role": "admin"})),
        [10, 0, 0, 3],
    )
    .await;
    assert_eq!(up.status, StatusCode::FORBIDDEN);
    // The admin can.
    let up = call(
        &app,
        "PATCH",
        &format!("/admin/users/{ed_id}"),
        Some(&admin),
        Some(json!({"role": "admin", "projects": {}})),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(up.status, StatusCode::OK, "{:?}", up.body);
    assert_eq!(up.body["user"]["role"], json!("admin"));
    let keys = call(
        &app,
        "GET",
        "/admin/keys",
        Some(&editor),
        None,
        [10, 0, 0, 3],
    )
    .await;
    assert_eq!(
        keys.status,
        StatusCode::OK,
        "the new role holds at once: {:?}",
        keys.body
    );

    // The audit log names the person, with their session's address and agent.
    let audit = call(
        &app,
        "GET",
        "/admin/audit?key=by-editor",
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    let entry = &audit.body["entries"][0];
    assert_eq!(entry["actor"], json!("ed@example.com"));
    assert_eq!(entry["ip"], json!("10.0.0.2"));
    assert_eq!(entry["user_agent"], json!("people-test/1.0"));
    let audit = call(
        &app,
        "GET",
        "/admin/audit?key=ed@example.com",
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    let actions: Vec<_> = audit.body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(actions, ["user.update", "user.create", "user.invite"]);
    assert_eq!(audit.body["entries"][0]["before"]["role"], json!("editor"));
    assert_eq!(audit.body["entries"][0]["after"]["role"], json!("admin"));

    // Bad input names its field and changes nothing.
    for (body, path) in [
        (json!({"email": "not an email"}), "email"),
        (
            json!({"email": "n@example.com", "projects": {"nowhere": "editor"}}),
            "projects",
        ),
    ] {
        let a = call(
            &app,
            "POST",
            "/admin/users/invitations",
            Some(&admin),
            Some(body),
            [10, 0, 0, 1],
        )
        .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", a.body);
        assert_eq!(a.body["error"]["path"], json!(path));
    }
    let a = call(
        &app,
        "POST",
        "/admin/users/invitations",
        Some(&admin),
        Some(json!({"email": "x@example.com", "role": "owner"})),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = call(
        &app,
        "POST",
        "/admin/users/invitations",
        Some(&admin),
        Some(json!({"email": "VI@example.com"})),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(
        a.status,
        StatusCode::CONFLICT,
        "an account exists: {:?}",
        a.body
    );
    let after = call(
        &app,
        "GET",
        "/admin/users",
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(after.body["invitations"], json!([]));

    // An invitation can be withdrawn; its link then fails.
    let inv = call(
        &app,
        "POST",
        "/admin/users/invitations",
        Some(&admin),
        Some(json!({"email": "late@example.com"})),
        [10, 0, 0, 1],
    )
    .await;
    let id = inv.body["id"].as_str().unwrap().to_owned();
    let gone = call(
        &app,
        "DELETE",
        &format!("/admin/users/invitations/{id}"),
        Some(&admin),
        None,
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let token = token_of(inv.body["link"].as_str().unwrap());
    let a = call(
        &app,
        "POST",
        "/auth/token",
        None,
        Some(json!({"token": token})),
        [10, 0, 0, 4],
    )
    .await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The bootstrap key keeps working for automation.
    let r = send(&app, "GET", "/admin/users", Some(KEY), None).await;
    assert_eq!(r.status, StatusCode::OK);
}

async fn the_set_up_link_makes_one_first_admin<S: Store>(env: &Env<S>) {
    let state = env.instance().await;
    let link = welcome_first_admin(&state.access, None, "127.0.0.1:8080")
        .await
        .unwrap()
        .expect("a set-up link while nobody exists");
    assert!(
        link.starts_with("http://127.0.0.1:8080/dashboard/#setup="),
        "{link}"
    );
    // A restart logs a new link; the old one stops working.
    let newer = welcome_first_admin(&state.access, None, "127.0.0.1:8080")
        .await
        .unwrap()
        .unwrap();
    let app = litmus_server::app(state);
    let setup = |token: String, email: &str| json!({"token": token, "email": email, "name": "First", "password": PASSWORD});
    let old = call(
        &app,
        "POST",
        "/auth/setup",
        None,
        Some(setup(token_of(&link), ADMIN)),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(
        old.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{:?}",
        old.body
    );
    let weak = json!({"token": token_of(&newer), "email": ADMIN, "password": "short"});
    let a = call(&app, "POST", "/auth/setup", None, Some(weak), [10, 0, 0, 1]).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(a.body["error"]["path"], json!("password"));
    let made = call(
        &app,
        "POST",
        "/auth/setup",
        None,
        Some(setup(token_of(&newer), ADMIN)),
        [10, 0, 0, 1],
    )
    .await;
    assert_eq!(made.status, StatusCode::OK, "{:?}", made.body);
    assert_eq!(made.body["user"]["role"], json!("admin"));
    let again = call(
        &app,
        "POST",
        "/auth/setup",
        None,
        Some(setup(token_of(&newer), "b@example.com")),
        [10, 0, 0, 1],
    )
    .await;
    assert!(again.status.is_client_error(), "{:?}", again.body);
    let users = send(&app, "GET", "/admin/users", Some(KEY), None).await;
    assert_eq!(users.body["users"].as_array().unwrap().len(), 1);
    // Once set up, no link is made at start.
    let state = env.instance().await;
    assert_eq!(
        welcome_first_admin(&state.access, None, "x").await.unwrap(),
        None
    );
    // A form post (not JSON) cannot sign in.
    let form = Request::builder()
        .method("POST")
        .uri("/auth/login")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("email={ADMIN}&password={PASSWORD}")))
        .unwrap();
    let res = litmus_server::app(state).oneshot(form).await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

async fn sign_in_is_throttled_locked_and_tells_no_one_who_exists<S: Store>(env: &Env<S>) {
    let app = with_admin(env).await;
    let login = |email: &str, password: &str, ip: [u8; 4]| {
        let (app, body) = (app.clone(), json!({"email": email, "password": password}));
        async move { call(&app, "POST", "/auth/login", None, Some(body), ip).await }
    };
    // An unknown email and a wrong password get the same answer.
    let unknown = login("nobody@example.com", "whatever it is", [10, 1, 0, 1]).await;
    let wrong = login(ADMIN, "not the password", [10, 1, 0, 2]).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);
    assert_eq!(wrong.body["error"]["code"], json!("invalid_credentials"));
    assert!(wrong.set_cookie.is_none());

    // Four more failures lock the account, even against the right password.
    for i in 0..3 {
        let a = login(ADMIN, "not the password", [10, 1, 1, i]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let locked = login(ADMIN, "not the password", [10, 1, 1, 9]).await;
    assert_eq!(
        locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        locked.body
    );
    assert_eq!(locked.body["error"]["code"], json!("locked"));
    assert_eq!(locked.retry_after.as_deref(), Some("60"));
    let right = login(ADMIN, PASSWORD, [10, 1, 1, 10]).await;
    assert_eq!(right.body["error"]["code"], json!("locked"));

    // An address gets ten attempts at once, then waits.
    for _ in 0..10 {
        let a = login("someone@example.com", "guess guess guess", [10, 2, 0, 1]).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let throttled = login("someone@example.com", "guess guess guess", [10, 2, 0, 1]).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(throttled.body["error"]["code"], json!("throttled"));
    assert!(throttled.retry_after.is_some());
    let elsewhere = login("someone@example.com", "guess guess guess", [10, 2, 0, 2]).await;
    assert_eq!(elsewhere.status, StatusCode::UNAUTHORIZED);
}

async fn sessions_end_at_sign_out_when_disabled_and_at_a_password_reset<S: Store>(env: &Env<S>) {
    let app = with_admin(env).await;
    let admin = sign_in(&app, ADMIN, PASSWORD, [10, 3, 0, 1]).await;
    let ed = join(
        &app,
        &admin,
        json!({"email": "ed@example.com", "role": "editor"}),
        "editor passphrase 1",
    )
    .await;
    let second = sign_in(&app, "ed@example.com", "editor passphrase 1", [10, 3, 0, 2]).await;
    assert_ne!(ed.cookie, second.cookie, "each sign-in has its own session");

    // Sign-out ends that session only; its cookie is cleared.
    let out = call(
        &app,
        "POST",
        "/auth/logout",
        Some(&second),
        None,
        [10, 3, 0, 2],
    )
    .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.set_cookie.unwrap().contains("Max-Age=0"));
    let me = call(
        &app,
        "GET",
        "/auth/session",
        Some(&second),
        None,
        [10, 3, 0, 2],
    )
    .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let me = call(&app, "GET", "/auth/session", Some(&ed), None, [10, 3, 0, 2]).await;
    assert_eq!(me.status, StatusCode::OK);

    // An admin's reset link: the new password works, the old one and old sessions do not.
    let id = me.body["user"]["id"].as_str().unwrap().to_owned();
    let reset = call(
        &app,
        "POST",
        &format!("/admin/users/{id}/reset"),
        Some(&admin),
        None,
        [10, 3, 0, 1],
    )
    .await;
    assert_eq!(reset.status, StatusCode::CREATED, "{:?}", reset.body);
    let token = token_of(reset.body["link"].as_str().unwrap());
    let info = call(
        &app,
        "POST",
        "/auth/token",
        None,
        Some(json!({"token": token})),
        [10, 3, 0, 4],
    )
    .await;
    assert_eq!(info.body["kind"], json!("reset"));
    let new = call(
        &app,
        "POST",
        "/auth/accept",
        None,
        Some(json!({"token": token, "password": "a brand new passphrase"})),
        [10, 3, 0, 4],
    )
    .await;
    assert_eq!(new.status, StatusCode::OK, "{:?}", new.body);
    let me = call(&app, "GET", "/auth/session", Some(&ed), None, [10, 3, 0, 2]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED, "the old session ended");
    let old = call(
        &app,
        "POST",
        "/auth/login",
        None,
        Some(json!({"email": "ed@example.com", "password": "editor passphrase 1"})),
        [10, 3, 0, 5],
    )
    .await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let ed = sign_in(
        &app,
        "ed@example.com",
        "a brand new passphrase",
        [10, 3, 0, 5],
    )
    .await;

    // Disabling ends their sessions at once and refuses their sign-in.
    let off = call(
        &app,
        "PATCH",
        &format!("/admin/users/{id}"),
        Some(&admin),
        Some(json!({"disabled": true})),
        [10, 3, 0, 1],
    )
    .await;
    assert_eq!(off.status, StatusCode::OK, "{:?}", off.body);
    let me = call(&app, "GET", "/auth/session", Some(&ed), None, [10, 3, 0, 5]).await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    let again = call(
        &app,
        "POST",
        "/auth/login",
        None,
        Some(json!({"email": "ed@example.com", "password": "a brand new passphrase"})),
        [10, 3, 0, 6],
    )
    .await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    // The last enabled admin cannot be demoted or disabled.
    let admin_id = call(
        &app,
        "GET",
        "/auth/session",
        Some(&admin),
        None,
        [10, 3, 0, 1],
    )
    .await
    .body["user"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for patch in [json!({"role": "editor"}), json!({"disabled": true})] {
        let a = call(
            &app,
            "PATCH",
            &format!("/admin/users/{admin_id}"),
            Some(&admin),
            Some(patch),
            [10, 3, 0, 1],
        )
        .await;
        assert_eq!(a.status, StatusCode::CONFLICT, "{:?}", a.body);
        assert_eq!(a.body["error"]["code"], json!("in_use"));
    }
    let missing = call(
        &app,
        "PATCH",
        "/admin/users/nobody",
        Some(&admin),
        Some(json!({"name": "x"})),
        [10, 3, 0, 1],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}
