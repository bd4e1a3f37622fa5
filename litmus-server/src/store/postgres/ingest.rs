//! Storing event batches on PostgreSQL, a group of them in one transaction (the group commit
//! is `crate::store::group_commit`'s): each `message_id` once (through `event_ids`), the
//! events by one binary COPY into the hypertable, and each batch queued for the rollups, with
//! the rows they need, by one COPY into `pending_batches`.

use std::collections::HashSet;

use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::error::SqlState;
use tokio_postgres::types::{ToSql, Type};

use litmus_core::events::{Event, EventKind};

use super::{PostgresStore, backend, system_time};
use crate::store::copy_binary::{CopyBuffer, copy_payload};
use crate::store::group_commit::GroupWrite;
use crate::store::rollup_rows::RollupRows;
use crate::store::{EventBatch, Ingested, StoreError, event_key};

/// An event to store: its place in its batch, its key and itself.
type Planned<'a> = (usize, [u8; 16], &'a Event);

impl GroupWrite for PostgresStore {
    async fn write_group(&self, batches: Vec<EventBatch>) -> Result<Vec<Ingested>, StoreError> {
        write_group(self, batches).await
    }
}

/// Inserts `keys` (each with its batch's arrival) into `event_ids` by one binary COPY: fails
/// with a unique violation, storing none, when any of them is there already.
async fn copy_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    keys: &[([u8; 16], i64)],
) -> Result<u64, tokio_postgres::Error> {
    let mut rows = CopyBuffer::with_capacity(keys.len() * 34);
    for (key, received_ms) in keys {
        rows.row(2);
        rows.field(key);
        rows.timestamptz(*received_ms);
    }
    let copy = tx
        .prepare_cached("COPY event_ids (id, received_at) FROM STDIN BINARY")
        .await?;
    copy_payload(tx, &copy, rows.finish()).await
}

