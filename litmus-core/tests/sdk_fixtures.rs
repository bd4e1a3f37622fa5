//! The shared SDK behaviour fixtures (`fixtures/sdk/`), run against core's sans-IO machines
//! (the config client, the tracker, the flag usage sender and their building blocks).
//! The Python and Node suites run the same files against their packages.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use litmus_core::Timestamp;
use litmus_core::sdk::{
    ConfigSync, SendResult, SseDecoder, SyncMode, SyncOptions, Tracker, TrackerOptions,
    UsageOptions, UsageSender, reply, sticky, wire,
};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fixtures/sdk")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

/// Compares an action (as JSON) with the expected one: only the fields the fixture gives;
/// a wait's `ms` exactly or within [`min`, `max`].
fn matches(actual: &Value, expected: &Value) -> bool {
    match expected {
        Value::Object(fields) => fields.iter().all(|(name, want)| match name.as_str() {
            "min" => actual["ms"]
                .as_f64()
                .is_some_and(|ms| ms >= want.as_f64().unwrap()),
            "max" => actual["ms"]
                .as_f64()
                .is_some_and(|ms| ms <= want.as_f64().unwrap()),
            _ => {
                actual.get(name).is_some_and(|a| matches(a, want))
                    || (want.is_null() && actual.get(name).is_none())
            }
        }),
        Value::Array(items) => actual.as_array().is_some_and(|a| {
            a.len() == items.len() && a.iter().zip(items).all(|(a, w)| matches(a, w))
        }),
        Value::Number(n) => actual.as_f64() == n.as_f64(),
        _ => actual == expected,
    }
}

fn sync_options(o: &Value) -> SyncOptions {
    let mode = SyncMode::parse(o["mode"].as_str().unwrap_or("stream")).unwrap();
    let mut options = SyncOptions::new("http://litmus.test", mode);
    let ms = |name: &str, default: f64| o.get(name).and_then(Value::as_f64).unwrap_or(default);
    options.poll_interval_ms = ms("poll_interval_ms", options.poll_interval_ms);
    options.idle_timeout_ms = ms("idle_timeout_ms", options.idle_timeout_ms);
    options.retry_delay_ms = ms("retry_delay_ms", options.retry_delay_ms);
    options.max_retry_delay_ms = ms("max_retry_delay_ms", options.max_retry_delay_ms);
    options.has_cache = o["has_cache"].as_bool().unwrap_or(false);
    options.seed = o["seed"].as_u64().unwrap_or(0);
    options
}

fn sync_state(sync: &ConfigSync) -> Value {
    json!({
        "stale": sync.is_stale(),
        "version": sync.version(),
        "source": sync.source().map(|s| s.as_str()),
        "etag": sync.etag(),
        "last_event_id": sync.last_event_id(),
        "closed": sync.is_closed(),
    })
}

fn body_of(step: &Value) -> Vec<u8> {
    match step.get("body_hex") {
        Some(h) => hex(h.as_str().unwrap()),
        None => step["body"].as_str().unwrap_or("").as_bytes().to_vec(),
    }
}

#[test]
fn config_sync_fixtures() {
    let doc = fixture("config_sync.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut sync = ConfigSync::new(sync_options(&case["options"])).unwrap();
        let mut now = 0.0;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            if let Some(check) = step.get("check") {
                let state = sync_state(&sync);
                assert!(
                    matches(&state, check),
                    "{name}, step {i}: state {state} is not {check}"
                );
                continue;
            }
            now = step.get("at").and_then(Value::as_f64).unwrap_or(now);
            let s = |field: &str| step.get(field).and_then(Value::as_str);
            match step["do"].as_str().unwrap() {
                "start" => sync.start(s("bootstrap")),
                "close" => sync.close(),
                "fetched" => sync.fetched(
                    step["status"].as_u64().unwrap() as u16,
                    s("etag"),
                    &body_of(step),
                    now,
                ),
                "unreachable" => sync.unreachable(s("message").unwrap(), now),
                "stream_opened" => sync.stream_opened(
                    step["status"].as_u64().unwrap() as u16,
                    s("content_type"),
                    &body_of(step),
                    now,
                ),
                "stream_data" => sync.stream_data(s("data").unwrap().as_bytes(), now),
                "stream_ended" => sync.stream_ended(now),
                "stream_failed" => sync.stream_failed(
                    s("message").unwrap(),
                    step["idle"].as_bool().unwrap_or(false),
                    now,
                ),
                "timer_fired" => sync.timer_fired(now),
                "loaded" => sync.loaded(s("version"), now),
                "refused" => sync.refused(s("code").unwrap(), s("message").unwrap(), now),
                "cache_read" => sync.cache_read(s("text"), now),
                other => panic!("{name}: unknown step {other}"),
            }
            let actions: Vec<Value> = std::iter::from_fn(|| sync.poll_action())
                .map(|a| a.to_json())
                .collect();
            let actual = Value::Array(actions);
            assert!(
                matches(&actual, &step["expect"]),
                "{name}, step {i} ({}): got {actual}, expected {}",
                step["do"],
                step["expect"]
            );
        }
    }
}

