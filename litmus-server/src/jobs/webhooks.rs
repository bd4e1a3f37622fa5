//! The webhook job, on every instance: each round it
//! 1. reads each project's new audit entries (a minute back, since entries may commit out of
//!    order) and queues their events (`crate::webhooks::events`);
//! 2. every [`INSIGHT_EVERY`], looks at each running experiment's insights and queues the
//!    alerts that began (`crate::webhooks::alerts`);
//! 3. leases the deliveries that are due and sends them, signed, recording each attempt and
//!    when to try again (core's schedule, `litmus_core::webhooks::next_attempt_ms`).
//!
//! Queueing is idempotent (one delivery per webhook and event id) and a lease gives a
//! delivery to one instance at a time, so several instances queue and send each event once. A
//! lease outlives an attempt by far; one left by an instance that died expires, and the
//! delivery is sent again (so receivers deduplicate by `Litmus-Event-Id`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::state::AppState;
use crate::store::webhooks::{Attempted, Leased};
use crate::store::{Store, WebhookStore};
use crate::webhooks::{DeliveryStatus, alerts, events, outbound};

/// How long a lease lasts (many times an attempt's timeout).
pub const LEASE_MS: i64 = 120_000;

/// How far back each round reads the audit log.
pub const AUDIT_OVERLAP_MS: i64 = 60_000;

/// How often running experiments' insights are looked at.
pub const INSIGHT_EVERY: Duration = Duration::from_secs(60);

/// The audit log's read position's name.
const AUDIT: &str = "audit";

/// How the job runs.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where deliveries may go.
    pub policy: outbound::Policy,
    /// How often a round runs.
    pub interval: Duration,
    /// How often insights are looked at.
    pub insights_every: Duration,
    /// The dashboard's base URL, for links in messages.
    pub dashboard: Option<String>,
    /// How long an attempt waits for an answer ([`outbound::TIMEOUT`]).
    pub timeout: Duration,
    /// What the retry schedule's delays are multiplied by (1; less only in tests and drills,
    /// `LITMUS_WEBHOOK_RETRY_SCALE`).
    pub retry_scale: f64,
}

impl Settings {
    /// The job's settings under `policy`, with links to `dashboard`.
    pub fn new(policy: outbound::Policy, dashboard: Option<String>) -> Self {
        Settings {
            policy,
            interval: Duration::from_secs(1),
            insights_every: INSIGHT_EVERY,
            dashboard,
            timeout: outbound::TIMEOUT,
            retry_scale: 1.0,
        }
    }
}

/// Starts the job.
pub fn run<S: Store>(state: &Arc<AppState<S>>, settings: Settings) {
    let weak = Arc::downgrade(state);
    tokio::spawn(async move {
        let client = match outbound::client(&settings.policy, settings.timeout) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhooks are off");
                return;
            }
        };
        let owner = crate::keys::random_hex(8).unwrap_or_else(|_| "instance".into());
        let mut last_insights: Option<Instant> = None;
        let mut tick = tokio::time::interval(settings.interval);
        loop {
            tick.tick().await;
            let Some(state) = weak.upgrade() else { break };
            let look = last_insights.is_none_or(|t| t.elapsed() >= settings.insights_every);
            if let Err(e) = round(&state, &settings, &client, &owner, look).await {
                tracing::warn!(error = %e, "webhook round failed; retrying next round");
            }
            if look {
                last_insights = Some(Instant::now());
            }
        }
    });
}

/// One round (see the module's steps); insights only when `look`.
pub async fn round<S: Store>(
    state: &AppState<S>,
    settings: &Settings,
    client: &reqwest::Client,
    owner: &str,
    look: bool,
) -> Result<(), crate::error::ApiError> {
    let store = &*state.store;
    let dashboard = settings.dashboard.as_deref();
    // One project's failure (a config that does not compile, say) holds up no other, nor the
    // deliveries.
    for project in store.webhook_projects().await? {
        if let Err(e) = queue_changes(store, &project, dashboard).await {
            tracing::warn!(%project, error = %e, "webhooks: reading the audit log failed");
        }
        if look {
            if let Err(e) = queue_alerts(state, &project, dashboard).await {
                tracing::warn!(%project, error = %e, "webhooks: looking at insights failed");
            }
        }
    }
    loop {
        let now = crate::now_ms();
        let leased = store.lease(owner, now, now + LEASE_MS).await?;
        let full = leased.len() >= 20;
        let sends = leased
            .into_iter()
            .map(|d| send(store, client, settings, owner, d));
        futures_util::future::join_all(sends).await;
        if !full {
            return Ok(());
        }
    }
}

