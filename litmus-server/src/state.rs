//! What every request handler shares.

use std::sync::Arc;

use litmus_core::Engine;
use tokio::sync::{RwLock, watch};

use crate::error::ApiError;
use crate::store::Store;

/// The server's shared state: the store, the admin key, and the engine compiled from the
/// current config version.
pub struct AppState<S> {
    /// The config store.
    pub store: S,
    /// The admin API key (compared in constant time).
    pub admin_key: String,
    /// The config version last compiled, and its engine.
    compiled: RwLock<Option<(u64, Arc<Engine>)>>,
    /// Request counters for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// The newest config version this instance knows of: set by its own writes and by
    /// [`watch_versions`], read by every `/sdk/stream`.
    changes: watch::Sender<u64>,
}

impl<S: Store> AppState<S> {
    /// State over `store`, accepting `admin_key` on the admin API.
    pub fn new(store: S, admin_key: impl Into<String>) -> Arc<Self> {
        Arc::new(AppState {
            store,
            admin_key: admin_key.into(),
            compiled: RwLock::new(None),
            metrics: crate::metrics::Metrics::default(),
            changes: watch::Sender::new(0),
        })
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

    /// The engine of the newest config version this instance knows of (its own writes, and
    /// other instances' through [`watch_versions`]): compiled once per version, with no store
    /// query on the way when it is already compiled.
    pub async fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        let known = *self.changes.borrow();
        if let Some((v, engine)) = self.compiled.read().await.as_ref() {
            if *v >= known {
                return Ok(Arc::clone(engine));
            }
        }
        let snapshot = self.store.snapshot().await?;
        // The snapshot was validated strictly when it was written.
        let engine = Arc::new(Engine::from_json(&snapshot.body)?);
        *self.compiled.write().await = Some((snapshot.version, Arc::clone(&engine)));
        self.announce(snapshot.version);
        Ok(engine)
    }
}

/// Re-reads the stored version every `period` and announces a new one: how an instance learns
/// of changes written by another instance sharing the store (and the fallback behind an
/// at-most-once pub/sub). Runs until the state is dropped.
pub fn watch_versions<S: Store>(state: &Arc<AppState<S>>, period: std::time::Duration) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            match state.store.version().await {
                Ok(v) => state.announce(v),
                Err(e) => tracing::warn!(error = %e, "cannot read the config version"),
            }
        }
    });
}
