//! The flag usage job: writes the usage counted since the last round (`crate::usage`) to the
//! store every period; what cannot be written is kept for the next round.

use std::sync::Arc;

use crate::state::AppState;
use crate::store::Store;

/// Flushes the flag usage every `period` until the state is dropped.
pub fn flush_usage<S: Store>(state: &Arc<AppState<S>>, period: std::time::Duration) {
    super::every(state, period, |state| async move {
        if let Err(e) = state.ingest.usage.flush(state.store.as_ref()).await {
            tracing::warn!(error = %e, "cannot store the flag usage; kept for the next round");
        }
    });
}
