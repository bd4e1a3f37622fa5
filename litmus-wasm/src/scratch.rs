//! The call buffer: bytes in WebAssembly memory that the JavaScript layer writes a call's unit
//! id and attributes into, so an assignment crosses the boundary as numbers (no string
//! marshalling, no JSON of the attributes). Only the attributes the experiment reads are
//! written, in the order of `Experiment::attribute_names`.
//!
//! Layout: the unit id (UTF-8), then one entry per attribute name: a tag byte, then
//! - `0` missing, `1` null, `2` false, `3` true: nothing more;
//! - `4` number: 8 bytes, a little-endian `f64`;
//! - `5` string and `6` JSON (a list or an object, as `JSON.stringify` writes it): a
//!   little-endian `u32` byte length, then the UTF-8 bytes.

use litmus_core::attributes::json_as_attr;
use litmus_core::{AttrRef, AttributeSource};

/// Tags of the entries.
const MISSING: u8 = 0;
const NULL: u8 = 1;
const FALSE: u8 = 2;
const TRUE: u8 = 3;
const NUMBER: u8 = 4;
const STRING: u8 = 5;
const JSON: u8 = 6;

/// One decoded entry, borrowing the buffer.
enum Entry<'a> {
    Missing,
    Value(AttrRef<'a>),
    Json(&'a str),
}

/// Reads the entry at `at`: the entry and where the next one starts (`None` when the bytes
/// are not a valid entry).
fn entry(bytes: &[u8], at: usize) -> Option<(Entry<'_>, usize)> {
    let tag = *bytes.get(at)?;
    let body = at + 1;
    let text = || -> Option<(&str, usize)> {
        let len = u32::from_le_bytes(bytes.get(body..body + 4)?.try_into().ok()?) as usize;
        let start = body + 4;
        let s = std::str::from_utf8(bytes.get(start..start.checked_add(len)?)?).ok()?;
        Some((s, start + len))
    };
    Some(match tag {
        MISSING => (Entry::Missing, body),
        NULL => (Entry::Value(AttrRef::Null), body),
        FALSE => (Entry::Value(AttrRef::Bool(false)), body),
        TRUE => (Entry::Value(AttrRef::Bool(true)), body),
        NUMBER => {
            let n = f64::from_le_bytes(bytes.get(body..body + 8)?.try_into().ok()?);
            (Entry::Value(AttrRef::Number(n)), body + 8)
        }
        STRING => {
            let (s, next) = text()?;
            (Entry::Value(AttrRef::Str(s)), next)
        }
        JSON => {
            let (s, next) = text()?;
            (Entry::Json(s), next)
        }
        _ => return None,
    })
}

/// `assignAt`'s and `evaluateAt`'s attribute length for "no attributes".
pub(crate) const NO_ATTRIBUTES: u32 = u32::MAX;

/// The attribute names of each experiment or flag, by position, made on first use (what a
/// call's entries follow).
pub(crate) struct NameCache(Vec<Option<Box<[Box<str>]>>>);

impl NameCache {
    /// No names yet, for `n` positions.
    pub(crate) fn new(n: usize) -> Self {
        NameCache(vec![None; n])
    }

    /// The names at `position`, made with `make` on first use (`None` past the last).
    pub(crate) fn get_or_make<'n>(
        &mut self,
        position: usize,
        make: impl FnOnce() -> Vec<&'n str>,
    ) -> Option<&[Box<str>]> {
        let slot = self.0.get_mut(position)?;
        Some(slot.get_or_insert_with(|| make().into_iter().map(Into::into).collect()))
    }

    /// The names at `position`, if made.
    pub(crate) fn get(&self, position: usize) -> Option<&[Box<str>]> {
        self.0.get(position)?.as_deref()
    }
}

/// A call in the buffer: the unit id in its first `unit_len` bytes, then (unless `attrs_len`
/// is [`NO_ATTRIBUTES`]) `attrs_len` bytes of entries, one per name of `names`.
pub(crate) fn read_call<'a>(
    buffer: &'a [u8],
    names: &'a [Box<str>],
    unit_len: u32,
    attrs_len: u32,
) -> Result<(&'a str, Option<ScratchAttributes<'a>>), Unreadable> {
    let end = unit_len as usize;
    let unit = buffer
        .get(..end)
        .and_then(|b| std::str::from_utf8(b).ok())
        .ok_or(Unreadable::Layout)?;
    if attrs_len == NO_ATTRIBUTES {
        return Ok((unit, None));
    }
    let bytes = buffer
        .get(end..end.saturating_add(attrs_len as usize))
        .ok_or(Unreadable::Layout)?;
    Ok((unit, Some(ScratchAttributes::read(names, bytes)?)))
}

/// Why a call buffer could not be read.
#[derive(Debug, PartialEq)]
pub(crate) enum Unreadable {
    /// The bytes are not the entries the names call for.
    Layout,
    /// A JSON entry does not parse (for one, it nests deeper than core reads).
    Json(String),
}

