//! Which exposures were already reported, so the SDKs report each (experiment, unit) pair once
//! while it is remembered, in bounded memory. Core never reports anything itself; the Python
//! and JavaScript engines keep one of these next to their engine.
//!
//! The memory is a set-associative table of 64-bit hashes with two choices: a pair's hash
//! names two buckets of 16 slots (128 bytes, two adjacent cache lines each) and the pair goes
//! to the first with room, so a lookup almost always reads one bucket whatever the number of
//! pairs remembered (the second only when the first is full). When both are full, the first
//! forgets its oldest pair for the new one. The table starts small and doubles as pairs
//! arrive, up to `capacity` slots.

/// Slots per bucket.
const WAYS: usize = 16;

/// Buckets a memory starts with (it grows to its capacity as pairs arrive).
const FIRST_BUCKETS: usize = 64;

/// One bucket: hashes, newest first; 0 is an empty slot.
#[derive(Debug, Clone, Copy)]
#[repr(align(128))]
struct Bucket([u64; WAYS]);

/// Exposures already reported, as 64-bit xxh3 hashes of (experiment, unit) under a seed, in
/// at most `capacity` slots (8 bytes each, allocated as pairs arrive). A pair is forgotten
/// only when both of its buckets are full, which is rare until most slots are in use; a
/// forgotten pair is reported again. Two pairs share a hash with probability 2^-64 (the later
/// one would not be reported). Give each engine a random seed so hashes cannot be chosen to
/// collide.
#[derive(Debug, Clone)]
pub struct ExposureMemory {
    seed: u64,
    buckets: Vec<Bucket>,
    /// Slots used in each bucket: 16, or fewer for a capacity under 16.
    ways: usize,
    /// The most buckets the table grows to.
    max_buckets: usize,
    /// Slots holding a hash.
    len: usize,
}

impl ExposureMemory {
    /// A memory of at most `capacity` pairs (at least 2), hashing under `seed`.
    pub fn new(capacity: usize, seed: u64) -> Self {
        let capacity = capacity.max(2);
        let ways = capacity.min(WAYS);
        let max_buckets = capacity / ways;
        ExposureMemory {
            seed,
            buckets: vec![Bucket([0; WAYS]); max_buckets.min(FIRST_BUCKETS)],
            ways,
            max_buckets,
            len: 0,
        }
    }

    /// The hash of a pair: never 0 (the empty slot).
    fn hash(&self, experiment: &str, unit: &str) -> u64 {
        // The unit's length seeds the experiment's hash, so ("ab", "c") and ("a", "bc") differ.
        let h = xxhash_rust::xxh3::xxh3_64_with_seed(unit.as_bytes(), self.seed)
            ^ xxhash_rust::xxh3::xxh3_64_with_seed(
                experiment.as_bytes(),
                self.seed.wrapping_add(unit.len() as u64 + 1),
            )
            .rotate_left(17);
        h.max(1)
    }

    /// The two buckets of `hash` among `n` buckets (multiply-shifts of its two halves: any
    /// `n` works).
    fn buckets_of(hash: u64, n: usize) -> (usize, usize) {
        let pick = |x: u64| ((u128::from(x) * n as u128) >> 64) as usize;
        (pick(hash), pick(hash.rotate_left(32)))
    }

    /// The slots in use of bucket `at`.
    fn slots(&self, at: usize) -> &[u64] {
        self.buckets
            .get(at)
            .and_then(|b| b.0.get(..self.ways))
            .unwrap_or(&[])
    }

    /// Whether bucket `at` has no empty slot (once full, a bucket stays full until the table
    /// grows: a pair only leaves it for a new one).
    fn full(&self, at: usize) -> bool {
        self.slots(at).last() != Some(&0)
    }

    /// Whether this exposure is new; a new one is remembered.
    pub fn first_time(&mut self, experiment: &str, unit: &str) -> bool {
        let h = self.hash(experiment, unit);
        let (first, second) = Self::buckets_of(h, self.buckets.len());
        if self.slots(first).contains(&h) {
            return false;
        }
        // A pair goes to its second bucket only when its first is full.
        if self.full(first) && self.slots(second).contains(&h) {
            return false;
        }
        if self.len * 2 >= self.buckets.len() * self.ways && self.buckets.len() < self.max_buckets {
            self.grow();
        }
        self.insert(h);
        true
    }

