//! Which exposures were already reported, so the SDKs report each (experiment, unit) pair once
//! while it is remembered, in bounded memory. Core never reports anything itself; the Python
//! and JavaScript engines keep one of these next to their engine.

use std::collections::HashSet;

/// A hasher for keys that are already uniform 64-bit hashes: it passes them through.
#[derive(Default)]
struct PassThrough(u64);

impl std::hash::Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type HashSet64 = HashSet<u64, std::hash::BuildHasherDefault<PassThrough>>;

/// Exposures already reported, as 64-bit xxh3 hashes of (experiment, unit) under a seed, in
/// two generations: when the current one is full it becomes the previous one, so memory stays
/// under `capacity` hashes (about 16 bytes each) however many units pass. A pair seen again
/// after two generations is reported again; two pairs share a hash with probability 2^-64
/// (the later one would not be reported). Give each engine a random seed so hashes cannot be
/// chosen to collide.
#[derive(Debug, Clone)]
pub struct ExposureMemory {
    seed: u64,
    current: HashSet64,
    previous: HashSet64,
    generation: usize,
}

impl ExposureMemory {
    /// A memory of at most `capacity` pairs (at least 2), hashing under `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        ExposureMemory {
            seed,
            current: HashSet64::default(),
            previous: HashSet64::default(),
            generation: (capacity / 2).max(1),
        }
    }

    /// Whether this exposure is new; a new one is remembered.
    pub fn first_time(&mut self, experiment: &str, unit: &str) -> bool {
        // The unit's length seeds the experiment's hash, so ("ab", "c") and ("a", "bc") differ.
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(unit.as_bytes(), self.seed)
            ^ xxhash_rust::xxh3::xxh3_64_with_seed(
                experiment.as_bytes(),
                self.seed.wrapping_add(unit.len() as u64 + 1),
            )
            .rotate_left(17);
        if self.current.contains(&h) || self.previous.contains(&h) {
            return false;
        }
        if self.current.len() >= self.generation {
            self.previous = std::mem::take(&mut self.current);
        }
        self.current.insert(h);
        true
    }

    /// How many pairs are remembered.
    pub fn len(&self) -> usize {
        self.current.len() + self.previous.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_generations_bound_memory_and_dedupe() {
        let mut m = ExposureMemory::new(4, 7);
        assert!(m.first_time("a", "u1"));
        assert!(m.first_time("a", "u2"));
        assert!(!m.first_time("a", "u1"));
        assert!(m.first_time("b", "u1"));
        // Generation 2 starts: u1 and u2 of "a" are in the previous one, still remembered.
        assert!(!m.first_time("a", "u1"));
        assert!(m.first_time("a", "u3"));
        assert!(m.first_time("a", "u4"));
        // Generation 3: the first generation is forgotten.
        assert!(m.first_time("a", "u1"));
        // Pairs that concatenate alike are distinct.
        assert!(m.first_time("ab", "c"));
        assert!(m.first_time("a", "bc"));
        for i in 0..10_000 {
            m.first_time("e", &format!("u{i}"));
        }
        assert!(m.len() <= 4);
        assert!(!m.is_empty());
    }
}
