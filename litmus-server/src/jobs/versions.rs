//! The config version job: how an instance learns of changes other instances wrote.

use std::sync::Arc;

use crate::state::AppState;
use crate::store::Store;

/// Re-reads each project's stored version every `period` and announces a new one: how an instance learns
/// of changes written by another instance sharing the store when no notification reached it
/// (pub/sub is at-most-once, and absent without Redis). Runs until the state is dropped.
pub fn watch_versions<S: Store>(state: &Arc<AppState<S>>, period: std::time::Duration) {
    super::every(state, period, |state| async move {
        // Only the projects this instance serves: a project is served from its first request.
        for project in state.snapshots.served_projects() {
            match state.store.version(&project).await {
                Ok(v) => state.snapshots.announce(&project, v),
                Err(e) => {
                    tracing::warn!(error = %e, %project, "cannot read the config version")
                }
            }
        }
    });
}
