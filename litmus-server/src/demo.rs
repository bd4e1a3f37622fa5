//! Demo mode (`litmus-server --demo`): a sample A/B experiment and a bandit, and simulated
//! traffic for both, so a new user sees a live dashboard at once.
//!
//! - `demo-checkout` (A/B): `control` and `treatment`; `purchase` as a conversion and as a
//!   mean (revenue per user), and `error` as a guardrail. The treatment converts 12% against
//!   10%, with the same basket and error rate.
//! - `demo-headline` (bandit): three headlines clicked 4%, 5% and 7% of the time; the bandit
//!   loop moves traffic to the best one.
//!
//! Each simulated user is assigned by the same engine SDKs use (so the bandit's published
//! weights steer the traffic), then sends its exposures and events through the same storage
//! path as `POST /events`. Demo objects are created by the actor `demo` when missing and left
//! alone when they exist, so a restart continues the same experiments.

use crate::projects::DEFAULT_PROJECT;
use std::sync::Arc;
use std::time::Duration;

use litmus_core::Timestamp;
use litmus_core::events::{Event, EventKind};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};
use serde_json::json;

use crate::error::ApiError;
use crate::service;
use crate::state::AppState;
use crate::store::{EventBatch, Kind, Store};

/// The demo's A/B experiment.
pub const CHECKOUT: &str = "demo-checkout";
/// The demo's bandit.
pub const HEADLINE: &str = "demo-headline";
/// The actor of the demo's config changes.
const ACTOR: &str = "demo";
/// Users simulated per tick.
const USERS_PER_TICK: u64 = 12;

/// Creates the demo experiments when missing and starts simulating traffic every `tick`.
pub async fn start<S: Store>(state: &Arc<AppState<S>>, tick: Duration) -> Result<(), ApiError> {
    // The demo runs in the default project.
    let config = state.snapshots.of(DEFAULT_PROJECT);
    let objects = state.store.objects(DEFAULT_PROJECT).await?;
    // The catalogue first: the checkout experiment refers to it.
    let catalogue = [
        json!({"key": "revenue", "name": "Revenue per user", "kind": "mean", "event": "purchase",
               "cap": {"absolute": 500}, "format": "currency", "currency": "USD"}),
        json!({"key": "orders", "kind": "mean", "event": "purchase", "aggregation": "count"}),
        json!({"key": "revenue_per_order", "name": "Revenue per order", "kind": "ratio",
               "numerator": "revenue", "denominator": "orders", "format": "currency",
               "currency": "USD"}),
        json!({"key": "p90_page_load", "name": "p90 page load", "kind": "quantile",
               "event": "page_load", "quantile": 0.9, "goal": "decrease", "format": "duration"}),
        json!({"key": "checkout_funnel", "name": "Cart to purchase", "kind": "funnel",
               "window": {"hours": 1}, "steps": [{"event": "cart"}, {"event": "purchase"}]}),
        json!({"key": "book_buyers", "name": "Bought a book", "kind": "conversion",
               "event": "purchase", "format": "percent",
               "filter": {"attribute": "category", "op": "eq", "value": "books"}}),
    ];
    let defined: Vec<&str> = objects.metrics.iter().map(|m| m.key.as_str()).collect();
    for metric in catalogue {
        let key = metric
            .get("key")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !defined.contains(&key.as_str()) {
            service::changes::change(&config, &ACTOR.into(), Kind::Metric, &key, Some(metric))
                .await?;
        }
    }
    let existing: Vec<&str> = objects.experiments.iter().map(|e| e.key.as_str()).collect();
    let experiments = [
        json!({
            "key": CHECKOUT, "status": "running",
            "variants": [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1,
                          "payload": {"button": "Buy now"}}],
            "metrics": [
                {"key": "purchase", "kind": "conversion"},
                {"metric": "revenue"},
                {"metric": "revenue_per_order"},
                {"metric": "checkout_funnel"},
                {"metric": "book_buyers"},
                {"metric": "p90_page_load", "guardrail": true},
                {"key": "error", "kind": "conversion", "goal": "decrease", "guardrail": true}
            ]
        }),
        json!({
            "key": HEADLINE, "kind": "bandit", "status": "running",
            "variants": [{"key": "calm", "weight": 1}, {"key": "bold", "weight": 1},
                         {"key": "playful", "weight": 1}],
            "metrics": [{"key": "click", "kind": "conversion"}]
        }),
    ];
    for experiment in experiments {
        let key = experiment
            .get("key")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_owned();
        if !existing.contains(&key.as_str()) {
            service::changes::change(
                &config,
                &ACTOR.into(),
                Kind::Experiment,
                &key,
                Some(experiment),
            )
            .await?;
            tracing::info!(experiment = %key, "demo: created");
        }
    }
    let weak = Arc::downgrade(state);
    let seed = u64::try_from(crate::now_ms()).unwrap_or(0);
    tokio::spawn(async move {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut next_user = seed.wrapping_mul(1_000);
        loop {
            tokio::time::sleep(tick).await;
            let Some(state) = weak.upgrade() else { break };
            if let Err(e) = simulate(&state, &mut rng, &mut next_user).await {
                tracing::warn!(code = e.code(), error = %e, "demo: a tick failed");
            }
        }
    });
    Ok(())
}

