//! The config as this instance serves it: the newest snapshot and its compiled engine, the
//! config version known here (which `/sdk/stream` follows), and publishing a new version to
//! the cache and the other instances. A part of the state (`crate::state`) that handlers and
//! services take on their own.

use std::sync::Arc;

use litmus_core::Engine;
use litmus_core::results::AnalysisSettings;
use tokio::sync::{RwLock, watch};

use crate::cache::{Cache, Notice};
use crate::error::ApiError;
use crate::store::{ConfigStore, Snapshot};

/// A snapshot and the engine compiled from it.
struct Current {
    snapshot: Arc<Snapshot>,
    engine: Arc<Engine>,
}

/// The config this instance serves, over the store `S` (cheap to clone: it is shared).
pub struct Snapshots<S> {
    store: Arc<S>,
    cache: Arc<dyn Cache>,
    /// The newest snapshot read, and its engine.
    current: Arc<RwLock<Option<Current>>>,
    /// The newest config version this instance knows of: set by its own writes, by other
    /// instances' notifications and by `crate::jobs::versions`; read by every `/sdk/stream`.
    changes: Arc<watch::Sender<u64>>,
    /// The server's default analysis settings, under each experiment's own.
    analysis: Arc<AnalysisSettings>,
}

impl<S> Clone for Snapshots<S> {
    fn clone(&self) -> Self {
        Snapshots {
            store: Arc::clone(&self.store),
            cache: Arc::clone(&self.cache),
            current: Arc::clone(&self.current),
            changes: Arc::clone(&self.changes),
            analysis: Arc::clone(&self.analysis),
        }
    }
}

impl<S: ConfigStore> Snapshots<S> {
    /// The config served from `store`, cached and announced through `cache`.
    pub fn new(store: Arc<S>, cache: Arc<dyn Cache>) -> Self {
        Snapshots {
            store,
            cache,
            current: Arc::new(RwLock::new(None)),
            changes: Arc::new(watch::Sender::new(0)),
            analysis: Arc::default(),
        }
    }

    /// The same, with `analysis` as the server's default analysis settings.
    pub fn with_analysis(mut self, analysis: Arc<AnalysisSettings>) -> Self {
        self.analysis = analysis;
        self
    }

    /// The server's default analysis settings.
    pub fn analysis(&self) -> &AnalysisSettings {
        &self.analysis
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The store, shared (for work that outlives a request's borrow, as a streamed body).
    pub fn store_arc(&self) -> Arc<S> {
        Arc::clone(&self.store)
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

    /// The newest snapshot this instance knows of (see [`Snapshots::engine`]).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        Ok(self.current().await?.0)
    }

    /// The engine of the newest config version this instance knows of (its own writes, and
    /// other instances' through notifications and `crate::jobs::versions`): compiled once per
    /// version, with no store query on the way when it is already compiled.
    pub async fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        Ok(self.current().await?.1)
    }
}
