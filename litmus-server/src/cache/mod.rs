//! What server instances share besides the store: published snapshots (so a new version is
//! read from the store once, not by every instance), sticky assignments (so a unit keeps its
//! variant when weights change, as bandits' do), and change notifications between instances.
//! In-process by default; Redis when `REDIS_URL` is set. Redis pub/sub is at-most-once, so
//! instances also re-read the stored version on a timer ([`crate::jobs::versions::watch_versions`]).

pub mod memory;
pub mod redis;

use crate::projects::DEFAULT_PROJECT;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use crate::store::Snapshot;

/// A cache failure (the callers fall back to the store or to in-process state).
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend failed (connection, timeout, protocol).
    #[error("cache backend: {0}")]
    Backend(String),
}

/// A boxed future of a cache operation.
pub type CacheFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, CacheError>> + Send + 'a>>;

/// What an instance tells the others.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// This config version of this project is published.
    Config {
        /// The project (`crate::projects`).
        project: String,
        /// Its new version.
        version: u64,
    },
    /// The rollups reached `version`, changing these experiments' results.
    Rollups {
        /// The rollups' version.
        version: u64,
        /// The experiments whose rollups changed.
        experiments: Vec<String>,
    },
}

impl Notice {
    /// The message text: the default project's config version as a bare number (as before
    /// rollup notices and projects existed), another project's as `c` and a JSON array
    /// `[project, version]`, rollups as `r` and a JSON array `[version, [experiments...]]`.
    pub fn encode(&self) -> String {
        match self {
            Notice::Config { project, version } if project == DEFAULT_PROJECT => {
                version.to_string()
            }
            Notice::Config { project, version } => {
                format!("c{}", serde_json::json!([project, version]))
            }
            Notice::Rollups {
                version,
                experiments,
            } => format!("r{}", serde_json::json!([version, experiments])),
        }
    }

    /// Reads a message text; `None` when it is not a notice.
    pub fn decode(text: &str) -> Option<Notice> {
        if let Some(json) = text.strip_prefix('r') {
            let (version, experiments): (u64, Vec<String>) = serde_json::from_str(json).ok()?;
            return Some(Notice::Rollups {
                version,
                experiments,
            });
        }
        if let Some(json) = text.strip_prefix('c') {
            let (project, version): (String, u64) = serde_json::from_str(json).ok()?;
            return Some(Notice::Config { project, version });
        }
        text.parse().ok().map(|version| Notice::Config {
            project: DEFAULT_PROJECT.to_owned(),
            version,
        })
    }
}

/// Called with each notice another instance sends.
pub type Announce = Arc<dyn Fn(Notice) + Send + Sync>;

/// The cache as a part of the state (`crate::state`), for the handlers that use it.
#[derive(Clone)]
pub struct SharedCache(pub Arc<dyn Cache>);

/// A shared cache and notification channel.
pub trait Cache: Send + Sync + 'static {
    /// Its name, for logs and `/readyz`: `memory` or `redis`.
    fn name(&self) -> &'static str;
    /// The snapshot of this version of `project`, if cached.
    fn snapshot<'a>(&'a self, project: &'a str, version: u64) -> CacheFuture<'a, Option<Snapshot>>;
    /// Caches a snapshot of `project`.
    fn put_snapshot<'a>(&'a self, project: &'a str, snapshot: &'a Snapshot) -> CacheFuture<'a, ()>;
    /// The variants remembered for these sticky keys (one answer per key).
    fn remembered<'a>(&'a self, keys: &'a [String]) -> CacheFuture<'a, Vec<Option<String>>>;
    /// Remembers each `(key, variant)` unless the key already has a variant; answers, per
    /// entry, the variant that was there first (`None` when this one was stored).
    fn remember<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> CacheFuture<'a, Vec<Option<String>>>;
    /// Tells the other instances `notice`.
    fn publish<'a>(&'a self, notice: &'a Notice) -> CacheFuture<'a, ()>;
    /// Calls `announce` with every notice other instances send, until the process ends.
    fn listen(&self, announce: Announce);
    /// Whether the cache answers (for `/readyz`).
    fn ping(&self) -> CacheFuture<'_, ()>;
    /// How many operations were answered from in-process state because the cache failed.
    fn fallbacks(&self) -> u64 {
        0
    }
}

/// The sticky key of a unit in an experiment.
pub fn sticky_key(experiment: &str, unit: &str) -> String {
    // The experiment key has no control characters (core validates it), so the separator
    // keeps `("a", "b:c")` and `("a:b", "c")` apart.
    format!("{experiment}\u{1f}{unit}")
}

#[cfg(test)]
mod tests {
    use super::Notice;

    #[test]
    fn notices_round_trip() {
        for notice in [
            Notice::Config {
                project: "default".into(),
                version: 42,
            },
            Notice::Config {
                project: "shop".into(),
                version: 3,
            },
            Notice::Rollups {
                version: 7,
                experiments: vec!["a".into(), "r\"x".into()],
            },
            Notice::Rollups {
                version: 0,
                experiments: vec![],
            },
        ] {
            assert_eq!(Notice::decode(&notice.encode()), Some(notice));
        }
        assert_eq!(
            Notice::decode("12"),
            Some(Notice::Config {
                project: "default".into(),
                version: 12
            })
        );
        assert_eq!(
            Notice::encode(&Notice::decode("12").unwrap_or(Notice::Rollups {
                version: 0,
                experiments: vec![]
            })),
            "12"
        );
        assert_eq!(Notice::decode("r[1"), None);
        assert_eq!(Notice::decode("x"), None);
    }
}
