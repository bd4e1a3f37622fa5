//! cargo-fuzz target: see `litmus_fuzz::results`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| litmus_fuzz::results(data));
