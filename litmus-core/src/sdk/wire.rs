//! The wire format of `POST /events` as every SDK writes it: compact UTF-8 JSON, RFC 3339
//! timestamps in UTC with milliseconds, random (version 4) UUIDs as message ids, and the
//! server's limits.
//!
//! Events are encoded once, when they are queued, so a bad one is refused in the caller's
//! `track()`; a request body is the encoded events joined by commas inside the envelope
//! `{"sent_at":"...","events":[...]}`.

use crate::error::Error;
use crate::events::MAX_EVENT_BYTES;
use crate::time::Timestamp;

const HEAD: &[u8] = br#"{"sent_at":""#;
const MIDDLE: &[u8] = br#"","events":["#;
const TAIL: &[u8] = b"]}";
/// RFC 3339 with milliseconds is always 24 characters.
const TIMESTAMP_BYTES: usize = 24;

/// The bytes of a request body around its events (the envelope, with its `sent_at`).
pub const ENVELOPE_BYTES: usize = HEAD.len() + TIMESTAMP_BYTES + MIDDLE.len() + TAIL.len();

/// The canonical text of a random (version 4) UUID made of 16 random bytes:
/// `xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`.
pub fn message_id(random: [u8; 16]) -> String {
    let mut b = random;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let mut out = String::with_capacity(36);
    for (i, byte) in b.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(hex(byte >> 4));
        out.push(hex(byte & 0x0f));
    }
    out
}

fn hex(nibble: u8) -> char {
    char::from(
        b"0123456789abcdef"
            .get(usize::from(nibble))
            .copied()
            .unwrap_or(b'0'),
    )
}

/// An event's instant as the wire writes it; `argument` names the caller's argument.
pub fn timestamp(at: Timestamp, argument: &'static str) -> Result<String, Error> {
    at.to_rfc3339().ok_or_else(|| {
        Error::argument(
            argument,
            format!(
                "{} ms since the epoch is outside years 0000 to 9999",
                at.unix_millis()
            ),
        )
    })
}

