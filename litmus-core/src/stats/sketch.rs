//! A mergeable quantile sketch: DDSketch (Masson, Rim, Lee, "DDSketch: A Fast and Fully-Mergeable
//! Quantile Sketch with Relative-Error Guarantees", VLDB 2019).
//!
//! With relative accuracy `alpha` and `gamma = (1 + alpha) / (1 - alpha)`, a value `x > 0` falls
//! in bucket `k = ceil(ln x / ln gamma)`, the range `(gamma^(k-1), gamma^k]`, represented by
//! `2 gamma^k / (gamma + 1)`: every value of the bucket is within `alpha` of it, relatively.
//! Negative values are mirrored; zero, and every value of magnitude below [`MIN_INDEXABLE`], is
//! a bucket of its own represented by 0 (an absolute error below 1e-9).
//!
//! A bucket is addressed by one signed integer **key** that a database can store, group by and
//! sum: `0` is zero, `k + KEY_OFFSET` a positive value's bucket, `-(k + KEY_OFFSET)` a negative
//! value's. Keys sort like the values they hold. Counts are signed, so rows of *changes* can be
//! summed: a unit whose total moves from `a` to `b` is the pair (key(a), -1), (key(b), +1).
//! Logarithms come from the `libm` crate, so a value gets the same key on every platform.

use std::collections::BTreeMap;

use crate::error::Error;

/// The relative accuracy used when none is given: values are reported within 1%.
pub const DEFAULT_RELATIVE_ACCURACY: f64 = 0.01;
/// The finest relative accuracy a sketch takes.
pub const MIN_RELATIVE_ACCURACY: f64 = 0.001;
/// The coarsest relative accuracy a sketch takes.
pub const MAX_RELATIVE_ACCURACY: f64 = 0.05;
/// Values of smaller magnitude (subnormals included) are counted as 0.
pub const MIN_INDEXABLE: f64 = 1e-9;
/// Added to a bucket index to make its key. Indices run from `ceil(ln 1e-9 / ln gamma)` (the
/// smallest indexable magnitude) to `ceil(ln f64::MAX / ln gamma)`: at alpha = 0.001, where
/// `ln gamma = 2 atanh(0.001) ≈ 0.002`, that is -10,361 to 354,892; at 0.05, -207 to 7,092.
/// With an offset of 2^15 every nonzero key has magnitude in [22,407, 387,660]: never 0, far
/// inside `i32`, and the sign of a key is the sign of its values.
pub const KEY_OFFSET: i32 = 1 << 15;

/// The logarithmic mapping of one relative accuracy.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Mapping {
    alpha: f64,
    gamma: f64,
    ln_gamma: f64,
    /// The index of [`MIN_INDEXABLE`] and of `f64::MAX`: the range of indices.
    min_index: i32,
    max_index: i32,
}

impl Mapping {
    /// The mapping of a supported `alpha`, else `None`.
    fn new(alpha: f64) -> Option<Self> {
        (MIN_RELATIVE_ACCURACY..=MAX_RELATIVE_ACCURACY)
            .contains(&alpha)
            .then(|| Self::compute(alpha))
    }

    /// The mapping of an `alpha` already known to be supported.
    fn compute(alpha: f64) -> Self {
        let gamma = (1.0 + alpha) / (1.0 - alpha);
        let ln_gamma = libm::log(gamma);
        let index = |x: f64| (libm::log(x) / ln_gamma).ceil() as i32;
        Mapping {
            alpha,
            gamma,
            ln_gamma,
            min_index: index(MIN_INDEXABLE),
            max_index: index(f64::MAX),
        }
    }

    fn key(&self, x: f64) -> Option<i32> {
        if !x.is_finite() {
            return None;
        }
        let magnitude = x.abs();
        if magnitude < MIN_INDEXABLE {
            return Some(0);
        }
        let index = (libm::log(magnitude) / self.ln_gamma).ceil() as i32;
        let key = index.clamp(self.min_index, self.max_index) + KEY_OFFSET;
        Some(if x < 0.0 { -key } else { key })
    }

    /// The bucket index of a nonzero key that [`Mapping::key`] can return, else `None`.
    fn index(&self, key: i32) -> Option<i32> {
        let index = key.checked_abs()?.checked_sub(KEY_OFFSET)?;
        (self.min_index..=self.max_index)
            .contains(&index)
            .then_some(index)
    }

    /// Whether [`Mapping::key`] can return `key`.
    fn is_key(&self, key: i32) -> bool {
        key == 0 || self.index(key).is_some()
    }