/// Stores `batches` in one transaction (see [`GroupWrite::write_group`]).
async fn write_group(
    store: &PostgresStore,
    batches: Vec<EventBatch>,
) -> Result<Vec<Ingested>, StoreError> {
    // Each message_id once in the group (its first, in group order), then once ever:
    // event_ids answers which keys are new, and only those events are copied.
    let mut seen = HashSet::with_capacity(batches.iter().map(|b| b.events.len()).sum());
    let mut keys: Vec<([u8; 16], i64)> = Vec::with_capacity(seen.capacity());
    let firsts: Vec<Vec<Planned<'_>>> = batches
        .iter()
        .map(|b| {
            b.events
                .iter()
                .enumerate()
                .map(|(seq, e)| (seq, event_key(e), e))
                .filter(|(_, id, _)| seen.insert(*id))
                .inspect(|(_, id, _)| keys.push((*id, b.received_ms)))
                .collect()
        })
        .collect();
    let mut client = store.client().await?;
    // Optimistically, every key is new: one COPY into event_ids, whose unique index checks
    // each key as it inserts it. Only when some key is already there (a client's retry)
    // does the group start over, asking event_ids which keys are new.
    // In key order, so consecutive inserts land in the same pages of the unique index.
    keys.sort_unstable();
    let mut tx = client.transaction().await.map_err(backend)?;
    let new: Option<HashSet<[u8; 16]>> = match copy_keys(&tx, &keys).await {
        Ok(_) => None,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            tx.rollback().await.map_err(backend)?;
            tx = client.transaction().await.map_err(backend)?;
            Some(new_keys(&tx, &keys).await?)
        }
        Err(e) => return Err(backend(e)),
    };
    let to_store: Vec<Vec<&Planned<'_>>> = firsts
        .iter()
        .map(|f| {
            f.iter()
                .filter(|(_, id, _)| new.as_ref().is_none_or(|n| n.contains(id)))
                .collect()
        })
        .collect();
    let numbered = to_store.iter().filter(|s| !s.is_empty()).count();
    // The batches handed to the rollup worker, taken back if the commit fails: each one's
    // number, its place in the group and the places of its events stored.
    let mut handed: Vec<(i64, usize, Vec<usize>)> = Vec::with_capacity(numbered);
    if numbered > 0 {
        let numbers = batch_numbers(&tx, numbered).await?;
        let mut numbers = numbers.into_iter();
        let mut pending = Vec::with_capacity(numbered);
        let copy = tx.prepare_cached(COPY_EVENTS).await.map_err(backend)?;
        let sink = tx.copy_in(&copy).await.map_err(backend)?;
        let writer = BinaryCopyInWriter::new(sink, &EVENT_TYPES);
        futures_util::pin_mut!(writer);
        for (place, (batch, events)) in batches.iter().zip(&to_store).enumerate() {
            if events.is_empty() {
                continue;
            }
            let number = numbers
                .next()
                .ok_or_else(|| StoreError::Backend("too few batch numbers".into()))?;
            let received = system_time(batch.received_ms);
            let (mut min_ms, mut max_ms) = (i64::MAX, i64::MIN);
            let mut rollup_rows = RollupRows::with_capacity(events.len());
            for (seq, _, e) in events {
                let seq = i32::try_from(*seq).map_err(backend)?;
                let t = e.time.unix_millis();
                (min_ms, max_ms) = (min_ms.min(t), max_ms.max(t));
                // Properties (or dimension values) serialized once, for the events and for
                // the rollup rows.
                let props = crate::store::stored_extras(e).map_err(backend)?;
                rollup_rows.push(seq, t, e, props.as_deref());
                write_event(writer.as_mut(), number, seq, &received, e, props.as_deref()).await?;
            }
            handed.push((
                number,
                place,
                events.iter().map(|(seq, _, _)| *seq).collect(),
            ));
            pending.push(PendingRow {
                number,
                min_ms,
                max_ms,
                rows: rollup_rows.finish(),
                events: i64::try_from(events.len()).map_err(backend)?,
                received_ms: batch.received_ms,
            });
        }
        writer.finish().await.map_err(backend)?;
        copy_pending(&tx, &pending).await?;
    }
    let ingested: Vec<Ingested> = batches
        .iter()
        .zip(&to_store)
        .map(|(b, s)| Ingested {
            stored: s.len(),
            duplicates: b.events.len().saturating_sub(s.len()),
        })
        .collect();
    // The stored events are moved to the rollup worker: the group is done with them.
    let mut batches: Vec<Option<EventBatch>> = batches.into_iter().map(Some).collect();
    for (number, place, seqs) in &handed {
        let Some(batch) = batches.get_mut(*place).and_then(Option::take) else {
            continue;
        };
        store
            .handoff
            .put(*number, stored_events(batch.events, seqs));
    }
    store
        .handoff
        .settle(
            handed.iter().map(|(number, _, _)| *number),
            tx.commit().await,
        )
        .map_err(backend)?;
    Ok(ingested)
}

/// The events of `events` at the places `seqs` (in increasing order).
fn stored_events(events: Vec<Event>, seqs: &[usize]) -> impl Iterator<Item = Event> + '_ {
    let mut wanted = seqs.iter().peekable();
    events.into_iter().enumerate().filter_map(move |(seq, e)| {
        wanted.next_if_eq(&&seq)?;
        Some(e)
    })
}

/// Inserts the keys not stored yet into `event_ids` (waiting for concurrent transactions that
/// insert the same ones) and answers which they were.
async fn new_keys(
    tx: &deadpool_postgres::Transaction<'_>,
    keys: &[([u8; 16], i64)],
) -> Result<HashSet<[u8; 16]>, StoreError> {
    let (ids, received): (Vec<&[u8]>, Vec<i64>) = keys.iter().map(|(k, ms)| (&k[..], *ms)).unzip();
    Ok(tx
        .query(
            "INSERT INTO event_ids (id, received_at)
             SELECT encode(k, 'hex')::uuid, to_timestamp(ms / 1000.0)
             FROM unnest($1::bytea[], $2::bigint[]) AS t(k, ms)
             ON CONFLICT DO NOTHING RETURNING uuid_send(id)",
            &[&ids, &received],
        )
        .await
        .map_err(backend)?
        .into_iter()
        .filter_map(|r| r.get::<_, &[u8]>(0).try_into().ok())
        .collect())
}

