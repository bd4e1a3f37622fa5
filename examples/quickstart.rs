//! A tour of the Litmus core API: load a config, assign units, read reasons, payloads and
//! multivariate levels.
//!
//! Run: `cargo run -p litmus-core --example quickstart [path/to/config.json]`
//! Without an argument it uses `examples/config.json`.
#![allow(clippy::print_stdout)]

use litmus_core::{Attributes, Engine, Timestamp};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/config.json").into());
    let engine = Engine::from_json(&std::fs::read_to_string(&path)?)?;
    for problem in engine.problems() {
        println!("config problem [{}]: {problem}", problem.code());
    }
    // Core never reads a clock: the application says what time it is.
    engine.set_now(Timestamp::parse_rfc3339("2026-12-01T12:00:00Z").ok_or("bad time")?);

    let visitor = Attributes::new()
        .with("country", "US")
        .with("plan", "pro")
        .with("app_version", "2.4.1");
    println!(
        "{:<12} {:<20} {:<44} {:<18} payload",
        "unit", "experiment", "variant", "reason"
    );
    for unit in ["user-1", "user-2", "user-3", "qa-alice"] {
        for key in [
            "checkout-button",
            "pricing-page",
            "onboarding-mv",
            "legacy-banner",
        ] {
            let a = engine.assign(key, unit, &visitor);
            println!(
                "{unit:<12} {key:<20} {:<44} {:<18} {}",
                a.variant_key().unwrap_or("-"),
                a.reason().code(),
                a.payload().map(ToString::to_string).unwrap_or_default()
            );
        }
    }

    // A unit outside the targeting gets a reason, never an error.
    let elsewhere = Attributes::new().with("country", "FR");
    let a = engine.assign("pricing-page", "user-1", &elsewhere);
    println!(
        "\nuser-1 from FR on pricing-page: {} ({})",
        a.reason().code(),
        a.miss().map_or("-", |m| m.code())
    );

    // Multivariate: one level of every factor.
    if let Some(variant) = engine.assign("onboarding-mv", "user-9", &visitor).variant() {
        let levels: Vec<String> = variant.factors().map(|(f, l)| format!("{f}={l}")).collect();
        println!("user-9 onboarding levels: {}", levels.join(", "));
    }

    // Every running experiment at once.
    let all: Vec<String> = engine
        .assign_all("user-1", &visitor)
        .filter(|a| a.in_experiment())
        .filter_map(|a| Some(format!("{}={}", a.experiment()?.key(), a.variant_key()?)))
        .collect();
    println!("user-1 is in: {}", all.join(", "));
    Ok(())
}
