//! Live-update latency: the time from posting an event to one server instance to the
//! WebSocket message, from another instance, whose results include it.
//!
//! `live-latency <host:port of A> <host:port of B> <admin key> [--events N] [--gap-ms G]`:
//! subscribes to a fresh running experiment on B's `/live`, then posts N exposures to A one at
//! a time (each a new unit, G ms after the previous one was seen), and for each waits for B's
//! results message counting it. Prints p50, p90, p99 and max over the N events. Back to back
//! (G = 0), each event lands within the 100 ms during which B coalesces changes after a round
//! of results; with G >= 100 the figure is the path's own latency. A and B share a store and Redis (benches/server/live.sh starts them).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::BufReader;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;

/// Units counted in a results message (0 for other messages).
fn units(message: &Value) -> u64 {
    message["data"]["results"]["units"]
        .as_array()
        .map_or(0, |u| u.iter().filter_map(|v| v[1].as_u64()).sum())
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or(f64::NAN)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (a, b, key) = (args[0].clone(), args[1].clone(), args[2].clone());
    let events: u64 = args
        .iter()
        .position(|x| x == "--events")
        .and_then(|i| args.get(i + 1))
        .map_or(1_000, |n| n.parse().expect("a number of events"));
    let gap = Duration::from_millis(
        args.iter()
            .position(|x| x == "--gap-ms")
            .and_then(|i| args.get(i + 1))
            .map_or(0, |n| n.parse().expect("milliseconds")),
    );
    let experiment = format!("latency-{}", std::process::id());
    let stream = TcpStream::connect(&a).await.expect("server A");
    // A request is two writes (head, body): without this, Nagle's algorithm holds the body
    // until the head's delayed ACK, 40 ms later.
    stream.set_nodelay(true).expect("TCP_NODELAY");
    let mut http = BufReader::new(stream);
    let body = json!({"key": experiment, "status": "running",
                      "variants": [{"key": "control"}, {"key": "treatment"}]});
    let (status, reply) = litmus_benches::http::request(
        &mut http,
        "PUT",
        &a,
        &format!("/admin/experiments/{experiment}"),
        &key,
        &body.to_string(),
    )
    .await
    .expect("PUT");
    assert_eq!(status, 200, "{reply}");
    let (mut socket, _) = tokio_tungstenite::connect_async(format!("ws://{b}/live?key={key}"))
        .await
        .expect("B's WebSocket");
    socket
        .send(Message::text(
            json!({"type": "subscribe", "experiments": [experiment]}).to_string(),
        ))
        .await
        .expect("subscribe");
    let mut latencies = Vec::with_capacity(events as usize);
    let started = Instant::now();
    for i in 0..events {
        let event = json!({"events": [{"type": "exposure", "message_id": format!("{experiment}-{i}"),
            "unit_id": format!("u{i}"), "experiment": experiment,
            "variant": if i % 2 == 0 { "control" } else { "treatment" }}]});
        tokio::time::sleep(gap).await;
        let sent = Instant::now();
        let (status, reply) = litmus_benches::http::request(
            &mut http,
            "POST",
            &a,
            "/events",
            &key,
            &event.to_string(),
        )
        .await
        .expect("POST /events");
        assert_eq!(status, 200, "{reply}");
        loop {
            let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
                .await
                .expect("a results message within 10 s")
                .expect("open")
                .expect("a message");
            if let Message::Text(text) = msg {
                if std::env::var_os("LIVE_DEBUG").is_some() {
                    eprintln!("{}", &text[..text.len().min(300)]);
                }
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "results" && units(&value) > i {
                    break;
                }
            }
        }
        latencies.push(sent.elapsed().as_secs_f64() * 1_000.0);
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "POST /events on A -> results over B's WebSocket, {events} events {} ms apart, in {:.1} s: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        gap.as_millis(),
        started.elapsed().as_secs_f64(),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
}
