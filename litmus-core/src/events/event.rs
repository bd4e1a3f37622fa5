//! One event, decoded from its JSON object with a path on every error.

use serde_json::{Map, Value};

use crate::Timestamp;
use crate::error::{Error, FieldPath};

use super::MAX_MESSAGE_ID_CHARS;
use crate::segments::MAX_EVENT_DIMENSIONS;

/// What an event records.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The unit saw `variant` of `experiment`.
    Exposure {
        /// The experiment's key.
        experiment: String,
        /// The variant's key.
        variant: String,
        /// The unit's value of each of the experiment's dimensions (`docs/results.md`,
        /// Segments), as the SDK sent them: (dimension, value), keys unique.
        dimensions: Vec<(String, String)>,
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
    /// When it happened on the client's clock, as sent (`None`: no timestamp). With the
    /// `message_id`, what a store recognizes a retried event by.
    pub client_time: Option<Timestamp>,
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
        Some(Value::String(s)) if s.contains('\0') => Err(crate::config::nul_error(path)),
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

/// The earliest and latest instants an event may carry: years 0000 to 9999, as RFC 3339
/// strings can say. Beyond them a store could not keep the time (and rounding it to a minute
/// could overflow).
pub(crate) const MIN_MS: i64 = -62_167_219_200_000;
pub(crate) const MAX_MS: i64 = 253_402_300_799_999;

/// An instant given in milliseconds, when it is within years 0000 to 9999.
pub(crate) fn millis(ms: i64) -> Option<Timestamp> {
    (MIN_MS..=MAX_MS)
        .contains(&ms)
        .then(|| Timestamp::from_unix_millis(ms))
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
        Some(Value::Number(n)) => n.as_i64().and_then(millis).map(Some).ok_or_else(|| {
            Error::invalid(
                path,
                "milliseconds since the epoch must be a whole number in years 0000 to 9999",
            )
        }),
        Some(_) => Err(Error::InvalidJson {
            path,
            message: "expected an RFC 3339 string or milliseconds".into(),
        }),
    }
}

/// An exposure's dimension values (`{"country": "FR"}`), checked: at most
/// [`MAX_EVENT_DIMENSIONS`], keys that are valid keys, values of 1 to
/// [`crate::segments::MAX_VALUE_CHARS`] characters.
fn dimensions(obj: &Map<String, Value>, at: &FieldPath) -> Result<Vec<(String, String)>, Error> {
    if obj.len() > MAX_EVENT_DIMENSIONS {
        return Err(Error::invalid(
            at.clone(),
            format!("more than {MAX_EVENT_DIMENSIONS} dimensions"),
        ));
    }
    let mut out = Vec::with_capacity(obj.len());
    for (key, value) in obj {
        let path = at.field(key);
        crate::config::compile::check_key(key, &path)?;
        let Value::String(value) = value else {
            return Err(Error::InvalidJson {
                path,
                message: "expected a string".into(),
            });
        };
        crate::segments::check_value(value, &path)?;
        out.push((key.clone(), value.clone()));
    }
    Ok(out)
}

/// [`dimensions`] for valid ones, without building paths; `None` for anything else.
fn dimensions_fast(obj: &Map<String, Value>) -> Option<Vec<(String, String)>> {
    if obj.len() > MAX_EVENT_DIMENSIONS {
        return None;
    }
    obj.iter()
        .map(|(key, value)| {
            let value = value.as_str()?;
            let fine = crate::config::compile::is_key(key)
                && !value.contains('\0')
                && fine(value, crate::segments::MAX_VALUE_CHARS);
            fine.then(|| (key.clone(), value.to_owned()))
        })
        .collect()
}

/// Whether `variant` is one of a holdout's arms.
fn holdout_arm(variant: &str) -> bool {
    use crate::assign::holdout_exposure::{EXPOSED, HELD_OUT};
    variant == HELD_OUT || variant == EXPOSED
}

/// The longest key, unit id, event name or variant accepted.
const MAX_NAME_CHARS: usize = 256;

/// Every field an event may have, read in one typed pass (the fast path of [`Event::decode_fast`]).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Fields {
    #[serde(rename = "type")]
    kind: String,
    message_id: String,
    unit_id: String,
    #[serde(default)]
    timestamp: Option<Value>,
    #[serde(default)]
    experiment: Option<String>,
    #[serde(default)]
    holdout: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    event: Option<String>,
    #[serde(default)]
    value: Option<f64>,
    #[serde(default)]
    properties: Option<Map<String, Value>>,
    #[serde(default)]
    dimensions: Option<Map<String, Value>>,
}

