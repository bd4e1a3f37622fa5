//! What the server's integration tests share: requests through the router, and the backends
//! every test runs on: the embedded store with the in-process cache, PostgreSQL with the
//! in-process cache, and PostgreSQL with Redis. PostgreSQL and Redis come from `DATABASE_URL`
//! and `REDIS_URL` (`scripts/db/start.sh`); each test gets a database and a key prefix of its
//! own, deleted when it ends. Without them those variants are skipped, unless
//! `LITMUS_REQUIRE_SERVICES=1` (the test command sets it) makes that a failure.
#![allow(dead_code, unreachable_pub)]

mod helpers;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub use helpers::*;
use litmus_server::cache::Cache;
use litmus_server::cache::memory::MemoryCache;
use litmus_server::cache::redis::RedisCache;
use litmus_server::state::{AppState, Tuning};
use litmus_server::store::Store;
use litmus_server::store::postgres::PostgresStore;
use litmus_server::store::sqlite::SqliteStore;

type Make<S> =
    Box<dyn Fn(Tuning) -> Pin<Box<dyn Future<Output = Arc<AppState<S>>> + Send>> + Send + Sync>;

/// One backend for one test: makes server instances that share its store and cache.
pub struct Env<S: Store> {
    /// `sqlite`, `postgres` or `postgres+redis`.
    pub name: &'static str,
    make: Make<S>,
    /// Redis's URL and this test's key prefix, when the cache is Redis.
    redis: Option<(String, String)>,
    /// The PostgreSQL database's URL, when the store is PostgreSQL.
    database: Option<String>,
    cleanup: Option<Box<dyn FnOnce() + Send>>,
}

impl<S: Store> Env<S> {
    /// A new server instance (its own state and connections) over the shared store and cache.
    pub async fn instance(&self) -> Arc<AppState<S>> {
        (self.make)(Tuning::default()).await
    }

    /// A new server instance with these settings.
    pub async fn instance_with(&self, tuning: Tuning) -> Arc<AppState<S>> {
        (self.make)(tuning).await
    }

    /// The router of a new instance.
    pub async fn app(&self) -> axum::Router {
        litmus_server::app(self.instance().await)
    }

    /// The PostgreSQL database's URL, Redis's URL and the key prefix of a PostgreSQL + Redis
    /// backend (to start server processes on them).
    pub fn urls(&self) -> Option<(String, String, String)> {
        let (redis, prefix) = self.redis.clone()?;
        Some((self.database()?.to_owned(), redis, prefix))
    }

    /// The PostgreSQL database's URL, when the store is PostgreSQL.
    pub fn database(&self) -> Option<&str> {
        self.database.as_deref()
    }

    /// Whether the instances share a cache that carries notifications (Redis).
    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// Waits (up to 10 s) until `n` instances listen to this test's Redis channel.
    pub async fn wait_for_subscribers(&self, n: i64) {
        let (url, prefix) = self.redis.clone().unwrap();
        wait_for_subscribers(&url, &prefix, n).await;
    }
}

/// Waits (up to 10 s) until `n` instances listen to the config channel of `prefix` on the
/// Redis at `url`.
pub async fn wait_for_subscribers(url: &str, prefix: &str, n: i64) {
    let client = redis::Client::open(url).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    for _ in 0..1_000 {
        let (_, count): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(format!("{prefix}config"))
            .query_async(&mut conn)
            .await
            .unwrap();
        if count >= n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{n} instances did not subscribe");
}

impl<S: Store> Drop for Env<S> {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take() {
            // A thread of its own: the test's runtime may be shutting down.
            let _ = std::thread::spawn(cleanup).join();
        }
    }
}

