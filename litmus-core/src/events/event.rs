//! One event, decoded from its JSON object with a path on every error.

use serde_json::{Map, Value};

use crate::Timestamp;
use crate::error::{Error, FieldPath};

use super::MAX_MESSAGE_ID_CHARS;

/// What an event records.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The unit saw `variant` of `experiment`.
    Exposure {
        /// The experiment's key.
        experiment: String,
        /// The variant's key.
        variant: String,
    },
    /// The unit did something measurable.
    Track {
        /// The metric's name (`purchase`, `click`).
        event: String,
        /// Its value (1 when absent: a count).
        value: f64,
        /// Anything else, kept with the raw event.
        properties: Option<Map<String, Value>>,
    },
}

/// A validated event, its time corrected for the client's clock skew.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The client's id: an event is stored once per id, so retries are harmless.
    pub message_id: String,
    /// The unit (user, device).
    pub unit_id: String,
    /// When it happened, on the server's clock (see [`super::batch`]).
    pub time: Timestamp,
    /// What happened.
    pub kind: EventKind,
}

impl Event {
    /// The metric's name for a track event, `None` for an exposure.
    pub fn metric(&self) -> Option<&str> {
        match &self.kind {
            EventKind::Track { event, .. } => Some(event),
            EventKind::Exposure { .. } => None,
        }
    }
}

/// Reads a string field that must be present and non-empty (at most `max` characters).
fn text(obj: &Map<String, Value>, at: &FieldPath, key: &str, max: usize) -> Result<String, Error> {
    let path = at.field(key);
    match obj.get(key) {
        None | Some(Value::Null) => Err(Error::MissingField { path }),
        Some(Value::String(s)) if s.is_empty() => Err(Error::invalid(path, "must not be empty")),
        Some(Value::String(s)) if s.chars().count() > max => Err(Error::invalid(
            path,
            format!("is longer than {max} characters"),
        )),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(Error::InvalidJson {
            path,
            message: "expected a string".into(),
        }),
    }
}

/// Reads an event's time: an RFC 3339 string or milliseconds since the epoch.
fn timestamp(
    obj: &Map<String, Value>,
    at: &FieldPath,
    key: &str,
) -> Result<Option<Timestamp>, Error> {
    let path = at.field(key);
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Timestamp::parse_rfc3339(s)
            .map(Some)
            .ok_or_else(|| Error::invalid(path, format!("{s:?} is not an RFC 3339 date-time"))),
        Some(Value::Number(n)) => n
            .as_i64()
            .map(|ms| Some(Timestamp::from_unix_millis(ms)))
            .ok_or_else(|| {
                Error::invalid(path, "milliseconds since the epoch must be a whole number")
            }),
        Some(_) => Err(Error::InvalidJson {
            path,
            message: "expected an RFC 3339 string or milliseconds".into(),
        }),
    }
}

/// The longest key, unit id, event name or variant accepted.
const MAX_NAME_CHARS: usize = 256;

impl Event {
    /// Decodes the event at `at` (e.g. `events[3]`) from its JSON value. Its client
    /// `timestamp` (absent: `fallback`) is answered apart, for the batch to correct.
    pub(crate) fn decode(
        value: &Value,
        at: &FieldPath,
    ) -> Result<(Event, Option<Timestamp>), Error> {
        let Value::Object(obj) = value else {
            return Err(Error::InvalidJson {
                path: at.clone(),
                message: "an event is a JSON object".into(),
            });
        };
        let kind_name = text(obj, at, "type", 32)?;
        let allowed: &[&str] = match kind_name.as_str() {
            "exposure" => &[
                "type",
                "message_id",
                "timestamp",
                "unit_id",
                "experiment",
                "variant",
            ],
            "track" => &[
                "type",
                "message_id",
                "timestamp",
                "unit_id",
                "event",
                "value",
                "properties",
            ],
            other => {
                return Err(Error::invalid(
                    at.field("type"),
                    format!("{other:?} is not an event type (exposure, track)"),
                ));
            }
        };
        if let Some(unknown) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(Error::UnknownField {
                path: at.field(unknown),
            });
        }
        let message_id = text(obj, at, "message_id", MAX_MESSAGE_ID_CHARS)?;
        let unit_id = text(obj, at, "unit_id", MAX_NAME_CHARS)?;
        let client_time = timestamp(obj, at, "timestamp")?;
        let kind = if kind_name == "exposure" {
            EventKind::Exposure {
                experiment: text(obj, at, "experiment", MAX_NAME_CHARS)?,
                variant: text(obj, at, "variant", MAX_NAME_CHARS)?,
            }
        } else {
            let value = match obj.get("value") {
                None | Some(Value::Null) => 1.0,
                Some(Value::Number(n)) => match n.as_f64() {
                    Some(v) if v.is_finite() => v,
                    _ => return Err(Error::invalid(at.field("value"), "must be a finite number")),
                },
                Some(_) => {
                    return Err(Error::InvalidJson {
                        path: at.field("value"),
                        message: "expected a number".into(),
                    });
                }
            };
            let properties = match obj.get("properties") {
                None | Some(Value::Null) => None,
                Some(Value::Object(p)) => Some(p.clone()),
                Some(_) => {
                    return Err(Error::InvalidJson {
                        path: at.field("properties"),
                        message: "expected an object".into(),
                    });
                }
            };
            EventKind::Track {
                event: text(obj, at, "event", MAX_NAME_CHARS)?,
                value,
                properties,
            }
        };
        Ok((
            Event {
                message_id,
                unit_id,
                time: Timestamp::from_unix_millis(0),
                kind,
            },
            client_time,
        ))
    }
}
