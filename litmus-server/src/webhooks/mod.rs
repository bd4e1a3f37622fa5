//! Webhooks: subscriptions per project (a URL, the event types it wants, a secret, a format),
//! and the events they receive. Events come from durable sources, so none is lost when an
//! instance stops and each is queued once even when several instances see it (deliveries are
//! unique per webhook and event id):
//! - config changes, read from the audit log ([`events::from_audit`]): experiments and flags
//!   created, changed (with the diff), started, stopped, deleted; a bandit's new weights;
//! - insights that appear on running experiments ([`alerts`]): sample-ratio mismatch, a
//!   harmed guardrail, an anomaly, significance reached, the recommendation changed;
//! - a test event an admin sends.
//!
//! Deliveries wait in the store (`crate::store::webhooks`) and are sent by
//! `crate::jobs::webhooks`: signed (`litmus_core::webhooks`), retried on core's schedule for more
//! than a day, to addresses that [`outbound`] allows, as JSON or as a Slack message
//! ([`slack`]).

pub mod alerts;
pub mod diff;
pub mod events;
pub mod outbound;
pub mod slack;

use serde::{Deserialize, Serialize};

/// Every event type a webhook can subscribe to.
pub const EVENT_TYPES: [&str; 15] = [
    "experiment.created",
    "experiment.changed",
    "experiment.started",
    "experiment.stopped",
    "experiment.deleted",
    "flag.created",
    "flag.changed",
    "flag.deleted",
    "bandit.weights_updated",
    "insight.srm",
    "insight.guardrail_harm",
    "insight.anomaly",
    "insight.significant",
    "insight.recommendation_changed",
    "webhook.test",
];

/// How a delivery's body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// The event as JSON (`{id, type, project, created_ms, data}`).
    Json,
    /// A Slack incoming-webhook message: a readable sentence and a link to the dashboard.
    Slack,
}

impl Format {
    /// The format's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
        }
    }

    /// The format of a spelling.
    pub fn parse(s: &str) -> Option<Format> {
        [Format::Json, Format::Slack]
            .into_iter()
            .find(|f| f.as_str() == s)
    }
}

/// A webhook, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookRecord {
    /// A random id.
    pub id: String,
    /// Its project.
    pub project: String,
    /// Where deliveries go.
    pub url: String,
    /// The event types it receives: names from [`EVENT_TYPES`], `experiment.*` style
    /// prefixes, or `*`.
    pub events: Vec<String>,
    /// The signing secret (`whsec_…`; answered only when made).
    #[serde(skip)]
    pub secret: String,
    /// How bodies are written.
    pub format: Format,
    /// Whether it receives deliveries.
    pub enabled: bool,
    /// Who made it.
    pub created_by: String,
    /// When.
    pub created_ms: i64,
}

impl WebhookRecord {
    /// Whether it receives events of `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.enabled && self.events.iter().any(|e| matches(e, event_type))
    }
}

/// Whether the subscription `pattern` covers `event_type` (`*`, `kind.*` or the name).
pub fn matches(pattern: &str, event_type: &str) -> bool {
    pattern == "*"
        || pattern == event_type
        || pattern
            .strip_suffix(".*")
            .is_some_and(|kind| event_type.split('.').next() == Some(kind))
}

/// Whether `pattern` names at least one event type.
pub fn valid_pattern(pattern: &str) -> bool {
    EVENT_TYPES.iter().any(|t| matches(pattern, t))
}

/// An event, as delivered (the JSON format's body) and as queued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Its id: the same for every webhook and instance (receivers deduplicate by it).
    pub id: String,
    /// Its type, from [`EVENT_TYPES`].
    #[serde(rename = "type")]
    pub kind: String,
    /// Its project.
    pub project: String,
    /// When it happened, in milliseconds since the Unix epoch.
    pub created_ms: i64,
    /// What happened (per type; `docs/webhooks.md`).
    pub data: serde_json::Value,
}

/// A delivery's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Waiting for its next attempt.
    Pending,
    /// Answered 2xx.
    Delivered,
    /// Given up on (retries exhausted, or the address is refused).
    Failed,
}

impl DeliveryStatus {
    /// The status's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Failed => "failed",
        }
    }

    /// The status of a spelling.
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Delivered,
            DeliveryStatus::Failed,
        ]
        .into_iter()
        .find(|d| d.as_str() == s)
    }
}

/// A delivery of one event to one webhook, as its log shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// A random id (sent as `Litmus-Delivery`).
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The body sent (the rendered payload).
    #[serde(skip)]
    pub body: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (pending only).
    pub next_attempt_ms: Option<i64>,
    /// When the last attempt was made.
    pub last_attempt_ms: Option<i64>,
    /// The last answer's HTTP status.
    pub last_status: Option<u16>,
    /// Why the last attempt failed (a timeout, a refused address, the status).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_ms: i64,
    /// When it was delivered.
    pub delivered_ms: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_match_names_kinds_and_everything() {
        assert!(matches("*", "flag.changed"));
        assert!(matches("flag.*", "flag.changed"));
        assert!(!matches("flag.*", "experiment.changed"));
        assert!(matches("insight.srm", "insight.srm"));
        assert!(!matches("insight.sr", "insight.srm"));
        assert!(valid_pattern("insight.*"));
        assert!(!valid_pattern("nothing.*"));
        assert!(!valid_pattern("experiment.exploded"));
        for t in EVENT_TYPES {
            assert!(valid_pattern(t));
        }
    }
}
