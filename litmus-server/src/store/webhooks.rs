//! Webhooks' rows (`crate::webhooks`): subscriptions, the delivery queue (one delivery per
//! webhook and event id; leased to one sender at a time), read positions and insight states,
//! written once over the backends' [`Rows`] primitives with the SQL of `crate::store::sql`.

use std::future::Future;

use super::rows::{Batch, Row, Rows, Step, corrupt, int, text, to_json as json};
use super::{AuditEntry, StoreError, sql};
use crate::webhooks::{Delivery, DeliveryStatus, Format, WebhookRecord};

/// A delivery leased for sending, with its webhook's address and secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leased {
    /// The delivery's id.
    pub id: String,
    /// Its webhook.
    pub webhook_id: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The body to send.
    pub body: String,
    /// Attempts made before.
    pub attempts: u32,
    /// When it was queued (the retry schedule counts from it).
    pub created_ms: i64,
    /// Where it goes.
    pub url: String,
    /// The secret it is signed with.
    pub secret: String,
}

/// How an attempt went, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempted {
    /// The delivery's new status.
    pub status: DeliveryStatus,
    /// When the attempt was made.
    pub at_ms: i64,
    /// The answer's HTTP status, if there was an answer.
    pub http_status: Option<u16>,
    /// Why it failed, if it did.
    pub error: Option<String>,
    /// When the next attempt is due (pending only).
    pub next_attempt_ms: Option<i64>,
}

/// A delivery to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// A random id.
    pub id: String,
    /// The webhook.
    pub webhook_id: String,
    /// The project.
    pub project: String,
    /// The event's id.
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The rendered body.
    pub body: String,
    /// When it is due (now).
    pub due_ms: i64,
}

