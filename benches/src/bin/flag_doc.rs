//! Prints `litmus_benches::flag_document(FLAGS, EXPERIMENTS)` (defaults 10,000 and 2,000):
//! the large document the Python and Node flag benchmarks load.
#![allow(clippy::print_stdout)]

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let flags = args.next().and_then(Result::ok).unwrap_or(10_000);
    let experiments = args.next().and_then(Result::ok).unwrap_or(2_000);
    println!("{}", litmus_benches::flag_document(flags, experiments));
}
