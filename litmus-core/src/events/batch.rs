//! A request body to events.
//!
//! Three shapes are read: `{"sent_at": ..., "events": [...]}` (what the SDKs send), a bare JSON
//! array of events, and NDJSON (one event per line). Each event is checked on its own: an
//! invalid one is rejected with its index and an error (code and path), and the others are
//! kept. Only a body that is not JSON at all, or that holds more than [`MAX_BATCH_EVENTS`]
//! events, fails as a whole.
//!
//! Clock skew: a client's clock may be off. When the batch says when it was sent (`sent_at`),
//! each event's time becomes `received - (sent_at - timestamp)`: how long before sending it
//! happened, counted back from when the server received it. Without `sent_at` the client's
//! timestamp is kept; without a timestamp the event happened when it was received.

use serde_json::Value;

use crate::Timestamp;
use crate::error::{Error, FieldPath};

use super::event::Event;
use super::{MAX_BATCH_EVENTS, MAX_EVENT_BYTES};

/// An event refused, by its position in the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct Rejection {
    /// Its index in the batch (the line, from 0, for NDJSON).
    pub index: usize,
    /// Why (its code is stable: `missing_field`, `invalid_value`, `unknown_field`,
    /// `invalid_json`, `limit_exceeded`).
    pub error: Error,
}

/// A batch read: the valid events (in order, with their index) and the refused ones.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Batch {
    /// The valid events with their index in the batch.
    pub events: Vec<(usize, Event)>,
    /// The refused events.
    pub rejected: Vec<Rejection>,
}

/// A batch that cannot be read at all. Each variant has a stable code ([`BatchError::code`],
/// listed in `docs/errors.md`).
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BatchError {
    /// The body is neither JSON nor NDJSON, or its envelope is malformed.
    #[error("{0}")]
    Invalid(Error),
    /// More than [`MAX_BATCH_EVENTS`] events.
    #[error("{count} events in one batch (at most {MAX_BATCH_EVENTS})")]
    TooManyEvents {
        /// How many there were.
        count: usize,
    },
}

impl BatchError {
    /// Codes of this type's own, for documentation and tests (an [`BatchError::Invalid`]
    /// carries one of [`Error::CODES`]).
    pub const CODES: &'static [&'static str] = &["too_many_events"];

    /// The stable snake_case code: the envelope's error's own code for
    /// [`BatchError::Invalid`] (`invalid_json`, `unknown_field`, `invalid_value`), and
    /// `too_many_events`.
    pub fn code(&self) -> &'static str {
        match self {
            BatchError::Invalid(e) => e.code(),
            BatchError::TooManyEvents { .. } => "too_many_events",
        }
    }
}

/// Reads a batch received at `received`. `sent_at` is the batch's send time when it comes
/// from outside the body (a header, for arrays and NDJSON); the envelope's own `sent_at` wins.
pub fn parse_batch(
    body: &[u8],
    received: Timestamp,
    sent_at: Option<&str>,
) -> Result<Batch, BatchError> {
    let root = FieldPath::root();
    let (items, sent_at, ndjson) = envelope(body, sent_at)?;
    if items.len() > MAX_BATCH_EVENTS {
        return Err(BatchError::TooManyEvents { count: items.len() });
    }
    let mut batch = Batch::default();
    batch.events.reserve(items.len());
    let list = if ndjson {
        root.clone()
    } else {
        root.field("events")
    };
    // Items that are not JSON at all (not UTF-8, or a syntax error).
    let mut not_json = 0;
    for (index, item) in items.into_iter().enumerate() {
        if item.is_err() {
            not_json += 1;
        }
        let decoded = item.and_then(|raw| {
            if raw.len() > MAX_EVENT_BYTES {
                return Err(Error::LimitExceeded {
                    path: list.item(index),
                    message: format!(
                        "the event has {} bytes (at most {MAX_EVENT_BYTES})",
                        raw.len()
                    ),
                });
            }
            // The typed reading is the fast path; anything it refuses is read again as a JSON
            // value, which names the field and the problem.
            match Event::decode_fast(raw) {
                Some(ok) => Ok(ok),
                None => {
                    let at = list.item(index);
                    let value: Value = serde_json::from_str(raw).map_err(|e| {
                        not_json += 1;
                        Error::InvalidJson {
                            path: at.clone(),
                            message: e.to_string(),
                        }
                    })?;
                    Event::decode(&value, &at)
                }
            }
        });
        match decoded {
            Ok((mut event, client_time)) => {
                event.time = corrected(client_time, sent_at, received);
                batch.events.push((index, event));
            }
            Err(error) => batch.rejected.push(Rejection { index, error }),
        }
    }
    // A body none of whose lines is JSON is not NDJSON at all.
    if ndjson && batch.events.is_empty() && not_json == batch.rejected.len() {
        return Err(BatchError::Invalid(Error::InvalidJson {
            path: FieldPath::root(),
            message: "the body is neither a JSON batch nor NDJSON".into(),
        }));
    }
    Ok(batch)
}

