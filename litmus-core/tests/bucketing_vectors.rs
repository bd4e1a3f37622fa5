//! Golden vectors of bucketing spec v1 (`fixtures/bucketing/v1.json`).
//!
//! The vectors are regenerated here and compared with the committed file, so a change to the
//! hashing that moves any unit fails this test. `LITMUS_BLESS=1 cargo test` rewrites the file
//! (only ever for a new file: spec v1 never changes). `scripts/spec/test_bucketing_v1.py`
//! recomputes every vector with the PyPI `xxhash` package, independently of this crate.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fmt::Write as _;
use std::path::PathBuf;

use litmus_core::hash::{Purpose, Seed, bound, cumulative_bounds, pick};

fn fixture_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/bucketing/v1.json")
}

fn units() -> Vec<String> {
    let mut units: Vec<String> = [
        "",
        "a",
        "ab",
        "abc",
        "user-42",
        "user-000001",
        "user-131071",
        "0",
        "00000000-0000-4000-8000-000000000000",
        "f47ac10b-58cc-4372-a567-0e02b2c3d479",
        "zürich-1",
        "Ωμέγα",
        "日本語のユーザー",
        "🧪",
        "🧪🚀 user 7",
        "👩\u{200d}👩\u{200d}👧\u{200d}👦",
        " leading and trailing ",
        "tab\tand\nnewline",
        "nul\u{0}byte",
        "UPPER-lower-123",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Lengths crossing every XXH3 input-size branch: 16, 17, 128, 129, 240, 241, 1000.
    for n in [16usize, 17, 128, 129, 240, 241, 1000] {
        units.push((0..n).map(|i| char::from(b'a' + (i % 26) as u8)).collect());
    }
    units
}

const SALTS: [&str; 3] = ["cb-2026", "exp-salt-01", "sälz/ünïcødé 🧂"];
const WEIGHTS: [&[f64]; 5] = [
    &[1.0, 1.0],
    &[1.0, 2.0, 7.0],
    &[0.1, 0.3, 0.6],
    &[1.0, 0.0, 1.0],
    &[5.0, 3.0, 2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 4.0],
];
const TRAFFIC: [f64; 4] = [0.5, 0.1, 1.0 / 3.0, 0.999];

fn purposes() -> Vec<(String, Purpose<'static>)> {
    vec![
        ("traffic".into(), Purpose::Traffic),
        ("variant".into(), Purpose::Variant),
        ("factor:color".into(), Purpose::Factor("color")),
        ("layer".into(), Purpose::Layer),
        ("holdout".into(), Purpose::Holdout),
    ]
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn generate() -> String {
    let mut out = String::from(
        "{\n  \"spec\": \"bucketing-v1\",\n  \"hash_version\": 1,\n  \"vectors\": [\n",
    );
    let mut n = 0usize;
    let mut lines = Vec::new();
    // Purposes added later come after the first ones, so existing vectors never change.
    let later: Vec<(String, Purpose<'static>)> = vec![("rollout".into(), Purpose::Rollout)];
    let runs = SALTS
        .iter()
        .flat_map(|salt| purposes().into_iter().map(move |p| (*salt, p)))
        .chain(
            SALTS
                .iter()
                .flat_map(|salt| later.clone().into_iter().map(move |p| (*salt, p))),
        );
    for (salt, (purpose_name, purpose)) in runs {
        {
            let seed = Seed::new(salt, purpose);
            for unit in units() {
                let hash = seed.hash(&unit);
                let bucket = seed.bucket(&unit);
                let weights = WEIGHTS[n % WEIGHTS.len()];
                let traffic = TRAFFIC[n % TRAFFIC.len()];
                let bounds = cumulative_bounds(weights).unwrap_or_default();
                let variant = pick(bucket, &bounds);
                let in_traffic = u64::from(bucket) < bound(traffic);
                let weights_json = serde_json::to_string(weights).unwrap_or_default();
                let mut line = String::new();
                let _ = write!(
                    line,
                    "    {{\"salt\": {}, \"purpose\": {}, \"unit\": {}, \"seed\": \"{:016x}\", \"hash\": \"{:016x}\", \"bucket\": {}, \"weights\": {}, \"variant\": {}, \"traffic\": {}, \"in_traffic\": {}}}",
                    json_string(salt),
                    json_string(&purpose_name),
                    json_string(&unit),
                    seed.value(),
                    hash,
                    bucket,
                    weights_json,
                    variant,
                    serde_json::to_string(&traffic).unwrap_or_default(),
                    in_traffic
                );
                lines.push(line);
                n += 1;
            }
        }
    }
    out.push_str(&lines.join(",\n"));
    out.push_str("\n  ]\n}\n");
    out
}

#[test]
fn golden_vectors_match_the_committed_file() {
    let generated = generate();
    let path = fixture_path();
    if std::env::var_os("LITMUS_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        std::fs::write(&path, &generated).expect("write fixture");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with LITMUS_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        committed == generated,
        "bucketing vectors differ from {}: the hashing changed, which spec v1 forbids",
        path.display()
    );
    let doc: serde_json::Value = serde_json::from_str(&committed).expect("valid JSON");
    assert!(doc["vectors"].as_array().map_or(0, Vec::len) >= 300);
}

#[test]
fn known_values_pin_the_algorithm() {
    // Pinned independently of the fixture: XXH3-64 of the length-prefixed salt and purpose.
    let seed = Seed::new("", Purpose::Traffic);
    assert_eq!(
        seed.value(),
        xxhash_rust::xxh3::xxh3_64(b"\0\0\0\0\0\0\0\0traffic")
    );
    let seed = Seed::new("s", Purpose::Factor("f"));
    assert_eq!(
        seed.value(),
        xxhash_rust::xxh3::xxh3_64(b"\x01\0\0\0\0\0\0\0sfactor:f")
    );
    assert_eq!(
        seed.hash("user-1"),
        xxhash_rust::xxh3::xxh3_64_with_seed(b"user-1", seed.value())
    );
    assert_eq!(u64::from(seed.bucket("user-1")), seed.hash("user-1") >> 32);
}
