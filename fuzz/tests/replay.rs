//! The fuzz targets on stable Rust: every input of the stored corpora (`fuzz/corpus/<target>`,
//! the crashes found included, renamed `regression-*`), then seeded random inputs and
//! mutations of the corpus, for `LITMUS_FUZZ_REPLAY_SECONDS` seconds per target (default 2).
//! libFuzzer explores far better (`scripts/fuzz/run.sh`); this keeps the corpora passing on any
//! toolchain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use std::path::Path;
use std::time::{Duration, Instant};

/// xorshift64*: enough to vary bytes.
struct Bytes(u64);

impl Bytes {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A mutation of `seed`: bytes flipped, inserted, removed or spliced.
    fn mutate(&mut self, seed: &[u8]) -> Vec<u8> {
        let mut out = seed.to_vec();
        for _ in 0..=self.next() % 8 {
            let at = if out.is_empty() {
                0
            } else {
                (self.next() as usize) % out.len()
            };
            match self.next() % 4 {
                0 if !out.is_empty() => out[at] ^= 1 << (self.next() % 8),
                1 => out.insert(at, self.next() as u8),
                2 if !out.is_empty() => {
                    out.remove(at);
                }
                _ => {
                    let n = (self.next() % 16) as usize;
                    out.splice(at..at, (0..n).map(|_| self.next() as u8));
                }
            }
        }
        out
    }
}

fn replay(target: &str, body: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| std::fs::read(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    for input in &corpus {
        body(input);
    }
    if corpus.is_empty() {
        corpus.push(Vec::new());
    }
    let seconds: u64 = std::env::var("LITMUS_FUZZ_REPLAY_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2);
    let mut rng = Bytes(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    let until = Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    while Instant::now() < until {
        let seed = &corpus[(rng.next() as usize) % corpus.len()];
        let input = if rng.next() % 4 == 0 {
            (0..rng.next() % 512).map(|_| rng.next() as u8).collect()
        } else {
            rng.mutate(seed)
        };
        body(&input);
        runs += 1;
    }
    eprintln!(
        "{target}: {} corpus inputs, {runs} random inputs",
        corpus.len()
    );
}

#[test]
fn config() {
    replay("config", litmus_fuzz::config);
}

#[test]
fn targeting() {
    replay("targeting", litmus_fuzz::targeting);
}

#[test]
fn events() {
    replay("events", litmus_fuzz::events);
}

#[test]
fn stats() {
    replay("stats", litmus_fuzz::stats);
}

#[test]
fn bandit() {
    replay("bandit", litmus_fuzz::bandit);
}

#[test]
fn results() {
    replay("results", litmus_fuzz::results);
}
