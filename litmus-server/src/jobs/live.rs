//! The live results job: recomputes the subscribed experiments' results when their rollups
//! change and hands them to the instance's `crate::live::LiveHub`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;

use crate::results::{DEFAULT_POINTS, experiment_results};
use crate::state::AppState;
use crate::store::Store;

/// Keeps the subscribed experiments' results current: recomputes each changed experiment once
/// for all its subscribers (a change after a quiet spell at once, then at most one round per
/// `min_interval`, changes in between computed together), and re-reads the stored rollup
/// version every `poll` to notice lost notifications. Runs until the state is dropped.
pub fn run<S: Store>(state: &Arc<AppState<S>>, poll: Duration, min_interval: Duration) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let mut config = match weak.upgrade() {
            Some(state) => state.snapshots.subscribe_all(),
            None => return,
        };
        let mut next_poll = tokio::time::Instant::now() + poll;
        let mut last_round = tokio::time::Instant::now() - min_interval;
        loop {
            let Some(mut state) = weak.upgrade() else {
                break;
            };
            let woken = tokio::select! {
                () = state.live.wake.notified() => true,
                changed = config.changed() => {
                    if changed.is_ok() {
                        state.live.recompute_all();
                    }
                    true
                }
                () = tokio::time::sleep_until(next_poll) => false,
            };
            if !woken {
                next_poll = tokio::time::Instant::now() + poll;
                if !state.live.has_subscribers() {
                    continue;
                }
                match state.store.rollup_version().await {
                    Ok(v) => state.live.stored_version(v),
                    Err(e) => tracing::warn!(error = %e, "live: cannot read the rollup version"),
                }
            }
            // At most one round per `min_interval`: changes that arrive sooner wait for the
            // rest of it and are computed together.
            let since = last_round.elapsed();
            if since < min_interval {
                drop(state);
                tokio::time::sleep(min_interval - since).await;
                let Some(again) = weak.upgrade() else { break };
                state = again;
            }
            let dirty = state.live.take_dirty();
            if dirty.is_empty() {
                continue;
            }
            last_round = tokio::time::Instant::now();
            // The version read before the rollups: the results reflect at least it.
            if let Ok(stored) = state.store.rollup_version().await {
                state.live.saw_version(stored);
            }
            let version = state.live.version();
            for hub_topic in dirty {
                // A topic is an experiment's key, or `key@environment` for another environment,
                // in the hub under its project.
                let (project, topic) = crate::environments::of_hub_topic(&hub_topic);
                let (key, environment) = crate::environments::of_topic(topic);
                let config = state.snapshots.of(project);
                let engine = match config.engine_in(environment).await {
                    Ok(engine) => engine,
                    Err(e) => {
                        tracing::warn!(error = %e, "live: no config; retrying");
                        state.live.refresh(&hub_topic);
                        continue;
                    }
                };
                let results = experiment_results(
                    state.store.as_ref(),
                    &engine,
                    config.analysis(),
                    key,
                    &crate::environments::Stream::of(project, environment),
                    DEFAULT_POINTS,
                )
                .await;
                let (message, keep) = match results {
                    Ok(data) => (
                        json!({"type": "results", "experiment": topic,
                                   "version": version, "data": data}),
                        true,
                    ),
                    Err(e) => (
                        json!({"type": "error", "experiment": topic,
                                   "code": e.code(), "message": e.to_string()}),
                        false,
                    ),
                };
                state
                    .live
                    .publish(&hub_topic, Arc::from(message.to_string()), keep);
            }
        }
    });
}
