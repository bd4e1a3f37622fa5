//! `GET /live`: the live results WebSocket (scope `admin:read`; the key in the `Authorization`
//! header, or `?key=` for browsers, which cannot set headers on a WebSocket).
//!
//! Client to server, JSON text messages:
//! - `{"type": "subscribe", "experiments": [...]}`: the current results of each, then again
//!   whenever they change;
//! - `{"type": "unsubscribe", "experiments": [...]}`;
//! - `{"type": "resync", "experiments": [...]}`: recompute and send them now (after a gap).
//!
//! An experiment is named by its key (production's results) or `key@environment` (another
//! environment's, `crate::environments::topic`); answers name it the same way.
//!
//! Server to client:
//! - `{"type": "hello", "version": v}` on connection;
//! - `{"type": "results", "experiment", "version", "data"}`, where `data` is what
//!   `GET /results/{experiment}` answers and `version` a rollups' version it reflects at
//!   least (it may reflect newer ones); a client ignores a version below one it has;
//! - `{"type": "error", "experiment"?, "code", "message"}`;
//! - `{"type": "heartbeat", "version": v}` every 15 s. A client whose newest results are older
//!   than the heartbeat's version may ask for a resync.
//!
//! A client that does not read its messages is disconnected (close code 1008, "too slow")
//! once [`crate::live::QUEUE`] messages wait for it.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Access;
use crate::error::ApiError;
use crate::keys::Scope;
use crate::live::{LiveHub, Outbox};
use crate::store::Store;

/// How long a message may take to be written before the client counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(5);
/// Between heartbeats.
const HEARTBEAT: Duration = Duration::from_secs(15);
/// The most experiments one connection follows.
const MAX_SUBSCRIPTIONS: usize = 100;

/// The query string: the key, for browsers.
#[derive(Debug, Default, Deserialize)]
pub struct LiveQuery {
    /// A key with `admin:read`.
    pub key: Option<String>,
    /// The project (the key's own; the bootstrap key's choice, the default one otherwise).
    pub project: Option<String>,
}

/// A client's message.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum ClientMessage {
    Subscribe { experiments: Vec<String> },
    Unsubscribe { experiments: Vec<String> },
    Resync { experiments: Vec<String> },
}

/// `GET /live`: upgrades to the live results WebSocket.
pub async fn live<S: Store>(
    State(access): State<Access<S>>,
    State(hub): State<LiveHub>,
    headers: HeaderMap,
    Query(q): Query<LiveQuery>,
    upgrade: WebSocketUpgrade,
) -> Result<Response, ApiError> {
    // A browser's WebSocket cannot send headers: the project may come as `?project=`.
    let project = q
        .project
        .as_deref()
        .or(crate::auth::named_project(&headers));
    let caller = access
        .authorize_in(&headers, q.key.as_deref(), project, Scope::AdminRead)
        .await?;
    // A person's cookie goes with any page's handshake: only the dashboard's own may use it.
    if caller.person.is_some() && crate::people::csrf::cross_origin(&headers) {
        return Err(ApiError::CsrfFailed);
    }
    let project = caller.project;
    Ok(upgrade
        .max_message_size(64 * 1024)
        .on_upgrade(move |socket| serve(hub, socket, project)))
}

/// Sends `text`, within [`SEND_TIMEOUT`]; false when the client is gone or too slow.
async fn send(socket: &mut WebSocket, text: &str) -> bool {
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

/// Closes with `code` and `reason`, without waiting long for a slow client.
async fn close(socket: &mut WebSocket, code: u16, reason: &str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    let _ = tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Close(Some(frame)))).await;
}

/// Serves one connection of `project` until it closes.
async fn serve(hub: LiveHub, mut socket: WebSocket, project: String) {
    let id = hub.connection();
    let (outbox, mut inbox) = Outbox::new();
    let hello = json!({"type": "hello", "version": hub.version()}).to_string();
    let mut subscribed: Vec<String> = Vec::new();
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    heartbeat.tick().await;
    if send(&mut socket, &hello).await {
        loop {
            tokio::select! {
                Some(text) = inbox.recv() => if !send(&mut socket, &text).await { break },
                () = outbox.kicked() => {
                    close(&mut socket, 1008, "too slow").await;
                    break;
                }
                incoming = socket.recv() => match incoming {
                    Some(Ok(Message::Text(text))) => {
                        let reply = handle(&hub, id, &outbox, &mut subscribed, &project, text.as_str());
                        if let Some(reply) = reply {
                            if !send(&mut socket, &reply).await { break }
                        }
                    }
                    Some(Ok(Message::Close(_))) | None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
                _ = heartbeat.tick() => {
                    let beat = json!({"type": "heartbeat", "version": hub.version()});
                    if !send(&mut socket, &beat.to_string()).await { break }
                }
            }
        }
    }
    hub.disconnect(id);
}

/// Applies a client's message; answers an error to send back, if any. The current results
/// of newly subscribed experiments go through the outbox. The client names topics as its
/// project knows them; the hub keeps them under the project (`environments::hub_topic`), so
/// `subscribed` holds the hub's names.
fn handle(
    hub: &LiveHub,
    id: u64,
    outbox: &Outbox,
    subscribed: &mut Vec<String>,
    project: &str,
    text: &str,
) -> Option<String> {
    let in_hub = |topic: &str| crate::environments::hub_topic(project, topic);
    let error = |code: &str, message: String| {
        Some(json!({"type": "error", "code": code, "message": message}).to_string())
    };
    let message: ClientMessage = match serde_json::from_str(text) {
        Ok(m) => m,
        Err(e) => return error("bad_request", format!("not a live message: {e}")),
    };
    match message {
        ClientMessage::Subscribe { experiments } => {
            for experiment in experiments.iter().map(|e| in_hub(e)) {
                if subscribed.contains(&experiment) {
                    continue;
                }
                if subscribed.len() >= MAX_SUBSCRIPTIONS {
                    return error(
                        "too_many_subscriptions",
                        format!("a connection follows at most {MAX_SUBSCRIPTIONS} experiments"),
                    );
                }
                if let Some(last) = hub.subscribe(id, &experiment, outbox) {
                    // When the queue is full the client is already too slow; the hub drops
                    // it with its next message.
                    outbox.offer(last);
                }
                subscribed.push(experiment);
            }
            None
        }
        ClientMessage::Unsubscribe { experiments } => {
            for experiment in experiments.iter().map(|e| in_hub(e)) {
                hub.unsubscribe(id, &experiment);
                subscribed.retain(|e| *e != experiment);
            }
            None
        }
        ClientMessage::Resync { experiments } => {
            for experiment in experiments.iter().map(|e| in_hub(e)) {
                if subscribed.contains(&experiment) {
                    hub.refresh(&experiment);
                }
            }
            None
        }
    }
}
