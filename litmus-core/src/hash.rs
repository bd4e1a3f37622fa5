//! Bucketing spec version 1 (`docs/spec/bucketing-v1.md`): the only place in Litmus that hashes.
//!
//! A unit id is hashed with XXH3-64 under a seed that folds in the salt and the purpose of the
//! decision; the bucket is the high 32 bits of the hash; config fractions become bucket bounds
//! by `floor(f * 2^32)`.

use xxhash_rust::xxh3::{xxh3_64, xxh3_64_with_seed};

/// The bucketing algorithm version implemented here.
pub const HASH_VERSION: u64 = 1;

/// The number of buckets: a unit's bucket lies in `0 .. SCALE`.
pub const SCALE: u64 = 1 << 32;

/// The decision a hash is made for; each purpose has its own seed, so the decisions are
/// independent of one another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose<'a> {
    /// Whether the unit is in the experiment's traffic.
    Traffic,
    /// Which variant of an A/B/n or bandit experiment.
    Variant,
    /// Which level of the named factor of a multivariate experiment.
    Factor(&'a str),
    /// Which slice of a layer.
    Layer,
    /// Whether a holdout holds the unit out.
    Holdout,
    /// Whether a flag's rollout rule serves the unit (`docs/flags.md`).
    Rollout,
}

impl<'a> Purpose<'a> {
    /// The purpose named as in the golden vectors and the bindings: `traffic`, `variant`,
    /// `layer`, `holdout`, `rollout` or `factor:NAME`.
    pub fn parse(name: &'a str) -> Option<Self> {
        Some(match name {
            "traffic" => Purpose::Traffic,
            "variant" => Purpose::Variant,
            "layer" => Purpose::Layer,
            "holdout" => Purpose::Holdout,
            "rollout" => Purpose::Rollout,
            other => Purpose::Factor(other.strip_prefix("factor:")?),
        })
    }
}

/// A 64-bit XXH3 seed derived from a salt and a purpose, computed once per config load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seed(u64);

impl Seed {
    /// `xxh3(le64(len(salt)) || salt || purpose)`, as section 2 of the spec defines.
    pub fn new(salt: &str, purpose: Purpose<'_>) -> Self {
        let (tag, name): (&[u8], &[u8]) = match purpose {
            Purpose::Traffic => (b"traffic", b""),
            Purpose::Variant => (b"variant", b""),
            Purpose::Factor(key) => (b"factor:", key.as_bytes()),
            Purpose::Layer => (b"layer", b""),
            Purpose::Holdout => (b"holdout", b""),
            Purpose::Rollout => (b"rollout", b""),
        };
        let salt = salt.as_bytes();
        let n = 8 + salt.len() + tag.len() + name.len();
        let parts = [&(salt.len() as u64).to_le_bytes()[..], salt, tag, name];
        // Most seeds fit a stack buffer: config loading makes one per experiment and rule.
        let mut stack = [0u8; 256];
        let mut heap = Vec::new();
        let bytes: &mut [u8] = match stack.get_mut(..n) {
            Some(buffer) => buffer,
            None => {
                heap.resize(n, 0);
                &mut heap
            }
        };
        let mut at = 0;
        for part in parts {
            if let Some(dest) = bytes.get_mut(at..at + part.len()) {
                dest.copy_from_slice(part);
            }
            at += part.len();
        }
        Seed(xxh3_64(bytes))
    }

    /// The seed's value.
    pub fn value(self) -> u64 {
        self.0
    }

    /// The 64-bit hash of a unit id under this seed.
    #[inline]
    pub fn hash(self, unit: &str) -> u64 {
        xxh3_64_with_seed(unit.as_bytes(), self.0)
    }

    /// The unit's bucket under this seed, in `0 .. SCALE`.
    #[inline]
    pub fn bucket(self, unit: &str) -> u32 {
        bucket_of(self.hash(unit))
    }
}

/// The bucket of a 64-bit hash: its high 32 bits (an exact, unbiased reduction).
#[inline]
pub fn bucket_of(hash: u64) -> u32 {
    (hash >> 32) as u32
}

/// The bucket bound of a fraction in `[0, 1]`: `floor(f * 2^32)`. Values outside the range are
/// clamped (the config compiler rejects them before they get here); NaN gives 0.
pub fn bound(fraction: f64) -> u64 {
    if fraction.is_nan() || fraction <= 0.0 {
        0
    } else if fraction >= 1.0 {
        SCALE
    } else {
        // Exact: multiplying by a power of two only changes the exponent, and the result is
        // below 2^32, so the cast truncates (floors) a non-negative value.
        (fraction * SCALE as f64) as u64
    }
}

