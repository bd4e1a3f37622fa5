//! Fault tests with real processes: PostgreSQL killed (`kill -9` of the postmaster) while a
//! `litmus-server` process is acknowledging event batches, then started again. Every
//! acknowledged event is stored exactly once, and no answer 2xx was given for an event that was
//! lost. A private PostgreSQL cluster (initdb in a temporary directory, TimescaleDB preloaded)
//! is used, so the shared one other tests use is never touched. The server itself killed the
//! same way, on PostgreSQL and on the embedded store (SQLite), loses and duplicates nothing it
//! acknowledged either.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs
)]

mod common;

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PG_BIN: &str = "/usr/lib/postgresql/15/bin";
const KEY: &str = "fault-admin-key";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A private PostgreSQL cluster, stopped and deleted when dropped.
struct Cluster {
    dir: PathBuf,
    port: u16,
}

fn as_postgres(args: &[&str]) -> std::process::ExitStatus {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
}

impl Cluster {
    /// Makes and starts a cluster, or `None` when this machine cannot (not root, no
    /// PostgreSQL 15 with TimescaleDB: run scripts/db/setup.sh).
    fn start() -> Option<Cluster> {
        let ready = Path::new(PG_BIN).join("initdb").exists()
            && std::fs::read_dir("/usr/lib/postgresql/15/lib")
                .map(|d| {
                    d.flatten()
                        .any(|f| f.file_name().to_string_lossy().starts_with("timescaledb"))
                })
                .unwrap_or(false)
            && Command::new("id")
                .arg("-u")
                .output()
                .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if !ready {
            assert!(
                std::env::var("LITMUS_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "PostgreSQL 15 + TimescaleDB and root are needed (scripts/db/setup.sh)"
            );
            return None;
        }
        let dir = std::env::temp_dir().join(format!("litmus-fault-pg-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        assert!(
            Command::new("chown")
                .args(["postgres:postgres", dir.to_str().unwrap()])
                .status()
                .unwrap()
                .success()
        );
        let data = dir.join("data");
        let initdb = format!("{PG_BIN}/initdb");
        assert!(
            as_postgres(&[
                &initdb,
                "-D",
                data.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8"
            ])
            .success()
        );
        let cluster = Cluster {
            dir,
            port: free_port(),
        };
        cluster.run();
        Some(cluster)
    }

    fn data(&self) -> String {
        self.dir.join("data").display().to_string()
    }

    /// Starts the server (after a crash: with recovery) and waits until it accepts connections.
    fn run(&self) {
        let options = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories={} \
             -c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off",
            self.port,
            self.dir.display()
        );
        let log = self.dir.join("pg.log").display().to_string();
        let pg_ctl = format!("{PG_BIN}/pg_ctl");
        // After a crash the killed postmaster's backends take a moment to exit, and until
        // then a new postmaster refuses the data directory: try again for a while.
        for _ in 0..40 {
            let started = as_postgres(&[
                &pg_ctl,
                "-D",
                &self.data(),
                "-l",
                &log,
                "-o",
                &options,
                "-w",
                "-t",
                "60",
                "start",
            ]);
            if started.success() {
                return;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!("{}", std::fs::read_to_string(&log).unwrap_or_default());
    }

    /// `kill -9` of the postmaster: a crash, not a shutdown.
    fn crash(&self) {
        let pid = std::fs::read_to_string(self.dir.join("data").join("postmaster.pid")).unwrap();
        let pid = pid.lines().next().unwrap().trim().to_owned();
        assert!(
            Command::new("kill")
                .args(["-9", &pid])
                .status()
                .unwrap()
                .success()
        );
        // Its backends notice and exit; wait until the port is free.
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            std::thread::sleep(Duration::from_millis(20));
        }
        // A postmaster killed with -9 leaves its backends to notice; give them a moment.
        std::thread::sleep(Duration::from_millis(300));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let pg_ctl = format!("{PG_BIN}/pg_ctl");
        as_postgres(&[&pg_ctl, "-D", &self.data(), "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The server process, killed when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One request on a new connection: the status and the body (status 0 when the connection
/// failed or was cut, or no answer came within 15 s: no answer).
async fn post(port: u16, path: &str, body: &str) -> (u16, String) {
    let attempt = common::raw_request(port, "POST", path, KEY, body);
    match tokio::time::timeout(Duration::from_secs(15), attempt).await {
        Ok(Ok(answer)) => answer,
        _ => (0, String::new()),
    }
}

/// Starts the server binary on `port` over the PostgreSQL at `database` (no Redis), with
/// `env`; waits until it takes event batches.
async fn spawn_server(database: &str, port: u16, env: &[(&str, &str)]) -> Server {
    spawn_on(("DATABASE_URL", database), port, env).await
}

/// Starts the server binary on `port` over the embedded store in `data` (no PostgreSQL, no
/// Redis); waits until it takes event batches.
async fn spawn_embedded(data: &Path, port: u16) -> Server {
    spawn_on(("LITMUS_DATA", data.to_str().unwrap()), port, &[]).await
}

/// Starts the server binary on `port` with `store` (the variable that chooses its store) and
/// `env`; waits until it takes event batches.
async fn spawn_on(store: (&str, &str), port: u16, env: &[(&str, &str)]) -> Server {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_litmus-server"));
    cmd.env_remove("REDIS_URL")
        .env_remove("DATABASE_URL")
        .env(store.0, store.1)
        .env("LITMUS_LISTEN", format!("127.0.0.1:{port}"))
        .env("LITMUS_ADMIN_KEY", KEY)
        .env("RUST_LOG", "error")
        .stdout(Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let server = Server(cmd.spawn().unwrap());
    // Waits until it answers (a server that never starts hangs the test, which the harness
    // reports; no clock decides).
    while post(port, "/events", "[]").await.0 != 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

/// Events per batch the senders send: an exposure of the batch's own unit to experiment `x`,
/// then metric events of that unit.
const PER_BATCH: usize = 50;

/// What the senders were answered.
#[derive(Debug, Default, Clone, Copy)]
struct Answers {
    /// Batches answered 200.
    ok: u32,
    /// Answered 503 or 429 (with Retry-After), and retried.
    refused: u32,
    /// No answer (refused connection, cut, or 15 s without one), and retried.
    unanswered: u32,
}

/// Senders posting batches of new events to `port`, each retrying a batch until it is
/// acknowledged (as the SDK trackers do), and recording every acknowledged event id.
struct Senders {
    acknowledged: Arc<Mutex<HashSet<String>>>,
    answers: Arc<Mutex<Answers>>,
    stop_at: Arc<Mutex<Option<Instant>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Senders {
    fn start(port: u16, senders: usize) -> Senders {
        let me = Senders {
            acknowledged: Arc::default(),
            answers: Arc::default(),
            stop_at: Arc::default(),
            tasks: Vec::new(),
        };
        let tasks = (0..senders)
            .map(|s| {
                let (acknowledged, answers, stop_at) = (
                    Arc::clone(&me.acknowledged),
                    Arc::clone(&me.answers),
                    Arc::clone(&me.stop_at),
                );
                tokio::spawn(async move {
                    let mut batch = 0;
                    while !stop_at.lock().unwrap().is_some_and(|t| Instant::now() > t) {
                        let (ids, body) = Senders::batch(s, batch);
                        loop {
                            let (status, reply) = post(port, "/events", &body).await;
                            match status {
                                200 => {
                                    let v: serde_json::Value =
                                        serde_json::from_str(&reply).unwrap();
                                    let covered = v["accepted"].as_u64().unwrap()
                                        + v["duplicates"].as_u64().unwrap();
                                    assert_eq!(covered, PER_BATCH as u64, "{reply}");
                                    acknowledged.lock().unwrap().extend(ids.iter().cloned());
                                    answers.lock().unwrap().ok += 1;
                                    break;
                                }
                                503 | 429 => answers.lock().unwrap().refused += 1,
                                0 => answers.lock().unwrap().unanswered += 1,
                                other => panic!("unexpected status {other}: {reply}"),
                            }
                            tokio::time::sleep(Duration::from_millis(50)).await;
                        }
                        batch += 1;
                    }
                })
            })
            .collect();
        Senders { tasks, ..me }
    }

    /// Batch `batch` of sender `s`: its event ids and its body.
    fn batch(s: usize, batch: usize) -> (Vec<String>, String) {
        let ids: Vec<String> = (0..PER_BATCH)
            .map(|k| format!("s{s}-b{batch}-e{k}"))
            .collect();
        let unit = format!("s{s}-b{batch}");
        // Now: older events would fall to the raw-event retention.
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let events: Vec<String> = ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                if k == 0 {
                    format!(
                        r#"{{"type":"exposure","message_id":"{id}","timestamp":{now},"unit_id":"{unit}","experiment":"x","variant":"a"}}"#
                    )
                } else {
                    format!(
                        r#"{{"type":"track","message_id":"{id}","timestamp":{},"unit_id":"{unit}","event":"buy","value":1}}"#,
                        now + 1
                    )
                }
            })
            .collect();
        (ids, format!("[{}]", events.join(",")))
    }

    fn acknowledged(&self) -> usize {
        self.acknowledged.lock().unwrap().len()
    }

    fn answers(&self) -> Answers {
        *self.answers.lock().unwrap()
    }

    /// Lets the senders go on for `more`, then waits for them (each finishes its batch).
    async fn finish(self, more: Duration) -> (HashSet<String>, Answers) {
        *self.stop_at.lock().unwrap() = Some(Instant::now() + more);
        for t in self.tasks {
            t.await.unwrap();
        }
        let acknowledged = self.acknowledged.lock().unwrap().clone();
        (acknowledged, *self.answers.lock().unwrap())
    }
}

/// Asserts that the database at `url` holds every acknowledged event exactly once and nothing
/// else (the senders retried every batch whose answer they lost until it was acknowledged).
async fn assert_stored_once(url: &str, acknowledged: &HashSet<String>) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query("SELECT message_id, count(*) FROM events GROUP BY 1", &[])
        .await
        .unwrap();
    check_stored_once(rows.iter().map(|r| (r.get(0), r.get(1))), acknowledged);
}

/// Asserts that the stored events, (message id, times stored), are every acknowledged event
/// exactly once and nothing else.
fn check_stored_once(rows: impl Iterator<Item = (String, i64)>, acknowledged: &HashSet<String>) {
    let mut stored = HashSet::new();
    for (id, n) in rows {
        assert_eq!(n, 1, "{id} stored {n} times");
        stored.insert(id);
    }
    let lost: Vec<_> = acknowledged.difference(&stored).take(10).collect();
    assert!(
        lost.is_empty(),
        "acknowledged but lost, among them: {lost:?}"
    );
    assert_eq!(stored.len(), acknowledged.len());
}

/// The queries of the rollup checks, the same on both stores: batches waiting, units exposed
/// to `x`, and its `buy` events counted.
const PENDING: &str = "SELECT count(*) FROM pending_batches";
const UNITS: &str =
    "SELECT CAST(coalesce(sum(units), 0) AS bigint) FROM rollup_exposures WHERE experiment = 'x'";
const EVENTS: &str = "SELECT CAST(coalesce(sum(events), 0) AS bigint) FROM rollup_metrics
                      WHERE experiment = 'x' AND metric = 'buy'";

/// Waits until the rollups hold every stored batch (no batch pending), then asserts they count
/// each stored event once: one exposed unit and `PER_BATCH - 1` metric events per batch.
async fn assert_rolled_up_once(url: &str, acknowledged: usize) {
    let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    // Waits until every batch is rolled up.
    while client
        .query_one(PENDING, &[])
        .await
        .unwrap()
        .get::<_, i64>(0)
        > 0
    {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let units: i64 = client.query_one(UNITS, &[]).await.unwrap().get(0);
    let events: i64 = client.query_one(EVENTS, &[]).await.unwrap().get(0);
    check_rolled_up_once(units, events, acknowledged);
}

/// Asserts that the rollups count `units` exposed and `events` metric events for the
/// `acknowledged` events: one unit and `PER_BATCH - 1` metric events per batch.
fn check_rolled_up_once(units: i64, events: i64, acknowledged: usize) {
    let batches = (acknowledged / PER_BATCH) as i64;
    assert_eq!((units, events), (batches, batches * (PER_BATCH as i64 - 1)));
}

/// `url` with its port replaced by `port` (the URL ends in `:<port>/<database>`).
fn with_port(url: &str, port: u16) -> String {
    let (head, db) = url.rsplit_once('/').unwrap();
    let (host, _) = head.rsplit_once(':').unwrap();
    format!("{host}:{port}/{db}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_during_ingestion_loses_and_duplicates_nothing_acknowledged() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let port = free_port();
    let server = spawn_server(&cluster.url(), port, &[]).await;
    let senders = Senders::start(port, 4);
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_crash = senders.acknowledged();
    cluster.crash();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let during_outage = senders.answers().refused;
    cluster.run();
    let (acknowledged, answers) = senders.finish(Duration::from_millis(2_000)).await;
    eprintln!(
        "fault test: {} events acknowledged ({before_crash} before the crash), {} batches 2xx, \
         {} answered 503/429 (retried), {} without an answer (retried)",
        acknowledged.len(),
        answers.ok,
        answers.refused,
        answers.unanswered
    );
    assert!(
        before_crash > 0,
        "batches were acknowledged before the crash"
    );
    assert!(during_outage > 0, "the outage was answered 503, not 2xx");
    assert!(
        acknowledged.len() > before_crash,
        "ingestion resumed after the restart"
    );
    assert_stored_once(&cluster.url(), &acknowledged).await;
    drop(server);
}

/// Creates the running experiment `x` the senders' exposures name.
async fn put_experiment_x(port: u16) {
    let body = r#"{"key":"x","status":"running","variants":[{"key":"a"},{"key":"b"}]}"#;
    let (status, reply) = common::raw_request(port, "PUT", "/admin/experiments/x", KEY, body)
        .await
        .unwrap();
    assert_eq!(status, 200, "{reply}");
}

/// Senders post batches to the server on `port` (`server`, started by `start`) while it is
/// killed with `kill -9` three times and started again by `start`; answers what the senders
/// had acknowledged, what they were answered, and the server running at the end.
async fn ingest_through_kills<F: std::future::Future<Output = Server>>(
    port: u16,
    mut server: Server,
    start: impl Fn() -> F,
) -> (HashSet<String>, Answers, Server) {
    put_experiment_x(port).await;
    let senders = Senders::start(port, 4);
    let mut crashes = 0;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(800)).await;
        let before = senders.acknowledged();
        let _ = server.0.kill(); // SIGKILL
        let _ = server.0.wait();
        crashes += 1;
        tokio::time::sleep(Duration::from_millis(300)).await;
        server = start().await;
        assert!(
            before > 0,
            "batches were acknowledged before crash {crashes}"
        );
    }
    let (acknowledged, answers) = senders.finish(Duration::from_millis(1_500)).await;
    eprintln!(
        "server kill -9 x{crashes}: {} events acknowledged, {} batches 2xx, {} refused, {} \
         without an answer (retried)",
        acknowledged.len(),
        answers.ok,
        answers.refused,
        answers.unanswered
    );
    assert!(answers.unanswered > 0, "the crashes cut connections");
    (acknowledged, answers, server)
}

/// Fault: the server itself killed with `kill -9` while senders post batches, then started
/// again on the same database and port. The server answers 200 only after the commit, so the
/// senders' spool (each retries its batch until acknowledged, as the SDK trackers do) is what
/// carries the unanswered batches over the crash: every acknowledged event is stored once, and
/// the rollups the restarted server completes count each of them once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_during_ingestion_loses_and_duplicates_nothing_acknowledged() {
    let Some(env) = common::postgres(false).await else {
        return;
    };
    let url = env.database().unwrap().to_owned();
    let port = free_port();
    let server = spawn_server(&url, port, &[]).await;
    let (acknowledged, _, server) =
        ingest_through_kills(port, server, || spawn_server(&url, port, &[])).await;
    assert_stored_once(&url, &acknowledged).await;
    assert_rolled_up_once(&url, acknowledged.len()).await;
    drop(server);
}

/// The same fault on the embedded store: the server on SQLite (`LITMUS_DATA`) killed with
/// `kill -9` three times while senders post batches, each time started again on the same data.
/// The group commit answers a batch only after the commit its group was written in, so every
/// acknowledged event is stored once, nothing twice, and the rollups count each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_server_killed_during_ingestion_loses_and_duplicates_nothing_acknowledged() {
    let data = std::env::temp_dir().join(format!("litmus-fault-sqlite-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    let port = free_port();
    let server = spawn_embedded(&data, port).await;
    let (acknowledged, _, server) =
        ingest_through_kills(port, server, || spawn_embedded(&data, port)).await;
    // Read by a connection of its own while the restarted server runs (WAL: readers do not
    // wait for its writes).
    let db = rusqlite::Connection::open(data.join("litmus.sqlite3")).unwrap();
    db.busy_timeout(Duration::from_secs(30)).unwrap();
    let count = |sql: &str| db.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap();
    {
        let mut stmt = db
            .prepare("SELECT message_id, count(*) FROM events GROUP BY 1")
            .unwrap();
        let rows: Vec<(String, i64)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        check_stored_once(rows.into_iter(), &acknowledged);
    }
    // Waits until the restarted server has rolled up every batch.
    while count(PENDING) > 0 {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    check_rolled_up_once(count(UNITS), count(EVENTS), acknowledged.len());
    drop(server);
    drop(db);
    let _ = std::fs::remove_dir_all(&data);
}

/// A TCP proxy to `upstream` that holds every chunk for `delay` milliseconds (changeable while
/// it runs) before passing it on, both ways: a slow network between the server and PostgreSQL.
async fn delay_proxy(upstream: u16, delay: Arc<std::sync::atomic::AtomicU64>) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    async fn pump(
        mut from: tokio::net::tcp::OwnedReadHalf,
        mut to: tokio::net::tcp::OwnedWriteHalf,
        delay: Arc<std::sync::atomic::AtomicU64>,
    ) {
        let mut buf = vec![0u8; 64 * 1024];
        while let Ok(n @ 1..) = from.read(&mut buf).await {
            let ms = delay.load(std::sync::atomic::Ordering::Relaxed);
            if ms > 0 {
                tokio::time::sleep(Duration::from_millis(ms)).await;
            }
            if to.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = to.shutdown().await;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let delay = Arc::clone(&delay);
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(("127.0.0.1", upstream)).await
                else {
                    return;
                };
                let (cr, cw) = client.into_split();
                let (sr, sw) = server.into_split();
                tokio::join!(pump(cr, sw, Arc::clone(&delay)), pump(sr, cw, delay));
            });
        }
    });
    port
}

/// Fault: a slow network between the server and PostgreSQL (every packet held 150 ms, both
/// ways) under more senders than the server stores batches at once. The server pushes back —
/// batches that cannot get a turn within 2 s are answered 429 with Retry-After — instead of
/// queueing without bound or failing: no other error, no request left unanswered, assignments
/// (served from memory) answered 200 throughout. When the network is fast again, every
/// acknowledged event is stored once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_network_to_postgres_brings_backpressure_not_collapse() {
    let Some(env) = common::postgres(false).await else {
        return;
    };
    let url = env.database().unwrap().to_owned();
    let pg_port: u16 = url
        .rsplit_once('/')
        .and_then(|(head, _)| head.rsplit_once(':'))
        .and_then(|(_, p)| p.parse().ok())
        .unwrap();
    let delay = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let proxy = delay_proxy(pg_port, Arc::clone(&delay)).await;
    let port = free_port();
    let server = spawn_server(
        &with_port(&url, proxy),
        port,
        &[("LITMUS_INGEST_PERMITS", "2")],
    )
    .await;
    put_experiment_x(port).await;
    let senders = Senders::start(port, 8);
    tokio::time::sleep(Duration::from_millis(500)).await;
    delay.store(150, std::sync::atomic::Ordering::Relaxed);
    let slow_from = senders.answers();
    // While the network is slow, assignments keep being answered.
    let mut assignments = 0;
    let slow_until = Instant::now() + Duration::from_secs(6);
    while Instant::now() < slow_until {
        let body = format!(r#"{{"unit_id": "u{assignments}", "experiment": "x"}}"#);
        let (status, reply) = post(port, "/assign", &body).await;
        assert_eq!(status, 200, "{reply}");
        assignments += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let slow = senders.answers();
    delay.store(0, std::sync::atomic::Ordering::Relaxed);
    let (acknowledged, answers) = senders.finish(Duration::from_millis(1_500)).await;
    eprintln!(
        "slow network: while slow, {} batches acknowledged and {} pushed back (429/503); {} \
         assignments answered 200; in all {} events acknowledged, {} batches unanswered",
        slow.ok - slow_from.ok,
        slow.refused - slow_from.refused,
        assignments,
        acknowledged.len(),
        answers.unanswered
    );
    assert!(
        slow.refused > slow_from.refused,
        "no backpressure while slow"
    );
    assert!(slow.ok > slow_from.ok, "nothing was stored while slow");
    assert_eq!(answers.unanswered, 0, "requests were left unanswered");
    assert!(answers.ok > slow.ok, "ingestion did not recover");
    assert_stored_once(&url, &acknowledged).await;
    drop(server);
}
