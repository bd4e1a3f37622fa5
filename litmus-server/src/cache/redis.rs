//! The Redis cache, used when `REDIS_URL` is set: published snapshots under
//! `{prefix}snapshot:{version}` (the default project's) and `{prefix}snapshot:{project}:{version}`, sticky assignments under `{prefix}sticky:{experiment}\x1f{unit}`
//! (`SET NX`, so the first instance to assign a unit decides for all), and a pub/sub channel
//! `{prefix}config` carrying each new version.
//!
//! Redis is a cache, never the source of truth: when it does not answer (within 500 ms),
//! sticky assignments fall back to the in-process map, snapshots to the store, and
//! notifications to the timer that re-reads the stored version.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::memory::MemoryCache;
use super::{Announce, Cache, CacheError, CacheFuture, Notice};
use crate::store::Snapshot;

/// How long a cached snapshot lives (each version is immutable; old ones expire).
const SNAPSHOT_TTL_SECONDS: u64 = 3_600;

/// How long Redis may take to answer before the fallback is used.
const TIMEOUT: Duration = Duration::from_millis(500);

/// The Redis cache.
pub struct RedisCache {
    client: redis::Client,
    conn: ConnectionManager,
    prefix: String,
    sticky_ttl_seconds: u64,
    fallback: MemoryCache,
    /// Operations answered by the fallback because Redis failed (for `/metrics`).
    fallbacks: AtomicU64,
}

fn backend(e: impl std::fmt::Display) -> CacheError {
    CacheError::Backend(e.to_string())
}

impl RedisCache {
    /// Where the snapshot `version` of `project` is cached.
    fn snapshot_key(&self, project: &str, version: u64) -> String {
        if project == crate::projects::DEFAULT_PROJECT {
            format!("{}snapshot:{version}", self.prefix)
        } else {
            format!("{}snapshot:{project}:{version}", self.prefix)
        }
    }

    /// Connects to `url`. Keys and the channel start with `prefix` (several deployments, or
    /// tests, can share one Redis); sticky assignments expire after `sticky_ttl` unused, and
    /// the in-process fallback holds at most `fallback_capacity` of them.
    pub async fn connect(
        url: &str,
        prefix: &str,
        sticky_ttl: Duration,
        fallback_capacity: usize,
    ) -> Result<Self, CacheError> {
        let client = redis::Client::open(url).map_err(backend)?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(TIMEOUT))
            .set_response_timeout(Some(TIMEOUT))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_with_config(client.clone(), config)
            .await
            .map_err(backend)?;
        Ok(RedisCache {
            client,
            conn,
            prefix: prefix.to_owned(),
            sticky_ttl_seconds: sticky_ttl.as_secs().max(1),
            fallback: MemoryCache::new(fallback_capacity),
            fallbacks: AtomicU64::new(0),
        })
    }

    fn channel(&self) -> String {
        format!("{}config", self.prefix)
    }

    fn sticky(&self, key: &str) -> String {
        format!("{}sticky:{key}", self.prefix)
    }

    fn fell_back(&self, what: &str, e: &redis::RedisError) {
        self.fallbacks.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(error = %e, "redis: {what} failed; using in-process state");
    }
}

impl Cache for RedisCache {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn snapshot<'a>(&'a self, project: &'a str, version: u64) -> CacheFuture<'a, Option<Snapshot>> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let key = self.snapshot_key(project, version);
            let fields: Option<(String, String)> = redis::cmd("HMGET")
                .arg(&key)
                .arg("etag")
                .arg("body")
                .query_async::<(Option<String>, Option<String>)>(&mut conn)
                .await
                .map_err(backend)
                .map(|(e, b)| e.zip(b))?;
            Ok(fields.map(|(etag, body)| Snapshot {
                version,
                etag,
                body,
            }))
        })
    }

    fn put_snapshot<'a>(&'a self, project: &'a str, snapshot: &'a Snapshot) -> CacheFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            let key = self.snapshot_key(project, snapshot.version);
            redis::pipe()
                .atomic()
                .cmd("HSET")
                .arg(&key)
                .arg("etag")
                .arg(&snapshot.etag)
                .arg("body")
                .arg(&snapshot.body)
                .ignore()
                .cmd("EXPIRE")
                .arg(&key)
                .arg(SNAPSHOT_TTL_SECONDS)
                .ignore()
                .query_async::<()>(&mut conn)
                .await
                .map_err(backend)
        })
    }

    fn remembered<'a>(&'a self, keys: &'a [String]) -> CacheFuture<'a, Vec<Option<String>>> {
        Box::pin(async move {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.conn.clone();
            let mut cmd = redis::cmd("MGET");
            for k in keys {
                cmd.arg(self.sticky(k));
            }
            match cmd.query_async::<Vec<Option<String>>>(&mut conn).await {
                Ok(found) => Ok(found),
                Err(e) => {
                    self.fell_back("sticky read", &e);
                    Ok(self.fallback.get_all(keys))
                }
            }
        })
    }

    fn remember<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> CacheFuture<'a, Vec<Option<String>>> {
        Box::pin(async move {
            if entries.is_empty() {
                return Ok(Vec::new());
            }
            let mut conn = self.conn.clone();
            let mut pipe = redis::pipe();
            for (k, v) in entries {
                // SET NX GET (Redis 7): stores unless present, and answers what was there.
                pipe.cmd("SET")
                    .arg(self.sticky(k))
                    .arg(v)
                    .arg("NX")
                    .arg("GET")
                    .arg("EX")
                    .arg(self.sticky_ttl_seconds);
            }
            match pipe.query_async::<Vec<Option<String>>>(&mut conn).await {
                Ok(found) => Ok(found),
                Err(e) => {
                    self.fell_back("sticky write", &e);
                    Ok(self.fallback.put_all(entries))
                }
            }
        })
    }

    fn publish<'a>(&'a self, notice: &'a Notice) -> CacheFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("PUBLISH")
                .arg(self.channel())
                .arg(notice.encode())
                .query_async::<i64>(&mut conn)
                .await
                .map(drop)
                .map_err(backend)
        })
    }

    fn listen(&self, announce: Announce) {
        let (client, channel) = (self.client.clone(), self.channel());
        tokio::spawn(async move {
            let mut delay = Duration::from_millis(100);
            loop {
                match subscribe(&client, &channel, &announce).await {
                    Ok(()) => tracing::warn!("redis: the subscription ended; resubscribing"),
                    Err(e) => tracing::warn!(error = %e, "redis: cannot subscribe; retrying"),
                }
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
        });
    }

    fn fallbacks(&self) -> u64 {
        self.fallbacks.load(Ordering::Relaxed)
    }

    fn ping(&self) -> CacheFuture<'_, ()> {
        Box::pin(async move {
            let mut conn = self.conn.clone();
            redis::cmd("PING")
                .query_async::<String>(&mut conn)
                .await
                .map(drop)
                .map_err(backend)
        })
    }
}

/// Subscribes to `channel` and announces every version received, until the connection ends.
async fn subscribe(
    client: &redis::Client,
    channel: &str,
    announce: &Announce,
) -> Result<(), redis::RedisError> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    tracing::info!(%channel, "redis: subscribed to config changes");
    let mut messages = pubsub.on_message();
    while let Some(msg) = messages.next().await {
        match msg
            .get_payload::<String>()
            .ok()
            .as_deref()
            .and_then(Notice::decode)
        {
            Some(notice) => announce(notice),
            None => tracing::warn!("redis: an unreadable notification"),
        }
    }
    Ok(())
}
