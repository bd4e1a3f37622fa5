//! SSE fan-out: N SDK clients follow `/sdk/stream` on one server; a config change is
//! published through the admin API, and each client's time from the publish request to the
//! new version's event is recorded. Also the server's memory per idle stream.
//!
//! ```text
//! sse-fanout <host:port> <SDK key> <admin key> [--clients N] [--pid P] [--rounds R]
//!     [--stalled M] [--label L]
//! ```
//!
//! - Opens N streams (at most 256 handshakes at a time) and waits until every one has its
//!   first event; then, with `--pid`, reads the server's VmRSS: before connecting (RSS_0) and
//!   with the N streams idle (RSS_N, after 2 s), and prints (RSS_N - RSS_0) / N per stream.
//! - With `--stalled M`, opens M more streams that never read a byte (a client whose socket
//!   does not drain) before the changes: they must not delay the others.
//! - R rounds (3 by default), 2 s apart: `PUT /admin/experiments/sse-fanout-<pid>-<r>` (a new
//!   draft experiment, so a new version), then waits up to 30 s for every stream to receive
//!   that version or a newer one. One table row per round: clients that got it, and p50, p99
//!   and max of the publish-to-event time (the max is the change-to-last-client time).
//! - The event's id is read off the raw bytes (`\nid: N\n`; the config's JSON holds no line
//!   break), so chunked framing needs no decoding.
//!
//! The process needs N + M file descriptors: raise `ulimit -n` before starting it
//! (`benches/server/sse.sh` does).
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};

struct Args {
    addr: String,
    sdk_key: String,
    admin_key: String,
    clients: usize,
    pid: Option<u32>,
    rounds: usize,
    stalled: usize,
    label: String,
    settle: u64,
}