/// A name that passes [`text`]'s checks.
fn fine(s: &str, max: usize) -> bool {
    !s.is_empty() && (s.len() <= max || s.chars().count() <= max)
}

impl Event {
    /// Reads an event from its JSON text in one typed pass, when it is valid; `None` for
    /// anything else, which [`Event::decode`] then reads field by field to name the problem.
    pub(crate) fn decode_fast(raw: &str) -> Option<(Event, Option<Timestamp>)> {
        // JSON can only carry U+0000 escaped: such an event is read slowly, and refused.
        if raw.contains("\\u0000") {
            return None;
        }
        let f: Fields = serde_json::from_str(raw).ok()?;
        if !fine(&f.message_id, MAX_MESSAGE_ID_CHARS) || !fine(&f.unit_id, MAX_NAME_CHARS) {
            return None;
        }
        let client_time = match &f.timestamp {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(Timestamp::parse_rfc3339(s)?),
            Some(Value::Number(n)) => Some(millis(n.as_i64()?)?),
            Some(_) => return None,
        };
        let kind = match f.kind.as_str() {
            "exposure" => {
                if f.event.is_some() || f.value.is_some() || f.properties.is_some() {
                    return None;
                }
                let variant = f.variant?;
                let experiment = match (f.experiment, f.holdout) {
                    (Some(e), None) => e,
                    (None, Some(h)) if fine(&h, MAX_NAME_CHARS) && holdout_arm(&variant) => {
                        crate::assign::holdout_exposure::subject(&h)
                    }
                    _ => return None,
                };
                if !fine(&experiment, MAX_NAME_CHARS) || !fine(&variant, MAX_NAME_CHARS) {
                    return None;
                }
                let dimensions = match &f.dimensions {
                    None => Vec::new(),
                    Some(d) => dimensions_fast(d)?,
                };
                EventKind::Exposure {
                    experiment,
                    variant,
                    dimensions,
                }
            }
            "track" => {
                if f.experiment.is_some()
                    || f.holdout.is_some()
                    || f.variant.is_some()
                    || f.dimensions.is_some()
                {
                    return None;
                }
                let event = f.event?;
                let value = f.value.unwrap_or(1.0);
                if !fine(&event, MAX_NAME_CHARS) || !value.is_finite() {
                    return None;
                }
                EventKind::Track {
                    event,
                    value,
                    properties: f.properties,
                }
            }
            _ => return None,
        };
        Some((
            Event {
                message_id: f.message_id,
                unit_id: f.unit_id,
                time: Timestamp::from_unix_millis(0),
                client_time,
                kind,
            },
            client_time,
        ))
    }

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
                "holdout",
                "variant",
                "dimensions",
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
            let dimensions = match obj.get("dimensions") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Object(d)) => dimensions(d, &at.field("dimensions"))?,
                Some(_) => {
                    return Err(Error::InvalidJson {
                        path: at.field("dimensions"),
                        message: "expected an object".into(),
                    });
                }
            };
            // An experiment's exposure, or a holdout's (its arm: `holdout` or `exposed`).
            let experiment = if obj.contains_key("holdout") && !obj.contains_key("experiment") {
                let holdout = text(obj, at, "holdout", MAX_NAME_CHARS)?;
                let variant = text(obj, at, "variant", MAX_NAME_CHARS)?;
                if !holdout_arm(&variant) {
                    return Err(Error::invalid(
                        at.field("variant"),
                        format!("{variant:?} is not a holdout's arm (holdout, exposed)"),
                    ));
                }
                crate::assign::holdout_exposure::subject(&holdout)
            } else if obj.contains_key("holdout") {
                return Err(Error::invalid(
                    at.field("holdout"),
                    "an exposure names an experiment or a holdout, not both",
                ));
            } else {
                text(obj, at, "experiment", MAX_NAME_CHARS)?
            };
            EventKind::Exposure {
                experiment,
                variant: text(obj, at, "variant", MAX_NAME_CHARS)?,
                dimensions,
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
                Some(v @ Value::Object(p)) => {
                    match crate::config::nul_at(v, &at.field("properties")) {
                        Some(path) => return Err(crate::config::nul_error(path)),
                        None => Some(p.clone()),
                    }
                }
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
                client_time,
                kind,
            },
            client_time,
        ))
    }
}
