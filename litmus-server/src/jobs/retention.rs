//! The retention job: drops old raw events (the rollups stay).

use std::sync::Arc;

use crate::state::AppState;
use crate::store::Store;

/// Drops raw events older than `retention` every `period` (the rollups stay). Runs until the
/// state is dropped.
pub fn retain_events<S: Store>(
    state: &Arc<AppState<S>>,
    retention: std::time::Duration,
    period: std::time::Duration,
) {
    let keep_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    super::every(state, period, move |state| async move {
        let cutoff = crate::now_ms().saturating_sub(keep_ms);
        match state.store.retain(cutoff).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(dropped = n, cutoff_ms = cutoff, "old events dropped"),
            Err(e) => tracing::warn!(error = %e, "cannot drop old events"),
        }
    });
}