/// One tick: new users are assigned and act.
async fn simulate<S: Store>(
    state: &AppState<S>,
    rng: &mut Xoshiro256PlusPlus,
    next_user: &mut u64,
) -> Result<(), ApiError> {
    let engine = state.snapshots.of(DEFAULT_PROJECT).engine().await?;
    let now = crate::now_ms();
    let mut events = Vec::new();
    let mut n = 0u64;
    let mut event = |unit: &str, kind: EventKind, offset_ms: i64| {
        n += 1;
        events.push(Event {
            message_id: format!("demo-{now}-{n}"),
            unit_id: unit.to_owned(),
            time: Timestamp::from_unix_millis(now + offset_ms),
            client_time: None,
            kind,
        });
    };
    for _ in 0..USERS_PER_TICK {
        *next_user += 1;
        let unit = format!("demo-user-{next_user}");
        let none = litmus_core::NoAttributes;
        if let Some(variant) = engine.assign(CHECKOUT, &unit, &none).variant_key() {
            event(&unit, exposure(CHECKOUT, variant), 0);
            let treatment = variant == "treatment";
            // Page loads of about 300 ms to 3 s, a little faster in the treatment.
            let load =
                (300.0 + 2_700.0 * rng.next_f64().powi(3)) * if treatment { 0.95 } else { 1.0 };
            event(&unit, track("page_load", load.round()), 2);
            if rng.next_f64() < 0.3 {
                event(&unit, track("cart", 1.0), 3);
                let rate = if treatment { 0.40 } else { 0.33 };
                if rng.next_f64() < rate {
                    // Baskets of 20 to 120, sometimes two orders.
                    for order in 0..1 + u8::from(rng.next_f64() < 0.2) {
                        let value = 20.0 + (rng.next_f64() * 100.0).round();
                        let category = if rng.next_f64() < 0.3 {
                            "books"
                        } else {
                            "music"
                        };
                        let kind = EventKind::Track {
                            event: "purchase".to_owned(),
                            value,
                            properties: Some(serde_json::Map::from_iter([(
                                "category".to_owned(),
                                json!(category),
                            )])),
                        };
                        event(&unit, kind, 5 + i64::from(order));
                    }
                }
            }
            if rng.next_f64() < 0.01 {
                event(&unit, track("error", 1.0), 7);
            }
        }
        if let Some(variant) = engine.assign(HEADLINE, &unit, &none).variant_key() {
            event(&unit, exposure(HEADLINE, variant), 1);
            let rate = match variant {
                "calm" => 0.04,
                "bold" => 0.05,
                _ => 0.07,
            };
            if rng.next_f64() < rate {
                event(&unit, track("click", 1.0), 9);
            }
        }
    }
    service::events::store(
        &state.ingest,
        &crate::environments::Stream::production(),
        EventBatch {
            events,
            received_ms: now,
        },
    )
    .await?;
    Ok(())
}

fn exposure(experiment: &str, variant: &str) -> EventKind {
    EventKind::Exposure {
        experiment: experiment.to_owned(),
        variant: variant.to_owned(),
        dimensions: Vec::new(),
    }
}

fn track(name: &str, value: f64) -> EventKind {
    EventKind::Track {
        event: name.to_owned(),
        value,
        properties: None,
    }
}
