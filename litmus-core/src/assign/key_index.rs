//! A read-only string-keyed index built once per config: XXH3 of the key, then a binary search
//! over sorted hashes. No allocation per lookup and no SipHash on the hot path.

use xxhash_rust::xxh3::xxh3_64;

/// Maps keys to `u32` values.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyIndex {
    entries: Box<[(u64, Box<str>, u32)]>,
}

impl KeyIndex {
    /// An index of the given pairs; for a repeated key the first value wins.
    pub(crate) fn new<'a>(pairs: impl IntoIterator<Item = (&'a str, u32)>) -> Self {
        let mut entries: Vec<(u64, Box<str>, u32)> = Vec::new();
        for (key, value) in pairs {
            entries.push((xxh3_64(key.as_bytes()), key.into(), value));
        }
        // Stable sort keeps document order among equal hashes, so the first value wins.
        entries.sort_by_key(|e| e.0);
        let mut seen = std::collections::HashSet::new();
        entries.retain(|e| seen.insert(e.1.clone()));
        KeyIndex {
            entries: entries.into_boxed_slice(),
        }
    }

    /// The value of `key`.
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        if self.entries.is_empty() {
            return None;
        }
        let hash = xxh3_64(key.as_bytes());
        let start = self.entries.partition_point(|e| e.0 < hash);
        self.entries
            .get(start..)?
            .iter()
            .take_while(|e| e.0 == hash)
            .find(|e| &*e.1 == key)
            .map(|e| e.2)
    }

    /// Whether the index is empty.
    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The number of keys.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
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
    fn first_value_wins() {
        let index = KeyIndex::new([("a", 1), ("b", 2), ("a", 3)]);
        assert_eq!(index.get("a"), Some(1));
        assert_eq!(index.len(), 2);
    }
}
