//! What server instances share besides the store: published snapshots (so a new version is
//! read from the store once, not by every instance), sticky assignments (so a unit keeps its
//! variant when weights change, as bandits' do), and change notifications between instances.
//! In-process by default; Redis when `REDIS_URL` is set. Redis pub/sub is at-most-once, so
//! instances also re-read the stored version on a timer ([`crate::state::watch_versions`]).

pub mod memory;
pub mod redis;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::store::Snapshot;

/// A cache failure (the callers fall back to the store or to in-process state).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend failed (connection, timeout, protocol).
    #[error("cache backend: {0}")]
    Backend(String),
}

/// A boxed future of a cache operation.
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CacheError>> + Send + 'a>>;

/// Called with each config version another instance announces.
pub type Announce = Arc<dyn Fn(u64) + Send + Sync>;

/// A shared cache and notification channel.
pub trait Cache: Send + Sync + 'static {
    /// Its name, for logs and `/readyz`: `memory` or `redis`.
    fn name(&self) -> &'static str;
    /// The snapshot of this version, if cached.
    fn snapshot(&self, version: u64) -> CacheFuture<'_, Option<Snapshot>>;
    /// Caches a snapshot.
    fn put_snapshot<'a>(&'a self, snapshot: &'a Snapshot) -> CacheFuture<'a, ()>;
    /// The variants remembered for these sticky keys (one answer per key).
    fn remembered<'a>(&'a self, keys: &'a [String]) -> CacheFuture<'a, Vec<Option<String>>>;
    /// Remembers each `(key, variant)` unless the key already has a variant; answers, per
    /// entry, the variant that was there first (`None` when this one was stored).
    fn remember<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> CacheFuture<'a, Vec<Option<String>>>;
    /// Tells the other instances that `version` is published.
    fn publish(&self, version: u64) -> CacheFuture<'_, ()>;
    /// Calls `announce` with every version other instances publish, until the process ends.
    fn listen(&self, announce: Announce);
    /// Whether the cache answers (for `/readyz`).
    fn ping(&self) -> CacheFuture<'_, ()>;
    /// How many operations were answered from in-process state because the cache failed.
    fn fallbacks(&self) -> u64 {
        0
    }
}

/// The sticky key of a unit in an experiment.
pub fn sticky_key(experiment: &str, unit: &str) -> String {
    // The experiment key has no control characters (core validates it), so the separator
    // keeps `("a", "b:c")` and `("a:b", "c")` apart.
    format!("{experiment}\u{1f}{unit}")
}
