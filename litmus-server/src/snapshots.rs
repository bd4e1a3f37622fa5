//! The config as this instance serves it, project by project (`crate::projects`): each
//! project's newest snapshot, each environment's projection of it and its compiled engine, the
//! config version known here (which `/sdk/stream` follows), and publishing a new version to
//! the cache and the other instances. A part of the state (`crate::state`) that handlers and
//! services take on their own; a handler takes its project's part with [`Snapshots::of`].

use std::sync::Arc;

use std::collections::HashMap;

use litmus_core::Engine;
use litmus_core::config::environments::{self, DEFAULT_ENVIRONMENT};
use litmus_core::config::wire::WireConfig;
use litmus_core::results::AnalysisSettings;
use tokio::sync::{Mutex, RwLock, watch};

use crate::cache::{Cache, Notice};
use crate::delivery::Delivery;
use crate::error::ApiError;
use crate::projects::DEFAULT_PROJECT;
use crate::store::{ConfigStore, Snapshot};

/// One environment's document, the engine compiled from it, and what SDKs receive of it
/// (each representation made once, `crate::delivery`).
#[derive(Clone)]
struct Served {
    snapshot: Arc<Snapshot>,
    engine: Arc<Engine>,
    delivery: Arc<Delivery>,
}

/// The newest stored snapshot (the whole document, every environment's overlays included)
/// and what each environment asked for so far is served.
struct Current {
    stored: Arc<Snapshot>,
    served: HashMap<String, Served>,
}

/// What `environment`'s SDKs get of the stored snapshot `stored`: its projection
/// (`litmus_core::config::environments::project`) with the same version and its own ETag, and
/// its engine. Production's document is the stored one, unchanged, while no object has an
/// overlay.
fn serve(stored: &Arc<Snapshot>, environment: &str) -> Result<Served, ApiError> {
    let snapshot =
        if environment == DEFAULT_ENVIRONMENT && !stored.body.contains("\"environments\"") {
            Arc::clone(stored)
        } else {
            let doc: WireConfig = serde_json::from_str(&stored.body).map_err(ApiError::internal)?;
            let projected = serde_json::to_value(environments::project(&doc, environment))
                .map_err(ApiError::internal)?;
            let (body, etag) = crate::store::publish(projected, stored.version)?;
            Arc::new(Snapshot {
                version: stored.version,
                etag,
                body,
            })
        };
    // The snapshot was validated strictly, every environment's document, when it was written.
    let engine = Arc::new(Engine::from_json(&snapshot.body)?);
    let delivery = Arc::new(Delivery::new(Arc::clone(&snapshot))?);
    Ok(Served {
        snapshot,
        engine,
        delivery,
    })
}

/// One project's served config: its newest stored snapshot with each environment's
/// projection, and the newest version known here.
struct Serving {
    /// The project.
    project: Arc<str>,
    /// The newest snapshot read, and what each environment got of it.
    current: RwLock<Option<Current>>,
    /// Held while a newer snapshot is read and served: after a change every stream of the
    /// project asks at once, and only the first reads, projects and compiles.
    refresh: Mutex<()>,
    /// The newest config version of the project this instance knows of: set by its own
    /// writes, by other instances' notifications and by `crate::jobs::versions`; read by every
    /// `/sdk/stream` of the project.
    changes: watch::Sender<u64>,
}

/// The config this instance serves, every project's, over the store `S` (cheap to clone: it
/// is shared). [`Snapshots::of`] gives one project's.
pub struct Snapshots<S> {
    store: Arc<S>,
    cache: Arc<dyn Cache>,
    /// Each project served so far.
    projects: Arc<std::sync::Mutex<HashMap<String, Arc<Serving>>>>,
    /// Counts the new versions announced, every project's (for work that follows them all).
    any_change: Arc<watch::Sender<u64>>,
    /// The server's default analysis settings, under each experiment's own.
    analysis: Arc<AnalysisSettings>,
    /// `true` once the server shuts down: every `/sdk/stream` ends.
    closing: Arc<watch::Sender<bool>>,
}

impl<S> Clone for Snapshots<S> {
    fn clone(&self) -> Self {
        Snapshots {
            store: Arc::clone(&self.store),
            cache: Arc::clone(&self.cache),
            projects: Arc::clone(&self.projects),
            any_change: Arc::clone(&self.any_change),
            analysis: Arc::clone(&self.analysis),
            closing: Arc::clone(&self.closing),
        }
    }
}

