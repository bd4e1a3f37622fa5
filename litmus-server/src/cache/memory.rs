//! The in-process cache: sticky assignments in a bounded map; nothing to share snapshots or
//! notifications with (a single instance announces its own changes).

use std::collections::HashMap;
use std::sync::Mutex;

use super::{Announce, Cache, CacheFuture, Notice};
use crate::store::Snapshot;

/// Sticky assignments kept in memory, at most `capacity` of them, in shards (by a hash of the
/// key) that each have their own lock, so requests rarely wait for each other and a shard's
/// map grows in small steps. In a shard, two generations: entries go into the young one; when
/// it holds half the shard's capacity, it becomes the old one and the old one is dropped; a hit
/// in the old generation moves the entry back to the young one. So the units seen recently are
/// kept, memory stays bounded, and no per-entry bookkeeping is needed.
pub struct MemoryCache {
    shards: Box<[Mutex<Generations>]>,
}

/// How many shards a cache has.
const SHARDS: usize = 16;

struct Generations {
    young: HashMap<String, String>,
    old: HashMap<String, String>,
    half: usize,
}

impl Generations {
    fn get(&mut self, key: &str) -> Option<String> {
        if let Some(v) = self.young.get(key) {
            return Some(v.clone());
        }
        let (key, value) = self.old.remove_entry(key)?;
        self.insert(key, value.clone());
        Some(value)
    }

    fn insert(&mut self, key: String, value: String) {
        if self.young.len() >= self.half {
            let dropped = std::mem::replace(&mut self.old, std::mem::take(&mut self.young));
            // Freeing half a million entries takes tens of milliseconds: not on a request's
            // time, nor while the lock is held.
            if dropped.len() > 1_000 {
                std::thread::spawn(move || drop(dropped));
            }
        }
        self.young.insert(key, value);
    }
}

impl MemoryCache {
    /// A cache remembering at most `capacity` sticky assignments (at least one per shard).
    pub fn new(capacity: usize) -> Self {
        let half = (capacity / SHARDS / 2).max(1);
        MemoryCache {
            shards: (0..SHARDS)
                .map(|_| {
                    Mutex::new(Generations {
                        young: HashMap::new(),
                        old: HashMap::new(),
                        half,
                    })
                })
                .collect(),
        }
    }

    fn shard(&self, key: &str) -> std::sync::MutexGuard<'_, Generations> {
        let i = (xxhash_rust::xxh3::xxh3_64(key.as_bytes()) % SHARDS as u64) as usize;
        // `i` is below the number of shards.
        #[allow(clippy::indexing_slicing)]
        self.shards[i]
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The variants remembered for `keys` (synchronous: used by the Redis cache's fallback).
    pub fn get_all(&self, keys: &[String]) -> Vec<Option<String>> {
        keys.iter().map(|k| self.shard(k).get(k)).collect()
    }

    /// Set-if-absent for each entry; the variant already there, per entry.
    pub fn put_all(&self, entries: &[(String, String)]) -> Vec<Option<String>> {
        entries
            .iter()
            .map(|(k, v)| {
                let mut g = self.shard(k);
                let existing = g.get(k);
                if existing.is_none() {
                    g.insert(k.clone(), v.clone());
                }
                existing
            })
            .collect()
    }

    /// How many sticky assignments are held.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| {
                let g = s.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                g.young.len() + g.old.len()
            })
            .sum()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Cache for MemoryCache {
    fn name(&self) -> &'static str {
        "memory"
    }

    fn snapshot<'a>(
        &'a self,
        _project: &'a str,
        _version: u64,
    ) -> CacheFuture<'a, Option<Snapshot>> {
        Box::pin(async { Ok(None) })
    }

    fn put_snapshot<'a>(
        &'a self,
        _project: &'a str,
        _snapshot: &'a Snapshot,
    ) -> CacheFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn remembered<'a>(&'a self, keys: &'a [String]) -> CacheFuture<'a, Vec<Option<String>>> {
        let found = self.get_all(keys);
        Box::pin(async move { Ok(found) })
    }

    fn remember<'a>(
        &'a self,
        entries: &'a [(String, String)],
    ) -> CacheFuture<'a, Vec<Option<String>>> {
        let found = self.put_all(entries);
        Box::pin(async move { Ok(found) })
    }

    fn publish<'a>(&'a self, _notice: &'a Notice) -> CacheFuture<'a, ()> {
        Box::pin(async { Ok(()) })
    }

    fn listen(&self, _announce: Announce) {}

    fn ping(&self) -> CacheFuture<'_, ()> {
        Box::pin(async { Ok(()) })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn set_if_absent_keeps_the_first_variant() {
        let c = MemoryCache::new(100);
        let e = |k: &str, v: &str| (k.to_owned(), v.to_owned());
        assert_eq!(c.put_all(&[e("a", "x")]), vec![None]);
        assert_eq!(c.put_all(&[e("a", "y")]), vec![Some("x".into())]);
        assert_eq!(
            c.get_all(&["a".into(), "b".into()]),
            vec![Some("x".into()), None]
        );
    }

    #[test]
    fn memory_is_bounded_and_recent_units_are_kept() {
        let c = MemoryCache::new(16_000);
        for i in 0..400_000 {
            c.put_all(&[(format!("u{i}"), "v".into())]);
            // A unit seen all along stays.
            assert_eq!(c.get_all(&["u0".into()]), vec![Some("v".into())]);
        }
        assert!(c.len() <= 16_000, "{}", c.len());
        assert_eq!(c.get_all(&["u399999".into()]), vec![Some("v".into())]);
        assert_eq!(c.get_all(&["u200000".into()]), vec![None]);
    }
}
