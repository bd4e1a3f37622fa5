//! Flag usage and stale flags (`docs/flags.md`, Stale flags): SDKs' usage reports are checked
//! and counted (`crate::usage`), and each flag of an environment is judged stale when it was
//! never evaluated, not evaluated for the days given, or serves every unit the same value
//! (fully rolled out, or off) so its rules could be removed.

use std::collections::{BTreeSet, HashMap};

use litmus_core::config::environments;
use litmus_core::flags::hygiene::serves_everyone;
use litmus_core::{Error, FieldPath};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::snapshots::ProjectConfig;
use crate::state::Ingest;
use crate::store::{ConfigStore, EventStore, UsageStore};

/// The most entries one usage report holds.
pub const MAX_REPORT_FLAGS: usize = 5_000;

/// The most evaluations one entry may report (a report covers about a minute).
const MAX_EVALUATIONS: u64 = 1 << 53;

/// The days without an evaluation after which a flag is stale, unless the request says.
pub const DEFAULT_STALE_DAYS: u32 = 30;

/// One entry of an SDK's usage report.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageEntry {
    flag: String,
    evaluations: u64,
}

/// An SDK's usage report: `{"flags": [{"flag", "evaluations"}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsageReport {
    flags: Vec<UsageEntry>,
}

/// Counts `report`, sent by an SDK of `config`'s project in `environment`: 422 at the entry's
/// path for a duplicate flag, no evaluation or too many entries (nothing counted then).
/// Flags the environment's document does not have are not counted. Answers how many were.
pub async fn report<S: ConfigStore + EventStore>(
    config: &ProjectConfig<S>,
    ingest: &Ingest<S>,
    environment: &str,
    report: UsageReport,
) -> Result<usize, ApiError> {
    let root = FieldPath::root().field("flags");
    if report.flags.len() > MAX_REPORT_FLAGS {
        return Err(ApiError::Invalid(Error::LimitExceeded {
            path: root,
            message: format!("a report holds at most {MAX_REPORT_FLAGS} flags"),
        }));
    }
    let mut seen = BTreeSet::new();
    for (i, e) in report.flags.iter().enumerate() {
        if !seen.insert(e.flag.as_str()) {
            return Err(ApiError::Invalid(Error::DuplicateKey {
                path: root.item(i).field("flag"),
                key: e.flag.clone(),
            }));
        }
        if e.evaluations == 0 || e.evaluations > MAX_EVALUATIONS {
            return Err(ApiError::Invalid(Error::InvalidValue {
                path: root.item(i).field("evaluations"),
                message: format!("evaluations are 1 to {MAX_EVALUATIONS}"),
            }));
        }
    }
    let engine = config.engine_in(environment).await?;
    let now = crate::now_ms();
    let mut counted = 0;
    for e in &report.flags {
        if engine.flag(&e.flag).is_some() {
            ingest
                .usage
                .record(config.project(), environment, &e.flag, e.evaluations, now);
            counted += 1;
        }
    }
    Ok(counted)
}

/// Every flag of `config`'s project as `environment` has it, with its usage there and whether
/// it is stale at `now_ms` (never evaluated, none in `days` days, or serving every unit one
/// value), stale ones first.
pub async fn flags<S: ConfigStore + UsageStore>(
    config: &ProjectConfig<S>,
    environment: &str,
    days: u32,
    now_ms: i64,
) -> Result<Value, ApiError> {
    let store = config.store();
    let doc = environments::project(&store.objects(config.project()).await?, environment);
    let usage: HashMap<String, crate::usage::FlagUsage> = store
        .flag_usage(config.project(), environment)
        .await?
        .into_iter()
        .map(|u| (u.flag.clone(), u))
        .collect();
    let cutoff = now_ms.saturating_sub(i64::from(days).saturating_mul(86_400_000));
    let mut rows: Vec<(bool, String, Value)> = doc
        .flags
        .iter()
        .map(|f| {
            let used = usage.get(&f.key);
            let everyone = serves_everyone(f);
            let mut reasons = Vec::new();
            match used {
                None => reasons.push("never_evaluated"),
                Some(u) if u.last_ms < cutoff => reasons.push("unused"),
                Some(_) => {}
            }
            if everyone.is_some() {
                reasons.push(if f.enabled { "fully_rolled_out" } else { "off" });
            }
            let stale = !reasons.is_empty();
            let row = json!({
                "flag": f.key,
                "type": f.value_type.as_str(),
                "enabled": f.enabled,
                "evaluations": used.map_or(0, |u| u.evaluations),
                "last_evaluated_ms": used.map(|u| u.last_ms),
                "serves_everyone": everyone,
                "stale": stale,
                "reasons": reasons,
            });
            (stale, f.key.clone(), row)
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(json!({
        "environment": environment,
        "stale_after_days": days,
        "flags": rows.into_iter().map(|(_, _, r)| r).collect::<Vec<_>>(),
    }))
}
