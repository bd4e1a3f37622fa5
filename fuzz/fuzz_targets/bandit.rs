//! cargo-fuzz target: see `litmus_fuzz::bandit`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| litmus_fuzz::bandit(data));
