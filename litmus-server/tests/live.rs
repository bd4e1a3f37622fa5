//! `GET /live`: subscribed results arrive over a real WebSocket when events are posted to
//! another instance, on every backend (through Redis notices, or the stored version the
//! instances re-read).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use common::*;
use futures_util::{SinkExt, StreamExt};
use litmus_server::store::Store;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

on_every_backend!(subscribed_results_follow_events_posted_to_another_instance);

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next JSON message of `kind`: waits for it, however long it takes (how soon results
/// arrive is measured by `benches/server/live.sh`, not asserted here).
async fn next_of(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let msg = socket.next().await.expect("open").expect("a message");
        if let Message::Text(text) = msg {
            let value: Value = serde_json::from_str(&text).unwrap();
            if value["type"] == kind {
                return value;
            }
        }
    }
}

async fn subscribed_results_follow_events_posted_to_another_instance<S: Store>(env: &Env<S>) {
    // Instance A takes events and applies rollups; instance B serves the WebSocket.
    let a = env.instance().await;
    let b = env.instance().await;
    litmus_server::jobs::rollups::apply_rollups(&a, Duration::from_millis(50));
    litmus_server::jobs::live::run(&b, Duration::from_millis(300), Duration::from_millis(20));
    let app_a = litmus_server::app(Arc::clone(&a));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, litmus_server::app(Arc::clone(&b)))
            .await
            .unwrap();
    });
    assert_eq!(
        put_experiment(&app_a, "live-exp", experiment("live-exp", "running"))
            .await
            .status,
        StatusCode::OK
    );

    // Without a key: refused before the upgrade.
    let refused = tokio_tungstenite::connect_async(format!("ws://{addr}/live")).await;
    assert!(refused.is_err());
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/live?key={KEY}"))
        .await
        .unwrap();
    let hello = next_of(&mut socket, "hello").await;
    assert!(hello["version"].is_u64());
    socket
        .send(Message::text(
            json!({"type": "subscribe", "experiments": ["live-exp"]}).to_string(),
        ))
        .await
        .unwrap();
    let first = next_of(&mut socket, "results").await;
    assert_eq!(first["experiment"], "live-exp");
    assert_eq!(first["data"]["results"]["units"][0][1], 0);

    // Events posted to A reach B's subscriber.
    let events: Vec<Value> = (0..40)
        .map(|i| {
            let variant = ["control", "treatment"][i % 2];
            json!({"type": "exposure", "message_id": format!("x{i}"), "unit_id": format!("u{i}"),
                   "experiment": "live-exp", "variant": variant,
                   "timestamp": "2027-01-15T09:00:00Z"})
        })
        .collect();
    let r = send(
        &app_a,
        "POST",
        "/events",
        Some(KEY),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{:?}", r.body);
    let mut latest = first;
    // A message's version is one its data reflect at least (the data may be newer).
    while latest["data"]["results"]["units"] != json!([["control", 20], ["treatment", 20]])
        || latest["version"].as_u64() < Some(1)
    {
        latest = next_of(&mut socket, "results").await;
    }

    // Bad messages are answered, and the connection stays.
    socket
        .send(Message::text("{\"type\": \"dance\"}"))
        .await
        .unwrap();
    let error = next_of(&mut socket, "error").await;
    assert_eq!(error["code"], "bad_request");
    // An unknown experiment is an error for that experiment.
    socket
        .send(Message::text(
            json!({"type": "subscribe", "experiments": ["nope"]}).to_string(),
        ))
        .await
        .unwrap();
    let error = next_of(&mut socket, "error").await;
    assert_eq!(
        (error["experiment"].as_str(), error["code"].as_str()),
        (Some("nope"), Some("not_found"))
    );
    // A resync sends the current results again.
    socket
        .send(Message::text(
            json!({"type": "resync", "experiments": ["live-exp"]}).to_string(),
        ))
        .await
        .unwrap();
    let again = next_of(&mut socket, "results").await;
    assert_eq!(
        again["data"]["results"]["units"],
        latest["data"]["results"]["units"]
    );

    // Another environment's results are the topic `key@environment`, fed by its keys' events.
    let r = send(
        &app_a,
        "POST",
        "/admin/environments",
        Some(KEY),
        Some(json!({"key": "staging"})),
    )
    .await;
    assert_eq!(r.status, StatusCode::CREATED, "{:?}", r.body);
    let mut staged = experiment("live-exp", "running");
    staged["environments"] = json!({"staging": {"status": "running"}});
    assert_eq!(
        put_experiment(&app_a, "live-exp", staged).await.status,
        StatusCode::OK
    );
    let made = send(
        &app_a,
        "POST",
        "/admin/keys",
        Some(KEY),
        Some(json!({"name": "staging sdk", "environment": "staging"})),
    )
    .await;
    let staging_key = made.body["key"].as_str().unwrap().to_owned();
    socket
        .send(Message::text(
            json!({"type": "subscribe", "experiments": ["live-exp@staging"]}).to_string(),
        ))
        .await
        .unwrap();
    let mut staged = next_of(&mut socket, "results").await;
    while staged["experiment"] != "live-exp@staging" {
        staged = next_of(&mut socket, "results").await;
    }
    assert_eq!(staged["data"]["results"]["units"][0][1], 0, "{staged}");
    let events: Vec<Value> = (0..10)
        .map(|i| {
            let variant = ["control", "treatment"][i % 2];
            json!({"type": "exposure", "message_id": format!("x{i}"), "unit_id": format!("u{i}"),
                   "experiment": "live-exp", "variant": variant,
                   "timestamp": "2027-01-15T09:00:00Z"})
        })
        .collect();
    let r = send(
        &app_a,
        "POST",
        "/events",
        Some(&staging_key),
        Some(json!({"events": events})),
    )
    .await;
    assert_eq!(r.body["accepted"], 10, "{:?}", r.body);
    while staged["experiment"] != "live-exp@staging"
        || staged["data"]["results"]["units"] != json!([["control", 5], ["treatment", 5]])
    {
        staged = next_of(&mut socket, "results").await;
    }
    // Production's results did not take staging's units.
    let production = send(&app_a, "GET", "/results/live-exp", Some(KEY), None).await;
    assert_eq!(
        production.body["results"]["units"],
        json!([["control", 20], ["treatment", 20]])
    );
    socket.close(None).await.unwrap();
}
