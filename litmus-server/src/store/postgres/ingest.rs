//! Storing a batch of events on PostgreSQL: each `message_id` once (through `event_ids`), the
//! events by binary COPY into the hypertable, and the batch queued for the rollups with the
//! rows they need.

use serde_json::Value;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::Type;

use litmus_core::events::{Event, EventKind};

use super::{PostgresStore, backend, system_time};
use crate::store::copy_binary::{CopyBuffer, copy_payload};
use crate::store::rollup_rows::RollupRows;
use crate::store::{EventBatch, Ingested, StoreError, event_key};

/// Inserts `keys` into `event_ids` by one binary COPY: fails with a unique violation, storing
/// none, when any of them is there already.
async fn copy_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    keys: &[[u8; 16]],
    received_ms: i64,
) -> Result<u64, tokio_postgres::Error> {
    let mut rows = CopyBuffer::with_capacity(keys.len() * 34);
    for key in keys {
        rows.row(2);
        rows.field(key);
        rows.timestamptz(received_ms);
    }
    copy_payload(
        tx,
        "COPY event_ids (id, received_at) FROM STDIN BINARY",
        rows.finish(),
    )
    .await
}

/// Stores `batch` (see `EventStore::ingest`).
pub(super) async fn ingest(
    store: &PostgresStore,
    batch: EventBatch,
) -> Result<Ingested, StoreError> {
    // Each message_id once within the batch (its first), then once ever: event_ids answers
    // which keys are new, and only those events are copied.
    let mut seen = std::collections::HashSet::with_capacity(batch.events.len());
    let firsts: Vec<(usize, [u8; 16], &Event)> = batch
        .events
        .iter()
        .enumerate()
        .map(|(seq, e)| (seq, event_key(e), e))
        .filter(|(_, id, _)| seen.insert(*id))
        .collect();
    let received = system_time(batch.received_ms);
    let mut client = store.client().await?;
    // Optimistically, every key is new: one COPY into event_ids, whose unique index checks
    // each key as it inserts it. Only when some key is already there (a client's retry)
    // does the batch start over, asking event_ids which keys are new.
    // In key order, so consecutive inserts land in the same pages of the unique index.
    let mut sorted: Vec<[u8; 16]> = firsts.iter().map(|(_, id, _)| *id).collect();
    sorted.sort_unstable();
    let mut tx = client.transaction().await.map_err(backend)?;
    let new: Option<std::collections::HashSet<[u8; 16]>> =
        match copy_keys(&tx, &sorted, batch.received_ms).await {
            Ok(_) => None,
            Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
                tx.rollback().await.map_err(backend)?;
                tx = client.transaction().await.map_err(backend)?;
                let keys: Vec<&[u8]> = firsts.iter().map(|(_, id, _)| &id[..]).collect();
                let new = tx
                    .query(
                        "INSERT INTO event_ids (id, received_at)
                         SELECT encode(k, 'hex')::uuid, to_timestamp($2::bigint / 1000.0)
                         FROM unnest($1::bytea[]) k
                         ON CONFLICT DO NOTHING RETURNING uuid_send(id)",
                        &[&keys, &batch.received_ms],
                    )
                    .await
                    .map_err(backend)?
                    .into_iter()
                    .filter_map(|r| r.get::<_, &[u8]>(0).try_into().ok())
                    .collect::<std::collections::HashSet<[u8; 16]>>();
                if new.is_empty() {
                    tx.commit().await.map_err(backend)?;
                    return Ok(Ingested {
                        stored: 0,
                        duplicates: batch.events.len(),
                    });
                }
                Some(new)
            }
            Err(e) => return Err(backend(e)),
        };
    let number: i64 = tx
        .query_one("SELECT nextval('event_batches')", &[])
        .await
        .map_err(backend)?
        .get(0);
    let sink = tx
        .copy_in(
            "COPY events (time, batch, seq, message_id, received_at, kind, unit_id,
                          experiment, variant, metric, value, properties) FROM STDIN BINARY",
        )
        .await
        .map_err(backend)?;
    let types = [
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::INT4,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::INT2,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::FLOAT8,
        Type::JSONB,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    let (mut min_ms, mut max_ms) = (i64::MAX, i64::MIN);
    let mut rollup_rows = RollupRows::with_capacity(firsts.len());
    let is_new = |id: &[u8; 16]| new.as_ref().is_none_or(|n| n.contains(id));
    for (seq, _, e) in firsts.iter().filter(|(_, id, _)| is_new(id)) {
        let seq = i32::try_from(*seq).map_err(backend)?;
        let t = e.time.unix_millis();
        (min_ms, max_ms) = (min_ms.min(t), max_ms.max(t));
        rollup_rows.push(seq, t, e);
        let time = system_time(t);
        // The columns that differ by kind: kind, experiment, variant, metric, value,
        // properties.
        let (kind, experiment, variant, metric, value, props) = match &e.kind {
            EventKind::Exposure {
                experiment,
                variant,
            } => (
                0i16,
                Some(experiment.as_str()),
                Some(variant.as_str()),
                None,
                None,
                None,
            ),
            EventKind::Track {
                event,
                value,
                properties,
            } => (
                1i16,
                None,
                None,
                Some(event.as_str()),
                Some(*value),
                properties.as_ref().map(|p| Value::Object(p.clone())),
            ),
        };
        writer
            .as_mut()
            .write(&[
                &time,
                &number,
                &seq,
                &e.message_id,
                &received,
                &kind,
                &e.unit_id,
                &experiment,
                &variant,
                &metric,
                &value,
                &props,
            ])
            .await
            .map_err(backend)?;
    }
    let stored = writer.finish().await.map_err(backend)?;
    let events = i64::try_from(stored).map_err(backend)?;
    tx.execute(
        "INSERT INTO pending_batches (batch, min_ms, max_ms, rows, events, received_ms) \
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &number,
            &min_ms,
            &max_ms,
            &rollup_rows.finish(),
            &events,
            &batch.received_ms,
        ],
    )
    .await
    .map_err(backend)?;
    tx.commit().await.map_err(backend)?;
    let stored = usize::try_from(stored).map_err(backend)?;
    Ok(Ingested {
        stored,
        duplicates: batch.events.len().saturating_sub(stored),
    })
}
