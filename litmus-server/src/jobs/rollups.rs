//! The rollup job: applies stored event batches to the rollups and tells the live hubs.

use crate::environments::Stream;
use std::sync::Arc;

use crate::cache::Notice;
use crate::state::AppState;
use crate::store::{Applied, Store};

/// Keeps the rollups up to date: applies queued event batches as soon as one is stored here
/// (and every `period`, for batches stored by other instances), a round at a time until the
/// queue is empty (the store bounds a round, see `EventStore::apply_rollups`), so the rollups
/// keep up with a sustained load instead of falling behind it. Rounds start at most every
/// `ROUND_GAP`: a worker that keeps up applies what came in meanwhile in one round instead of
/// many small ones, each with its statements and commit; one that is behind takes longer
/// rounds than that, back to back. Runs until the state is dropped.
pub fn apply_rollups<S: Store>(state: &Arc<AppState<S>>, period: std::time::Duration) {
    /// Batches applied per transaction at most (the store also stops at about
    /// `ROUND_EVENTS` events).
    const PER_ROUND: usize = 1_024;
    /// The shortest time from the start of a round to the start of the next (results trail
    /// the events by at most about this much more).
    const ROUND_GAP: std::time::Duration = std::time::Duration::from_millis(100);
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        // The config version whose metric program the store has.
        let mut programmed: Option<u64> = None;
        loop {
            let Some(state) = weak.upgrade() else { break };
            refresh_program(&state, &mut programmed).await;
            let window = state.ingest.tuning.attribution_window_ms;
            let started = tokio::time::Instant::now();
            match state.store.apply_rollups(window, PER_ROUND).await {
                Ok(applied) if applied.batches > 0 => {
                    applied_here(&state, &applied).await;
                    drop(state);
                    tokio::time::sleep_until(started + ROUND_GAP).await;
                }
                Ok(applied) => {
                    // Nothing applied; a checkpoint may have brought units' records up to date.
                    applied_here(&state, &applied).await;
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

/// Gives the store the metric program of the config this instance serves, when it differs
/// from the one `programmed` fingerprints (a config that cannot be read leaves the program as
/// it was; the next round tries again): every project's, and in each every environment's,
/// each under its stream's prefix (`crate::environments`), for production and each
/// environment an overlay names (the others run no experiment).
pub async fn refresh_program<S: Store>(state: &AppState<S>, programmed: &mut Option<u64>) {
    let projects = match state.store.projects().await {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "cannot list the projects for the metric program");
            return;
        }
    };
    let mut documents = Vec::with_capacity(projects.len());
    let mut versions = String::new();
    for project in projects {
        match state.snapshots.of(&project.key).stored().await {
            Ok(s) => {
                versions.push_str(&format!("{}:{};", project.key, s.version));
                documents.push((project.key, s));
            }
            Err(e) => {
                tracing::warn!(error = %e, project = %project.key, "cannot read the config for the metric program");
                return;
            }
        }
    }
    let fingerprint = xxhash_rust::xxh3::xxh3_64(versions.as_bytes());
    if *programmed == Some(fingerprint) {
        return;
    }
    let mut configs = Vec::with_capacity(documents.len());
    for (project, snapshot) in documents {
        match serde_json::from_str::<litmus_core::config::wire::WireConfig>(&snapshot.body) {
            Ok(config) => configs.push((project, config)),
            Err(e) => tracing::warn!(error = %e, %project, "the config's metrics cannot be read"),
        }
    }
    state
        .store
        .set_metric_program(Arc::new(program(&configs)))
        .await;
    *programmed = Some(fingerprint);
}

/// The metric program of every project's environments, each under its stream's prefix.
fn program(
    configs: &[(String, litmus_core::config::wire::WireConfig)],
) -> litmus_core::metrics::Program {
    use litmus_core::config::environments::{DEFAULT_ENVIRONMENT, named, project};
    let mut streams: Vec<(Stream, litmus_core::config::wire::WireConfig)> = Vec::new();
    for (key, config) in configs {
        let environments = std::iter::once(DEFAULT_ENVIRONMENT.to_owned()).chain(named(config));
        for e in environments {
            streams.push((Stream::of(key, &e), project(config, &e)));
        }
    }
    litmus_core::metrics::Program::from_streams(streams.iter().map(|(s, c)| (s.prefix(), c)))
}

/// After this instance applied rollups: tells its live hub and the other instances which
/// experiments changed (a cache failure is logged; the others notice the new version when
/// they re-read it).
async fn applied_here<S: Store>(state: &AppState<S>, applied: &Applied) {
    // A round that only took a checkpoint still names the experiments whose units' records
    // it brought up to date.
    if applied.batches == 0 && applied.experiments.is_empty() {
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
