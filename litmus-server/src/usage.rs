//! Flag usage (`docs/flags.md`, Stale flags): how many times each flag was evaluated in each
//! project's environment, and when last. `POST /evaluate` and the SDKs' usage reports
//! (`POST /sdk/usage`) add to an in-memory buffer, a part of the state; the usage job
//! (`crate::jobs::usage`) writes it to the store every few seconds, so a request costs no
//! store write.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;

use crate::store::{StoreError, UsageStore};

/// Evaluations of one flag in one project's environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// The project.
    pub project: String,
    /// The environment.
    pub environment: String,
    /// The flag's key.
    pub flag: String,
    /// Evaluations counted.
    pub evaluations: u64,
    /// When the last of them was counted, in milliseconds since the Unix epoch.
    pub last_ms: i64,
}

/// A flag's stored usage in one environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FlagUsage {
    /// The flag's key.
    pub flag: String,
    /// Evaluations counted since the server started counting.
    pub evaluations: u64,
    /// When it was last evaluated, in milliseconds since the Unix epoch.
    pub last_ms: i64,
}

/// (project, environment, flag) to (evaluations, last time).
type Counts = HashMap<(String, String, String), (u64, i64)>;

/// The most (project, environment, flag) entries the buffer holds between two flushes; past
/// it, new entries are dropped (and counted in the log), existing ones still add up.
const MAX_ENTRIES: usize = 200_000;

/// The usage counted since the last flush (cheap to clone: it is shared).
#[derive(Debug, Default, Clone)]
pub struct UsageBuffer {
    counts: Arc<Mutex<Counts>>,
}

impl UsageBuffer {
    /// Adds `evaluations` of `flag` in `project`'s `environment` at `at_ms`.
    pub fn record(
        &self,
        project: &str,
        environment: &str,
        flag: &str,
        evaluations: u64,
        at_ms: i64,
    ) {
        if evaluations == 0 {
            return;
        }
        let mut counts = crate::store::lock(&self.counts);
        let key = (project.to_owned(), environment.to_owned(), flag.to_owned());
        let full = counts.len() >= MAX_ENTRIES;
        match counts.get_mut(&key) {
            Some((n, last)) => {
                *n = n.saturating_add(evaluations);
                *last = (*last).max(at_ms);
            }
            None if full => tracing::warn!(%flag, "flag usage buffer full: usage dropped"),
            None => {
                counts.insert(key, (evaluations, at_ms));
            }
        }
    }

    /// Takes everything counted so far.
    pub fn take(&self) -> Vec<UsageRow> {
        let counts = std::mem::take(&mut *crate::store::lock(&self.counts));
        let mut rows: Vec<UsageRow> = counts
            .into_iter()
            .map(
                |((project, environment, flag), (evaluations, last_ms))| UsageRow {
                    project,
                    environment,
                    flag,
                    evaluations,
                    last_ms,
                },
            )
            .collect();
        rows.sort_by(|a, b| {
            (&a.project, &a.environment, &a.flag).cmp(&(&b.project, &b.environment, &b.flag))
        });
        rows
    }

    /// Writes everything counted so far to `store`; what could not be written is counted
    /// again, for the next flush. Answers how many rows were written.
    pub async fn flush<S: UsageStore>(&self, store: &S) -> Result<usize, StoreError> {
        let rows = self.take();
        if rows.is_empty() {
            return Ok(0);
        }
        let n = rows.len();
        match store.record_usage(rows.clone()).await {
            Ok(()) => Ok(n),
            Err(e) => {
                for r in rows {
                    self.record(
                        &r.project,
                        &r.environment,
                        &r.flag,
                        r.evaluations,
                        r.last_ms,
                    );
                }
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_adds_up_per_project_environment_and_flag() {
        let b = UsageBuffer::default();
        b.record("default", "production", "f", 2, 10);
        b.record("default", "production", "f", 3, 5);
        b.record("shop", "production", "f", 1, 7);
        b.record("default", "staging", "f", 0, 9);
        let rows = b.take();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].evaluations, rows[0].last_ms), (5, 10));
        assert_eq!((rows[1].project.as_str(), rows[1].evaluations), ("shop", 1));
        assert!(b.take().is_empty());
    }
}
