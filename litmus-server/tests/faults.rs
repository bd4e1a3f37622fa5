//! Fault tests with real processes: PostgreSQL killed (`kill -9` of the postmaster) while a
//! `litmus-server` process is acknowledging event batches, then started again. Every
//! acknowledged event is stored exactly once, and no answer 2xx was given for an event that was
//! lost. A private PostgreSQL cluster (initdb in a temporary directory, TimescaleDB preloaded)
//! is used, so the shared one other tests use is never touched.
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
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
            assert!(Instant::now() < deadline, "PostgreSQL still answers");
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
struct Server(Child, u16);

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_killed_during_ingestion_loses_and_duplicates_nothing_acknowledged() {
    let Some(cluster) = Cluster::start() else {
        return;
    };
    let port = free_port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_litmus-server"))
            .env_remove("REDIS_URL")
            .env("DATABASE_URL", cluster.url())
            .env("LITMUS_LISTEN", format!("127.0.0.1:{port}"))
            .env("LITMUS_ADMIN_KEY", KEY)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
        port,
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while post(server.1, "/events", "[]").await.0 != 200 {
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Four senders, each sending its batches in turn and retrying a batch until it is
    // acknowledged, as the SDK trackers do. Every 2xx is recorded with the ids it covered.
    const PER_BATCH: usize = 50;
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();
    let answers: Arc<Mutex<(u32, u32, u32)>> = Arc::default(); // (2xx, 503/429, no answer)
    let stop_at = Arc::new(Mutex::new(None::<Instant>));
    let mut senders = Vec::new();
    for s in 0..4 {
        let (acknowledged, answers, stop_at) = (
            Arc::clone(&acknowledged),
            Arc::clone(&answers),
            Arc::clone(&stop_at),
        );
        senders.push(tokio::spawn(async move {
            let mut batch = 0;
            loop {
                if stop_at.lock().unwrap().is_some_and(|t| Instant::now() > t) {
                    break;
                }
                let ids: Vec<String> = (0..PER_BATCH).map(|k| format!("s{s}-b{batch}-e{k}")).collect();
                let events: Vec<String> = ids
                    .iter()
                    .enumerate()
                    .map(|(k, id)| {
                        format!(
                            r#"{{"type":"track","message_id":"{id}","unit_id":"u{k}","event":"buy","value":1}}"#
                        )
                    })
                    .collect();
                let body = format!("[{}]", events.join(","));
                loop {
                    let (status, reply) = post(port, "/events", &body).await;
                    match status {
                        200 => {
                            let v: serde_json::Value = serde_json::from_str(&reply).unwrap();
                            let covered = v["accepted"].as_u64().unwrap() + v["duplicates"].as_u64().unwrap();
                            assert_eq!(covered, PER_BATCH as u64, "{reply}");
                            acknowledged.lock().unwrap().extend(ids.iter().cloned());
                            answers.lock().unwrap().0 += 1;
                            break;
                        }
                        503 | 429 => answers.lock().unwrap().1 += 1,
                        0 => answers.lock().unwrap().2 += 1,
                        other => panic!("unexpected status {other}: {reply}"),
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                batch += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let before_crash = acknowledged.lock().unwrap().len();
    cluster.crash();
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    let during_outage = answers.lock().unwrap().1;
    cluster.run();
    *stop_at.lock().unwrap() = Some(Instant::now() + Duration::from_millis(2_000));
    for s in senders {
        s.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    let (ok, refused, unanswered) = *answers.lock().unwrap();
    eprintln!(
        "fault test: {} events acknowledged ({before_crash} before the crash), {ok} batches 2xx, \
         {refused} answered 503/429 (retried), {unanswered} without an answer (retried)",
        acknowledged.len()
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

    // What the database holds: every acknowledged event, once.
    let (client, conn) = tokio_postgres::connect(&cluster.url(), tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    let rows = client
        .query("SELECT message_id, count(*) FROM events GROUP BY 1", &[])
        .await
        .unwrap();
    let mut stored = HashSet::new();
    for r in &rows {
        let (id, n): (String, i64) = (r.get(0), r.get(1));
        assert_eq!(n, 1, "{id} stored {n} times");
        stored.insert(id);
    }
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");
    // Anything stored but never acknowledged belongs to a batch whose answer was cut; the
    // senders retried those until acknowledged, so there is none.
    assert_eq!(stored.len(), acknowledged.len());
    drop(server);
}
