//! Prints what a stats input calls: `cargo run --example describe -- <file>`.
fn main() {
    for path in std::env::args().skip(1) {
        let data = std::fs::read(&path).unwrap_or_default();
        println!("{path}: {}", litmus_fuzz::describe_stats(&data));
    }
}
