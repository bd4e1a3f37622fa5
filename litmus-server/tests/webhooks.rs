//! Webhooks through the API and the webhook job, on every backend, against a receiver on
//! loopback: config changes arrive as signed events (the signature verified with core's
//! `verify`, as a receiver would), with the diff; a receiver that answers 500 or is too slow
//! gets the event again until it takes it; two instances running the job deliver each event
//! once; a test event; the Slack format; the delivery log; a sample-ratio mismatch on a running
//! experiment is sent when it appears; and a delivery to an address the policy refuses never
//! leaves.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use litmus_server::jobs::webhooks::Settings;
use litmus_server::state::AppState;
use litmus_server::store::Store;
use litmus_server::webhooks::outbound::Policy;
use serde_json::{Value, json};

on_every_backend!(
    events_are_signed_retried_and_delivered_once_by_two_instances,
    refused_addresses_are_never_reached,
    an_insight_alert_is_sent_when_it_begins,
);

/// What the receiver does with the next requests: answer this status, or wait this long.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    Stall(Duration),
}

/// A request the receiver took: its headers and body, and what it answered.
#[derive(Clone, Debug)]
struct Received {
    headers: HeaderMap,
    body: String,
    answered: u16,
}

/// A webhook receiver on loopback, answering from a script (200 when it runs out).
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<Vec<Answer>>>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(&self) -> String {
        let me = self.clone();
        let app = Router::new().route(
            "/hook",
            axum::routing::post(move |headers: HeaderMap, body: Bytes| {
                let me = me.clone();
                async move {
                    let answer = {
                        let mut script = me.script.lock().unwrap();
                        if script.is_empty() {
                            Answer::Status(200)
                        } else {
                            script.remove(0)
                        }
                    };
                    let status = match answer {
                        Answer::Status(s) => s,
                        Answer::Stall(d) => {
                            tokio::time::sleep(d).await;
                            200
                        }
                    };
                    me.got.lock().unwrap().push(Received {
                        headers,
                        body: String::from_utf8_lossy(&body).into_owned(),
                        answered: status,
                    });
                    StatusCode::from_u16(status).unwrap()
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        format!("http://{addr}/hook")
    }

    fn then(&self, answers: &[Answer]) {
        self.script.lock().unwrap().extend_from_slice(answers);
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until a request of event type `kind` was answered 2xx; answers its body.
    async fn taken(&self, kind: &str) -> Received {
        loop {
            let found = self.got().into_iter().find(|r| {
                r.answered < 300 && r.headers["litmus-event-type"].to_str().unwrap() == kind
            });
            if let Some(r) = found {
                return r;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The job's settings for tests: fast rounds, short timeouts, retries a thousand times sooner.
fn settings(policy: Policy) -> Settings {
    let mut s = Settings::new(policy, Some("https://litmus.example.com".into()));
    s.interval = Duration::from_millis(50);
    s.timeout = Duration::from_millis(400);
    s.retry_scale = 0.001;
    s
}

/// An instance of `env` running the webhook job under `policy`.
async fn instance<S: Store>(env: &Env<S>, policy: Policy) -> Arc<AppState<S>> {
    let state = env.instance().await;
    litmus_server::jobs::webhooks::run(&state, settings(policy));
    state
}

async fn make_webhook(app: &Router, url: &str, events: Value, format: &str) -> (String, String) {
    let r = send(
        app,
        "POST",
        "/admin/webhooks",
        Some(KEY),
        Some(json!({"url": url, "events": events, "format": format})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let secret = r.body["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    (r.body["webhook"]["id"].as_str().unwrap().to_owned(), secret)
}

async fn events_are_signed_retried_and_delivered_once_by_two_instances<S: Store>(env: &Env<S>) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let allow = Policy {
        allow_private: true,
        allowed: Vec::new(),
    };
    let one = instance(env, allow.clone()).await;
    let _two = instance(env, allow).await;
    let app = litmus_server::app(one);

    // Bad subscriptions name their field and store nothing.
    for (body, path) in [
        (json!({"url": "ftp://x"}), "url"),
        (json!({"url": url, "events": ["nothing.*"]}), "events[0]"),
        (json!({"url": url, "events": []}), "events"),
    ] {
        let r = send(&app, "POST", "/admin/webhooks", Some(KEY), Some(body)).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{:?}", r.body);
        assert_eq!(r.body["error"]["path"], json!(path));
    }
    let (id, secret) = make_webhook(
        &app,
        &url,
        json!(["experiment.*", "flag.*", "webhook.test"]),
        "json",
    )
    .await;
    let listed = send(&app, "GET", "/admin/webhooks", Some(KEY), None).await;
    assert_eq!(listed.body["webhooks"].as_array().unwrap().len(), 1);
    assert!(
        !listed.body.to_string().contains(&secret),
        "the secret is shown once"
    );

    // A change arrives as a signed event; the receiver's first two answers are 500.
    receiver.then(&[Answer::Status(500), Answer::Status(503)]);
    put_experiment(&app, "checkout", experiment("checkout", "draft")).await;
    let created = receiver.taken("experiment.created").await;
    let now_s = wall_ms() / 1000;
    let signature = created.headers["litmus-signature"].to_str().unwrap();
    let t = litmus_core::webhooks::verify(&secret, signature, created.body.as_bytes(), now_s, 300)
        .expect("the signature verifies with the webhook's secret");
    assert!((t - now_s).abs() <= 300);
    assert!(
        litmus_core::webhooks::verify(
            "whsec_wrong",
            signature,
            created.body.as_bytes(),
            now_s,
            300
        )
        .is_err()
    );
    let event: Value = serde_json::from_str(&created.body).unwrap();
    assert_eq!(event["type"], json!("experiment.created"));
    assert_eq!(event["data"]["experiment"], json!("checkout"));
    assert_eq!(
        created.headers["litmus-event-id"].to_str().unwrap(),
        event["id"].as_str().unwrap()
    );
    let tries: Vec<u16> = receiver
        .got()
        .iter()
        .filter(|r| r.headers["litmus-event-id"] == created.headers["litmus-event-id"])
        .map(|r| r.answered)
        .collect();
    assert_eq!(tries, [500, 503, 200], "retried after 500s until taken");

    // Starting it: the diff says what changed. The receiver stalls past the timeout once.
    receiver.then(&[Answer::Stall(Duration::from_millis(1_500))]);
    put_experiment(&app, "checkout", experiment("checkout", "running")).await;
    let started = receiver.taken("experiment.started").await;
    let event: Value = serde_json::from_str(&started.body).unwrap();
    let changes = event["data"]["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["path"] == json!("status") && c["after"] == json!("running")),
        "{changes:?}"
    );

    // The delivery log: each event delivered, with its attempts and last answer.
    let log = loop {
        let log = send(
            &app,
            "GET",
            &format!("/admin/webhooks/{id}/deliveries"),
            Some(KEY),
            None,
        )
        .await;
        let all = log.body["deliveries"].as_array().unwrap().clone();
        if all.len() == 2 && all.iter().all(|d| d["status"] == json!("delivered")) {
            break all;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let by_type: BTreeMap<String, &Value> = log
        .iter()
        .map(|d| (d["event_type"].as_str().unwrap().to_owned(), d))
        .collect();
    assert_eq!(by_type["experiment.created"]["attempts"], json!(3));
    assert_eq!(by_type["experiment.created"]["last_status"], json!(200));
    assert!(
        by_type["experiment.started"]["attempts"].as_u64().unwrap() >= 2,
        "the stalled attempt timed out"
    );

    // A test event, sent by the job like any other.
    let t = send(
        &app,
        "POST",
        &format!("/admin/webhooks/{id}/test"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(t.status, StatusCode::ACCEPTED);
    receiver.taken("webhook.test").await;

    // A Slack webhook gets a readable message with a link.
    let (_slack, _) = make_webhook(&app, &url, json!(["flag.*"]), "slack").await;
    let flag = json!({"type": "boolean", "default": false});
    let r = send(
        &app,
        "PUT",
        "/admin/flags/new-checkout",
        Some(KEY),
        Some(flag),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let slack = loop {
        let found = receiver
            .got()
            .into_iter()
            .find(|r| r.body.starts_with("{\"blocks\"") || r.body.contains("\"text\""));
        if let Some(r) = found {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let message: Value = serde_json::from_str(&slack.body).unwrap();
    assert_eq!(
        message["text"],
        json!(
            "<https://litmus.example.com/dashboard/#/flags/new-checkout|flag new-checkout> was created by bootstrap"
        )
    );

    // Two instances ran the job all along: every event was taken once, by one of them.
    receiver.taken("flag.created").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut taken: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in receiver.got().iter().filter(|r| r.answered < 300) {
        let event = r.headers["litmus-event-id"].to_str().unwrap().to_owned();
        let format = if r.body.contains("\"blocks\"") {
            "slack"
        } else {
            "json"
        };
        *taken.entry((event, format.to_owned())).or_default() += 1;
    }
    assert!(taken.len() >= 5, "{taken:?}");
    assert!(
        taken.values().all(|n| *n == 1),
        "each event once per webhook: {taken:?}"
    );

    // Deleting the webhook drops its log; a missing one is 404.
    let d = send(
        &app,
        "DELETE",
        &format!("/admin/webhooks/{id}"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(d.status, StatusCode::NO_CONTENT);
    let gone = send(
        &app,
        "GET",
        &format!("/admin/webhooks/{id}/deliveries"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
}

async fn refused_addresses_are_never_reached<S: Store>(env: &Env<S>) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    // The default policy: loopback is not public.
    let state = instance(env, Policy::default()).await;
    let app = litmus_server::app(state);
    let (id, _) = make_webhook(&app, &url, json!(["*"]), "json").await;
    let t = send(
        &app,
        "POST",
        &format!("/admin/webhooks/{id}/test"),
        Some(KEY),
        None,
    )
    .await;
    assert_eq!(t.status, StatusCode::ACCEPTED);
    let delivery = loop {
        let log = send(
            &app,
            "GET",
            &format!("/admin/webhooks/{id}/deliveries"),
            Some(KEY),
            None,
        )
        .await;
        let d = log.body["deliveries"][0].clone();
        if d["attempts"].as_u64().unwrap_or(0) >= 2 {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(
        delivery["last_error"]
            .as_str()
            .unwrap()
            .contains("not one deliveries may reach"),
        "{delivery:?}"
    );
    assert_eq!(delivery["last_status"], Value::Null);
    assert!(
        receiver.got().is_empty(),
        "nothing reached the loopback receiver"
    );
}

async fn an_insight_alert_is_sent_when_it_begins<S: Store>(env: &Env<S>) {
    let receiver = Receiver::default();
    let url = receiver.start().await;
    let state = env.instance().await;
    let mut s = settings(Policy {
        allow_private: true,
        allowed: Vec::new(),
    });
    s.insights_every = Duration::from_millis(100);
    litmus_server::jobs::webhooks::run(&state, s);
    let app = litmus_server::app(Arc::clone(&state));
    let (_id, secret) = make_webhook(&app, &url, json!(["insight.*"]), "json").await;
    put_experiment(&app, "skewed", experiment("skewed", "running")).await;
    // 300 units in control, 100 in treatment, for a 50/50 split: a sample-ratio mismatch.
    let now = wall_ms();
    let events: Vec<Value> = (0..400)
        .map(|u| {
            let variant = if u < 300 { "control" } else { "treatment" };
            json!({"type": "exposure", "message_id": format!("x{u}"), "unit_id": format!("u{u}"),
                   "experiment": "skewed", "variant": variant, "timestamp": at(now - 60_000)})
        })
        .collect();
    post_and_apply(&state, &app, &events).await;
    let srm = receiver.taken("insight.srm").await;
    let now_s = wall_ms() / 1000;
    let signature = srm.headers["litmus-signature"].to_str().unwrap();
    litmus_core::webhooks::verify(&secret, signature, srm.body.as_bytes(), now_s, 300).unwrap();
    let event: Value = serde_json::from_str(&srm.body).unwrap();
    assert_eq!(event["data"]["experiment"], json!("skewed"));
    assert_eq!(event["data"]["insight"]["kind"], json!("srm"));
    assert!(event["id"].as_str().unwrap().ends_with(":srm#1"), "{event}");
}
