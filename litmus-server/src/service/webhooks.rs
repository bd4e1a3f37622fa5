//! Webhooks' operations: making, changing and deleting subscriptions (URL, events and format
//! checked, the secret drawn), queueing an event for every webhook of its project that wants
//! it (rendered in each webhook's format), test events, the delivery log and manual retries.
//! The routes and `crate::jobs::webhooks` call them.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::json;

use crate::error::ApiError;
use crate::keys::Principal;
use crate::store::WebhookStore;
use crate::store::webhooks::NewDelivery;
use crate::webhooks::{self, Delivery, Event, Format, WebhookRecord, outbound, slack};

/// The most webhooks a project has.
pub const MAX_WEBHOOKS: usize = 50;

/// `POST /admin/webhooks`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where deliveries go.
    pub url: String,
    /// The event types (names, `kind.*`, or `*`); all of them by default.
    #[serde(default = "everything")]
    pub events: Vec<String>,
    /// `json` (default) or `slack`.
    #[serde(default = "json_format")]
    pub format: Format,
}

fn everything() -> Vec<String> {
    vec!["*".into()]
}

fn json_format() -> Format {
    Format::Json
}

/// `PATCH /admin/webhooks/{id}`'s body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookPatch {
    /// A new URL.
    pub url: Option<String>,
    /// New event types.
    pub events: Option<Vec<String>>,
    /// A new format.
    pub format: Option<Format>,
    /// On or off.
    pub enabled: Option<bool>,
}

/// 422 naming `field`.
fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::Invalid(litmus_core::Error::InvalidValue {
        path: litmus_core::FieldPath::root().field(field),
        message: message.into(),
    })
}

/// Checks a URL and event list (422 naming the field).
fn check(url: &str, events: &[String]) -> Result<(), ApiError> {
    if let Some(problem) = outbound::url_problem(url) {
        return Err(invalid("url", problem));
    }
    if events.is_empty() {
        return Err(invalid("events", "name at least one event type (or \"*\")"));
    }
    for (i, e) in events.iter().enumerate() {
        if !webhooks::valid_pattern(e) {
            let known = webhooks::EVENT_TYPES.join(", ");
            return Err(ApiError::Invalid(litmus_core::Error::InvalidValue {
                path: litmus_core::FieldPath::root().field("events").item(i),
                message: format!("{e:?} names no event type (known: {known}; or kind.*, or *)"),
            }));
        }
    }
    Ok(())
}

/// The event types as given, each once, in order.
fn unique(events: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    events
        .into_iter()
        .filter(|e| seen.insert(e.clone()))
        .collect()
}

/// Makes a webhook of `who`'s project: 201 with its secret (shown once).
pub async fn create<S: WebhookStore>(
    store: &S,
    who: &Principal,
    request: NewWebhook,
) -> Result<(WebhookRecord, String), ApiError> {
    check(&request.url, &request.events)?;
    if store.webhooks(&who.project).await?.len() >= MAX_WEBHOOKS {
        return Err(ApiError::Invalid(litmus_core::Error::LimitExceeded {
            path: litmus_core::FieldPath::root().field("url"),
            message: format!("a project has at most {MAX_WEBHOOKS} webhooks"),
        }));
    }
    let secret = format!(
        "{}{}",
        litmus_core::webhooks::SECRET_PREFIX,
        crate::keys::random_hex(32).map_err(ApiError::internal)?
    );
    let record = WebhookRecord {
        id: crate::keys::random_hex(8).map_err(ApiError::internal)?,
        project: who.project.clone(),
        url: request.url,
        events: unique(request.events),
        secret: secret.clone(),
        format: request.format,
        enabled: true,
        created_by: who.name.clone(),
        created_ms: crate::now_ms(),
    };
    store.add_webhook(record.clone()).await?;
    tracing::info!(webhook = %record.id, project = %record.project, by = %who.name, "webhook made");
    Ok((record, secret))
}

