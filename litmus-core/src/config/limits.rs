//! Size limits of a config. Larger inputs are rejected with `limit_exceeded`, so no config can
//! make the engine use unbounded memory or time.

/// Most experiments in one document.
pub const MAX_EXPERIMENTS: usize = 10_000;
/// Most variants of one experiment.
pub const MAX_VARIANTS: usize = 1_000;
/// Most factors of a multivariate experiment.
pub const MAX_FACTORS: usize = 8;
/// Most levels of one factor.
pub const MAX_LEVELS: usize = 64;
/// Most combinations of levels (cells) of a multivariate experiment.
pub const MAX_CELLS: usize = 4_096;
/// Most forced overrides of one experiment.
pub const MAX_OVERRIDES: usize = 100_000;
/// Longest key, in bytes.
pub const MAX_KEY_LEN: usize = 128;
/// Longest salt, in bytes.
pub const MAX_SALT_LEN: usize = 1_024;
pub use crate::assign::targeting::{MAX_DEPTH, MAX_LIST, MAX_NODES, MAX_REGEX_LEN};
