//! Seeded draws of `litmus-core`'s generator, variates, bandit choices and Monte Carlo weights,
//! as one JSON document (`fixtures/determinism/v1.json`). The native test compares this crate's
//! output with the fixture; the wasm32 build exports the same text to Node
//! (`scripts/wasm/determinism.mjs`), which compares it too, so native and wasm draws are proven
//! bit-identical.
//!
//! The wasm exports are `fixture_len() -> u32` and `fixture_byte(i) -> u32`: the JSON text
//! read one byte at a time, which needs no shared memory, no bindings and no unsafe pointer
//! arithmetic.

use litmus_core::bandit::sample::{Beta, Gamma, standard_normal};
use litmus_core::bandit::{Arm, Options, Policy, Rule};
use litmus_core::rng::{RandomSource, Xoshiro256PlusPlus};
use serde_json::{Value, json};

/// Seeds every series is drawn from (0, small, the simulation seed, and one above 2^63).
const SEEDS: [u64; 4] = [0, 1, 2026, 9_223_372_036_854_775_813];
/// Draws per series.
const DRAWS: usize = 16;

fn series(seed: u64, mut draw: impl FnMut(&mut Xoshiro256PlusPlus) -> f64) -> Vec<f64> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    (0..DRAWS).map(|_| draw(&mut rng)).collect()
}

fn arms() -> Vec<Arm> {
    [(12u64, 100u64), (15, 100), (9, 90), (20, 150)]
        .iter()
        .filter_map(|&(s, n)| Arm::from_counts(s, n).ok())
        .collect()
}

/// The fixture document: per seed, 64-bit words (as decimal strings, which JSON numbers cannot
/// hold exactly), uniforms, normals, gamma and beta variates, Thompson choices, and Monte
/// Carlo weights; plus quadrature weights, which use no randomness.
pub fn fixture() -> Value {
    let arms = arms();
    let thompson = Policy::thompson_beta();
    let normal = Policy::new(
        Rule::ThompsonNormal {
            prior_mean: 0.0,
            prior_kappa: 1.0,
            prior_alpha: 1.0,
            prior_beta: 1.0,
        },
        Options::default(),
    )
    .ok();
    let seeds: Vec<Value> = SEEDS
        .iter()
        .map(|&seed| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let words: Vec<String> = (0..DRAWS).map(|_| rng.next_u64().to_string()).collect();
            let gamma = |shape: f64| {
                let g = Gamma::new(shape);
                series(seed, move |r| g.sample(r))
            };
            let beta = |a: f64, b: f64| {
                let d = Beta::new(a, b);
                series(seed, move |r| d.sample(r))
            };
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
            let choices: Vec<usize> = (0..DRAWS)
                .filter_map(|_| thompson.choose(&arms, &mut rng).ok())
                .collect();
            json!({
                "seed": seed.to_string(),
                "next_u64": words,
                "next_f64": series(seed, |r| r.next_f64()),
                "next_open_f64": series(seed, |r| r.next_open_f64()),
                "standard_normal": series(seed, standard_normal),
                "gamma_0.4": gamma(0.4),
                "gamma_3.5": gamma(3.5),
                "gamma_130": gamma(130.0),
                "beta_2_5": beta(2.0, 5.0),
                "beta_130_871": beta(130.0, 871.0),
                "thompson_choices": choices,
                "thompson_weights_monte_carlo": thompson.weights_monte_carlo(&arms, 2_000, seed).ok(),
                "normal_weights_monte_carlo": normal.and_then(|p| p.weights_monte_carlo(&arms, 2_000, seed).ok()),
            })
        })
        .collect();
    json!({
        "version": 1,
        "arms": [[12, 100], [15, 100], [9, 90], [20, 150]],
        "thompson_weights_quadrature": thompson.weights(&arms, 1, 0).ok(),
        "seeds": seeds,
    })
}

/// The fixture as pretty-printed JSON text (with a final newline).
pub fn fixture_text() -> String {
    let mut text = serde_json::to_string_pretty(&fixture()).unwrap_or_default();
    text.push('\n');
    text
}

fn cached() -> &'static [u8] {
    static TEXT: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    TEXT.get_or_init(fixture_text).as_bytes()
}

/// The length in bytes of the fixture text (wasm export).
#[allow(unsafe_code)] // `no_mangle` keeps the export's name; nothing else is unsafe
#[unsafe(no_mangle)]
pub extern "C" fn fixture_len() -> u32 {
    u32::try_from(cached().len()).unwrap_or(0)
}

/// Byte `i` of the fixture text, or 0 past the end (wasm export).
#[allow(unsafe_code)] // `no_mangle` keeps the export's name; nothing else is unsafe
#[unsafe(no_mangle)]
pub extern "C" fn fixture_byte(i: u32) -> u32 {
    cached().get(i as usize).copied().map_or(0, u32::from)
}
