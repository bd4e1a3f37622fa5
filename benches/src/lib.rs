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

/// The resident memory (`VmRSS`) of process `pid` in KiB, from `/proc/PID/status`.
pub fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
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

/// The time `iterations` loads of `text` take (for criterion's `iter_custom`): each engine is
/// dropped right after its load, untimed, as an SDK replacing its config does (criterion's
/// large-drop mode would keep a batch alive, so every load would start on fresh memory).
pub fn time_loads(iterations: u64, text: &str) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    for _ in 0..iterations {
        let start = std::time::Instant::now();
        let engine = Engine::from_json(std::hint::black_box(text));
        total += start.elapsed();
        drop(std::hint::black_box(engine));
    }
    total
}

/// A document of `flags` flags and `experiments` experiments, the shape of a large
/// installation: a quarter of the experiments targeted, a tenth in layers, a twentieth with
/// overrides; flags cycle through the four types and the four rule kinds (force with a
/// condition, rollouts, experiment rules on the experiments, prerequisites on earlier flags),
/// and every tenth has a scheduled change. `flag-0` is a boolean with one 50% rollout rule,
/// the flag the evaluate benchmarks time.
pub fn flag_document(flags: usize, experiments: usize) -> String {
    use serde_json::json;
    let set = |object: &mut serde_json::Value, key: &str, value: serde_json::Value| {
        if let Some(map) = object.as_object_mut() {
            map.insert(key.to_owned(), value);
        }
    };
    let mut exps = Vec::with_capacity(experiments);
    let layers = experiments.div_ceil(10).div_ceil(4);
    for i in 0..experiments {
        let mut e = json!({"key": format!("fx-{i}"), "status": "running",
            "variants": [{"key": "control"}, {"key": "treatment"}]});
        if i % 4 == 1 {
            set(
                &mut e,
                "targeting",
                json!({"attribute": "country", "op": "in", "value": ["US", "CA", "FR"]}),
            );
        }
        if i % 10 == 2 {
            let slot = (i / 10) % 4;
            set(
                &mut e,
                "layer",
                json!({"key": format!("layer-{}", i / 40), "range": [slot as f64 * 0.25, (slot + 1) as f64 * 0.25]}),
            );
        }
        if i % 20 == 3 {
            set(
                &mut e,
                "overrides",
                json!({"qa-1": "treatment", "qa-2": "control"}),
            );
        }
        exps.push(e);
    }
    let mut list = Vec::with_capacity(flags);
    for i in 0..flags {
        let key = format!("flag-{i}");
        let flag = if i == 0 {
            json!({"key": key, "type": "boolean", "default": false,
                   "rules": [{"kind": "rollout", "percentage": 50, "value": true}]})
        } else {
            let (ty, default, on) = match i % 4 {
                0 => ("boolean", json!(false), json!(true)),
                1 => ("string", json!("off"), json!("on")),
                2 => ("number", json!(0), json!(i)),
                _ => ("json", json!({"v": 0}), json!({"v": i, "list": [1, 2, 3]})),
            };
            let mut rules = vec![json!({"kind": "force",
                "condition": {"attribute": "plan", "op": "eq", "value": "enterprise"}, "value": on})];
            match i % 4 {
                0 if experiments > 0 => rules.push(json!({"kind": "experiment",
                    "experiment": format!("fx-{}", i % experiments),
                    "values": {"control": default, "treatment": on}})),
                1 => rules.push(
                    json!({"kind": "prerequisite", "flag": format!("flag-{}", i - 1),
                    "is": i % 2 == 0, "value": on}),
                ),
                _ => rules
                    .push(json!({"kind": "rollout", "percentage": (i % 100) as f64, "value": on})),
            }
            let mut f = json!({"key": key, "type": ty, "default": default, "rules": rules,
                               "tags": ["bench"], "description": "a generated flag"});
            if i % 10 == 5 {
                set(
                    &mut f,
                    "schedule",
                    json!([{"at": "2027-01-01T00:00:00Z", "enabled": false}]),
                );
            }
            f
        };
        list.push(flag);
    }
    let layer_list: Vec<_> = (0..layers)
        .map(|l| json!({"key": format!("layer-{l}")}))
        .collect();
    json!({"schema_version": 1, "layers": layer_list, "experiments": exps, "flags": list})
        .to_string()
}
