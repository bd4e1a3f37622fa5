//! Version strings for the `version_*` targeting operators, ordered by Semantic Versioning 2.0
//! precedence.
//!
//! Accepted: an optional `v`, one to four dot-separated numeric parts (missing parts are zero,
//! so `1.2` equals `1.2.0`), an optional `-prerelease` of dot-separated identifiers and an
//! optional `+build` that is ignored. Parsing borrows and never allocates.

use std::cmp::Ordering;

const MAX_PARTS: usize = 4;

/// A parsed version, borrowing its pre-release text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Version<'a> {
    parts: [u64; MAX_PARTS],
    pre: Option<&'a str>,
}

impl<'a> Version<'a> {
    /// Parses `text`, or `None` when it is not a version.
    pub(crate) fn parse(text: &'a str) -> Option<Self> {
        let text = text.trim();
        let text = text
            .strip_prefix('v')
            .or_else(|| text.strip_prefix('V'))
            .unwrap_or(text);
        let text = text.split_once('+').map_or(text, |(core, _build)| core);
        let (core, pre) = match text.split_once('-') {
            Some((core, pre)) => (core, Some(pre)),
            None => (text, None),
        };
        if let Some(pre) = pre {
            let valid = !pre.is_empty()
                && pre.split('.').all(|id| {
                    !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                });
            if !valid {
                return None;
            }
        }
        let mut parts = [0u64; MAX_PARTS];
        for (count, piece) in core.split('.').enumerate() {
            let slot = parts.get_mut(count)?;
            if piece.is_empty() || !piece.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            *slot = piece.parse().ok()?;
        }
        Some(Version { parts, pre })
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.parts
            .cmp(&other.parts)
            .then_with(|| match (self.pre, other.pre) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Greater,
                (Some(_), None) => Ordering::Less,
                (Some(a), Some(b)) => compare_prerelease(a, b),
            })
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Semver rule 11: identifiers compared left to right; numeric ones numerically and below
/// alphanumeric ones; a shorter list of equal identifiers comes first.
fn compare_prerelease(a: &str, b: &str) -> Ordering {
    let mut left = a.split('.');
    let mut right = b.split('.');
    loop {
        match (left.next(), right.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => {
                let order = match (numeric(x), numeric(y)) {
                    (Some(m), Some(n)) => m.cmp(&n),
                    (Some(_), None) => Ordering::Less,
                    (None, Some(_)) => Ordering::Greater,
                    (None, None) => x.cmp(y),
                };
                if order != Ordering::Equal {
                    return order;
                }
            }
        }
    }
}

fn numeric(id: &str) -> Option<u128> {
    if id.bytes().all(|b| b.is_ascii_digit()) {
        // Identifiers longer than u128 compare as text, which keeps the order total.
        id.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version<'_> {
        match Version::parse(s) {
            Some(v) => v,
            None => panic!("{s} should parse"),
        }
    }

    #[test]
    fn semver_precedence_chain() {
        // The example chain of semver.org, rule 11.
        let chain = [
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.1",
            "1.1",
            "2",
            "10.0.0",
        ];
        for pair in chain.windows(2) {
            if let [a, b] = pair {
                assert!(v(a) < v(b), "{a} < {b}");
            }
        }
    }

    #[test]
    fn equivalent_spellings() {
        assert_eq!(v("1.2").cmp(&v("1.2.0")), Ordering::Equal);
        assert_eq!(v("v1.2.3+build.5").cmp(&v("1.2.3")), Ordering::Equal);
        assert_eq!(v(" 3.0 ").cmp(&v("3")), Ordering::Equal);
    }

    #[test]
    fn rejects_non_versions() {
        for bad in [
            "",
            "v",
            "1..2",
            "1.2.x",
            "1.2.3.4.5",
            "-1",
            "1.0-",
            "1.0-a..b",
            "abc",
            "99999999999999999999999",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad:?} should not parse");
        }
    }
}
