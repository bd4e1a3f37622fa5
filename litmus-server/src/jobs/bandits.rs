//! Closed-loop bandits: on a schedule, each running `bandit` experiment is reweighed from its
//! rollups by core (`litmus_core::results::bandit`: Thompson sampling on its first metric,
//! with a floor and a burn-in), and new weights are published as an ordinary config change by
//! the actor `bandit`: a new config version that SDKs receive by stream and poll, an audit
//! entry that logs the change (the weights' history), and sticky assignments that keep each
//! unit's first variant. Weights are published only when one moves by at least 0.01.
//!
//! Every instance runs the loop; each reads the stored weights before changing them, so a
//! second instance finds them already moved. Two instances reweighing in the same instant may
//! publish the same weights twice (one redundant version, no harm).

use std::sync::Arc;
use std::time::Duration;

use litmus_core::bandit::publish_weights;
use litmus_core::config::wire::WireConfig;
use litmus_core::results::{self, BanditOptions, Timeline};
use litmus_core::{Kind, Status};

use crate::environments::Stream;
use crate::error::ApiError;
use crate::projects::DEFAULT_PROJECT;
use crate::service;
use crate::snapshots::ProjectConfig;
use crate::state::AppState;
use crate::store::{Kind as ObjectKind, Store};
use litmus_core::config::environments::DEFAULT_ENVIRONMENT;

/// The actor of weight changes in the audit log.
pub const ACTOR: &str = "bandit";

/// A bucket spanning every minute (the totals are one bucket).
const ALL_TIME_MS: i64 = 1 << 50;

/// Reweighs every running bandit experiment every `period`. Runs until the state is dropped.
pub fn run<S: Store>(state: &Arc<AppState<S>>, period: Duration) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(period).await;
            let Some(state) = weak.upgrade() else { break };
            if let Err(e) = reweigh_all(&state).await {
                tracing::warn!(
                    code = e.code(),
                    error = %e,
                    "bandits: cannot reweigh"
                );
            }
        }
    });
}

/// Reweighs every running bandit experiment of every project once, from its production
/// rollups; answers the keys whose weights changed (`project/key` beyond the default project).
pub async fn reweigh_all<S: Store>(state: &AppState<S>) -> Result<Vec<String>, ApiError> {
    let mut changed = Vec::new();
    for project in state.store.projects().await? {
        let config = state.snapshots.of(&project.key);
        let engine = config.engine().await?;
        let bandits: Vec<String> = engine
            .experiments()
            .filter_map(|(key, e)| e.ok().map(|e| (key, e)))
            .filter(|(_, e)| e.kind() == Kind::Bandit && e.status() == Status::Running)
            .map(|(key, _)| key.to_owned())
            .collect();
        for key in bandits {
            match reweigh(&config, &key).await {
                Ok(true) if project.key == DEFAULT_PROJECT => changed.push(key),
                Ok(true) => changed.push(format!("{}/{key}", project.key)),
                Ok(false) => {}
                Err(e) => tracing::warn!(project = %project.key, experiment = %key,
                                         code = e.code(), error = %e, "bandits: cannot reweigh"),
            }
        }
    }
    Ok(changed)
}

/// Reweighs one bandit experiment of `config`'s project from its production rollups; true
/// when new weights were published.
pub async fn reweigh<S: Store>(config: &ProjectConfig<S>, key: &str) -> Result<bool, ApiError> {
    let engine = config.engine().await?;
    let Some(experiment) = engine.experiment(key) else {
        return Ok(false);
    };
    let subject = Stream::of(config.project(), DEFAULT_ENVIRONMENT)
        .stored(key)
        .into_owned();
    let rows = config
        .store()
        .experiment_rollups(&subject, ALL_TIME_MS, i64::MIN)
        .await?;
    let plan = results::plan(
        experiment,
        rows.metrics.keys().map(|(_, _, m, _)| m.as_str()),
    );
    let Some(metric) = experiment.metrics().first() else {
        // Without a declared metric there is no reward to learn from.
        return Ok(false);
    };
    let mut timeline = Timeline::new(plan.variants.clone());
    for ((_, variant, time), units) in &rows.exposures {
        timeline.add_exposures(variant, *time, *units);
    }
    for ((_, variant, m, time), rollup) in &rows.metrics {
        timeline.add_metric(variant, m, *time, rollup);
    }
    // The weights as stored now (another instance may have just published).
    let stored = config.store().objects(config.project()).await?;
    let Some(wire) = stored.experiments.iter().find(|e| e.key == key) else {
        return Ok(false);
    };
    let current: Vec<f64> = wire.variants.iter().map(|v| v.weight).collect();
    let next = results::next_weights(
        &timeline.totals(None),
        metric,
        &current,
        &BanditOptions::default(),
    )?;
    let Some(next) = next else {
        return Ok(false);
    };
    let mut document = WireConfig {
        experiments: vec![wire.clone()],
        ..WireConfig::default()
    };
    publish_weights(&mut document, key, &next)?;
    let Some(updated) = document.experiments.into_iter().next() else {
        return Ok(false);
    };
    let value = serde_json::to_value(&updated).map_err(ApiError::internal)?;
    let version = service::changes::change(
        config,
        &ACTOR.into(),
        ObjectKind::Experiment,
        key,
        Some(value),
    )
    .await?
    .version;
    tracing::info!(experiment = %key, ?current, weights = ?next, version, "bandits: new weights");
    Ok(true)
}