fn tracker_options(o: &Value) -> TrackerOptions {
    let mut options = TrackerOptions::new("http://litmus.test");
    let num = |name: &str| o.get(name).and_then(Value::as_f64);
    if let Some(v) = num("flush_interval_ms") {
        options.flush_interval_ms = v;
    }
    if let Some(v) = num("max_retry_delay_ms") {
        options.max_retry_delay_ms = v;
    }
    if let Some(v) = num("retry_delay_ms") {
        options.retry_delay_ms = v;
    }
    if let Some(v) = num("max_batch") {
        options.max_batch = v as usize;
    }
    if let Some(v) = num("max_queue") {
        options.max_queue = v as usize;
    }
    if let Some(v) = num("gzip_min_bytes") {
        options.gzip_min_bytes = v as usize;
    }
    options.seed = o["seed"].as_u64().unwrap_or(0);
    options
}

#[test]
fn tracker_fixtures() {
    let doc = fixture("tracker.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut tracker = Tracker::new(tracker_options(&case["options"])).unwrap();
        let mut now = 0.0;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            if let Some(check) = step.get("check") {
                let state = json!({
                    "queued": tracker.queued(), "sent": tracker.sent(), "dropped": tracker.dropped(),
                    "settled": tracker.settled(), "enqueued": tracker.enqueued(),
                });
                assert!(
                    matches(&state, check),
                    "{name}, step {i}: state {state} is not {check}"
                );
                continue;
            }
            now = step.get("at").and_then(Value::as_f64).unwrap_or(now);
            let s = |field: &str| step.get(field).and_then(Value::as_str);
            let actual = match step["do"].as_str().unwrap() {
                "enqueue" => json!(tracker.enqueue(s("data").unwrap().as_bytes().to_vec(), now)),
                "flush" => {
                    tracker.flush();
                    Value::Null
                }
                "close" => {
                    tracker.close(step["timeout_ms"].as_f64().unwrap(), now);
                    Value::Null
                }
                "next" => tracker.next_action(now).to_json(),
                "keepalive" => {
                    let max = step["max_bytes"].as_u64().unwrap() as usize;
                    tracker
                        .take_for_keepalive(max, now)
                        .map_or(Value::Null, |a| a.to_json())
                }
                "answered" => {
                    let id = step["id"].as_u64().unwrap();
                    let status = step["status"].as_u64().unwrap() as u16;
                    tracker.answered(id, status, s("retry_after"), &body_of(step), now);
                    Value::Null
                }
                "unreachable" => {
                    tracker.unreachable(step["id"].as_u64().unwrap(), s("message").unwrap(), now);
                    Value::Null
                }
                other => panic!("{name}: unknown step {other}"),
            };
            if let Some(expected) = step.get("expect") {
                assert!(
                    matches(&actual, expected),
                    "{name}, step {i} ({}): got {actual}, expected {expected}",
                    step["do"]
                );
            }
        }
    }
}

#[test]
fn usage_fixtures() {
    let doc = fixture("usage.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let mut options = UsageOptions::new("http://litmus.test");
        if let Some(ms) = case["options"].get("interval_ms").and_then(Value::as_f64) {
            options.interval_ms = ms;
        }
        let mut sender = UsageSender::new(options).unwrap();
        let mut now = 0.0;
        for (i, step) in case["steps"].as_array().unwrap().iter().enumerate() {
            if let Some(check) = step.get("check") {
                let state = json!({
                    "pending": sender.pending(), "stored": sender.stored(),
                    "dropped": sender.dropped(), "stopped": sender.is_stopped(),
                });
                assert!(
                    matches(&state, check),
                    "{name}, step {i}: state {state} is not {check}"
                );
                continue;
            }
            now = step.get("at").and_then(Value::as_f64).unwrap_or(now);
            let s = |field: &str| step.get(field).and_then(Value::as_str);
            let n = |field: &str| step[field].as_u64().unwrap();
            let actual = match step["do"].as_str().unwrap() {
                "record" => {
                    sender.record(s("flag").unwrap(), n("evaluations"));
                    Value::Null
                }
                "record_many" => {
                    for k in 0..n("count") {
                        let flag = format!("{}{k:05}", s("prefix").unwrap());
                        sender.record(&flag, n("evaluations"));
                    }
                    Value::Null
                }
                "tick" => sender.tick(now).to_json(),
                "sent" => {
                    let body = body_of(step);
                    let result = SendResult::Answered {
                        status: n("status") as u16,
                        retry_after: s("retry_after"),
                        body: &body,
                    };
                    sender.sent(result, now);
                    Value::Null
                }
                "unreachable" => {
                    let message = s("message").unwrap();
                    sender.sent(SendResult::Unreachable { message }, now);
                    Value::Null
                }
                "close" => {
                    sender.close(step["timeout_ms"].as_f64().unwrap(), now);
                    Value::Null
                }
                other => panic!("{name}: unknown step {other}"),
            };
            if let Some(expected) = step.get("expect") {
                assert!(
                    matches(&actual, expected),
                    "{name}, step {i} ({}): got {actual}, expected {expected}",
                    step["do"]
                );
            }
        }
    }
}