    /// Puts `h` first in the first of its buckets with room; with none, in its first bucket,
    /// forgetting that bucket's oldest hash.
    fn insert(&mut self, h: u64) {
        let (first, second) = Self::buckets_of(h, self.buckets.len());
        let at = if self.full(first) && !self.full(second) {
            second
        } else {
            first
        };
        let ways = self.ways;
        let Some(slots) = self.buckets.get_mut(at).and_then(|b| b.0.get_mut(..ways)) else {
            return;
        };
        if slots.last() == Some(&0) {
            self.len += 1;
        }
        slots.rotate_right(1);
        if let Some(slot) = slots.first_mut() {
            *slot = h;
        }
    }

    /// Doubles the table (up to its capacity), keeping every hash and each bucket's order.
    fn grow(&mut self) {
        let n = (self.buckets.len() * 2).min(self.max_buckets);
        let old = std::mem::replace(&mut self.buckets, vec![Bucket([0; WAYS]); n]);
        self.len = 0;
        for Bucket(slots) in &old {
            // Oldest first, so each bucket of the new table keeps the newest first.
            for &h in slots.iter().take(self.ways).rev().filter(|&&h| h != 0) {
                self.insert(h);
            }
        }
    }

    /// How many pairs are remembered.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_dedupes_and_stays_bounded() {
        let mut m = ExposureMemory::new(4, 7);
        assert!(m.first_time("a", "u1"));
        assert!(m.first_time("a", "u2"));
        assert!(!m.first_time("a", "u1"));
        assert!(m.first_time("b", "u1"));
        // Pairs that concatenate alike are distinct.
        assert!(m.first_time("ab", "c"));
        assert!(m.first_time("a", "bc"));
        assert_eq!(m.len(), 4, "a full bucket of 4");
        // The oldest pair was forgotten for the newest.
        assert!(m.first_time("a", "u1"));
        for i in 0..10_000 {
            m.first_time("e", &format!("u{i}"));
        }
        assert!(m.len() <= 4);
        assert!(!m.is_empty());
    }

    #[test]
    fn tiny_capacities_hold_what_they_say() {
        for capacity in [0, 1, 2, 3, 15, 16, 17, 33] {
            let mut m = ExposureMemory::new(capacity, 9);
            for i in 0..100 {
                assert!(m.first_time("e", &format!("u{i}")));
                assert!(
                    !m.first_time("e", &format!("u{i}")),
                    "the newest pair is remembered"
                );
            }
            assert!(m.len() <= capacity.max(2), "{capacity}: {}", m.len());
        }
    }

    #[test]
    fn a_working_set_under_half_the_capacity_is_never_reported_twice() {
        let mut m = ExposureMemory::new(250_000, 42);
        let units: Vec<String> = (0..100_000).map(|i| format!("user-{i:06}")).collect();
        let fresh: usize = units.iter().filter(|u| m.first_time("exp", u)).count();
        assert_eq!(fresh, units.len(), "every pair is new once");
        for _ in 0..3 {
            let again = units.iter().filter(|u| m.first_time("exp", u)).count();
            assert_eq!(again, 0, "the table grew and kept every pair");
        }
        assert_eq!(m.len(), units.len());
        assert!(m.buckets.len() <= m.max_buckets);
    }

    #[test]
    fn a_working_set_at_capacity_is_mostly_remembered() {
        let capacity = 100_000;
        let mut m = ExposureMemory::new(capacity, 3);
        let units: Vec<String> = (0..capacity).map(|i| format!("u{i}")).collect();
        for u in &units {
            m.first_time("exp", u);
        }
        assert!(m.len() <= capacity);
        let again = units.iter().filter(|u| m.first_time("exp", u)).count();
        // Both buckets of some pairs filled up and forgot their oldest: about 1 in 5 at 100%
        // load with this cyclic order, the worst for a memory that forgets the oldest.
        assert!(again < capacity / 4, "{again} reported again");
        assert!(m.len() <= capacity);
    }
}
