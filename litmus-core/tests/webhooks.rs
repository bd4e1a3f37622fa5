//! Webhook signatures and retries: the shared fixtures (`fixtures/webhooks/signatures.json`,
//! made with Python's `hmac` by `scripts/spec/gen_webhooks.py`), the retry table of
//! `docs/webhooks.md`, and properties (no input panics; the schedule's promises).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

use litmus_core::webhooks::{
    BASE_DELAY_MS, DEFAULT_TOLERANCE_S, GIVE_UP_AFTER_MS, MAX_DELAY_MS, SignatureHeader,
    next_attempt_ms, sign, sign_with, verify,
};
use proptest::prelude::*;
use serde_json::Value;

fn repo_file(path: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(path);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixtures() -> Value {
    serde_json::from_str(&repo_file("fixtures/webhooks/signatures.json")).unwrap()
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn body(case: &Value) -> Vec<u8> {
    let bytes = hex(case["body_hex"].as_str().unwrap());
    if let Some(text) = case["body"].as_str() {
        assert_eq!(
            text.as_bytes(),
            bytes,
            "{}: body and body_hex differ",
            case["name"]
        );
    }
    bytes
}

/// `{"header": ...}`, `{"timestamp": ...}` or `{"error": code}`, from a result.
fn outcome<T: Into<Value>>(key: &str, result: Result<T, litmus_core::Error>) -> Value {
    match result {
        Ok(v) => serde_json::json!({ key: v.into() }),
        Err(e) => serde_json::json!({ "error": e.code() }),
    }
}

#[test]
fn signing_cases() {
    let doc = fixtures();
    let cases = doc["sign"].as_array().unwrap();
    assert!(cases.len() >= 10);
    for case in cases {
        let got = sign(
            case["secret"].as_str().unwrap(),
            &body(case),
            case["timestamp"].as_i64().unwrap(),
        );
        assert_eq!(outcome("header", got), case["expected"], "{}", case["name"]);
    }
}

#[test]
fn verification_cases() {
    let doc = fixtures();
    assert_eq!(doc["default_tolerance_s"], DEFAULT_TOLERANCE_S);
    let cases = doc["verify"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for case in cases {
        let name = &case["name"];
        let secret = case["secret"].as_str().unwrap();
        let header = case["header"].as_str().unwrap();
        let body = body(case);
        let tolerance = case["tolerance"].as_i64().unwrap_or(DEFAULT_TOLERANCE_S);
        let got = verify(
            secret,
            header,
            &body,
            case["now"].as_i64().unwrap(),
            tolerance,
        );
        assert_eq!(outcome("timestamp", got), case["expected"], "{name}");
        if let Some(secrets) = case["signed_with"].as_array() {
            let secrets: Vec<&str> = secrets.iter().map(|s| s.as_str().unwrap()).collect();
            let t = SignatureHeader::parse(header).unwrap().timestamp();
            assert_eq!(sign_with(&secrets, &body, t).unwrap(), header, "{name}");
        }
    }
}

#[test]
fn retry_cases() {
    let doc = fixtures();
    let cases = doc["retry"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let got = next_attempt_ms(
            u32::try_from(case["attempts_made"].as_u64().unwrap()).unwrap(),
            case["first_ms"].as_i64().unwrap(),
            case["now_ms"].as_i64().unwrap(),
            case["jitter"].as_f64().unwrap(),
        );
        assert_eq!(
            got,
            case["expected"].as_i64(),
            "{}: expected {}",
            case["name"],
            case["expected"]
        );
    }
}

/// "30 s", "1 min 30 s", "4 h 15 min 30 s".
fn duration(ms: i64) -> String {
    let s = ms / 1000;
    let parts = [(s / 3600, "h"), (s % 3600 / 60, "min"), (s % 60, "s")];
    let text: Vec<String> = parts
        .iter()
        .filter(|(n, _)| *n > 0)
        .map(|(n, unit)| format!("{n} {unit}"))
        .collect();
    if text.is_empty() {
        "0 s".to_owned()
    } else {
        text.join(" ")
    }
}

/// The schedule's table, computed with `next_attempt_ms`: each attempt failing at once.
fn retry_table() -> String {
    let mut rows = vec![
        "| attempt | wait before it (jitter 0.5) | wait range (jitter 0 to 1) | after the first attempt (jitter 0.5) |".to_owned(),
        "| --- | --- | --- | --- |".to_owned(),
        "| 1 | none: the delivery | | 0 s |".to_owned(),
    ];
    let (first, mut now, mut made) = (0, 0, 1u32);
    while let Some(next) = next_attempt_ms(made, first, now, 0.5) {
        let low = next_attempt_ms(made, first, 0, 0.0).unwrap_or_default();
        let high = next_attempt_ms(made, first, 0, 1.0).unwrap_or_default();
        rows.push(format!(
            "| {} | {} | {} to {} | {} |",
            made + 1,
            duration(next - now),
            duration(low),
            duration(high),
            duration(next - first)
        ));
        (now, made) = (next, made + 1);
    }
    let gave_up = now + MAX_DELAY_MS;
    rows.push(format!(
        "\nAfter {made} failed attempts the next one would come {} after the first, past {}: the delivery is given up.",
        duration(gave_up - first),
        duration(GIVE_UP_AFTER_MS)
    ));
    rows.join("\n")
}

#[test]
fn the_docs_retry_table_is_the_schedule() {
    let table = retry_table();
    let docs = repo_file("docs/webhooks.md");
    assert!(
        docs.contains(&table),
        "docs/webhooks.md should hold the retry table computed by next_attempt_ms:\n\n{table}\n"
    );
}

#[test]
fn the_schedule_constants() {
    assert_eq!(BASE_DELAY_MS, 30_000);
    assert_eq!(MAX_DELAY_MS, 4 * 3_600_000);
    assert_eq!(GIVE_UP_AFTER_MS, 30 * 3_600_000);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn delays_grow_until_the_cap(jitter in 0.0f64..1.0, first in -1_000_000_000_000i64..4_000_000_000_000) {
        let delay = |n: u32| next_attempt_ms(n, first, first, jitter).unwrap() - first;
        let cap = delay(200);
        for n in 1..=40u32 {
            let (d, next) = (delay(n), delay(n + 1));
            prop_assert!(next >= d, "{n}: {d} then {next}");
            let nominal = (BASE_DELAY_MS << (n - 1).min(10)).min(MAX_DELAY_MS);
            if nominal < MAX_DELAY_MS {
                prop_assert!(next > d, "{n}: {d} then {next}");
            } else {
                prop_assert_eq!(d, cap);
            }
            prop_assert!(d as f64 >= 0.8 * nominal as f64 - 1.0 && d as f64 <= 1.2 * nominal as f64);
        }
    }

    #[test]
    fn retries_span_a_day_and_stop_by_30_hours(
        jitters in prop::collection::vec(any::<f64>(), 64),
        latencies in prop::collection::vec(0i64..60_000, 64),
        first in -1_000_000_000_000i64..4_000_000_000_000,
    ) {
        // Each attempt takes up to a minute to fail; every jitter is the caller's (any f64).
        let (mut started, mut made) = (first, 1u32);
        loop {
            let failed_at = started + latencies[made as usize % 64];
            match next_attempt_ms(made, first, failed_at, jitters[made as usize % 64]) {
                Some(next) => {
                    prop_assert!(next >= failed_at + 24_000);
                    prop_assert!(next - first <= GIVE_UP_AFTER_MS);
                    (started, made) = (next, made + 1);
                }
                None => break,
            }
            prop_assert!(made < 64, "no end to the retries");
        }
        prop_assert!(started - first >= 24 * 3_600_000, "gave up after {} ms", started - first);
    }

    #[test]
    fn the_schedule_never_panics(made in any::<u32>(), first in any::<i64>(), now in any::<i64>(), jitter in any::<f64>()) {
        if let Some(next) = next_attempt_ms(made, first, now, jitter) {
            prop_assert!(next >= now);
            prop_assert!(next.saturating_sub(first) <= GIVE_UP_AFTER_MS);
        }
    }

    #[test]
    fn verification_never_panics(
        secret in ".{0,12}",
        header in "[tv01= ,\t.a-f0-9-]{0,200}",
        body in prop::collection::vec(any::<u8>(), 0..64),
        now in any::<i64>(),
        tolerance in any::<i64>(),
    ) {
        let result = verify(&secret, &header, &body, now, tolerance);
        if let Err(e) = &result {
            prop_assert!(litmus_core::Error::CODES.contains(&e.code()));
        }
        let _ = verify(&secret, &header, &body, now, DEFAULT_TOLERANCE_S);
        let _ = SignatureHeader::parse(&header);
    }

    #[test]
    fn what_is_signed_verifies_and_any_change_does_not(
        secret in ".{1,40}",
        body in prop::collection::vec(any::<u8>(), 0..200),
        t in 0i64..=i64::MAX,
        flip in any::<prop::sample::Index>(),
    ) {
        let header = sign(&secret, &body, t).unwrap();
        prop_assert_eq!(verify(&secret, &header, &body, t, 0), Ok(t));
        if !body.is_empty() {
            let mut changed = body.clone();
            changed[flip.index(body.len())] ^= 1;
            prop_assert_eq!(
                verify(&secret, &header, &changed, t, 0).unwrap_err().code(),
                "signature_mismatch"
            );
        }
        let other = format!("{secret}x");
        prop_assert_eq!(
            verify(&other, &header, &body, t, 0).unwrap_err().code(),
            "signature_mismatch"
        );
    }
}