    /// The representative of a key, `None` for a key that no finite value maps to.
    fn value(&self, key: i32) -> Option<f64> {
        if key == 0 {
            return Some(0.0);
        }
        let index = self.index(key)?;
        // 2 gamma^k / (gamma + 1) = (1 + alpha) gamma^(k-1); gamma^(k-1) is below f64::MAX for
        // every valid index, and the top bucket's representative is capped at f64::MAX (still
        // within alpha of every finite value of that bucket).
        let magnitude =
            ((1.0 + self.alpha) * libm::pow(self.gamma, f64::from(index) - 1.0)).min(f64::MAX);
        Some(if key < 0 { -magnitude } else { magnitude })
    }
}

/// The key of the bucket holding `x` at relative accuracy `alpha`: 0 for zero and magnitudes
/// below [`MIN_INDEXABLE`]; `None` for NaN or an infinity, or an `alpha` outside
/// [[`MIN_RELATIVE_ACCURACY`], [`MAX_RELATIVE_ACCURACY`]].
pub fn key(x: f64, alpha: f64) -> Option<i32> {
    Mapping::new(alpha)?.key(x)
}

/// The representative value of bucket `key` at relative accuracy `alpha` (within `alpha`,
/// relatively, of every value whose key it is); `None` for an `alpha` outside the supported
/// range or a key that [`key`] never returns at this `alpha`.
pub fn value(key: i32, alpha: f64) -> Option<f64> {
    Mapping::new(alpha)?.value(key)
}

/// A DDSketch: net counts per bucket key, mergeable and subtractable.
///
/// Counts are signed so that rows of changes can be added in any order; a sketch whose buckets
/// are all non-negative is *consistent*, and only a consistent sketch answers queries
/// (`degenerate_data` otherwise).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantileSketch {
    mapping: Mapping,
    counts: BTreeMap<i32, i64>,
    total: i64,
}

impl Default for QuantileSketch {
    /// An empty sketch at [`DEFAULT_RELATIVE_ACCURACY`].
    fn default() -> Self {
        QuantileSketch {
            mapping: Mapping::compute(DEFAULT_RELATIVE_ACCURACY),
            counts: BTreeMap::new(),
            total: 0,
        }
    }
}

impl QuantileSketch {
    /// An empty sketch with relative accuracy `alpha` in [0.001, 0.05].
    pub fn new(alpha: f64) -> Result<Self, Error> {
        let mapping = Mapping::new(alpha).ok_or_else(|| {
            Error::argument(
                "alpha",
                format!("{alpha} must be in [{MIN_RELATIVE_ACCURACY}, {MAX_RELATIVE_ACCURACY}]"),
            )
        })?;
        Ok(QuantileSketch {
            mapping,
            counts: BTreeMap::new(),
            total: 0,
        })
    }

    /// The relative accuracy.
    pub fn alpha(&self) -> f64 {
        self.mapping.alpha
    }

    /// The key of `x` in this sketch's mapping (see [`key`]).
    pub fn key(&self, x: f64) -> Option<i32> {
        self.mapping.key(x)
    }

    /// Counts one value; NaN and infinities are rejected (`invalid_argument`).
    pub fn add(&mut self, x: f64) -> Result<(), Error> {
        self.add_key(self.finite_key(x)?, 1)
    }

    /// Takes one value away (the inverse of [`add`](Self::add)).
    pub fn remove(&mut self, x: f64) -> Result<(), Error> {
        self.add_key(self.finite_key(x)?, -1)
    }

    /// Counts `n` zeros: units without events in a unit-level quantile.
    pub fn add_zeros(&mut self, n: u64) -> Result<(), Error> {
        let n = i64::try_from(n)
            .map_err(|_| Error::argument("n", format!("{n} zeros exceed the count range")))?;
        self.add_key(0, n)
    }

    /// Adds `count_delta` (possibly negative) to bucket `key`, as stored by a database. The key
    /// must be one that [`key`] returns at this sketch's accuracy; a count leaving the `i64`
    /// range is an error and leaves the sketch unchanged.
    pub fn add_key(&mut self, key: i32, count_delta: i64) -> Result<(), Error> {
        if !self.mapping.is_key(key) {
            return Err(Error::argument(
                "key",
                format!(
                    "{key} is not a bucket at relative accuracy {}",
                    self.alpha()
                ),
            ));
        }
        let old = self.counts.get(&key).copied().unwrap_or(0);
        let (Some(new), Some(total)) = (
            old.checked_add(count_delta),
            self.total.checked_add(count_delta),
        ) else {
            return Err(overflow(key, count_delta));
        };
        if new == 0 {
            self.counts.remove(&key);
        } else {
            self.counts.insert(key, new);
        }
        self.total = total;
        Ok(())
    }

