//! What the handlers and jobs share, in parts. Each part is cheap to clone (it is shared) and
//! is extracted on its own (`axum::extract::FromRef`), so a handler takes only the parts it
//! uses: [`Access`] (who may call), [`Snapshots`] (the config served, and the store), [`Ingest`]
//! (the event path), [`SharedCache`], [`Metrics`] and [`LiveHub`]. No part knows a handler.

use std::sync::Arc;

use axum::extract::FromRef;
use tokio::sync::{Notify, Semaphore};

use crate::auth::Access;
use crate::cache::memory::MemoryCache;
use crate::cache::{Cache, Notice, SharedCache};
use crate::keys::KeyCache;
use litmus_core::results::AnalysisSettings;

use crate::live::LiveHub;
use crate::metrics::Metrics;
use crate::snapshots::Snapshots;
use crate::store::Store;

/// How many sticky assignments the default in-process cache keeps.
pub const STICKY_CAPACITY: usize = 1_000_000;

/// Settings of the event path and of the results.
#[derive(Debug, Clone)]
pub struct Tuning {
    /// How long after a unit's first exposure its metric events count
    /// (`litmus_core::events::rollup`).
    pub attribution_window_ms: i64,
    /// How many event batches are read and stored at once; more wait (then get 429). The
    /// store commits those that arrive together in one group (`crate::store::group_commit`),
    /// so the more there are, the larger the groups.
    pub ingest_permits: usize,
    /// The server's default analysis settings: an experiment's own settings win over them,
    /// and they over core's (`litmus_core::results::settings`).
    pub analysis: Arc<AnalysisSettings>,
    /// How people sign in (`crate::people`).
    pub people: crate::people::PeopleSettings,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            attribution_window_ms: litmus_core::events::rollup::DEFAULT_WINDOW_MS,
            ingest_permits: 64,
            analysis: Arc::default(),
            people: crate::people::PeopleSettings::default(),
        }
    }
}

/// The event path: the store, its settings, the permits of batches being stored, and the
/// signal that wakes the rollup job.
pub struct Ingest<S> {
    /// The store.
    pub store: Arc<S>,
    /// Settings of the event path.
    pub tuning: Tuning,
    /// One permit per event batch being read and stored.
    pub slots: Arc<Semaphore>,
    /// Woken when a batch is stored, for `crate::jobs::rollups`.
    pub rollups_due: Arc<Notify>,
    /// The holdout exposures `POST /assign` logged (`crate::service::assign`): each (holdout,
    /// unit) once while remembered, in bounded memory.
    pub holdouts_logged: Arc<std::sync::Mutex<litmus_core::ExposureMemory>>,
    /// Flag usage counted since the last flush (`crate::usage`): `/evaluate` and SDKs' usage
    /// reports add to it, the usage job writes it to the store.
    pub usage: crate::usage::UsageBuffer,
}

/// Holdout exposures `POST /assign` remembers having logged (about 16 bytes each).
const HOLDOUTS_LOGGED: usize = 100_000;

impl<S> Clone for Ingest<S> {
    fn clone(&self) -> Self {
        Ingest {
            store: Arc::clone(&self.store),
            tuning: self.tuning.clone(),
            slots: Arc::clone(&self.slots),
            rollups_due: Arc::clone(&self.rollups_due),
            holdouts_logged: Arc::clone(&self.holdouts_logged),
            usage: self.usage.clone(),
        }
    }
}

/// The server's shared state: every part, for the router and the jobs.
pub struct AppState<S> {
    /// The store (every concern).
    pub store: Arc<S>,
    /// The cache and notification channel shared with other instances.
    pub cache: Arc<dyn Cache>,
    /// Who may call: the admin key and API keys.
    pub access: Access<S>,
    /// The config this instance serves.
    pub snapshots: Snapshots<S>,
    /// The event path.
    pub ingest: Ingest<S>,
    /// Request counters for `/metrics`.
    pub metrics: Metrics,
    /// The live results subscriptions of this instance.
    pub live: LiveHub,
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
        let store = Arc::new(store);
        let admin_key: String = admin_key.into();
        let state = Arc::new(AppState {
            access: Access::new(Arc::clone(&store), admin_key, KeyCache::default())
                .with_people(tuning.people.clone()),
            snapshots: Snapshots::new(Arc::clone(&store), Arc::clone(&cache))
                .with_analysis(Arc::clone(&tuning.analysis)),
            ingest: Ingest {
                store: Arc::clone(&store),
                slots: Arc::new(Semaphore::new(tuning.ingest_permits.max(1))),
                tuning,
                rollups_due: Arc::new(Notify::new()),
                holdouts_logged: Arc::new(std::sync::Mutex::new(litmus_core::ExposureMemory::new(
                    HOLDOUTS_LOGGED,
                    crate::now_ms() as u64,
                ))),
                usage: crate::usage::UsageBuffer::default(),
            },
            store,
            cache,
            metrics: Metrics::default(),
            live: LiveHub::default(),
        });
        // A weak reference: the cache must not keep the state alive.
        let weak = Arc::downgrade(&state);
        state.cache.listen(Arc::new(move |notice| {
            if let Some(state) = weak.upgrade() {
                match notice {
                    Notice::Config { project, version } => {
                        state.snapshots.announce(&project, version)
                    }
                    Notice::Rollups {
                        version,
                        experiments,
                    } => state.live.changed(version, experiments),
                }
            }
        }));
        state
    }
}

/// Each part of the state is extracted on its own.
macro_rules! parts {
    ($($part:ty => $field:ident),* $(,)?) => {$(
        impl<S: Store> FromRef<Arc<AppState<S>>> for $part {
            fn from_ref(state: &Arc<AppState<S>>) -> Self {
                state.$field.clone()
            }
        }
    )*};
}

parts! {
    Access<S> => access,
    Snapshots<S> => snapshots,
    Ingest<S> => ingest,
    Metrics => metrics,
    LiveHub => live,
}

impl<S: Store> FromRef<Arc<AppState<S>>> for SharedCache {
    fn from_ref(state: &Arc<AppState<S>>) -> Self {
        SharedCache(Arc::clone(&state.cache))
    }
}
