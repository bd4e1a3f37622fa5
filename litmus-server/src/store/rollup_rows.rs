//! The rows the rollup worker needs from one stored batch, encoded once at ingestion in
//! PostgreSQL's binary COPY format, so the worker loads them into its `fresh` table with one
//! `COPY ... FROM STDIN BINARY` instead of reading the batch back out of the events hypertable
//! (which would need a second index on every event row).
//!
//! Columns, in order: `seq int4, time_ms int8, kind int2, unit_id text, experiment text,
//! variant text, metric text, value float8` (nulls where a kind has no such field).

use litmus_core::events::{Event, EventKind};

use super::copy_binary::CopyBuffer;

/// Fields per row.
const FIELDS: i16 = 8;

/// A batch's rollup rows being encoded.
pub(super) struct RollupRows {
    buffer: CopyBuffer,
}

impl RollupRows {
    /// An empty payload, sized for about `events` rows.
    pub(super) fn with_capacity(events: usize) -> Self {
        Self {
            buffer: CopyBuffer::with_capacity(events * 96),
        }
    }

    /// Adds the row of `event`, the `seq`-th of its batch, at `time_ms`.
    pub(super) fn push(&mut self, seq: i32, time_ms: i64, event: &Event) {
        let b = &mut self.buffer;
        b.row(FIELDS);
        b.field(&seq.to_be_bytes());
        b.field(&time_ms.to_be_bytes());
        match &event.kind {
            EventKind::Exposure {
                experiment,
                variant,
            } => {
                b.field(&0i16.to_be_bytes());
                b.field(event.unit_id.as_bytes());
                b.field(experiment.as_bytes());
                b.field(variant.as_bytes());
                b.null();
                b.null();
            }
            EventKind::Track {
                event: name, value, ..
            } => {
                b.field(&1i16.to_be_bytes());
                b.field(event.unit_id.as_bytes());
                b.null();
                b.null();
                b.field(name.as_bytes());
                b.field(&value.to_bits().to_be_bytes());
            }
        }
    }

    /// The complete payload.
    pub(super) fn finish(self) -> Vec<u8> {
        self.buffer.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use litmus_core::Timestamp;

    #[test]
    fn encodes_a_track_row() {
        let event = Event {
            message_id: "m".into(),
            unit_id: "u".into(),
            time: Timestamp::from_unix_millis(0),
            client_time: None,
            kind: EventKind::Track {
                event: "buy".into(),
                value: 2.5,
                properties: None,
            },
        };
        let mut rows = RollupRows::with_capacity(1);
        rows.push(7, -5, &event);
        let mut expected = CopyBuffer::with_capacity(0);
        expected.row(8);
        expected.field(&7i32.to_be_bytes());
        expected.field(&(-5i64).to_be_bytes());
        expected.field(&[0, 1]);
        expected.field(b"u");
        expected.null();
        expected.null();
        expected.field(b"buy");
        expected.field(&2.5f64.to_bits().to_be_bytes());
        assert_eq!(rows.finish(), expected.finish());
    }
}
