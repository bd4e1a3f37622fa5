//! What every request handler shares.

use std::sync::Arc;

use litmus_core::Engine;
use tokio::sync::{RwLock, watch};

use crate::cache::memory::MemoryCache;
use crate::cache::{Cache, Notice};
use crate::error::ApiError;
use crate::store::{Snapshot, Store};

/// How many sticky assignments the default in-process cache keeps.
pub const STICKY_CAPACITY: usize = 1_000_000;

/// Settings of the event path.
#[derive(Debug, Clone, Copy)]
pub struct Tuning {
    /// How long after a unit's first exposure its metric events count
    /// (`litmus_core::events::rollup`).
    pub attribution_window_ms: i64,
    /// How many event batches are read and stored at once; more wait (then get 429).
    pub ingest_permits: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            attribution_window_ms: litmus_core::events::rollup::DEFAULT_WINDOW_MS,
            ingest_permits: 16,
        }
    }
}

/// The server's shared state: the store, the cache, the admin key, and the newest snapshot
/// with its compiled engine.
pub struct AppState<S> {
    /// The config store.
    pub store: S,
    /// The cache and notification channel shared with other instances.
    pub cache: Arc<dyn Cache>,
    /// The admin API key (compared in constant time).
    pub admin_key: String,
    /// API keys looked up recently.
    pub keys: crate::keys::KeyCache,
    /// Settings of the event path.
    pub tuning: Tuning,
    /// One permit per event batch being read and stored.
    pub ingest_slots: tokio::sync::Semaphore,
    /// Woken when a batch is stored, for [`apply_rollups`].
    pub rollups_due: tokio::sync::Notify,
    /// The newest snapshot read, and its engine.
    current: RwLock<Option<Current>>,
    /// Request counters for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The newest config version this instance knows of: set by its own writes, by other
    /// instances' notifications and by [`watch_versions`]; read by every `/sdk/stream`.
    changes: watch::Sender<u64>,
    /// The live results subscriptions of this instance.
    pub live: crate::live::LiveHub,
}

/// A snapshot and the engine compiled from it.
struct Current {
    snapshot: Arc<Snapshot>,
    engine: Arc<Engine>,
}

impl<S: Store> AppState<S> {
    /// State over `store` with the in-process cache, accepting `admin_key` on the admin API.
    pub fn new(store: S, admin_key: impl Into<String>) -> Arc<Self> {
        Self::with_cache(
            store,
            admin_key,
            Arc::new(MemoryCache::new(STICKY_CAPACITY)),
        )
    }

    /// State over `store` and `cache`; listens to the versions other instances publish.
    pub fn with_cache(store: S, admin_key: impl Into<String>, cache: Arc<dyn Cache>) -> Arc<Self> {
        Self::build(store, admin_key, cache, Tuning::default())
    }

    /// State over `store` and `cache` with these settings.
    pub fn build(
        store: S,
        admin_key: impl Into<String>,
        cache: Arc<dyn Cache>,
        tuning: Tuning,
    ) -> Arc<Self> {
        let state = Arc::new(AppState {
            store,
            cache,
            admin_key: admin_key.into(),
            keys: crate::keys::KeyCache::default(),
            tuning,
            ingest_slots: tokio::sync::Semaphore::new(tuning.ingest_permits.max(1)),
            rollups_due: tokio::sync::Notify::new(),
            current: RwLock::new(None),
            metrics: crate::metrics::Metrics::default(),
            changes: watch::Sender::new(0),
            live: crate::live::LiveHub::default(),
        });
        let weak = Arc::downgrade(&state);
        state.cache.listen(Arc::new(move |notice| {
            if let Some(state) = weak.upgrade() {
                match notice {
                    Notice::Config(version) => state.announce(version),
                    Notice::Rollups {
                        version,
                        experiments,
                    } => state.live.changed(version, experiments),
                }
            }
        }));
        state
    }

    /// Announces that `version` is current (newer versions only).
    pub fn announce(&self, version: u64) {
        self.changes.send_if_modified(|known| {
            let newer = version > *known;
            if newer {
                *known = version;
            }
            newer
        });
    }

    /// A receiver of config versions, for a stream.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    /// After this instance published `snapshot`: caches it, announces it here and tells the
    /// other instances. A cache failure is logged, not returned: the change is stored, and the
    /// other instances find it when they re-read the stored version.
    pub async fn published(&self, snapshot: Snapshot) {
        if let Err(e) = self.cache.put_snapshot(&snapshot).await {
            tracing::warn!(error = %e, "cannot cache the new snapshot");
        }
        if let Err(e) = self.cache.publish(&Notice::Config(snapshot.version)).await {
            tracing::warn!(error = %e, "cannot notify the other instances");
        }
        self.announce(snapshot.version);
    }

    /// After this instance applied rollups: tells its live hub and the other instances which
    /// experiments changed (a cache failure is logged; the others notice the new version when
    /// they re-read it).
    pub async fn rollups_applied(&self, applied: &crate::store::Applied) {
        if applied.batches == 0 {
            return;
        }
        let experiments: Vec<String> = applied.experiments.iter().cloned().collect();
        self.live
            .changed(applied.version, experiments.iter().cloned());
        let notice = Notice::Rollups {
            version: applied.version,
            experiments,
        };
        if let Err(e) = self.cache.publish(&notice).await {
            tracing::warn!(error = %e, "cannot tell the other instances of new rollups");
        }
    }

    /// The newest snapshot this instance knows of, and its engine: from memory when it is
    /// current, else from the cache, else from the store (then cached), compiled once per
    /// version.
    async fn current(&self) -> Result<(Arc<Snapshot>, Arc<Engine>), ApiError> {
        let known = *self.changes.borrow();
        let started = match self.current.read().await.as_ref() {
            Some(c) if c.snapshot.version >= known => {
                return Ok((Arc::clone(&c.snapshot), Arc::clone(&c.engine)));
            }
            Some(_) => true,
            None => false,
        };
        // Versions are immutable, so the cache's copy of the version announced is that
        // version. Before the first read nothing was announced yet: the store says which.
        let cached = if started {
            self.cache.snapshot(known).await.unwrap_or_else(|e| {
                tracing::warn!(error = %e, "cannot read the cached snapshot");
                None
            })
        } else {
            None
        };
        let snapshot = match cached {
            Some(s) => s,
            None => {
                let s = self.store.snapshot().await?;
                if s.version >= known {
                    if let Err(e) = self.cache.put_snapshot(&s).await {
                        tracing::warn!(error = %e, "cannot cache the snapshot");
                    }
                }
                s
            }
        };
        let mut slot = self.current.write().await;
        if let Some(c) = slot.as_ref() {
            if c.snapshot.version >= snapshot.version {
                return Ok((Arc::clone(&c.snapshot), Arc::clone(&c.engine)));
            }
        }
        // The snapshot was validated strictly when it was written.
        let engine = Arc::new(Engine::from_json(&snapshot.body)?);
        let snapshot = Arc::new(snapshot);
        *slot = Some(Current {
            snapshot: Arc::clone(&snapshot),
            engine: Arc::clone(&engine),
        });
        drop(slot);
        self.announce(snapshot.version);
        Ok((snapshot, engine))
    }

    /// The newest snapshot this instance knows of (see [`AppState::engine`]).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        Ok(self.current().await?.0)
    }

    /// The engine of the newest config version this instance knows of (its own writes, and
    /// other instances' through notifications and [`watch_versions`]): compiled once per
    /// version, with no store query on the way when it is already compiled.
    pub async fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        Ok(self.current().await?.1)
    }
}
