//! The cross-language check `fixtures/crosscheck/v1.json`: 100,000 units assigned to every
//! experiment of one config; Python (`litmus-py/tests/test_crosscheck.py`) and JavaScript
//! (`litmus-wasm/tests/crosscheck.test.mjs`) compute the same digest, counts and first lines.
//! `LITMUS_BLESS=1` rewrites the expected block from this implementation.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use litmus_core::{Attributes, Engine, Timestamp};
use serde_json::{Value, json};

/// 32-bit FNV-1a, the digest every binding can compute without a library.
struct Fnv1a32(u32);

impl Fnv1a32 {
    fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
    }
}

#[test]
fn hundred_thousand_units_match_the_fixture() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fixtures/crosscheck/v1.json");
    let mut doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let engine = Engine::from_value(doc["config"].clone()).unwrap();
    assert!(engine.problems().is_empty(), "{:?}", engine.problems());
    engine.set_now(Timestamp::parse_rfc3339(doc["now"].as_str().unwrap()).unwrap());
    let str_list = |name: &str| -> Vec<String> {
        doc[name]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    let (countries, versions, experiments) = (
        str_list("countries"),
        str_list("app_versions"),
        str_list("experiments"),
    );
    let prefix = doc["units"]["prefix"].as_str().unwrap().to_owned();
    let count = doc["units"]["count"].as_u64().unwrap() as usize;

    let mut digest = Fnv1a32(0x811c_9dc5);
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    let mut first = Vec::new();
    for i in 0..count {
        let unit = format!("{prefix}{i}");
        let attrs = Attributes::new()
            .with("country", countries[i % countries.len()].as_str())
            .with("app_version", versions[i % versions.len()].as_str())
            .with("beta", i % 7 == 0);
        for experiment in &experiments {
            let a = engine.assign(experiment, &unit, &attrs);
            let outcome = a.variant_key().unwrap_or("-");
            let line = format!("{unit}\t{experiment}\t{outcome}\t{}\n", a.reason().code());
            digest.update(line.as_bytes());
            let key = match a.variant_key() {
                Some(v) => v.to_owned(),
                None => a.reason().code().to_owned(),
            };
            *counts
                .entry(experiment.clone())
                .or_default()
                .entry(key)
                .or_default() += 1;
            if first.len() < 12 {
                first.push(line.trim_end().to_owned());
            }
        }
    }
    let got = json!({"fnv1a32": format!("{:08x}", digest.0), "counts": counts, "first": first});
    if std::env::var_os("LITMUS_BLESS").is_some() {
        doc["expected"] = got;
        std::fs::write(&path, serde_json::to_string_pretty(&doc).unwrap() + "\n").unwrap();
        return;
    }
    assert_eq!(
        got, doc["expected"],
        "run with LITMUS_BLESS=1 after an intended change"
    );
}