impl<S: ConfigStore> Snapshots<S> {
    /// The config served from `store`, cached and announced through `cache`.
    pub fn new(store: Arc<S>, cache: Arc<dyn Cache>) -> Self {
        Snapshots {
            store,
            cache,
            projects: Arc::default(),
            any_change: Arc::new(watch::Sender::new(0)),
            analysis: Arc::default(),
            closing: Arc::new(watch::Sender::new(false)),
        }
    }

    /// The same, with `analysis` as the server's default analysis settings.
    pub fn with_analysis(mut self, analysis: Arc<AnalysisSettings>) -> Self {
        self.analysis = analysis;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The config of `project` as this instance serves it.
    /// A project already served costs a lookup and no allocation (every request takes this).
    pub fn of(&self, project: &str) -> ProjectConfig<S> {
        let serving = {
            let mut projects = crate::store::lock(&self.projects);
            match projects.get(project) {
                Some(serving) => Arc::clone(serving),
                None => {
                    let serving = Arc::new(Serving {
                        project: Arc::from(project),
                        current: RwLock::new(None),
                        refresh: Mutex::new(()),
                        changes: watch::Sender::new(0),
                    });
                    projects.insert(project.to_owned(), Arc::clone(&serving));
                    serving
                }
            }
        };
        ProjectConfig {
            all: self.clone(),
            serving,
        }
    }

    /// Ends every open `/sdk/stream` (and those opened later): the server is shutting down,
    /// and the clients reconnect to another instance.
    pub fn close_streams(&self) {
        self.closing.send_replace(true);
    }

    /// A receiver told of every new version announced, of any project.
    pub fn subscribe_all(&self) -> watch::Receiver<u64> {
        self.any_change.subscribe()
    }

    /// Announces that `version` of `project` is current (newer versions only).
    pub fn announce(&self, project: &str, version: u64) {
        self.of(project).announce(version);
    }

    /// The projects this instance served so far (the default one always).
    pub fn served_projects(&self) -> Vec<String> {
        let projects = crate::store::lock(&self.projects);
        let mut out: Vec<String> = projects.keys().cloned().collect();
        if !projects.contains_key(DEFAULT_PROJECT) {
            out.push(DEFAULT_PROJECT.to_owned());
        }
        out.sort();
        out
    }
}

/// One project's config as this instance serves it (cheap to clone): the newest snapshot and
/// each environment's projection and engine, the version known here (which `/sdk/stream`
/// follows), and publishing a new version to the cache and the other instances.
pub struct ProjectConfig<S> {
    all: Snapshots<S>,
    serving: Arc<Serving>,
}

impl<S> Clone for ProjectConfig<S> {
    fn clone(&self) -> Self {
        ProjectConfig {
            all: self.all.clone(),
            serving: Arc::clone(&self.serving),
        }
    }
}

impl<S: ConfigStore> ProjectConfig<S> {
    /// The project.
    pub fn project(&self) -> &str {
        &self.serving.project
    }

    /// The server's default analysis settings.
    pub fn analysis(&self) -> &AnalysisSettings {
        &self.all.analysis
    }

    /// The store (every project's: pass [`ProjectConfig::project`] to its config methods).
    pub fn store(&self) -> &S {
        &self.all.store
    }

    /// The store, shared (for work that outlives a request's borrow, as a streamed body).
    pub fn store_arc(&self) -> Arc<S> {
        Arc::clone(&self.all.store)
    }