/// What webhooks' stores do; every backend with [`Rows`] has it.
pub trait WebhookStore: Send + Sync + 'static {
    /// Stores a webhook.
    fn add_webhook(&self, w: WebhookRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Project `project`'s webhooks.
    fn webhooks(
        &self,
        project: &str,
    ) -> impl Future<Output = Result<Vec<WebhookRecord>, StoreError>> + Send;
    /// Webhook `id` of `project`.
    fn webhook(
        &self,
        project: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<WebhookRecord>, StoreError>> + Send;
    /// Replaces a webhook's URL, events, format and switch; false when there is none.
    fn update_webhook(
        &self,
        w: WebhookRecord,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Deletes a webhook and its deliveries; false when there is none.
    fn delete_webhook(
        &self,
        project: &str,
        id: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// The projects with a webhook that is on.
    fn webhook_projects(&self) -> impl Future<Output = Result<Vec<String>, StoreError>> + Send;
    /// Queues deliveries (each webhook receives an event once); answers how many were new.
    fn enqueue(
        &self,
        deliveries: Vec<NewDelivery>,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Leases the deliveries due at `now_ms` (at most 20) to `owner` until `until_ms`, and
    /// answers them.
    fn lease(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> impl Future<Output = Result<Vec<Leased>, StoreError>> + Send;
    /// Records an attempt of delivery `id` leased to `owner`.
    fn record_attempt(
        &self,
        id: &str,
        owner: &str,
        attempt: Attempted,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Webhook `webhook_id`'s newest deliveries (at most `limit`).
    fn deliveries(
        &self,
        webhook_id: &str,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;
    /// Makes a delivery of `webhook_id` due at `now_ms`; false when there is none.
    fn redeliver(
        &self,
        webhook_id: &str,
        id: &str,
        now_ms: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Project `project`'s read position in `source`.
    fn cursor(
        &self,
        project: &str,
        source: &str,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;
    /// Moves a read position forward (never back).
    fn advance_cursor(
        &self,
        project: &str,
        source: &str,
        position: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Project `project`'s audit entries written at `since_ms` or later, oldest first.
    fn audit_since(
        &self,
        project: &str,
        since_ms: i64,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
    /// The last look at an experiment's insights (JSON).
    fn insight_state(
        &self,
        project: &str,
        experiment: &str,
    ) -> impl Future<Output = Result<Option<String>, StoreError>> + Send;
    /// Stores the last look at an experiment's insights.
    fn set_insight_state(
        &self,
        project: &str,
        experiment: &str,
        state: String,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

impl<T: Rows> WebhookStore for T {
    async fn add_webhook(&self, w: WebhookRecord) -> Result<(), StoreError> {
        let step = Step::new(
            sql::INSERT_WEBHOOK,
            vec![
                w.id.into(),
                w.project.into(),
                w.url.into(),
                json(&w.events)?.into(),
                w.secret.into(),
                w.format.as_str().into(),
                i64::from(w.enabled).into(),
                w.created_by.into(),
                w.created_ms.into(),
            ],
        );
        self.batch(vec![step]).await.map(drop)
    }

    async fn webhooks(&self, project: &str) -> Result<Vec<WebhookRecord>, StoreError> {
        let rows = self.query(sql::WEBHOOKS, vec![project.into()]).await?;
        rows.iter().map(webhook).collect()
    }

    async fn webhook(&self, project: &str, id: &str) -> Result<Option<WebhookRecord>, StoreError> {
        let rows = self
            .query(sql::WEBHOOK, vec![id.into(), project.into()])
            .await?;
        rows.first().map(webhook).transpose()
    }

    async fn update_webhook(&self, w: WebhookRecord) -> Result<bool, StoreError> {
        let step = Step::must(
            sql::UPDATE_WEBHOOK,
            vec![
                w.url.into(),
                json(&w.events)?.into(),
                w.format.as_str().into(),
                i64::from(w.enabled).into(),
                w.id.into(),
                w.project.into(),
            ],
        );
        Ok(matches!(self.batch(vec![step]).await?, Batch::Done(_)))
    }

    async fn delete_webhook(&self, project: &str, id: &str) -> Result<bool, StoreError> {
        let steps = vec![
            Step::must(sql::DELETE_WEBHOOK, vec![id.into(), project.into()]),
            Step::new(sql::DELETE_WEBHOOK_DELIVERIES, vec![id.into()]),
        ];
        Ok(matches!(self.batch(steps).await?, Batch::Done(_)))
    }

    async fn webhook_projects(&self) -> Result<Vec<String>, StoreError> {
        let rows = self.query(sql::WEBHOOK_PROJECTS, vec![]).await?;
        Ok(rows.iter().filter_map(|r| text(r, 0)).collect())
    }

    async fn enqueue(&self, deliveries: Vec<NewDelivery>) -> Result<u64, StoreError> {
        if deliveries.is_empty() {
            return Ok(0);
        }
        let steps = deliveries
            .into_iter()
            .map(|d| {
                Step::new(
                    sql::INSERT_DELIVERY,
                    vec![
                        d.id.into(),
                        d.webhook_id.into(),
                        d.project.into(),
                        d.event_id.into(),
                        d.event_type.into(),
                        d.body.into(),
                        d.due_ms.into(),
                        d.due_ms.into(),
                    ],
                )
            })
            .collect();
        Ok(match self.batch(steps).await? {
            Batch::Done(counts) => counts.iter().sum(),
            Batch::Refused(_) => 0,
        })
    }

    async fn lease(
        &self,
        owner: &str,
        now_ms: i64,
        until_ms: i64,
    ) -> Result<Vec<Leased>, StoreError> {
        let claim = Step::new(
            sql::CLAIM_DELIVERIES,
            vec![owner.into(), until_ms.into(), now_ms.into()],
        );
        self.batch(vec![claim]).await?;
        let rows = self
            .query(sql::CLAIMED_DELIVERIES, vec![owner.into()])
            .await?;
        rows.iter().map(leased).collect()
    }

    async fn record_attempt(&self, id: &str, owner: &str, a: Attempted) -> Result<(), StoreError> {
        let delivered = (a.status == DeliveryStatus::Delivered).then_some(a.at_ms);
        let step = Step::new(
            sql::RECORD_ATTEMPT,
            vec![
                a.status.as_str().into(),
                a.at_ms.into(),
                a.http_status.map(i64::from).into(),
                a.error.into(),
                a.next_attempt_ms.into(),
                delivered.into(),
                id.into(),
                owner.into(),
            ],
        );
        self.batch(vec![step]).await.map(drop)
    }

    async fn deliveries(&self, webhook_id: &str, limit: u32) -> Result<Vec<Delivery>, StoreError> {
        let rows = self
            .query(
                sql::DELIVERIES,
                vec![webhook_id.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(delivery).collect()
    }

    async fn redeliver(&self, webhook_id: &str, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let step = Step::must(
            sql::REDELIVER,
            vec![now_ms.into(), id.into(), webhook_id.into()],
        );
        Ok(matches!(self.batch(vec![step]).await?, Batch::Done(_)))
    }

    async fn cursor(&self, project: &str, source: &str) -> Result<Option<i64>, StoreError> {
        let rows = self
            .query(sql::CURSOR, vec![project.into(), source.into()])
            .await?;
        Ok(rows.first().and_then(|r| int(r, 0)))
    }

    async fn advance_cursor(
        &self,
        project: &str,
        source: &str,
        position: i64,
    ) -> Result<(), StoreError> {
        let step = Step::new(
            sql::ADVANCE_CURSOR,
            vec![project.into(), source.into(), position.into()],
        );
        self.batch(vec![step]).await.map(drop)
    }

    async fn audit_since(
        &self,
        project: &str,
        since_ms: i64,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let rows = self
            .query(sql::AUDIT_SINCE, vec![project.into(), since_ms.into()])
            .await?;
        rows.iter().map(audit).collect()
    }

    async fn insight_state(
        &self,
        project: &str,
        experiment: &str,
    ) -> Result<Option<String>, StoreError> {
        let rows = self
            .query(sql::INSIGHT_STATE, vec![project.into(), experiment.into()])
            .await?;
        Ok(rows.first().and_then(|r| text(r, 0)))
    }

    async fn set_insight_state(
        &self,
        project: &str,
        experiment: &str,
        state: String,
    ) -> Result<(), StoreError> {
        let step = Step::new(
            sql::SET_INSIGHT_STATE,
            vec![project.into(), experiment.into(), state.into()],
        );
        self.batch(vec![step]).await.map(drop)
    }
}

/// A webhook from a row of `webhook_columns!`.
fn webhook(r: &Row) -> Result<WebhookRecord, StoreError> {
    let read = || {
        Some(WebhookRecord {
            id: text(r, 0)?,
            project: text(r, 1)?,
            url: text(r, 2)?,
            events: serde_json::from_str(&text(r, 3)?).ok()?,
            secret: text(r, 4)?,
            format: Format::parse(&text(r, 5)?)?,
            enabled: int(r, 6)? != 0,
            created_by: text(r, 7)?,
            created_ms: int(r, 8)?,
        })
    };
    read().ok_or_else(|| corrupt("webhook"))
}

/// A leased delivery from a row of `sql::CLAIMED_DELIVERIES`.
fn leased(r: &Row) -> Result<Leased, StoreError> {
    let read = || {
        Some(Leased {
            id: text(r, 0)?,
            webhook_id: text(r, 1)?,
            event_id: text(r, 2)?,
            event_type: text(r, 3)?,
            body: text(r, 4)?,
            attempts: u32::try_from(int(r, 5)?).unwrap_or(u32::MAX),
            created_ms: int(r, 6)?,
            url: text(r, 7)?,
            secret: text(r, 8)?,
        })
    };
    read().ok_or_else(|| corrupt("delivery"))
}

/// A delivery from a row of `delivery_columns!`.
fn delivery(r: &Row) -> Result<Delivery, StoreError> {
    let read = || {
        Some(Delivery {
            id: text(r, 0)?,
            webhook_id: text(r, 1)?,
            event_id: text(r, 2)?,
            event_type: text(r, 3)?,
            body: text(r, 4)?,
            status: DeliveryStatus::parse(&text(r, 5)?)?,
            attempts: u32::try_from(int(r, 6)?).unwrap_or(u32::MAX),
            next_attempt_ms: int(r, 7),
            last_attempt_ms: int(r, 8),
            last_status: int(r, 9).and_then(|s| u16::try_from(s).ok()),
            last_error: text(r, 10),
            created_ms: int(r, 11)?,
            delivered_ms: int(r, 12),
        })
    };
    read().ok_or_else(|| corrupt("delivery"))
}

/// An audit entry from a row of `sql::AUDIT_SINCE`.
fn audit(r: &Row) -> Result<AuditEntry, StoreError> {
    let json = |i| text(r, i).and_then(|t| serde_json::from_str(&t).ok());
    let read = || {
        Some(AuditEntry {
            id: u64::try_from(int(r, 0)?).ok()?,
            at_ms: int(r, 1)?,
            actor: text(r, 2)?,
            action: text(r, 3)?,
            key: text(r, 4)?,
            before: json(5),
            after: json(6),
            version: u64::try_from(int(r, 7)?).ok()?,
            ip: None,
            user_agent: None,
        })
    };
    read().ok_or_else(|| corrupt("audit entry"))
}
