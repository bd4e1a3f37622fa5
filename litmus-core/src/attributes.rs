//! Unit attributes that targeting rules read.
//!
//! The engine reads attributes through the [`AttributeSource`] trait, so callers pass what they
//! already have: an [`Attributes`] built in Rust, a `serde_json` object, or a hash map. Lookups
//! borrow; nothing is copied per call.

use std::collections::{BTreeMap, HashMap};

/// An owned attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON null; treated as absent by `exists`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number (every number is a double, as in JSON and JavaScript).
    Number(f64),
    /// A string (semantic versions are strings too).
    String(String),
    /// A list of values.
    List(Vec<Value>),
}

/// A borrowed view of one attribute value, as targeting sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttrRef<'a> {
    /// Null.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Str(&'a str),
    /// A list.
    List(ListRef<'a>),
    /// A value of a type targeting cannot compare (a nested object): every comparison is a
    /// type mismatch, only `exists` holds.
    Unsupported,
}

/// A borrowed list, from either representation of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ListRef<'a> {
    /// A list of [`Value`]s.
    Values(&'a [Value]),
    /// A list of JSON values.
    Json(&'a [serde_json::Value]),
}

impl<'a> ListRef<'a> {
    /// The elements as borrowed attribute values.
    pub fn iter(self) -> impl Iterator<Item = AttrRef<'a>> {
        let (values, json) = match self {
            ListRef::Values(v) => (v, &[][..]),
            ListRef::Json(j) => (&[][..], j),
        };
        values
            .iter()
            .map(Value::as_attr)
            .chain(json.iter().map(json_as_attr))
    }

    /// The number of elements.
    pub fn len(self) -> usize {
        match self {
            ListRef::Values(v) => v.len(),
            ListRef::Json(j) => j.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl Value {
    /// This value as a borrowed attribute value.
    pub fn as_attr(&self) -> AttrRef<'_> {
        match self {
            Value::Null => AttrRef::Null,
            Value::Bool(b) => AttrRef::Bool(*b),
            Value::Number(n) => AttrRef::Number(*n),
            Value::String(s) => AttrRef::Str(s),
            Value::List(l) => AttrRef::List(ListRef::Values(l)),
        }
    }
}

/// A JSON value as a borrowed attribute value.
pub fn json_as_attr(value: &serde_json::Value) -> AttrRef<'_> {
    match value {
        serde_json::Value::Null => AttrRef::Null,
        serde_json::Value::Bool(b) => AttrRef::Bool(*b),
        serde_json::Value::Number(n) => n.as_f64().map_or(AttrRef::Unsupported, AttrRef::Number),
        serde_json::Value::String(s) => AttrRef::Str(s),
        serde_json::Value::Array(a) => AttrRef::List(ListRef::Json(a)),
        serde_json::Value::Object(_) => AttrRef::Unsupported,
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::String(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::String(s)
    }
}
impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Value::Number(n)
    }
}
impl From<i64> for Value {
    fn from(n: i64) -> Self {
        Value::Number(n as f64)
    }
}
impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Value::Number(f64::from(n))
    }
}
impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

/// Anything the engine can read attributes from.
pub trait AttributeSource {
    /// The value of the named attribute, or `None` when the unit does not have it.
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>>;
}

impl<T: AttributeSource + ?Sized> AttributeSource for &T {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        (**self).attribute(name)
    }
}

/// No attributes at all: every condition on an attribute misses.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoAttributes;

impl AttributeSource for NoAttributes {
    fn attribute(&self, _name: &str) -> Option<AttrRef<'_>> {
        None
    }
}

/// A small owned attribute map, built in Rust with [`Attributes::with`] or from JSON.
///
/// Lookups scan a short vector, which beats hashing for the handful of attributes a request
/// carries.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes {
    entries: Vec<(String, Value)>,
}

impl Attributes {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// These attributes with `name` set to `value` (replacing an earlier value).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.insert(name, value);
        self
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        let name = name.into();
        let value = value.into();
        match self.entries.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.entries.push((name, value)),
        }
    }

    /// The number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Attributes from a JSON object; `None` when the value is not an object. Nested objects
    /// are kept as values targeting cannot compare.
    pub fn from_json(value: &serde_json::Value) -> Option<Self> {
        let object = value.as_object()?;
        let mut attrs = Attributes::new();
        for (name, v) in object {
            if let Some(v) = value_from_json(v) {
                attrs.entries.push((name.clone(), v));
            }
        }
        Some(attrs)
    }
}

fn value_from_json(value: &serde_json::Value) -> Option<Value> {
    Some(match value {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => Value::Number(n.as_f64()?),
        serde_json::Value::String(s) => Value::String(s.clone()),
        serde_json::Value::Array(a) => Value::List(a.iter().filter_map(value_from_json).collect()),
        serde_json::Value::Object(_) => return None,
    })
}

impl AttributeSource for Attributes {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.entries
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_attr())
    }
}

impl AttributeSource for serde_json::Map<String, serde_json::Value> {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.get(name).map(json_as_attr)
    }
}

/// A JSON value is a source when it is an object; any other value has no attributes.
impl AttributeSource for serde_json::Value {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.as_object()?.get(name).map(json_as_attr)
    }
}

impl<S: std::hash::BuildHasher> AttributeSource for HashMap<String, Value, S> {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.get(name).map(Value::as_attr)
    }
}

impl AttributeSource for BTreeMap<String, Value> {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.get(name).map(Value::as_attr)
    }
}

impl AttributeSource for [(&str, Value)] {
    fn attribute(&self, name: &str) -> Option<AttrRef<'_>> {
        self.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_attr())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_replaces_and_looks_up() {
        let a = Attributes::new()
            .with("country", "US")
            .with("age", 30)
            .with("country", "DE");
        assert_eq!(a.len(), 2);
        assert_eq!(a.attribute("country"), Some(AttrRef::Str("DE")));
        assert_eq!(a.attribute("age"), Some(AttrRef::Number(30.0)));
        assert_eq!(a.attribute("missing"), None);
    }

    #[test]
    fn json_sources_borrow() {
        let v = serde_json::json!({"plan": "pro", "tags": ["a", 1], "nested": {"x": 1}});
        assert_eq!(v.attribute("plan"), Some(AttrRef::Str("pro")));
        assert_eq!(v.attribute("nested"), Some(AttrRef::Unsupported));
        let Some(AttrRef::List(list)) = v.attribute("tags") else {
            panic!("tags is a list");
        };
        let items: Vec<_> = list.iter().collect();
        assert_eq!(items, vec![AttrRef::Str("a"), AttrRef::Number(1.0)]);
        let owned = Attributes::from_json(&v).unwrap_or_default();
        assert_eq!(owned.attribute("plan"), Some(AttrRef::Str("pro")));
        assert_eq!(owned.attribute("nested"), None);
        assert!(Attributes::from_json(&serde_json::json!(3)).is_none());
    }
}
