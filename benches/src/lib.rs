//! Shared workloads of the Litmus benchmarks: the peers' workload (`../shared/peers`):
//! 2^17 pre-generated ids `user-000000`..., salt `exp-salt-01`, 50/50 control/treatment, and
//! the targeted variant with one condition `country == "US"`.

use litmus_core::Engine;

pub mod http;
pub mod traffic;

/// Number of distinct pre-generated unit ids, cycled through by every benchmark.
pub const N_USERS: usize = 1 << 17;

/// The peers' salt.
pub const SALT: &str = "exp-salt-01";

/// Pre-generated unit ids (formatting stays outside the timed loops).
pub fn user_ids() -> Vec<String> {
    (0..N_USERS).map(|i| format!("user-{i:06}")).collect()
}

/// The benchmark config: `exp-plain`, `exp-targeted`, and `extra` more plain experiments
/// (`exp-0`, `exp-1`, ...) for `assign_all`.
pub fn config(extra: usize) -> String {
    let variants = r#"[{"key":"control","weight":1},{"key":"treatment","weight":1}]"#;
    let mut experiments = vec![
        format!(
            r#"{{"key":"exp-plain","salt":"{SALT}","status":"running","variants":{variants}}}"#
        ),
        format!(
            r#"{{"key":"exp-targeted","salt":"{SALT}","status":"running","variants":{variants},
                "targeting":{{"attribute":"country","op":"eq","value":"US"}}}}"#
        ),
    ];
    experiments.extend(
        (0..extra)
            .map(|i| format!(r#"{{"key":"exp-{i}","status":"running","variants":{variants}}}"#)),
    );
    format!(
        r#"{{"schema_version":1,"experiments":[{}]}}"#,
        experiments.join(",")
    )
}

/// An engine over [`config`].
pub fn engine(extra: usize) -> Engine {
    match Engine::from_json(&config(extra)) {
        Ok(engine) => engine,
        Err(e) => unreachable!("the benchmark config is valid: {e}"),
    }
}

/// Criterion's point estimate of the mean of `group/name` from the last run, in nanoseconds.
pub fn criterion_mean_ns(group: &str, name: &str) -> Option<f64> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let path = target
        .join("criterion")
        .join(group)
        .join(name)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let estimates: serde_json::Value = serde_json::from_str(&text).ok()?;
    estimates.get("mean")?.get("point_estimate")?.as_f64()
}
