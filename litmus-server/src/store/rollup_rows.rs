//! The rows the rollup worker needs from one stored batch, encoded once at ingestion in
//! PostgreSQL's binary COPY format, so the worker loads them into its `fresh` table with one
//! `COPY ... FROM STDIN BINARY` instead of reading the batch back out of the events hypertable
//! (which would need a second index on every event row).
//!
//! Columns, in order: `seq int4, time_ms int8, kind int2, unit_id text, experiment text,
//! variant text, metric text, value float8, properties text` (nulls where a kind has no such
//! field; the properties as JSON). Rows written before the properties were kept have the
//! first eight.
//!
//! The worker reads the payload back into events with [`decode`].

use litmus_core::events::{Event, EventKind};
use litmus_core::metrics::Program;

use super::StoredEvent;
use super::byte_reader::ByteReader;
use super::copy_binary::CopyBuffer;

/// Fields per row.
const FIELDS: i16 = 9;

/// Fields per row before the properties were kept.
const FIELDS_BEFORE_PROPERTIES: i16 = 8;

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

    /// Adds the row of `event`, the `seq`-th of its batch, at `time_ms`, with its properties
    /// serialized as JSON.
    pub(super) fn push(&mut self, seq: i32, time_ms: i64, event: &Event, properties: Option<&str>) {
        let b = &mut self.buffer;
        b.row(FIELDS);
        b.field(&seq.to_be_bytes());
        b.field(&time_ms.to_be_bytes());
        match &event.kind {
            EventKind::Exposure {
                experiment,
                variant,
                ..
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
        match properties {
            Some(p) => b.field(p.as_bytes()),
            None => b.null(),
        }
    }

    /// The complete payload.
    pub(super) fn finish(self) -> Vec<u8> {
        self.buffer.finish()
    }
}

/// A payload that cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("a queued batch's rollup rows are corrupt: {0}")]
pub(super) struct Corrupt(&'static str);

/// A payload being read.
struct Fields<'a>(ByteReader<'a>);

impl<'a> Fields<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Corrupt> {
        self.0.take(n).ok_or(Corrupt("it ends early"))
    }

    fn i16(&mut self) -> Result<i16, Corrupt> {
        let bytes = self.0.array().ok_or(Corrupt("it ends early"))?;
        Ok(i16::from_be_bytes(bytes))
    }

    /// The next field's bytes (`None` for a null).
    fn field(&mut self) -> Result<Option<&'a [u8]>, Corrupt> {
        let len = self.0.array().ok_or(Corrupt("it ends early"))?;
        match usize::try_from(i32::from_be_bytes(len)) {
            Ok(n) => self.take(n).map(Some),
            Err(_) => Ok(None),
        }
    }

    fn text(&mut self) -> Result<String, Corrupt> {
        let bytes = self.field()?.unwrap_or_default();
        String::from_utf8(bytes.to_vec()).map_err(|_| Corrupt("a text is not UTF-8"))
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], Corrupt> {
        self.field()?
            .unwrap_or_default()
            .try_into()
            .map_err(|_| Corrupt("a number has the wrong size"))
    }
}

/// The events of a payload written by [`RollupRows`], in batch order (with what the rollups
/// need: unit, time, kind, names and value, and the properties of the events a metric of
/// `program` reads them of).
pub(super) fn decode(payload: &[u8], program: &Program) -> Result<Vec<Event>, Corrupt> {
    let mut r = Fields(ByteReader::new(payload));
    if r.take(HEADER_LEN)?.get(..11) != Some(&b"PGCOPY\n\xff\r\n\0"[..]) {
        return Err(Corrupt("no COPY header"));
    }
    let mut events = Vec::new();
    loop {
        let with_properties = match r.i16()? {
            -1 => break,
            FIELDS => true,
            FIELDS_BEFORE_PROPERTIES => false,
            _ => return Err(Corrupt("a row has the wrong number of fields")),
        };
        let _seq = r.field()?;
        let time_ms = i64::from_be_bytes(r.fixed()?);
        let kind = i16::from_be_bytes(r.fixed()?);
        let unit_id = r.text()?;
        let experiment = r.text()?;
        let variant = r.text()?;
        let metric = r.text()?;
        let value = r
            .field()?
            .map(|b| {
                <[u8; 8]>::try_from(b)
                    .map(f64::from_be_bytes)
                    .map_err(|_| Corrupt("a number has the wrong size"))
            })
            .transpose()?;
        let properties = if with_properties { r.field()? } else { None };
        // An exposure's are its dimension values.
        let properties = match properties {
            Some(p) if kind == 0 || program.needs_properties(&metric) => {
                Some(serde_json::from_slice(p).map_err(|_| Corrupt("properties are not JSON"))?)
            }
            _ => None,
        };
        let stored = StoredEvent {
            batch: 0,
            message_id: String::new(),
            unit_id,
            time_ms,
            exposure: kind == 0,
            experiment: Some(experiment),
            variant: Some(variant),
            metric: Some(metric),
            value,
            properties,
        };
        events.push(stored.into_event().1);
    }
    if r.0.left() > 0 {
        return Err(Corrupt("bytes follow its end"));
    }
    Ok(events)
}

/// The length of the COPY header (signature, flags, extension length).
const HEADER_LEN: usize = 19;

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
        rows.push(7, -5, &event, Some("{}"));
        let mut expected = CopyBuffer::with_capacity(0);
        expected.row(9);
        expected.field(&7i32.to_be_bytes());
        expected.field(&(-5i64).to_be_bytes());
        expected.field(&[0, 1]);
        expected.field(b"u");
        expected.null();
        expected.null();
        expected.field(b"buy");
        expected.field(&2.5f64.to_bits().to_be_bytes());
        expected.field(b"{}");
        assert_eq!(rows.finish(), expected.finish());
    }

    #[test]
    fn decodes_what_it_encodes_and_refuses_damage() {
        let events = vec![
            Event {
                message_id: String::new(),
                unit_id: "u1".into(),
                time: Timestamp::from_unix_millis(-60_001),
                client_time: None,
                kind: EventKind::Exposure {
                    experiment: "e".into(),
                    variant: "b".into(),
                    dimensions: Vec::new(),
                },
            },
            Event {
                message_id: String::new(),
                unit_id: "u2".into(),
                time: Timestamp::from_unix_millis(5),
                client_time: None,
                kind: EventKind::Track {
                    event: "buy".into(),
                    value: 2.5,
                    properties: None,
                },
            },
        ];
        let mut rows = RollupRows::with_capacity(2);
        for (i, e) in events.iter().enumerate() {
            rows.push(i as i32, e.time.unix_millis(), e, None);
        }
        let payload = rows.finish();
        let program = Program::default();
        assert_eq!(decode(&payload, &program).unwrap(), events);
        for cut in 0..payload.len() {
            assert!(decode(&payload[..cut], &program).is_err());
        }
    }
}