#[test]
fn sse_fixtures() {
    let doc = fixture("sse.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let chunks: Vec<Vec<u8>> = match case.get("chunks_hex") {
            Some(c) => c
                .as_array()
                .unwrap()
                .iter()
                .map(|h| hex(h.as_str().unwrap()))
                .collect(),
            None => case["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c.as_str().unwrap().as_bytes().to_vec())
                .collect(),
        };
        let mut decoder = SseDecoder::new();
        let events: Vec<Value> = chunks
            .iter()
            .flat_map(|c| decoder.feed(c))
            .map(|e| json!({"kind": e.kind, "data": e.data, "id": e.id}))
            .collect();
        assert_eq!(Value::Array(events), case["events"], "{name}");
        assert_eq!(
            decoder.last_event_id(),
            case["last_event_id"].as_str().unwrap(),
            "{name}"
        );
        assert_eq!(decoder.retry_ms(), case["retry_ms"].as_u64(), "{name}");
        assert_eq!(
            decoder.comments(),
            case["comments"].as_u64().unwrap(),
            "{name}"
        );
    }
}

#[test]
fn reply_fixtures() {
    let doc = fixture("reply.json");
    for case in doc["errors"].as_array().unwrap() {
        let r = reply::ErrorReply::decode(
            case["status"].as_u64().unwrap() as u16,
            case["body"].as_str().unwrap().as_bytes(),
        );
        assert_eq!(r.code, case["code"].as_str().unwrap(), "{case}");
        assert_eq!(r.message.as_deref(), case["message"].as_str(), "{case}");
    }
    for case in doc["retry_after"].as_array().unwrap() {
        let now = Timestamp::from_unix_millis(case["now_ms"].as_i64().unwrap());
        let got = reply::retry_after_ms(case["value"].as_str().unwrap(), now);
        assert_eq!(got, case["ms"].as_u64(), "{case}");
    }
    for status in doc["retryable"]["yes"].as_array().unwrap() {
        assert!(reply::is_retryable(status.as_u64().unwrap() as u16));
    }
    for status in doc["retryable"]["no"].as_array().unwrap() {
        assert!(!reply::is_retryable(status.as_u64().unwrap() as u16));
    }
}

#[test]
fn wire_fixtures() {
    let doc = fixture("wire.json");
    for case in doc["timestamps"].as_array().unwrap() {
        let t = Timestamp::from_unix_millis(case["ms"].as_i64().unwrap());
        assert_eq!(t.to_rfc3339().as_deref(), case["text"].as_str(), "{case}");
    }
    for case in doc["message_ids"].as_array().unwrap() {
        let bytes: [u8; 16] = hex(case["random_hex"].as_str().unwrap())
            .try_into()
            .unwrap();
        assert_eq!(wire::message_id(bytes), case["id"].as_str().unwrap());
    }
    for case in doc["events"].as_array().unwrap() {
        let s = |f: &str| case[f].as_str().unwrap();
        let at = Timestamp::from_unix_millis(case["at_ms"].as_i64().unwrap());
        let got = if s("kind") == "exposure" {
            wire::encode_exposure(
                s("unit_id"),
                s("experiment"),
                s("variant"),
                case["dimensions"].as_str(),
                at,
                s("message_id"),
            )
        } else {
            wire::encode_track(
                s("unit_id"),
                s("event"),
                case["value"].as_f64(),
                case["properties"].as_str(),
                at,
                s("message_id"),
            )
        };
        match case.get("json") {
            Some(json) => assert_eq!(
                String::from_utf8(got.unwrap()).unwrap(),
                json.as_str().unwrap()
            ),
            None => assert_eq!(
                got.err().map(|e| e.code()),
                case["code"].as_str(),
                "{}",
                s("kind")
            ),
        }
    }
    for case in doc["sticky_keys"].as_array().unwrap() {
        let key = sticky::sticky_key(
            case["experiment"].as_str().unwrap(),
            case["unit_id"].as_str().unwrap(),
        );
        assert_eq!(key, case["key"].as_str().unwrap());
    }
}