/// `n` new batch numbers, in increasing order (the group's batches take them in group order).
async fn batch_numbers(
    tx: &deadpool_postgres::Transaction<'_>,
    n: usize,
) -> Result<Vec<i64>, StoreError> {
    let n = i32::try_from(n).map_err(backend)?;
    let next = tx
        .prepare_cached("SELECT nextval('event_batches') FROM generate_series(1, $1::int)")
        .await
        .map_err(backend)?;
    let mut numbers: Vec<i64> = tx
        .query(&next, &[&n])
        .await
        .map_err(backend)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    numbers.sort_unstable();
    Ok(numbers)
}

/// The COPY of the events, with [`EVENT_TYPES`].
const COPY_EVENTS: &str = "COPY events (time, batch, seq, message_id, received_at, kind, unit_id,
    experiment, variant, metric, value, properties) FROM STDIN BINARY";

/// The column types of [`COPY_EVENTS`].
const EVENT_TYPES: [Type; 12] = [
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

/// Writes one event's row into the COPY of the events.
async fn write_event(
    writer: std::pin::Pin<&mut BinaryCopyInWriter>,
    number: i64,
    seq: i32,
    received: &std::time::SystemTime,
    e: &Event,
    properties: Option<&str>,
) -> Result<(), StoreError> {
    let time = system_time(e.time.unix_millis());
    // The columns that differ by kind: kind, experiment, variant, metric, value, properties
    // (an exposure's dimension values).
    let (kind, experiment, variant, metric, value, props) = match &e.kind {
        EventKind::Exposure {
            experiment,
            variant,
            ..
        } => (
            0i16,
            Some(experiment.as_str()),
            Some(variant.as_str()),
            None,
            None,
            properties.map(JsonbText),
        ),
        EventKind::Track { event, value, .. } => (
            1i16,
            None,
            None,
            Some(event.as_str()),
            Some(*value),
            properties.map(JsonbText),
        ),
    };
    writer
        .write(&[
            &time,
            &number,
            &seq,
            &e.message_id,
            received,
            &kind,
            &e.unit_id,
            &experiment,
            &variant,
            &metric,
            &value,
            &props,
        ])
        .await
        .map_err(backend)
}

/// JSON text written as a `jsonb` value (its binary form: version 1, then the text), so
/// properties serialized once need no `Value` of their own.
#[derive(Debug)]
struct JsonbText<'a>(&'a str);

impl ToSql for JsonbText<'_> {
    fn to_sql(
        &self,
        _: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<tokio_postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(&[1]);
        out.extend_from_slice(self.0.as_bytes());
        Ok(tokio_postgres::types::IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::JSONB
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A batch's entry in the rollup queue.
struct PendingRow {
    number: i64,
    min_ms: i64,
    max_ms: i64,
    rows: Vec<u8>,
    events: i64,
    received_ms: i64,
}

/// Queues the group's batches for the rollups, by one COPY into `pending_batches`.
async fn copy_pending(
    tx: &deadpool_postgres::Transaction<'_>,
    pending: &[PendingRow],
) -> Result<(), StoreError> {
    let copy = tx
        .prepare_cached(
            "COPY pending_batches (batch, min_ms, max_ms, rows, events, received_ms) \
             FROM STDIN BINARY",
        )
        .await
        .map_err(backend)?;
    let sink = tx.copy_in(&copy).await.map_err(backend)?;
    let types = [
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::BYTEA,
        Type::INT8,
        Type::INT8,
    ];
    let writer = BinaryCopyInWriter::new(sink, &types);
    futures_util::pin_mut!(writer);
    for p in pending {
        let row: [&(dyn ToSql + Sync); 6] = [
            &p.number,
            &p.min_ms,
            &p.max_ms,
            &p.rows,
            &p.events,
            &p.received_ms,
        ];
        writer.as_mut().write(&row).await.map_err(backend)?;
    }
    writer.finish().await.map_err(backend)?;
    Ok(())
}

/// Stores `batch` with the next group (see `EventStore::ingest`).
pub(super) async fn ingest(
    store: &PostgresStore,
    batch: EventBatch,
) -> Result<Ingested, StoreError> {
    store.group.submit(store, batch).await
}
