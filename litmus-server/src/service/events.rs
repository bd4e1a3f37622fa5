//! Storing events: a batch of validated events is stored durably (each `message_id` once),
//! in its environment's stream (`crate::environments`), and the rollup job
//! (`crate::jobs::rollups`) is woken, for `POST /events`, `/assign`'s holdout exposures and the
//! demo alike.

use litmus_core::FieldPath;
use litmus_core::events::{Event, EventKind};

use crate::environments::{SEPARATOR, Stream};
use crate::state::Ingest;
use crate::store::{EventBatch, EventStore, Ingested, StoreError};

/// Stores `batch`, sent in the environment of `stream`, and wakes the rollup job when it
/// stored anything new.
pub async fn store<S: EventStore>(
    ingest: &Ingest<S>,
    stream: &Stream,
    mut batch: EventBatch,
) -> Result<Ingested, StoreError> {
    if batch.events.is_empty() {
        return Ok(Ingested::default());
    }
    if !stream.is_default() {
        for event in &mut batch.events {
            in_stream(stream, event);
        }
    }
    let report = ingest.store.ingest(batch).await?;
    if report.stored > 0 {
        ingest.rollups_due.notify_one();
    }
    Ok(report)
}

/// Moves `event` into `stream`: its unit id, `message_id` and exposure experiment are
/// prefixed, so its units, deduplication and rollup rows are the environment's own.
fn in_stream(stream: &Stream, event: &mut Event) {
    stream.prefix_in_place(&mut event.unit_id);
    stream.prefix_in_place(&mut event.message_id);
    if let EventKind::Exposure { experiment, .. } = &mut event.kind {
        stream.prefix_in_place(experiment);
    }
}

/// Why an event may not be stored as sent: its unit id or `message_id` holds U+001F, which
/// separates an environment's name from the names it prefixes (`crate::environments`). The
/// error names the field, as core's batch errors do (`events[3].unit_id`).
pub fn misplaced(index: usize, event: &Event) -> Option<litmus_core::Error> {
    let field = if event.unit_id.contains(SEPARATOR) {
        "unit_id"
    } else if event.message_id.contains(SEPARATOR) {
        "message_id"
    } else {
        return None;
    };
    Some(litmus_core::Error::InvalidValue {
        path: FieldPath::root().field("events").item(index).field(field),
        message: format!("{field} may not hold U+001F"),
    })
}