/// The body's events as raw JSON texts (an unreadable NDJSON line as its error), the batch's
/// send time, and whether it was NDJSON.
type Items<'a> = (Vec<Result<&'a str, Error>>, Option<Timestamp>, bool);

/// The batch envelope, read without reading the events themselves.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(default)]
    sent_at: Option<Value>,
    #[serde(borrow)]
    events: Vec<&'a serde_json::value::RawValue>,
}

fn envelope<'a>(body: &'a [u8], header: Option<&str>) -> Result<Items<'a>, BatchError> {
    let root = FieldPath::root();
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        if let Ok(items) = serde_json::from_slice::<Vec<&serde_json::value::RawValue>>(body) {
            let items = items.into_iter().map(|r| Ok(r.get())).collect();
            return Ok((items, parse_sent_at(header)?, false));
        }
    }
    if first == Some(&b'{') {
        if let Ok(env) = serde_json::from_slice::<Envelope<'a>>(body) {
            let sent = match env.sent_at {
                None | Some(Value::Null) => parse_sent_at(header)?,
                Some(Value::String(s)) => parse_sent_at(Some(&s))?,
                Some(Value::Number(n)) => n.as_i64().and_then(super::event::millis),
                Some(_) => {
                    return Err(BatchError::Invalid(Error::InvalidJson {
                        path: root.field("sent_at"),
                        message: "expected an RFC 3339 string".into(),
                    }));
                }
            };
            let items = env.events.into_iter().map(|r| Ok(r.get())).collect();
            return Ok((items, sent, false));
        }
        // An object that is not a well-formed envelope: say what is wrong with it, unless it
        // is one event (NDJSON of one line, or several).
        if let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) {
            if obj.contains_key("events") {
                if let Some(unknown) = obj.keys().find(|k| *k != "events" && *k != "sent_at") {
                    return Err(BatchError::Invalid(Error::UnknownField {
                        path: root.field(unknown),
                    }));
                }
                return Err(BatchError::Invalid(Error::InvalidJson {
                    path: root.field("events"),
                    message: "expected an array of events".into(),
                }));
            }
        }
    }
    Ok((ndjson_lines(body), parse_sent_at(header)?, true))
}

/// The server-clock time of an event stamped `client` by a client whose batch says it was
/// sent at `sent_at`, received at `received` (see the module's documentation).
pub fn corrected(
    client: Option<Timestamp>,
    sent_at: Option<Timestamp>,
    received: Timestamp,
) -> Timestamp {
    match (client, sent_at) {
        (Some(t), Some(sent)) => {
            let ms = received
                .unix_millis()
                .saturating_sub(sent.unix_millis().saturating_sub(t.unix_millis()));
            // Within the years events may carry, however far off the client's clock is.
            Timestamp::from_unix_millis(ms.clamp(super::event::MIN_MS, super::event::MAX_MS))
        }
        (Some(t), None) => t,
        (None, _) => received,
    }
}

/// A send time as text (the `Litmus-Sent-At` header, or the envelope's string): RFC 3339, or
/// milliseconds since the epoch, as an event's own timestamp may be.
fn parse_sent_at(text: Option<&str>) -> Result<Option<Timestamp>, BatchError> {
    let Some(s) = text else {
        return Ok(None);
    };
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let millis = (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| t.parse::<i64>().ok().and_then(super::event::millis))
        .flatten();
    millis
        .or_else(|| Timestamp::parse_rfc3339(t))
        .map(Some)
        .ok_or_else(|| {
            BatchError::Invalid(Error::invalid(
                FieldPath::root().field("sent_at"),
                format!(
                    "{s:?} is not an RFC 3339 date-time or milliseconds since the epoch (years 0000 to 9999)"
                ),
            ))
        })
}

