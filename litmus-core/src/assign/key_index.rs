//! A read-only string-keyed index built once per config: an open-addressing table, at most
//! half full, so a lookup is one short hash, usually one probe and one inline comparison. No
//! allocation per lookup and no SipHash on the hot path.
//!
//! The table's hash only spreads keys over slots; it decides nothing (bucketing is
//! `crate::hash`), and keys are always compared in full.

use xxhash_rust::xxh3::xxh3_64;

/// A fast hash for table slots: keys up to 16 bytes (experiment keys, most unit ids) are read
/// as two overlapping words and mixed with one wide multiply; longer keys use XXH3.
#[inline]
fn slot_hash(b: &[u8]) -> u64 {
    const K0: u64 = 0x9e37_79b9_7f4a_7c15;
    const K1: u64 = 0xd6e8_feb8_6659_fd93;
    let n = b.len();
    let (x, y) = if n > 16 {
        return long_hash(b);
    } else if n >= 8 {
        (word8(b, 0), word8(b, n - 8))
    } else if n >= 4 {
        (u64::from(word4(b, 0)), u64::from(word4(b, n - 4)))
    } else if n > 0 {
        let byte = |i: usize| u64::from(b.get(i).copied().unwrap_or(0));
        (byte(0) | byte(n / 2) << 8 | byte(n - 1) << 16, 0)
    } else {
        (0, 0)
    };
    let product = u128::from(x ^ K0) * u128::from(y ^ K1 ^ n as u64);
    (product as u64) ^ ((product >> 64) as u64)
}

/// Keys over 16 bytes: out of line, so the short path stays small enough to inline.
#[inline(never)]
fn long_hash(b: &[u8]) -> u64 {
    xxh3_64(b)
}

#[inline]
fn word8(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

#[inline]
fn word4(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_le_bytes)
}

/// Byte equality, inline for up to 16 bytes (no call to `memcmp` on the hot path).
#[inline]
fn same(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if (8..=16).contains(&n) {
        word8(a, 0) == word8(b, 0) && word8(a, n - 8) == word8(b, n - 8)
    } else if (4..8).contains(&n) {
        word4(a, 0) == word4(b, 0) && word4(a, n - 4) == word4(b, n - 4)
    } else {
        a == b
    }
}

/// One occupied slot: the key's table hash, the key and its value.
#[derive(Debug, Clone)]
struct Entry {
    hash: u64,
    key: Box<str>,
    value: u32,
}

/// Maps keys to `u32` values.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    /// Open addressing with linear probing, at most half full.
    slots: Box<[Option<Entry>]>,
    len: usize,
    mask: usize,
}

impl KeyIndex {
    /// An index of the given pairs; for a repeated key the first value wins.
    pub(crate) fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut seen = std::collections::HashSet::new();
        let entries: Vec<Entry> = pairs
            .into_iter()
            .filter(|(key, _)| seen.insert(*key))
            .map(|(key, value)| Entry {
                hash: slot_hash(key.as_bytes()),
                key: key.into(),
                value,
            })
            .collect();
        if entries.is_empty() {
            return KeyIndex::default();
        }
        let capacity = (entries.len() * 2).next_power_of_two();
        let mask = capacity - 1;
        let mut slots: Vec<Option<Entry>> = vec![None; capacity];
        let len = entries.len();
        for entry in entries {
            let mut i = (entry.hash as usize) & mask;
            while let Some(slot) = slots.get_mut(i) {
                if slot.is_none() {
                    *slot = Some(entry);
                    break;
                }
                i = (i + 1) & mask;
            }
        }
        KeyIndex {
            slots: slots.into_boxed_slice(),
            len,
            mask,
        }
    }

    /// The value of `key`.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        if self.len == 0 {
            return None;
        }
        let hash = slot_hash(key.as_bytes());
        let mut i = (hash as usize) & self.mask;
        // The table is at most half full, so a probe sequence always reaches an empty slot.
        loop {
            let entry = self.slots.get(i)?.as_ref()?;
            if entry.hash == hash && same(entry.key.as_bytes(), key.as_bytes()) {
                return Some(entry.value);
            }
            i = (i + 1) & self.mask;
        }
    }

    /// Whether the index is empty.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_key_and_nothing_else() {
        let keys: Vec<String> = (0..500).map(|i| format!("key-{i}")).collect();
        let index = KeyIndex::new(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)));
        assert_eq!(index.len(), 500);
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.get(k), Some(i as u32));
        }
        assert_eq!(index.get("key-500"), None);
        assert_eq!(index.get(""), None);
        assert_eq!(KeyIndex::default().get("x"), None);
    }

    #[test]
    fn keys_of_every_length_are_told_apart() {
        let keys: Vec<String> = (1..40)
            .flat_map(|n| ["a", "b", "é"].map(|c| c.repeat(n)))
            .chain(["".into(), "exp-1".into(), "exp-2".into(), "1-pxe".into()])
            .collect();
        let index = KeyIndex::new(keys.iter().enumerate().map(|(i, k)| (k.as_str(), i as u32)));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(index.get(k), Some(i as u32), "{k:?}");
        }
        assert_eq!(index.get("exp-3"), None);
        assert_eq!(index.get(&"a".repeat(41)), None);
        assert!(same(b"abcdefgh12", b"abcdefgh12"));
        assert!(!same(b"abcdefgh12", b"abcdefgh13"));
        assert!(!same(b"abcXe", b"abcYe"));
    }

    #[test]
    fn first_value_wins() {
        let index = KeyIndex::new([("a", 1), ("b", 2), ("a", 3)]);
        assert_eq!(index.get("a"), Some(1));
        assert_eq!(index.len(), 2);
    }
}