/// An exposure event, encoded.
///
/// # Errors
/// `invalid_argument` for an empty id, key or variant or a time RFC 3339 cannot write;
/// `event_too_large` over [`MAX_EVENT_BYTES`].
pub fn encode_exposure(
    unit_id: &str,
    experiment: &str,
    variant: &str,
    dimensions_json: Option<&str>,
    at: Timestamp,
    message_id: &str,
) -> Result<Vec<u8>, Error> {
    let dimensions = dimensions_json.map(dimensions).transpose()?;
    let mut out = start("exposure", message_id, at, unit_id)?;
    field(&mut out, "experiment", text("experiment", experiment)?);
    field(&mut out, "variant", text("variant", variant)?);
    if let Some(d) = dimensions.filter(|d| !d.is_empty()) {
        out.extend_from_slice(br#","dimensions":"#);
        out.extend_from_slice(serde_json::to_string(&d).unwrap_or_default().as_bytes());
    }
    finish(out, "exposure")
}

/// A holdout exposure, encoded: `unit_id` in the `arm` (`holdout` or `exposed`) of
/// `holdout` (`crate::assign::holdout_exposure`).
///
/// # Errors
/// `invalid_argument` for an empty id or key, an arm other than those two, or a time RFC 3339
/// cannot write; `event_too_large` over [`MAX_EVENT_BYTES`].
pub fn encode_holdout_exposure(
    unit_id: &str,
    holdout: &str,
    arm: &str,
    at: Timestamp,
    message_id: &str,
) -> Result<Vec<u8>, Error> {
    use crate::assign::holdout_exposure::{EXPOSED, HELD_OUT};
    if arm != HELD_OUT && arm != EXPOSED {
        return Err(Error::argument(
            "variant",
            format!("{arm:?} is not a holdout's arm ({HELD_OUT}, {EXPOSED})"),
        ));
    }
    let mut out = start("exposure", message_id, at, unit_id)?;
    field(&mut out, "holdout", text("holdout", holdout)?);
    field(&mut out, "variant", arm);
    finish(out, "exposure")
}

/// An exposure's dimension values from the JSON text of an object of strings
/// (`{"country":"FR"}`), checked as the server checks them; the keys keep their order.
///
/// # Errors
/// `invalid_argument` (argument `dimensions`) for anything else.
pub fn dimensions(json: &str) -> Result<serde_json::Map<String, serde_json::Value>, Error> {
    let bad = |message: String| Error::argument("dimensions", message);
    let map: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(json).map_err(|_| bad("must be a JSON object of strings".into()))?;
    if map.len() > crate::segments::MAX_EVENT_DIMENSIONS {
        return Err(bad(format!(
            "more than {} dimensions",
            crate::segments::MAX_EVENT_DIMENSIONS
        )));
    }
    for (key, value) in &map {
        let at = crate::error::FieldPath::root().field(key);
        crate::config::compile::check_key(key, &at).map_err(|e| bad(e.to_string()))?;
        let Some(text) = value.as_str() else {
            return Err(bad(format!("{key:?} must be a string")));
        };
        crate::segments::check_value(text, &at).map_err(|e| bad(e.to_string()))?;
    }
    Ok(map)
}

/// A track (metric) event, encoded. `properties_json` is the JSON text of an object (as the
/// language's own JSON writer made it); `value` and `properties` are left out when None.
///
/// # Errors
/// `invalid_argument` for an empty id or event name, a value that is not finite, properties
/// that are not a JSON object, or a time RFC 3339 cannot write; `event_too_large` over
/// [`MAX_EVENT_BYTES`].
pub fn encode_track(
    unit_id: &str,
    event: &str,
    value: Option<f64>,
    properties_json: Option<&str>,
    at: Timestamp,
    message_id: &str,
) -> Result<Vec<u8>, Error> {
    let mut out = start("track", message_id, at, unit_id)?;
    field(&mut out, "event", text("event", event)?);
    if let Some(v) = value {
        if !v.is_finite() {
            return Err(Error::argument(
                "value",
                format!("must be a finite number or None, not {v}"),
            ));
        }
        out.extend_from_slice(br#","value":"#);
        out.extend_from_slice(serde_json::to_string(&v).unwrap_or_default().as_bytes());
    }
    if let Some(p) = properties_json {
        let is_object = p.trim_start().starts_with('{')
            && serde_json::from_str::<serde::de::IgnoredAny>(p).is_ok();
        if !is_object {
            return Err(Error::argument(
                "properties",
                "must be a JSON object (a mapping of names to JSON values)",
            ));
        }
        out.extend_from_slice(br#","properties":"#);
        out.extend_from_slice(p.trim().as_bytes());
    }
    finish(out, "track")
}

/// The body of a request: the envelope with `sent_at` around `events` (each encoded by this
/// module), or None when `sent_at` is outside years 0000 to 9999.
pub fn batch_body<'a>(
    events: impl IntoIterator<Item = &'a [u8]>,
    sent_at: Timestamp,
) -> Option<Vec<u8>> {
    let sent_at = sent_at.to_rfc3339()?;
    let mut out = Vec::with_capacity(4096);
    out.extend_from_slice(HEAD);
    out.extend_from_slice(sent_at.as_bytes());
    out.extend_from_slice(MIDDLE);
    for (i, e) in events.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(e);
    }
    out.extend_from_slice(TAIL);
    Some(out)
}

/// The body size of a batch of encoded events of these sizes.
pub fn body_bytes(event_sizes: impl IntoIterator<Item = usize>) -> usize {
    let (n, sum) = event_sizes
        .into_iter()
        .fold((0usize, 0usize), |(n, s), b| (n + 1, s.saturating_add(b)));
    ENVELOPE_BYTES + sum + n.saturating_sub(1)
}

fn text<'a>(argument: &'static str, value: &'a str) -> Result<&'a str, Error> {
    if value.is_empty() {
        Err(Error::argument(argument, "must be a non-empty string"))
    } else {
        Ok(value)
    }
}

fn start(kind: &str, message_id: &str, at: Timestamp, unit_id: &str) -> Result<Vec<u8>, Error> {
    let timestamp = timestamp(at, "timestamp")?;
    let unit_id = text("unit_id", unit_id)?;
    let message_id = text("message_id", message_id)?;
    let mut out = Vec::with_capacity(160 + unit_id.len());
    out.extend_from_slice(br#"{"type":""#);
    out.extend_from_slice(kind.as_bytes());
    out.push(b'"');
    field(&mut out, "message_id", message_id);
    field(&mut out, "timestamp", &timestamp);
    field(&mut out, "unit_id", unit_id);
    Ok(out)
}

fn field(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b"\":");
    out.extend_from_slice(serde_json::to_string(value).unwrap_or_default().as_bytes());
}

fn finish(mut out: Vec<u8>, kind: &str) -> Result<Vec<u8>, Error> {
    out.push(b'}');
    if out.len() > MAX_EVENT_BYTES {
        return Err(Error::EventTooLarge {
            kind: kind.to_owned(),
            bytes: out.len(),
            limit: MAX_EVENT_BYTES,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_ids_are_v4_uuids() {
        let id = message_id([0xff; 16]);
        assert_eq!(id, "ffffffff-ffff-4fff-bfff-ffffffffffff");
        assert_eq!(message_id([0; 16]), "00000000-0000-4000-8000-000000000000");
    }

    #[test]
    fn events_and_body() {
        let at = Timestamp::from_unix_millis(1_795_729_031_123);
        let e = encode_exposure("u\"1", "exp", "b", None, at, "m1").unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&e),
            r#"{"type":"exposure","message_id":"m1","timestamp":"2026-11-26T21:37:11.123Z","unit_id":"u\"1","experiment":"exp","variant":"b"}"#
        );
        let t = encode_track("u", "buy", Some(2.5), Some(r#" {"a": [1]} "#), at, "m2")
            .unwrap_or_default();
        assert_eq!(
            String::from_utf8_lossy(&t),
            r#"{"type":"track","message_id":"m2","timestamp":"2026-11-26T21:37:11.123Z","unit_id":"u","event":"buy","value":2.5,"properties":{"a": [1]}}"#
        );
        let body = batch_body([e.as_slice(), t.as_slice()], at).unwrap_or_default();
        assert_eq!(body.len(), body_bytes([e.len(), t.len()]));
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(v["events"].as_array().map(Vec::len), Some(2));
        assert_eq!(batch_body([], at).map(|b| b.len()), Some(ENVELOPE_BYTES));
    }

    #[test]
    fn refusals_name_the_argument() {
        let at = Timestamp::from_unix_millis(0);
        let code = |r: Result<Vec<u8>, Error>| r.err().map(|e| e.code());
        assert_eq!(
            code(encode_exposure("", "e", "v", None, at, "m")),
            Some("invalid_argument")
        );
        assert_eq!(
            code(encode_track("u", "e", Some(f64::NAN), None, at, "m")),
            Some("invalid_argument")
        );
        assert_eq!(
            code(encode_track("u", "e", None, Some("[1]"), at, "m")),
            Some("invalid_argument")
        );
        assert_eq!(
            code(encode_track("u", "e", None, Some("{"), at, "m")),
            Some("invalid_argument")
        );
        let big = format!(r#"{{"p":"{}"}}"#, "x".repeat(MAX_EVENT_BYTES));
        assert_eq!(
            code(encode_track("u", "e", None, Some(&big), at, "m")),
            Some("event_too_large")
        );
        let far = Timestamp::from_unix_millis(i64::MAX);
        assert_eq!(
            code(encode_exposure("u", "e", "v", None, far, "m")),
            Some("invalid_argument")
        );
    }
}