/// NDJSON: one event per non-empty line, each read later on its own; a line that is not
/// UTF-8 is rejected alone.
fn ndjson_lines(body: &[u8]) -> Vec<Result<&str, Error>> {
    body.split(|&b| b == b'\n')
        .filter(|l| !l.iter().all(u8::is_ascii_whitespace))
        .enumerate()
        .map(|(i, line)| {
            std::str::from_utf8(line).map_err(|e| Error::InvalidJson {
                path: FieldPath::root().item(i),
                message: e.to_string(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use crate::events::EventKind;

    const RECEIVED: i64 = 1_800_000_000_000;

    fn parse(body: &str, sent_at: Option<&str>) -> Batch {
        parse_batch(
            body.as_bytes(),
            Timestamp::from_unix_millis(RECEIVED),
            sent_at,
        )
        .unwrap()
    }

    /// U+0000 anywhere in an event rejects that event (PostgreSQL cannot store it), on the
    /// fast and the slow path; an escaped backslash before `u0000` is not a NUL.
    #[test]
    fn events_holding_nul_are_rejected_with_the_path() {
        let body = r#"[{"type":"track","message_id":"a","unit_id":"u\u0000","event":"buy"},
            {"type":"track","message_id":"b","unit_id":"u","event":"buy","properties":{"p":{"q":"\u0000"}}},
            {"type":"track","message_id":"c","unit_id":"u\\u0000","event":"buy"}]"#;
        let b = parse(body, None);
        let paths: Vec<&str> = b
            .rejected
            .iter()
            .filter_map(|r| r.error.path().map(FieldPath::as_str))
            .collect();
        assert_eq!(paths, ["events[0].unit_id", "events[1].properties.p.q"]);
        assert!(b.rejected.iter().all(|r| r.error.code() == "invalid_value"));
        assert_eq!(b.events.len(), 1);
        assert_eq!(b.events[0].1.unit_id, "u\\u0000");
    }

    #[test]
    fn the_three_shapes_read_alike() {
        let e1 = r#"{"type":"exposure","message_id":"m1","unit_id":"u","experiment":"x","variant":"a","timestamp":1799999999000}"#;
        let e2 = r#"{"type":"track","message_id":"m2","unit_id":"u","event":"buy","value":2.5}"#;
        let shapes = [
            format!(r#"{{"events":[{e1},{e2}]}}"#),
            format!("[{e1},{e2}]"),
            format!("{e1}\n{e2}\n"),
        ];
        for body in shapes {
            let b = parse(&body, None);
            assert!(b.rejected.is_empty(), "{body}: {:?}", b.rejected);
            assert_eq!(b.events.len(), 2);
            assert_eq!(b.events[0].1.time.unix_millis(), 1_799_999_999_000);
            assert_eq!(
                b.events[1].1.time.unix_millis(),
                RECEIVED,
                "no timestamp: received"
            );
            assert!(matches!(b.events[1].1.kind, EventKind::Track { value, .. } if value == 2.5));
        }
    }

    #[test]
    fn clock_skew_is_corrected_from_sent_at() {
        // The client's clock is an hour fast: it stamped the event 5 s before sending.
        let body = r#"{"sent_at":"2027-01-15T09:00:05Z","events":[{"type":"track","message_id":"m","unit_id":"u","event":"e","timestamp":"2027-01-15T09:00:00Z"}]}"#;
        let b = parse(body, None);
        assert_eq!(b.events[0].1.time.unix_millis(), RECEIVED - 5_000);
        // The header form, for arrays.
        let arr = r#"[{"type":"track","message_id":"m","unit_id":"u","event":"e","timestamp":"2027-01-15T09:00:00Z"}]"#;
        let b = parse(arr, Some("2027-01-15T09:00:02Z"));
        assert_eq!(b.events[0].1.time.unix_millis(), RECEIVED - 2_000);
        // Milliseconds since the epoch, in the header and in the envelope's string, as an
        // event's own timestamp may be.
        let ms = Timestamp::parse_rfc3339("2027-01-15T09:00:02Z").map_or(0, Timestamp::unix_millis);
        let b = parse(arr, Some(&ms.to_string()));
        assert_eq!(b.events[0].1.time.unix_millis(), RECEIVED - 2_000);
        let env = format!(
            r#"{{"sent_at":"{ms}","events":[{{"type":"track","message_id":"m","unit_id":"u","event":"e","timestamp":"2027-01-15T09:00:00Z"}}]}}"#
        );
        assert_eq!(
            parse(&env, None).events[0].1.time.unix_millis(),
            RECEIVED - 2_000
        );
        for bad in ["yesterday", "1.5e12", "99999999999999999999", "-", ""] {
            let r = parse_batch(
                arr.as_bytes(),
                Timestamp::from_unix_millis(RECEIVED),
                Some(bad),
            );
            assert!(matches!(r, Err(BatchError::Invalid(_))), "{bad:?}");
        }
    }

    #[test]
    fn invalid_events_are_rejected_one_by_one_with_their_index() {
        let body = r#"{"events":[
            {"type":"track","message_id":"ok","unit_id":"u","event":"e"},
            {"type":"track","unit_id":"u","event":"e"},
            {"type":"track","message_id":"m","unit_id":"u","event":"e","vlaue":1},
            {"type":"click","message_id":"m","unit_id":"u"},
            {"type":"track","message_id":"m","unit_id":"u","event":"e","value":"1"},
            {"type":"exposure","message_id":"m","unit_id":"","experiment":"x","variant":"a"},
            {"type":"track","message_id":"m","unit_id":"u","event":"e","timestamp":"yesterday"},
            7
        ]}"#;
        let b = parse(body, None);
        assert_eq!(b.events.len(), 1);
        let got: Vec<(usize, &str, String)> = b
            .rejected
            .iter()
            .map(|r| (r.index, r.error.code(), r.error.path().unwrap().to_string()))
            .collect();
        assert_eq!(
            got,
            [
                (1, "missing_field", "events[1].message_id".into()),
                (2, "unknown_field", "events[2].vlaue".into()),
                (3, "invalid_value", "events[3].type".into()),
                (4, "invalid_json", "events[4].value".into()),
                (5, "invalid_value", "events[5].unit_id".into()),
                (6, "invalid_value", "events[6].timestamp".into()),
                (7, "invalid_json", "events[7]".into()),
            ]
        );
    }

    #[test]
    fn times_beyond_year_9999_are_refused_and_skew_stays_in_range() {
        let body = r#"[{"type":"track","message_id":"m","unit_id":"u","event":"e","timestamp":-9223372036854775808},
                       {"type":"track","message_id":"n","unit_id":"u","event":"e","timestamp":"9999-12-31T23:59:59Z"}]"#;
        let b = parse(body, Some("0000-01-01T00:00:00Z"));
        assert_eq!(
            (b.rejected[0].index, b.rejected[0].error.code()),
            (0, "invalid_value")
        );
        // Sent "in year 0", stamped in 9999: the correction would leave the years; it stops
        // at their end.
        assert_eq!(
            b.events[0].1.time.unix_millis(),
            crate::events::event::MAX_MS
        );
        assert_eq!(crate::events::rollup::minute(i64::MIN), i64::MIN);
        assert_eq!(crate::events::rollup::minute(-1), -60_000);
    }

    #[test]
    fn limits() {
        let big = "x".repeat(crate::events::MAX_EVENT_BYTES);
        let body = format!(
            r#"[{{"type":"track","message_id":"m","unit_id":"u","event":"e","properties":{{"p":"{big}"}}}}]"#
        );
        let b = parse(&body, None);
        assert_eq!(b.rejected[0].error.code(), "limit_exceeded");
        let one = r#"{"type":"track","message_id":"m","unit_id":"u","event":"e"}"#;
        let many = format!("[{}]", vec![one; MAX_BATCH_EVENTS + 1].join(","));
        assert_eq!(
            parse_batch(many.as_bytes(), Timestamp::from_unix_millis(0), None),
            Err(BatchError::TooManyEvents {
                count: MAX_BATCH_EVENTS + 1
            })
        );
        let invalid = parse_batch(b"not json", Timestamp::from_unix_millis(0), None);
        assert!(matches!(invalid, Err(BatchError::Invalid(_))));
        assert_eq!(invalid.err().map(|e| e.code()), Some("invalid_json"));
        let too_many = BatchError::TooManyEvents { count: 1 };
        assert!(BatchError::CODES.contains(&too_many.code()));
        let mixed = format!("{one}\nnot json\n{one}");
        let b = parse(&mixed, None);
        assert_eq!((b.events.len(), b.rejected[0].index), (2, 1));
    }
}