/// A call's attributes as written in the buffer: one entry per name of `names`.
pub(crate) struct ScratchAttributes<'a> {
    names: &'a [Box<str>],
    bytes: &'a [u8],
    /// The JSON entries, parsed once (in entry order).
    json: Vec<serde_json::Value>,
}

impl<'a> ScratchAttributes<'a> {
    /// The attributes in `bytes`, one entry per name: an error when the bytes do not hold
    /// exactly that many valid entries, or a JSON entry does not parse.
    pub(crate) fn read(names: &'a [Box<str>], bytes: &'a [u8]) -> Result<Self, Unreadable> {
        let mut at = 0;
        let mut json = Vec::new();
        for _ in names {
            let (e, next) = entry(bytes, at).ok_or(Unreadable::Layout)?;
            if let Entry::Json(text) = e {
                let value =
                    serde_json::from_str(text).map_err(|e| Unreadable::Json(e.to_string()))?;
                json.push(value);
            }
            at = next;
        }
        if at != bytes.len() {
            return Err(Unreadable::Layout);
        }
        Ok(ScratchAttributes { names, bytes, json })
    }
}

impl AttributeSource for ScratchAttributes<'_> {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        let wanted = self.names.iter().position(|n| &**n == name)?;
        let (mut at, mut json) = (0, 0);
        for i in 0..=wanted {
            let (e, next) = entry(self.bytes, at)?;
            if i == wanted {
                return match e {
                    Entry::Missing => None,
                    Entry::Value(v) => Some(v),
                    Entry::Json(_) => self.json.get(json).map(json_as_attr),
                };
            }
            if matches!(e, Entry::Json(_)) {
                json += 1;
            }
            at = next;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    fn text(tag: u8, s: &str) -> Vec<u8> {
        let mut out = vec![tag];
        out.extend_from_slice(&(s.len() as u32).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out
    }

    #[test]
    fn every_kind_of_entry_reads_back() {
        let names: Vec<Box<str>> = ["gone", "nil", "no", "yes", "age", "country", "tags", "obj"]
            .into_iter()
            .map(Into::into)
            .collect();
        let mut bytes = vec![MISSING, NULL, FALSE, TRUE, NUMBER];
        bytes.extend_from_slice(&41.5f64.to_le_bytes());
        bytes.extend(text(STRING, "Ünïcode"));
        bytes.extend(text(JSON, r#"["a",2]"#));
        bytes.extend(text(JSON, r#"{"x":1}"#));
        let a = ScratchAttributes::read(&names, &bytes).unwrap();
        assert_eq!(a.attribute("gone"), None);
        assert_eq!(a.attribute("nil"), Some(AttrRef::Null));
        assert_eq!(a.attribute("no"), Some(AttrRef::Bool(false)));
        assert_eq!(a.attribute("yes"), Some(AttrRef::Bool(true)));
        assert_eq!(a.attribute("age"), Some(AttrRef::Number(41.5)));
        assert_eq!(a.attribute("country"), Some(AttrRef::Str("Ünïcode")));
        let tags: Vec<_> = match a.attribute("tags") {
            Some(AttrRef::List(l)) => l.iter().collect(),
            other => panic!("{other:?}"),
        };
        assert_eq!(tags, vec![AttrRef::Str("a"), AttrRef::Number(2.0)]);
        assert_eq!(a.attribute("obj"), Some(AttrRef::Unsupported));
        assert_eq!(a.attribute("unknown"), None);
    }

    #[test]
    fn malformed_buffers_are_refused() {
        let names: Vec<Box<str>> = vec!["a".into(), "b".into()];
        let layout = |bytes: &[u8]| {
            matches!(
                ScratchAttributes::read(&names, bytes),
                Err(Unreadable::Layout)
            )
        };
        assert!(layout(&[NULL]), "too few");
        assert!(layout(&[NULL, NULL, NULL]), "too many");
        assert!(layout(&[NULL, 9]), "unknown tag");
        assert!(layout(&[NUMBER, 0, 0]), "short number");
        let mut long = vec![NULL, STRING];
        long.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(layout(&long), "length past the end");
        let mut utf = vec![NULL, STRING];
        utf.extend_from_slice(&1u32.to_le_bytes());
        utf.push(0xff);
        assert!(layout(&utf), "bad UTF-8");
        let mut bad = vec![NULL];
        bad.extend(text(JSON, "[1,"));
        assert!(matches!(
            ScratchAttributes::read(&names, &bad),
            Err(Unreadable::Json(_))
        ));
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let mut nested = vec![NULL];
        nested.extend(text(JSON, &deep));
        let err = ScratchAttributes::read(&names, &nested).err();
        assert!(
            matches!(err, Some(Unreadable::Json(m)) if m.contains("recursion")),
            "too deep"
        );
    }
}
