//! Background jobs: what runs on a timer or when woken rather than for a request. Each job holds
//! only a weak reference to the state (it stops when the state is dropped) and calls the same
//! services and store traits as the request handlers.
//!
//! - [`versions`]: re-reads the stored config version (changes by other instances);
//! - [`rollups`]: applies stored event batches to the rollups;
//! - [`retention`]: drops old raw events;
//! - [`bandits`]: reweighs running bandits and publishes their weights as config changes;
//! - [`live`]: recomputes the results live subscribers follow;
//! - [`usage`]: writes the flag usage counted to the store.

pub mod bandits;
pub mod live;
pub mod retention;
pub mod rollups;
pub mod usage;
pub mod versions;
pub mod webhooks;

use std::sync::Arc;

use crate::state::AppState;
use crate::store::Store;

/// Runs `job` every `period` (the first time at once) until the state is dropped; a round
/// that overruns delays the next.
pub(crate) fn every<S, F, Fut>(state: &Arc<AppState<S>>, period: std::time::Duration, job: F)
where
    S: Store,
    F: Fn(Arc<AppState<S>>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            job(state).await;
        }
    });
}
