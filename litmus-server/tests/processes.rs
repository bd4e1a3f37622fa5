//! Real server processes (the `litmus-server` binary) over sockets: two instances sharing
//! PostgreSQL and Redis receive each other's config changes through Redis (with the timer that
//! re-reads the stored version turned off), and the embedded default starts with no services
//! and stops cleanly on SIGTERM, its SDK streams ended; webhook deliveries survive `kill -9`. The tests wait for events, never against a clock: how fast a
//! change travels is measured by the benchmarks.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const KEY: &str = common::KEY;

/// A process listening on `port` (a server, a Redis), killed and waited for when dropped.
struct Process {
    child: Child,
    port: u16,
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts the binary with `env` and waits until `/readyz` answers 200.
async fn start(env: &[(&str, String)]) -> Process {
    let port = free_port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_litmus-server"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("LITMUS_LISTEN", format!("127.0.0.1:{port}"))
        .env("LITMUS_ADMIN_KEY", KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Process {
        child: cmd.spawn().unwrap(),
        port,
    };
    for _ in 0..200 {
        if let Ok((200, _)) = request(port, "GET", "/readyz", None).await {
            return server;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the server on port {port} did not become ready");
}

/// One HTTP/1.1 request on a new connection with the test key: the status and the body.
async fn request(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    common::raw_request(port, method, path, KEY, body.unwrap_or("")).await
}

/// Opens `/sdk/stream` and answers a reader positioned after the response head.
async fn open_stream(port: u16) -> BufReader<TcpStream> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let head =
        format!("GET /sdk/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n\r\n");
    s.write_all(head.as_bytes()).await.unwrap();
    let mut r = BufReader::new(s);
    let mut line = String::new();
    loop {
        line.clear();
        r.read_line(&mut line).await.unwrap();
        if line == "\r\n" {
            return r;
        }
    }
}

/// Reads the stream until an `id:` line (however long it takes); answers the id.
async fn next_id(r: &mut BufReader<TcpStream>) -> u64 {
    let mut line = String::new();
    loop {
        line.clear();
        let read = r.read_line(&mut line).await.unwrap();
        assert!(read > 0, "the stream ended");
        if let Some(id) = line.trim().strip_prefix("id: ") {
            return id.parse().unwrap();
        }
    }
}

/// Creates a running experiment `key` through the admin API; answers the status.
async fn put_experiment(port: u16, key: &str) -> u16 {
    let path = format!("/admin/experiments/{key}");
    request(port, "PUT", &path, Some(&experiment(key)))
        .await
        .unwrap()
        .0
}

fn experiment(key: &str) -> String {
    serde_json::json!({
        "key": key, "salt": key, "status": "running",
        "variants": [{"key": "a"}, {"key": "b"}]
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_sharing_postgres_and_redis_see_each_others_changes() {
    let Some(env) = common::postgres(true).await else {
        return;
    };
    let (database, redis, prefix) = env.urls().unwrap();
    // The timer that re-reads the stored version fires at start and then not for a day: the
    // changes can only come through Redis pub/sub.
    let settings = [
        ("DATABASE_URL", database),
        ("REDIS_URL", redis),
        ("LITMUS_REDIS_PREFIX", prefix),
        ("LITMUS_VERSION_POLL_MS", "86400000".to_owned()),
    ];
    let a = start(&settings).await;
    let b = start(&settings).await;
    env.wait_for_subscribers(2).await;
    let mut from_a = open_stream(a.port).await;
    let mut from_b = open_stream(b.port).await;
    assert_eq!(next_id(&mut from_a).await, 0);
    assert_eq!(next_id(&mut from_b).await, 0);
    for (i, (writer, watcher)) in [(&a, &mut from_b), (&b, &mut from_a)]
        .into_iter()
        .enumerate()
    {
        let key = format!("e{i}");
        assert_eq!(put_experiment(writer.port, &key).await, 200);
        // The watcher may first see the version its own instance wrote before.
        while next_id(watcher).await != i as u64 + 1 {}
    }
    // Both serve the same snapshot.
    let (_, config_a) = request(a.port, "GET", "/sdk/config", None).await.unwrap();
    let (_, config_b) = request(b.port, "GET", "/sdk/config", None).await.unwrap();
    assert_eq!(config_a, config_b);
    assert!(config_a.contains("\"v2\""), "{config_a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_default_needs_no_service_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("litmus-process-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut server = start(&[("LITMUS_DATA", dir.display().to_string())]).await;
    assert_eq!(put_experiment(server.port, "x").await, 200);
    assert!(dir.join("litmus.sqlite3").exists());
    // An SDK stream open: it ends at shutdown rather than keeping the server up.
    let mut stream = open_stream(server.port).await;
    assert_eq!(next_id(&mut stream).await, 1);
    let pid = server.child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    // Waits for the process to exit (it finishes the requests in flight, then stops).
    let code = server.child.wait().unwrap();
    assert!(code.success(), "{code:?}");
    // The stream ended with the chunked body's last chunk, then the connection closed.
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(
        rest.ends_with(b"0\r\n\r\n"),
        "{:?}",
        String::from_utf8_lossy(&rest)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `redis-server` (the one scripts/db installs) on a free port, without persistence;
/// `None` when it is not installed (and services are not required).
async fn private_redis() -> Option<Process> {
    let exists = Command::new("redis-server")
        .arg("--version")
        .output()
        .is_ok();
    if !exists {
        assert!(
            std::env::var("LITMUS_REQUIRE_SERVICES").as_deref() != Ok("1"),
            "redis-server is not installed (run scripts/db/setup.sh)"
        );
        return None;
    }
    Some(redis_on(free_port()).await)
}

/// Starts `redis-server` on `port` without persistence, once it accepts connections.
async fn redis_on(port: u16) -> Process {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "no"])
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Killed and waited for when dropped, whatever happens next.
    let redis = Process { child, port };
    for _ in 0..200 {
        if TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return redis;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("redis-server did not start");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_redis_dies_assignments_go_on_from_in_process_state() {
    let Some(mut redis) = private_redis().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("litmus-redis-down-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = start(&[
        ("LITMUS_DATA", dir.display().to_string()),
        ("REDIS_URL", format!("redis://127.0.0.1:{}", redis.port)),
    ])
    .await;
    let assign = |unit: &'static str| async move {
        let body = format!(r#"{{"unit_id": "{unit}", "experiment": "x"}}"#);
        let (status, body) = request(server.port, "POST", "/assign", Some(&body))
            .await
            .unwrap();
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()
    };
    assert_eq!(put_experiment(server.port, "x").await, 200);
    let before = assign("u1").await;
    assert_eq!(before["reason"], "assigned");

    // Redis dies: assignments go on (sticky from the in-process map), readiness says so.
    let _ = redis.child.kill();
    let _ = redis.child.wait();
    let first = assign("u2").await;
    assert_eq!(first["reason"], "assigned");
    let again = assign("u2").await;
    assert_eq!(
        (&again["variant"], &again["reason"]),
        (&first["variant"], &serde_json::json!("sticky"))
    );
    let (status, body) = request(server.port, "GET", "/readyz", None).await.unwrap();
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("cache_unavailable"), "{body}");
    let (status, body) = request(server.port, "GET", "/readyz?cache=optional", None)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("degraded"), "{body}");
    let (_, metrics) = request(server.port, "GET", "/metrics", None).await.unwrap();
    let fallbacks: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("litmus_cache_fallbacks_total "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(fallbacks >= 2, "{metrics}");
    // Config changes go on too (the cache is not the source of truth).
    assert_eq!(put_experiment(server.port, "y").await, 200);
    let (_, config) = request(server.port, "GET", "/sdk/config", None)
        .await
        .unwrap();
    assert!(config.contains("\"v2\""), "{config}");
    drop(server);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Fault: Redis killed (`kill -9`) and started again while two instances sharing PostgreSQL
/// serve assignments and an SDK stream. Every assignment is answered 200 throughout, each unit
/// keeps its variant, and once Redis is back a config change on one instance reaches the
/// other's stream through pub/sub again (the version poll is set to a day, so nothing else
/// could carry it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_killed_and_restarted_under_traffic_assignments_go_on_and_updates_resume() {
    let Some(env) = common::postgres(false).await else {
        return;
    };
    let Some(redis) = private_redis().await else {
        return;
    };
    let redis_port = redis.port;
    let redis_url = format!("redis://127.0.0.1:{redis_port}");
    let prefix = format!("litmus-fault-{}:", std::process::id());
    let settings = [
        ("DATABASE_URL", env.database().unwrap().to_owned()),
        ("REDIS_URL", redis_url.clone()),
        ("LITMUS_REDIS_PREFIX", prefix.clone()),
        ("LITMUS_VERSION_POLL_MS", "86400000".to_owned()),
    ];
    let a = start(&settings).await;
    let b = start(&settings).await;
    common::wait_for_subscribers(&redis_url, &prefix, 2).await;
    assert_eq!(put_experiment(a.port, "x").await, 200);
    let mut from_b = open_stream(b.port).await;
    while next_id(&mut from_b).await != 1 {}

    // Assignment traffic on both instances until told to stop: (answers 200, other answers),
    // and the variant each unit got.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let answered = std::sync::Arc::new(std::sync::atomic::AtomicU32::new(0));
    let mut traffic = Vec::new();
    for port in [a.port, b.port] {
        let (stop, answered) = (
            std::sync::Arc::clone(&stop),
            std::sync::Arc::clone(&answered),
        );
        traffic.push(tokio::spawn(async move {
            let mut seen = std::collections::HashMap::<String, String>::new();
            let (mut ok, mut failed) = (0u32, Vec::new());
            let mut i = 0u32;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let unit = format!("u{}", i % 200);
                let body = format!(r#"{{"unit_id": "{unit}", "experiment": "x"}}"#);
                match request(port, "POST", "/assign", Some(&body)).await {
                    Ok((200, reply)) => {
                        let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
                        let variant = v["variant"].as_str().unwrap().to_owned();
                        let first = seen.entry(unit.clone()).or_insert_with(|| variant.clone());
                        assert_eq!(*first, variant, "{unit} changed variant: {reply}");
                        ok += 1;
                        answered.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    other => failed.push(format!("{other:?}")),
                }
                i += 1;
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            (ok, failed, seen)
        }));
    }

    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(redis); // kill -9 and wait
    let at_kill = answered.load(std::sync::atomic::Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    // While Redis is down, a change made on A is not announced to B (it will learn it by its
    // poll); assignments go on.
    assert_eq!(put_experiment(a.port, "during-outage").await, 200);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let during_outage = answered.load(std::sync::atomic::Ordering::Relaxed) - at_kill;
    assert!(
        during_outage > 0,
        "no assignment was answered while Redis was down"
    );
    let redis = redis_on(redis_port).await;
    // Both instances subscribe again (their retry backs off to at most 5 s).
    common::wait_for_subscribers(&redis_url, &prefix, 2).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let mut served = 0;
    for t in traffic {
        let (ok, failed, seen) = t.await.unwrap();
        assert!(failed.is_empty(), "assignments failed: {failed:?}");
        assert!(!seen.is_empty());
        served += ok;
    }
    // Live updates resume: the next change on A reaches B's stream through pub/sub.
    assert_eq!(put_experiment(a.port, "after-restart").await, 200);
    while next_id(&mut from_b).await != 3 {}
    let (_, config) = request(b.port, "GET", "/sdk/config", None).await.unwrap();
    assert!(
        config.contains("after-restart") && config.contains("during-outage"),
        "{config}"
    );
    eprintln!(
        "redis fault: {served} assignments answered 200 across the kill and restart \
         ({during_outage} while Redis was down), none failed"
    );
    drop(redis);
}

/// A receiver on `port` that accepts webhook posts and sends each request's head and body
/// down the channel (answering 200).
async fn receiver_on(port: u16) -> tokio::sync::mpsc::UnboundedReceiver<String> {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else {
                return;
            };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut bytes = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then the body its Content-Length announces.
                loop {
                    let Ok(n) = s.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    bytes.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&bytes).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").await;
                            let _ = tx.send(text);
                            return;
                        }
                    }
                }
            });
        }
    });
    rx
}

/// Webhook deliveries wait in the store: an event queued while the receiver is down survives
/// `kill -9` of the server, and the next server process on the same store delivers it, signed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_deliveries_survive_kill_9_of_the_server() {
    let dir = std::env::temp_dir().join(format!("litmus-kill9-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let env = [
        ("LITMUS_DATA", dir.display().to_string()),
        ("LITMUS_WEBHOOK_ALLOW_PRIVATE", "1".to_owned()),
        ("LITMUS_WEBHOOK_RETRY_SCALE", "0.001".to_owned()),
    ];
    let hook_port = free_port();
    let first = start(&env).await;
    let made =
        format!(r#"{{"url": "http://127.0.0.1:{hook_port}/hook", "events": ["experiment.*"]}}"#);
    let (status, body) = request(first.port, "POST", "/admin/webhooks", Some(&made))
        .await
        .unwrap();
    assert_eq!(status, 201, "{body}");
    let made: serde_json::Value = serde_json::from_str(&body).unwrap();
    let (id, secret) = (
        made["webhook"]["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    );
    let log = format!("/admin/webhooks/{id}/deliveries");
    assert_eq!(put_experiment(first.port, "survivor").await, 200);
    // The receiver is down: the delivery fails and waits for its next attempt.
    loop {
        let (_, body) = request(first.port, "GET", &log, None).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["deliveries"][0]["attempts"].as_u64().unwrap_or(0) >= 1 {
            assert_eq!(v["deliveries"][0]["status"], "pending");
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let mut first = first;
    first.child.kill().unwrap(); // SIGKILL
    first.child.wait().unwrap();
    // The receiver comes up, and a new process on the same store delivers the event.
    let mut got = receiver_on(hook_port).await;
    let second = start(&env).await;
    let delivery = got.recv().await.unwrap();
    let (head, body) = delivery.split_once("\r\n\r\n").unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
            .unwrap()
    };
    assert_eq!(header("litmus-event-type"), "experiment.created");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    litmus_core::webhooks::verify(
        &secret,
        &header("litmus-signature"),
        body.as_bytes(),
        now,
        300,
    )
    .expect("signed with the webhook's secret");
    loop {
        let (_, body) = request(second.port, "GET", &log, None).await.unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        if v["deliveries"][0]["status"] == "delivered" {
            assert_eq!(v["deliveries"].as_array().unwrap().len(), 1);
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    drop(second);
    let _ = std::fs::remove_dir_all(&dir);
}