/// Cumulative upper bounds for a list of weights, as section 4.2 defines: `B_i` for `i < n-1`
/// and `2^32` for the last. Returns `None` when the weights are empty, not finite, negative or
/// sum to zero.
pub fn cumulative_bounds(weights: &[f64]) -> Option<Vec<u64>> {
    let mut total = 0.0_f64;
    for &w in weights {
        if !w.is_finite() || w < 0.0 {
            return None;
        }
        total += w;
    }
    if weights.is_empty() || !total.is_finite() || total <= 0.0 {
        return None;
    }
    let mut bounds = Vec::with_capacity(weights.len());
    let mut running = 0.0_f64;
    for &w in weights {
        running += w;
        bounds.push(bound(running / total));
    }
    if let Some(last) = bounds.last_mut() {
        *last = SCALE;
    }
    Some(bounds)
}

/// The index of the range holding `bucket`: the number of bounds before the last that are
/// `<= bucket`. Branch-free over the bounds; `bounds` must be non-decreasing and end at `SCALE`.
#[inline]
pub fn pick(bucket: u32, bounds: &[u64]) -> usize {
    let b = u64::from(bucket);
    let inner = bounds.len().saturating_sub(1);
    bounds
        .iter()
        .take(inner)
        .fold(0usize, |n, &bound| n + usize::from(bound <= b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purposes_parse_by_name() {
        assert_eq!(Purpose::parse("traffic"), Some(Purpose::Traffic));
        assert_eq!(Purpose::parse("variant"), Some(Purpose::Variant));
        assert_eq!(Purpose::parse("layer"), Some(Purpose::Layer));
        assert_eq!(Purpose::parse("holdout"), Some(Purpose::Holdout));
        assert_eq!(Purpose::parse("rollout"), Some(Purpose::Rollout));
        assert_eq!(
            Purpose::parse("factor:color"),
            Some(Purpose::Factor("color"))
        );
        assert_eq!(Purpose::parse("colour"), None);
    }

    #[test]
    fn seed_encoding_is_injective_on_the_boundary() {
        // "ab" + "c" must differ from "a" + "bc": the salt is length-prefixed.
        let a = Seed::new("ab", Purpose::Factor("c"));
        let b = Seed::new("a", Purpose::Factor("bc"));
        assert_ne!(a, b);
        assert_ne!(
            Seed::new("s", Purpose::Traffic),
            Seed::new("s", Purpose::Variant)
        );
    }

    #[test]
    fn bounds_are_exact_at_the_ends() {
        assert_eq!(bound(0.0), 0);
        assert_eq!(bound(1.0), SCALE);
        assert_eq!(bound(0.5), SCALE / 2);
        assert_eq!(bound(f64::NAN), 0);
        assert_eq!(bound(-3.0), 0);
        assert_eq!(bound(7.0), SCALE);
    }

    #[test]
    fn cumulative_bounds_split_by_weight() {
        assert_eq!(cumulative_bounds(&[1.0, 1.0]), Some(vec![SCALE / 2, SCALE]));
        assert_eq!(cumulative_bounds(&[]), None);
        assert_eq!(cumulative_bounds(&[0.0, 0.0]), None);
        assert_eq!(cumulative_bounds(&[1.0, f64::NAN]), None);
        assert_eq!(cumulative_bounds(&[1.0, -1.0]), None);
        assert_eq!(cumulative_bounds(&[f64::MAX, f64::MAX]), None);
    }

    #[test]
    fn pick_skips_zero_weight_ranges() {
        let bounds = cumulative_bounds(&[1.0, 0.0, 1.0]).unwrap_or_default();
        for bucket in [0u32, 1, u32::MAX / 2, u32::MAX / 2 + 1, u32::MAX] {
            assert_ne!(pick(bucket, &bounds), 1);
        }
        assert_eq!(pick(0, &bounds), 0);
        assert_eq!(pick(u32::MAX, &bounds), 2);
        assert_eq!(pick(5, &[SCALE]), 0);
        assert_eq!(pick(5, &[]), 0);
    }

    #[test]
    fn bucket_is_the_high_half() {
        assert_eq!(bucket_of(0xdead_beef_0123_4567), 0xdead_beef);
    }
}