/// Queues the events of `project`'s audit entries since its read position (a minute back).
async fn queue_changes<S: Store>(
    store: &S,
    project: &str,
    dashboard: Option<&str>,
) -> Result<(), crate::error::ApiError> {
    let now = crate::now_ms();
    let Some(position) = store.cursor(project, AUDIT).await? else {
        // A project's first webhook: its history is not replayed.
        store.advance_cursor(project, AUDIT, now).await?;
        return Ok(());
    };
    let entries = store
        .audit_since(project, position - AUDIT_OVERLAP_MS)
        .await?;
    let found: Vec<_> = entries
        .iter()
        .filter_map(|entry| events::from_audit(project, entry))
        .collect();
    crate::service::webhooks::enqueue(store, project, &found, dashboard).await?;
    let newest = entries.iter().map(|e| e.at_ms).fold(position, i64::max);
    store.advance_cursor(project, AUDIT, newest).await?;
    Ok(())
}

/// Looks at `project`'s running experiments' insights and queues the alerts that began.
async fn queue_alerts<S: Store>(
    state: &AppState<S>,
    project: &str,
    dashboard: Option<&str>,
) -> Result<(), crate::error::ApiError> {
    let store = &*state.store;
    let config = state.snapshots.of(project);
    let environment = litmus_core::config::environments::DEFAULT_ENVIRONMENT;
    let engine = config.engine_in(environment).await?;
    let stream = crate::environments::Stream::of(project, environment);
    let running: Vec<String> = engine
        .experiments()
        .filter_map(|(key, e)| e.ok().map(|e| (key, e)))
        .filter(|(_, e)| e.status() == litmus_core::Status::Running)
        .map(|(key, _)| key.to_owned())
        .collect();
    let defaults = state.ingest.tuning.analysis.clone();
    for key in running {
        // An experiment whose results cannot be computed now is looked at next time.
        let results = match crate::results::experiment_results(
            store, &engine, &defaults, &key, &stream, 2,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%project, experiment = %key, error = %e, "webhooks: no results");
                continue;
            }
        };
        let previous: Option<alerts::Seen> = store
            .insight_state(project, &key)
            .await?
            .and_then(|s| serde_json::from_str(&s).ok());
        let (found, next) =
            alerts::alerts(project, &key, previous.as_ref(), &results, crate::now_ms());
        crate::service::webhooks::enqueue(store, project, &found, dashboard).await?;
        let next = serde_json::to_string(&next).map_err(crate::error::ApiError::internal)?;
        store.set_insight_state(project, &key, next).await?;
    }
    Ok(())
}

/// A uniform draw in [0, 1) for the retry schedule's jitter.
fn jitter() -> f64 {
    crate::keys::random_hex(4)
        .ok()
        .and_then(|h| u32::from_str_radix(&h, 16).ok())
        .map_or(0.5, |n| f64::from(n) / (f64::from(u32::MAX) + 1.0))
}

/// Sends one leased delivery and records how it went.
async fn send<S: WebhookStore>(
    store: &S,
    client: &reqwest::Client,
    settings: &Settings,
    owner: &str,
    d: Leased,
) {
    use litmus_core::webhooks as core;
    let now = crate::now_ms();
    let outcome = match core::sign(&d.secret, d.body.as_bytes(), now / 1000) {
        Ok(signature) => {
            let headers = [
                (core::SIGNATURE_HEADER, signature),
                (core::EVENT_ID_HEADER, d.event_id.clone()),
                (core::EVENT_TYPE_HEADER, d.event_type.clone()),
                (core::DELIVERY_HEADER, d.id.clone()),
            ];
            outbound::send(client, &settings.policy, &d.url, &headers, d.body.clone()).await
        }
        Err(e) => Err(e.to_string()),
    };
    let at_ms = crate::now_ms();
    let attempts = d.attempts.saturating_add(1);
    let (http_status, error) = match &outcome {
        Ok(status) if (200..300).contains(status) => (Some(*status), None),
        Ok(status) => (Some(*status), Some(format!("answered {status}"))),
        Err(e) => (None, Some(e.clone())),
    };
    let attempt = if error.is_none() {
        Attempted {
            status: DeliveryStatus::Delivered,
            at_ms,
            http_status,
            error: None,
            next_attempt_ms: None,
        }
    } else {
        let next = core::next_attempt_ms(attempts, d.created_ms, at_ms, jitter()).map(|t| {
            let delay = (t - at_ms) as f64 * settings.retry_scale.clamp(0.0, 1.0);
            at_ms + delay as i64
        });
        Attempted {
            status: if next.is_some() {
                DeliveryStatus::Pending
            } else {
                DeliveryStatus::Failed
            },
            at_ms,
            http_status,
            error,
            next_attempt_ms: next,
        }
    };
    tracing::debug!(delivery = %d.id, webhook = %d.webhook_id, status = ?attempt.status, "webhook attempt");
    if let Err(e) = store.record_attempt(&d.id, owner, attempt).await {
        tracing::warn!(error = %e, delivery = %d.id, "recording a webhook attempt failed");
    }
}
