//! Storing events: a batch of validated events is stored durably (each `message_id` once) and
//! the rollup job (`crate::jobs::rollups`) is woken, for `POST /events` and the demo alike.

use crate::state::Ingest;
use crate::store::{EventBatch, EventStore, Ingested, StoreError};

/// Stores `batch` and wakes the rollup job when it stored anything new.
pub async fn store<S: EventStore>(
    ingest: &Ingest<S>,
    batch: EventBatch,
) -> Result<Ingested, StoreError> {
    if batch.events.is_empty() {
        return Ok(Ingested::default());
    }
    let report = ingest.store.ingest(batch).await?;
    if report.stored > 0 {
        ingest.rollups_due.notify_one();
    }
    Ok(report)
}
