//! The rollup job: applies stored event batches to the rollups and tells the live hubs.

use std::sync::Arc;

use crate::cache::Notice;
use crate::state::AppState;
use crate::store::{Applied, Store};

/// Keeps the rollups up to date: applies queued event batches as soon as one is stored here
/// (and every `period`, for batches stored by other instances), a few at a time, until the
/// queue is empty. While batches are being ingested, it works at most a quarter of the time
/// (pausing three times as long as each round took, and at least `period`), so the
/// acknowledgements keep the CPU and the store first and the rollups catch up when the load
/// eases. Runs until the state is dropped.
pub fn apply_rollups<S: Store>(state: &Arc<AppState<S>>, period: std::time::Duration) {
    /// Batches applied per transaction.
    const PER_ROUND: usize = 4;
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            let Some(state) = weak.upgrade() else { break };
            let window = state.ingest.tuning.attribution_window_ms;
            let started = std::time::Instant::now();
            match state.store.apply_rollups(window, PER_ROUND).await {
                Ok(applied) if applied.batches > 0 => {
                    applied_here(&state, &applied).await;
                    let busy =
                        state.ingest.slots.available_permits() < state.ingest.tuning.ingest_permits;
                    if busy {
                        // At most a quarter of the time while batches are coming in.
                        let pause = period.max(started.elapsed() * 3);
                        drop(state);
                        tokio::time::sleep(pause).await;
                    }
                }
                Ok(_) => {
                    let _ = tokio::time::timeout(period, state.ingest.rollups_due.notified()).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot apply the rollups; retrying");
                    drop(state);
                    tokio::time::sleep(period).await;
                }
            }
        }
    });
}

/// After this instance applied rollups: tells its live hub and the other instances which
/// experiments changed (a cache failure is logged; the others notice the new version when
/// they re-read it).
async fn applied_here<S: Store>(state: &AppState<S>, applied: &Applied) {
    if applied.batches == 0 {
        return;
    }
    let experiments: Vec<String> = applied.experiments.iter().cloned().collect();
    state
        .live
        .changed(applied.version, experiments.iter().cloned());
    let notice = Notice::Rollups {
        version: applied.version,
        experiments,
    };
    if let Err(e) = state.cache.publish(&notice).await {
        tracing::warn!(error = %e, "cannot tell the other instances of new rollups");
    }
}
