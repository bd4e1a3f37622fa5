//! What every request handler shares.

use std::sync::Arc;

use litmus_core::Engine;
use tokio::sync::RwLock;

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
}

impl<S: Store> AppState<S> {
    /// State over `store`, accepting `admin_key` on the admin API.
    pub fn new(store: S, admin_key: impl Into<String>) -> Arc<Self> {
        Arc::new(AppState {
            store,
            admin_key: admin_key.into(),
            compiled: RwLock::new(None),
        })
    }

    /// The engine of the current config version: compiled once per version, whichever
    /// server instance wrote it.
    pub async fn engine(&self) -> Result<Arc<Engine>, ApiError> {
        let version = self.store.version().await?;
        if let Some((v, engine)) = self.compiled.read().await.as_ref() {
            if *v == version {
                return Ok(Arc::clone(engine));
            }
        }
        let snapshot = self.store.snapshot().await?;
        let engine = Arc::new(crate::routes::assign::compile(&snapshot.body)?);
        *self.compiled.write().await = Some((snapshot.version, Arc::clone(&engine)));
        Ok(engine)
    }
}