fn args() -> Args {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        addr: it.next().expect("the server's host:port"),
        sdk_key: it.next().expect("an SDK key"),
        admin_key: it.next().expect("an admin key"),
        clients: 1_000,
        pid: None,
        rounds: 3,
        stalled: 0,
        label: "sse".to_owned(),
        settle: 12,
    };
    while let Some(flag) = it.next() {
        let value = it.next().expect("a value after each flag");
        match flag.as_str() {
            "--clients" => a.clients = value.parse().unwrap(),
            "--pid" => a.pid = Some(value.parse().unwrap()),
            "--rounds" => a.rounds = value.parse().unwrap(),
            "--stalled" => a.stalled = value.parse().unwrap(),
            "--label" => a.label = value,
            "--settle" => a.settle = value.parse().unwrap(),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// Opens `/sdk/stream` on a new connection and answers it after the response head.
async fn open(addr: &str, key: &str) -> std::io::Result<TcpStream> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let head = format!(
        "GET /sdk/stream HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {key}\r\nAccept: text/event-stream\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await?;
    Ok(s)
}

/// The event ids in `pending` (complete `\nid: N\n` lines); keeps what may be the start of
/// one.
fn ids(pending: &mut Vec<u8>, found: &mut Vec<u64>) {
    const MARK: &[u8] = b"\nid: ";
    let mut from = 0;
    let mut keep = pending.len().saturating_sub(MARK.len() - 1);
    while let Some(p) = pending[from..].windows(MARK.len()).position(|w| w == MARK) {
        let digits = from + p + MARK.len();
        match pending[digits..].iter().position(|&b| b == b'\n') {
            Some(end) => {
                if let Some(id) = std::str::from_utf8(&pending[digits..digits + end])
                    .ok()
                    .and_then(|s| s.trim().parse().ok())
                {
                    found.push(id);
                }
                from = digits + end;
                keep = keep.max(from);
            }
            None => {
                keep = from + p;
                break;
            }
        }
    }
    pending.drain(..keep.min(pending.len()));
}

/// One client: reads the stream and reports (client, version, when) for every event.
async fn follow(
    i: usize,
    addr: String,
    key: String,
    handshakes: Arc<Semaphore>,
    events: mpsc::UnboundedSender<(usize, u64, Instant)>,
) {
    let permit = handshakes.acquire_owned().await.unwrap();
    let mut permit = Some(permit);
    let mut stream = match open(&addr, &key).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("client {i}: {e}");
            return;
        }
    };
    let mut buf = vec![0u8; 4096];
    let mut pending = Vec::new();
    let mut head = true;
    let mut found = Vec::new();
    loop {
        let n = match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let at = Instant::now();
        pending.extend_from_slice(&buf[..n]);
        if head {
            let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            if !pending.starts_with(b"HTTP/1.1 200") {
                eprintln!(
                    "client {i}: {}",
                    String::from_utf8_lossy(&pending[..end.min(200)])
                );
                return;
            }
            // Keep the head's last line break: the first event's `id` line follows `event`.
            pending.drain(..end + 2);
            head = false;
        }
        ids(&mut pending, &mut found);
        for id in found.drain(..) {
            permit.take();
            if events.send((i, id, at)).is_err() {
                return;
            }
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

#[tokio::main]
async fn main() {
    let a = args();
    let rss0 = a.pid.and_then(litmus_benches::rss_kib);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let handshakes = Arc::new(Semaphore::new(256));
    let started = Instant::now();
    for i in 0..a.clients {
        tokio::spawn(follow(
            i,
            a.addr.clone(),
            a.sdk_key.clone(),
            Arc::clone(&handshakes),
            tx.clone(),
        ));
    }
    drop(tx);
    // Every client's newest version.
    let mut latest: Vec<Option<u64>> = vec![None; a.clients];
    let mut connected = 0;
    let deadline = Instant::now() + Duration::from_secs(300);
    while connected < a.clients {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, rx.recv()).await {
            Ok(Some((i, id, _))) => {
                if latest[i].replace(id).is_none() {
                    connected += 1;
                }
            }
            _ => break,
        }
    }
    let initial = latest.iter().flatten().copied().max().unwrap_or(0);
    println!(
        "{connected} of {} streams open with their first event (version {initial}) in {:.1} s",
        a.clients,
        started.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(a.settle)).await;
    let rss_n = a.pid.and_then(litmus_benches::rss_kib);
    let mib =
        |kib: Option<u64>| kib.map_or("-".to_owned(), |k| format!("{:.1}", k as f64 / 1024.0));
    let per_stream = match (rss0, rss_n) {
        (Some(r0), Some(rn)) if connected > 0 => {
            format!("{:.2}", (rn as f64 - r0 as f64) / connected as f64)
        }
        _ => "-".to_owned(),
    };
    println!(
        "server RSS: {} MiB before, {} MiB with {connected} idle streams: {per_stream} KiB per stream",
        mib(rss0),
        mib(rss_n)
    );
    let mut stalled = Vec::with_capacity(a.stalled);
    for _ in 0..a.stalled {
        match open(&a.addr, &a.sdk_key).await {
            Ok(s) => stalled.push(s),
            Err(e) => eprintln!("stalled client: {e}"),
        }
    }
    if a.stalled > 0 {
        println!("{} stalled streams open (they never read)", stalled.len());
    }
    let admin = TcpStream::connect(&a.addr).await.expect("the admin API");
    admin.set_nodelay(true).unwrap();
    let mut admin = BufReader::new(admin);
    println!(
        "| {:<5} | clients | stalled | round | version | got it | p50 ms | p99 ms | max ms | RSS_0 MiB | RSS_N MiB | KiB/stream |",
        "what"
    );
    println!(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    );
    for round in 1..=a.rounds {
        if round > 1 {
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        // Events of earlier versions still arriving are counted before the clock starts.
        while let Ok((i, id, _)) = rx.try_recv() {
            latest[i] = latest[i].max(Some(id));
        }
        let key = format!("sse-fanout-{}-{round}", std::process::id());
        let body = format!(
            r#"{{"key":"{key}","status":"draft","variants":[{{"key":"control"}},{{"key":"treatment"}}]}}"#
        );
        let sent = Instant::now();
        let (status, reply) = litmus_benches::http::request(
            &mut admin,
            "PUT",
            &a.addr,
            &format!("/admin/experiments/{key}"),
            &a.admin_key,
            &body,
        )
        .await
        .expect("PUT /admin/experiments");
        assert_eq!(status, 200, "{reply}");
        let version: u64 = serde_json::from_str::<serde_json::Value>(&reply).unwrap()["version"]
            .as_u64()
            .expect("the new version");
        let mut times: Vec<f64> = Vec::with_capacity(connected);
        let mut waiting = latest
            .iter()
            .filter(|v| v.is_some_and(|v| v < version))
            .count();
        let deadline = Instant::now() + Duration::from_secs(30);
        while waiting > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match tokio::time::timeout(left, rx.recv()).await {
                Ok(Some((i, id, at))) => {
                    let before = latest[i];
                    latest[i] = before.max(Some(id));
                    if before.is_some_and(|b| b < version) && id >= version {
                        times.push(at.duration_since(sent).as_secs_f64() * 1_000.0);
                        waiting -= 1;
                    }
                }
                _ => break,
            }
        }
        times.sort_by(f64::total_cmp);
        println!(
            "| {:<5} | {connected} | {} | {round} | {version} | {} | {:.1} | {:.1} | {:.1} | {} | {} | {per_stream} |",
            a.label,
            stalled.len(),
            times.len(),
            percentile(&times, 0.5),
            percentile(&times, 0.99),
            times.last().copied().unwrap_or(f64::NAN),
            mib(rss0),
            mib(rss_n),
        );
    }
    let after = a.pid.and_then(litmus_benches::rss_kib);
    println!("server RSS after the rounds: {} MiB", mib(after));
    drop(stalled);
}