    /// Adds every bucket of `other`, which must have the same relative accuracy. On error the
    /// sketch is unchanged.
    pub fn merge(&mut self, other: &QuantileSketch) -> Result<(), Error> {
        if other.alpha().to_bits() != self.alpha().to_bits() {
            return Err(Error::argument(
                "other",
                format!(
                    "relative accuracy {} differs from {}",
                    other.alpha(),
                    self.alpha()
                ),
            ));
        }
        // Checked first, then added in place: a merge that would overflow changes nothing
        // (and a merge costs the other's buckets, not a copy of this sketch).
        let mut total = self.total;
        for (&key, &count) in &other.counts {
            let old = self.counts.get(&key).copied().unwrap_or(0);
            total = old
                .checked_add(count)
                .and(total.checked_add(count))
                .ok_or_else(|| overflow(key, count))?;
        }
        for (&key, &count) in &other.counts {
            let slot = self.counts.entry(key).or_insert(0);
            *slot += count;
            if *slot == 0 {
                self.counts.remove(&key);
            }
        }
        self.total = total;
        Ok(())
    }

    /// The net number of values (the sum of all buckets); non-negative when consistent.
    pub fn count(&self) -> i64 {
        self.total
    }

    /// Whether every bucket's net count is 0.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    /// The buckets with a nonzero net count, as `(key, count)` in ascending key (and value)
    /// order.
    pub fn buckets(&self) -> impl Iterator<Item = (i32, i64)> + '_ {
        self.counts.iter().map(|(&k, &c)| (k, c))
    }

    /// The value at 0-based `rank` of the sorted values (within `alpha`, relatively).
    pub fn rank_value(&self, rank: u64) -> Result<f64, Error> {
        let n = self.consistent_count()?;
        if rank >= n {
            return Err(Error::argument(
                "rank",
                format!("{rank} is not below the count {n}"),
            ));
        }
        let mut seen = 0u64;
        for (&key, &count) in &self.counts {
            seen = seen.saturating_add(count.unsigned_abs());
            if rank < seen {
                return self.representative(key);
            }
        }
        Err(Error::degenerate("the buckets do not add up to the count"))
    }

    /// The `q`-quantile, q in [0, 1], by the lower order statistic: the value at 0-based rank
    /// `floor(q (n - 1))`, as `numpy.quantile(values, q, method="lower")`, within `alpha`
    /// relatively (values of magnitude below 1e-9 read as 0).
    pub fn quantile(&self, q: f64) -> Result<f64, Error> {
        check_q(q)?;
        let n = self.consistent_count()?;
        if n == 0 {
            return Err(Error::degenerate("the sketch is empty"));
        }
        self.rank_value(lower_rank(q, n))
    }

    /// The number of values, once every bucket is checked to be non-negative.
    pub(crate) fn consistent_count(&self) -> Result<u64, Error> {
        if let Some((key, count)) = self.buckets().find(|&(_, c)| c < 0) {
            return Err(Error::degenerate(format!(
                "bucket {key} has a negative net count {count}: changes are missing"
            )));
        }
        u64::try_from(self.total)
            .map_err(|_| Error::degenerate(format!("negative count {}", self.total)))
    }

    fn finite_key(&self, x: f64) -> Result<i32, Error> {
        self.mapping
            .key(x)
            .ok_or_else(|| Error::argument("x", format!("{x} is not a finite number")))
    }

    fn representative(&self, key: i32) -> Result<f64, Error> {
        self.mapping
            .value(key)
            .ok_or_else(|| Error::degenerate(format!("bucket {key} has no value")))
    }
}

/// `q` in [0, 1], else `invalid_argument`.
pub(crate) fn check_q(q: f64) -> Result<(), Error> {
    if (0.0..=1.0).contains(&q) {
        Ok(())
    } else {
        Err(Error::argument("q", format!("{q} must be in [0, 1]")))
    }
}

/// numpy's `method="lower"` rank: `floor(q (n - 1))`, for n >= 1.
pub(crate) fn lower_rank(q: f64, n: u64) -> u64 {
    let last = n.saturating_sub(1);
    ((q * last as f64).floor() as u64).min(last)
}

/// The error of a count that overflows bucket `key`'s.
fn overflow(key: i32, count_delta: i64) -> Error {
    Error::argument(
        "count_delta",
        format!("{count_delta} overflows the count of bucket {key}"),
    )
}

#[cfg(test)]
#[path = "sketch_tests.rs"]
mod tests;