/// The webhook `id` of `project` (404 when there is none).
pub async fn get<S: WebhookStore>(
    store: &S,
    project: &str,
    id: &str,
) -> Result<WebhookRecord, ApiError> {
    store
        .webhook(project, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no webhook {id:?}")))
}

/// Changes a webhook as `patch` says (422 naming a bad field, 404 when there is none).
pub async fn update<S: WebhookStore>(
    store: &S,
    project: &str,
    id: &str,
    patch: WebhookPatch,
) -> Result<WebhookRecord, ApiError> {
    let mut w = get(store, project, id).await?;
    if let Some(url) = patch.url {
        w.url = url;
    }
    if let Some(events) = patch.events {
        w.events = unique(events);
    }
    if let Some(format) = patch.format {
        w.format = format;
    }
    if let Some(enabled) = patch.enabled {
        w.enabled = enabled;
    }
    check(&w.url, &w.events)?;
    if store.update_webhook(w.clone()).await? {
        Ok(w)
    } else {
        Err(ApiError::not_found(format!("no webhook {id:?}")))
    }
}

/// Deletes a webhook and its delivery log (404 when there is none).
pub async fn delete<S: WebhookStore>(store: &S, project: &str, id: &str) -> Result<(), ApiError> {
    if store.delete_webhook(project, id).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no webhook {id:?}")))
    }
}

/// The body `webhook` receives for `event`.
pub fn render(webhook: &WebhookRecord, event: &Event, dashboard: Option<&str>) -> String {
    match webhook.format {
        Format::Json => serde_json::to_string(event).unwrap_or_default(),
        Format::Slack => slack::message(event, dashboard).to_string(),
    }
}

/// The delivery of `event` to `w`, due at `now_ms`.
fn delivery(
    w: &WebhookRecord,
    event: &Event,
    dashboard: Option<&str>,
    now_ms: i64,
) -> Result<NewDelivery, ApiError> {
    Ok(NewDelivery {
        id: crate::keys::random_hex(12).map_err(ApiError::internal)?,
        webhook_id: w.id.clone(),
        project: event.project.clone(),
        event_id: event.id.clone(),
        event_type: event.kind.clone(),
        body: render(w, event, dashboard),
        due_ms: now_ms,
    })
}

/// Queues `events` (all of `project`) for every webhook of the project that wants each and was
/// made before it (each webhook receives an event id once): the webhooks are read once and
/// the deliveries written in one batch. Answers how many deliveries are new.
pub async fn enqueue<S: WebhookStore>(
    store: &S,
    project: &str,
    events: &[Event],
    dashboard: Option<&str>,
) -> Result<u64, ApiError> {
    if events.is_empty() {
        return Ok(0);
    }
    let now = crate::now_ms();
    let webhooks = store.webhooks(project).await?;
    let mut deliveries = Vec::new();
    for event in events {
        for w in &webhooks {
            if w.wants(&event.kind) && w.created_ms <= event.created_ms {
                deliveries.push(delivery(w, event, dashboard, now)?);
            }
        }
    }
    Ok(store.enqueue(deliveries).await?)
}

/// Queues a `webhook.test` event for webhook `id` alone: 202 with the delivery's id.
pub async fn test<S: WebhookStore>(
    store: &S,
    who: &Principal,
    id: &str,
    dashboard: Option<&str>,
) -> Result<String, ApiError> {
    let w = get(store, &who.project, id).await?;
    let now = crate::now_ms();
    let event = Event {
        id: format!(
            "test:{}",
            crate::keys::random_hex(8).map_err(ApiError::internal)?
        ),
        kind: "webhook.test".into(),
        project: w.project.clone(),
        created_ms: now,
        data: json!({"webhook": w.id, "sent_by": who.name}),
    };
    let queued = delivery(&w, &event, dashboard, now)?;
    let id = queued.id.clone();
    store.enqueue(vec![queued]).await?;
    Ok(id)
}

/// Webhook `id`'s newest deliveries (at most `limit`, 1 to 500; 100 by default).
pub async fn deliveries<S: WebhookStore>(
    store: &S,
    project: &str,
    id: &str,
    limit: Option<u32>,
) -> Result<Vec<Delivery>, ApiError> {
    let w = get(store, project, id).await?;
    Ok(store
        .deliveries(&w.id, limit.unwrap_or(100).clamp(1, 500))
        .await?)
}

/// Makes a delivery of webhook `id` due now (404 when there is none).
pub async fn redeliver<S: WebhookStore>(
    store: &S,
    project: &str,
    id: &str,
    delivery: &str,
) -> Result<(), ApiError> {
    let w = get(store, project, id).await?;
    if store.redeliver(&w.id, delivery, crate::now_ms()).await? {
        Ok(())
    } else {
        Err(ApiError::not_found(format!("no delivery {delivery:?}")))
    }
}