    /// Announces that `version` of the project is current (newer versions only).
    pub fn announce(&self, version: u64) {
        let newer = self.serving.changes.send_if_modified(|known| {
            let newer = version > *known;
            if newer {
                *known = version;
            }
            newer
        });
        if newer {
            self.all.any_change.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    /// A receiver of the project's config versions, for a stream.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.serving.changes.subscribe()
    }

    /// A receiver that turns `true` when the streams must end ([`Snapshots::close_streams`]).
    pub fn closing(&self) -> watch::Receiver<bool> {
        self.all.closing.subscribe()
    }

    /// After this instance published `snapshot` of the project: caches it, announces it here
    /// and tells the other instances. A cache failure is logged, not returned: the change is
    /// stored, and the other instances find it when they re-read the stored version.
    pub async fn published(&self, snapshot: Snapshot) {
        if let Err(e) = self
            .all
            .cache
            .put_snapshot(&self.serving.project, &snapshot)
            .await
        {
            tracing::warn!(error = %e, "cannot cache the new snapshot");
        }
        let notice = Notice::Config {
            project: self.serving.project.to_string(),
            version: snapshot.version,
        };
        if let Err(e) = self.all.cache.publish(&notice).await {
            tracing::warn!(error = %e, "cannot notify the other instances");
        }
        self.announce(snapshot.version);
    }

    /// The newest snapshot this instance knows of as `environment` is served, and its engine:
    /// from memory when it is current, else from the cache, else from the store (then cached),
    /// projected and compiled once per version and environment (one refresh at a time).
    async fn current(&self, environment: &str) -> Result<Served, ApiError> {
        if let Some(served) = self.up_to_date(environment).await {
            return Ok(served);
        }
        let _refresh = self.serving.refresh.lock().await;
        if let Some(served) = self.up_to_date(environment).await {
            return Ok(served);
        }
        let known = *self.serving.changes.borrow();
        let stored = match self.serving.current.read().await.as_ref() {
            Some(c) if c.stored.version >= known => match c.served.get(environment) {
                Some(served) => return Ok(served.clone()),
                None => Some(Arc::clone(&c.stored)),
            },
            _ => None,
        };
        let stored = match stored {
            Some(s) => s,
            None => Arc::new(self.newest(known).await?),
        };
        let served = serve(&stored, environment)?;
        let mut slot = self.serving.current.write().await;
        match slot.as_mut() {
            Some(c) if c.stored.version > stored.version => {
                if let Some(newer) = c.served.get(environment) {
                    return Ok(newer.clone());
                }
            }
            Some(c) if c.stored.version == stored.version => {
                c.served.insert(environment.to_owned(), served.clone());
            }
            _ => {
                *slot = Some(Current {
                    stored: Arc::clone(&stored),
                    served: HashMap::from([(environment.to_owned(), served.clone())]),
                });
            }
        }
        drop(slot);
        self.announce(stored.version);
        Ok(served)
    }

    /// What `environment` is served, when it is of the newest version known.
    async fn up_to_date(&self, environment: &str) -> Option<Served> {
        let known = *self.serving.changes.borrow();
        match self.serving.current.read().await.as_ref() {
            Some(c) if c.stored.version >= known => c.served.get(environment).cloned(),
            _ => None,
        }
    }

    /// The stored snapshot of the newest version known (`known`, announced): the cache's copy
    /// when this instance started serving already, else the store's (then cached).
    async fn newest(&self, known: u64) -> Result<Snapshot, ApiError> {
        let started = self.serving.current.read().await.is_some();
        // Versions are immutable, so the cache's copy of the version announced is that
        // version. Before the first read nothing was announced yet: the store says which.
        let cached = if started {
            self.all
                .cache
                .snapshot(&self.serving.project, known)
                .await
                .unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "cannot read the cached snapshot");
                    None
                })
        } else {
            None
        };
        match cached {
            Some(s) => Ok(s),
            None => {
                let s = self.all.store.snapshot(&self.serving.project).await?;
                if s.version >= known {
                    if let Err(e) = self.all.cache.put_snapshot(&self.serving.project, &s).await {
                        tracing::warn!(error = %e, "cannot cache the snapshot");
                    }
                }
                Ok(s)
            }
        }
    }

    /// The newest snapshot this instance knows of, as the default environment's SDKs get it
    /// (see [`ProjectConfig::engine`]).
    pub async fn snapshot(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.snapshot_in(DEFAULT_ENVIRONMENT).await
    }

    /// The newest snapshot this instance knows of, as `environment`'s SDKs get it.
    pub async fn snapshot_in(&self, environment: &str) -> Result<Arc<Snapshot>, ApiError> {
        Ok(self.current(environment).await?.snapshot)
    }

    /// What `environment`'s SDKs receive of the newest snapshot this instance knows of: its
    /// body, stream frame and encoded bodies, each made once (`crate::delivery`).
    pub async fn delivery_in(&self, environment: &str) -> Result<Arc<Delivery>, ApiError> {
        Ok(self.current(environment).await?.delivery)
    }

    /// The engine of the newest config version this instance knows of (its own writes, and
    /// other instances' through notifications and `crate::jobs::versions`), as the default
    /// environment serves it: compiled once per version, with no store query on the way when
    /// it is already compiled.
    pub async fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        self.engine_in(DEFAULT_ENVIRONMENT).await
    }

    /// The engine of the newest config version this instance knows of, as `environment`
    /// serves it.
    pub async fn engine_in(&self, environment: &str) -> Result<Arc<Engine>, ApiError> {
        Ok(self.current(environment).await?.engine)
    }

    /// The newest stored snapshot this instance knows of: the whole document, every
    /// environment's overlays included (for the metric program of every environment).
    pub async fn stored(&self) -> Result<Arc<Snapshot>, ApiError> {
        self.current(DEFAULT_ENVIRONMENT).await?;
        match self.serving.current.read().await.as_ref() {
            Some(c) => Ok(Arc::clone(&c.stored)),
            None => Err(ApiError::internal("no snapshot was read")),
        }
    }
}