static NEXT: AtomicU32 = AtomicU32::new(0);

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn service(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Some(v),
        _ => {
            assert!(
                std::env::var("LITMUS_REQUIRE_SERVICES").as_deref() != Ok("1"),
                "{var} is not set (run scripts/db/start.sh)"
            );
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// The embedded store (a file, so several instances can open it) with the in-process cache.
pub fn sqlite() -> Env<SqliteStore> {
    let dir = std::env::temp_dir().join(unique("litmus-server-test"));
    let path = dir.join("litmus.sqlite3");
    let _ = std::fs::remove_dir_all(&dir);
    Env {
        name: "sqlite",
        redis: None,
        database: None,
        make: Box::new(move |tuning| {
            let path = path.clone();
            Box::pin(async move {
                let cache: Arc<dyn Cache> = Arc::new(MemoryCache::new(1_000_000));
                AppState::build(SqliteStore::open(&path).unwrap(), KEY, cache, tuning)
            })
        }),
        cleanup: Some(Box::new(move || {
            let _ = std::fs::remove_dir_all(&dir);
        })),
    }
}

/// A fresh PostgreSQL database, with Redis as the cache when `redis` is set.
pub async fn postgres(redis: bool) -> Option<Env<PostgresStore>> {
    let url = service("DATABASE_URL")?;
    let redis_url = if redis {
        Some(service("REDIS_URL")?)
    } else {
        None
    };
    let db = unique("litmus_t");
    let admin: tokio_postgres::Config = url.parse().unwrap();
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await.unwrap();
    tokio::spawn(conn);
    client
        .batch_execute(&format!("CREATE DATABASE {db}"))
        .await
        .unwrap();
    let mut config = admin.clone();
    config.dbname(&db);
    let db_url = database_url(&config);
    let prefix = format!("{}:", unique("litmus-test"));
    let (make_url, make_prefix, make_redis) = (db_url.clone(), prefix.clone(), redis_url.clone());
    let cleanup = move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            if let Ok((client, conn)) = admin.connect(tokio_postgres::NoTls).await {
                tokio::spawn(conn);
                let _ = client
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                    .await;
            }
            if let Some(url) = redis_url {
                delete_keys(&url, &prefix).await;
            }
        });
    };
    Some(Env {
        name: if redis { "postgres+redis" } else { "postgres" },
        redis: make_redis.clone().map(|url| (url, make_prefix.clone())),
        database: Some(make_url.clone()),
        make: Box::new(move |tuning| {
            let (url, prefix, redis) = (make_url.clone(), make_prefix.clone(), make_redis.clone());
            Box::pin(async move {
                let store = PostgresStore::connect(&url, 4).await.unwrap();
                let cache: Arc<dyn Cache> = match redis {
                    Some(r) => Arc::new(
                        RedisCache::connect(&r, &prefix, Duration::from_secs(3_600), 10_000)
                            .await
                            .unwrap(),
                    ),
                    None => Arc::new(MemoryCache::new(10_000)),
                };
                AppState::build(store, KEY, cache, tuning)
            })
        }),
        cleanup: Some(Box::new(cleanup)),
    })
}

/// A `postgres://` URL for a parsed config (user, password, host, port, database).
fn database_url(c: &tokio_postgres::Config) -> String {
    let host = match c.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(h)) => h.clone(),
        _ => "127.0.0.1".to_owned(),
    };
    let port = c.get_ports().first().copied().unwrap_or(5432);
    let password = c
        .get_password()
        .map(|p| format!(":{}", String::from_utf8_lossy(p)))
        .unwrap_or_default();
    format!(
        "postgres://{}{password}@{host}:{port}/{}",
        c.get_user().unwrap_or("postgres"),
        c.get_dbname().unwrap_or("postgres")
    )
}

/// Deletes every Redis key under `prefix`.
async fn delete_keys(url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: Result<i64, _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
    }
}

/// One HTTP/1.1 request to `127.0.0.1:port` on a new connection, with `key` as the Bearer
/// key: the status and the body (for tests that run the server as a process).
pub async fn raw_request(
    port: u16,
    method: &str,
    path: &str,
    key: &str,
    body: &str,
) -> std::io::Result<(u16, String)> {
    raw_request_as(
        port,
        method,
        path,
        Some(&format!("Bearer {key}")),
        body,
        None,
    )
    .await
}

/// As [`raw_request`], with `auth` as the whole `Authorization` header (or none), reading the
/// answer for at most `read_for` when given (a stream never ends).
pub async fn raw_request_as(
    port: u16,
    method: &str,
    path: &str,
    auth: Option<&str>,
    body: &str,
    read_for: Option<Duration>,
) -> std::io::Result<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let auth = auth
        .map(|a| format!("Authorization: {a}\r\n"))
        .unwrap_or_default();
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).await?;
    let mut bytes = Vec::new();
    match read_for {
        Some(limit) => {
            let _ = tokio::time::timeout(limit, s.read_to_end(&mut bytes)).await;
        }
        None => {
            s.read_to_end(&mut bytes).await?;
        }
    }
    let text = String::from_utf8_lossy(&bytes);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    Ok((status, body))
}

/// Runs the generic test `$name` on every backend: `$name::sqlite`, `$name::postgres` and
/// `$name::postgres_redis`.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(&$crate::common::sqlite()).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(env) = $crate::common::postgres(false).await {
                    super::$name(&env).await;
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_redis() {
                if let Some(env) = $crate::common::postgres(true).await {
                    super::$name(&env).await;
                }
            }
        }
    )*};
}
