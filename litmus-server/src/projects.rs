//! Projects: one server holds several, each with its own flags, experiments, layers, holdouts,
//! metrics, environments, keys, audit log and results (`docs/flags.md`, Projects). Every
//! config row names its project, each project has its own config versions, a key belongs to
//! one project, and a project's events are stored under its stream prefix
//! (`crate::environments::Stream`), so no query of one project reads another's rows. What a
//! server stored before projects is the `default` project's.

use serde::Serialize;

/// The project of everything stored before projects, and of the bootstrap admin key's
/// requests that name none.
pub const DEFAULT_PROJECT: &str = "default";

/// The header a request names its project in (the bootstrap admin key may act in any
/// project; another key only in its own).
pub const HEADER: &str = "litmus-project";

/// The longest project key.
pub const MAX_KEY_LEN: usize = 64;

/// The most projects a server keeps.
pub const MAX_PROJECTS: usize = 1_000;

/// A stored project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProjectRecord {
    /// Its key (`checkout`), as keys and requests name it.
    pub key: String,
    /// A name for people ("Checkout team").
    pub name: String,
    /// When it was made, in milliseconds since the Unix epoch (0 for `default`).
    pub created_ms: i64,
}

/// Whether `key` is a valid project key: 1 to [`MAX_KEY_LEN`] lower-case letters, digits, `-`
/// and `_`, starting with a letter.
pub fn is_key(key: &str) -> bool {
    crate::environments::is_key(key)
}
