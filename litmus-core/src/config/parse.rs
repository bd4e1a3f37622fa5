//! JSON text to wire types, one object at a time, with exact error paths.
//!
//! Each experiment, layer and holdout is decoded on its own, so one malformed object is
//! reported (by key and field) without hiding the others.

use super::decode::Decode;
use super::wire::{UnknownFields, WireExperiment, WireHoldout, WireLayer};
use crate::error::{Error, FieldPath};

/// The schema version this library reads.
pub const SCHEMA_VERSION: u64 = 1;

/// A document split into its parts, each decoded on its own.
#[derive(Debug, Default)]
pub(crate) struct ParsedDocument {
    pub(crate) version: Option<String>,
    pub(crate) experiments: Vec<Decoded<WireExperiment>>,
    pub(crate) layers: Vec<Decoded<WireLayer>>,
    pub(crate) holdouts: Vec<Decoded<WireHoldout>>,
    pub(crate) metrics: Vec<Decoded<crate::metrics::MetricDefinition>>,
    /// The flags, not decoded yet: each is read, decoded and compiled in one step, so a large
    /// document's flags never exist all at once as JSON trees.
    pub(crate) flags: Vec<FlagSource>,
    /// Unknown top-level fields.
    pub(crate) unknown: Vec<FieldPath>,
}

/// One flag of a document before it is read: a JSON value, or (from text) its JSON text.
#[derive(Debug)]
pub(crate) enum FlagSource {
    /// A value from a parsed document.
    Value(serde_json::Value),
    /// The flag's text, kept from the document's text without parsing it into a tree.
    Text(Box<serde_json::value::RawValue>),
}

impl FlagSource {
    /// The flag as a JSON value.
    pub(crate) fn into_value(self) -> Result<serde_json::Value, Error> {
        match self {
            FlagSource::Value(v) => Ok(v),
            FlagSource::Text(raw) => {
                serde_json::from_str(raw.get()).map_err(|e| Error::InvalidJson {
                    path: FieldPath::root().field("flags"),
                    message: e.to_string(),
                })
            }
        }
    }
}

/// One object of a list: its path (named by key where it has one), its key if readable, and
/// the decoded value or the error.
#[derive(Debug)]
pub(crate) struct Decoded<T> {
    pub(crate) path: FieldPath,
    pub(crate) key: Option<String>,
    pub(crate) raw: serde_json::Value,
    pub(crate) value: Result<T, Error>,
}

/// Parses a document's text. Fails only when the text is not a JSON object, a top-level field
/// has the wrong type, or the schema version is not supported; problems inside experiments,
/// layers and holdouts are kept per object.
///
/// The flags are kept as text: each is parsed when it is compiled (a document of ten
/// thousand flags then never holds all their JSON trees at once).
pub(crate) fn parse_document(text: &str) -> Result<ParsedDocument, Error> {
    let invalid = |e: serde_json::Error| Error::InvalidJson {
        path: FieldPath::root(),
        message: e.to_string(),
    };
    let top: TopLevel = match serde_json::from_str(text) {
        Ok(top) => top,
        // Not an object: the whole text as a value gives the exact error.
        Err(_) => return parse_value(serde_json::from_str(text).map_err(invalid)?),
    };
    let mut doc = parse_value(serde_json::Value::Object(top.fields))?;
    if let Some(flags) = top.flags {
        doc.flags = flags.into_iter().map(FlagSource::Text).collect();
    }
    Ok(doc)
}

/// A document's top level as read from text: every field as a value except an array of
/// flags, whose items stay text (a `flags` that is not an array stays a field, for
/// [`parse_value`]'s error).
struct TopLevel {
    fields: serde_json::Map<String, serde_json::Value>,
    flags: Option<Vec<Box<serde_json::value::RawValue>>>,
}

impl<'de> serde::Deserialize<'de> for TopLevel {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde_json::value::RawValue;
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = TopLevel;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a config document (a JSON object)")
            }
            fn visit_map<M: serde::de::MapAccess<'de>>(
                self,
                mut map: M,
            ) -> Result<TopLevel, M::Error> {
                let mut top = TopLevel {
                    fields: serde_json::Map::new(),
                    flags: None,
                };
                while let Some(key) = map.next_key::<String>()? {
                    if key != "flags" {
                        let value = map.next_value()?;
                        top.fields.insert(key, value);
                        continue;
                    }
                    // A repeated key: the last one counts, as for any other field.
                    let raw: Box<RawValue> = map.next_value()?;
                    match serde_json::from_str::<Vec<Box<RawValue>>>(raw.get()) {
                        Ok(items) => {
                            top.fields.remove("flags");
                            top.flags = Some(items);
                        }
                        Err(_) => {
                            let value = serde_json::from_str(raw.get())
                                .map_err(serde::de::Error::custom)?;
                            top.flags = None;
                            top.fields.insert(key, value);
                        }
                    }
                }
                Ok(top)
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// As [`parse_document`], from a JSON value.
pub(crate) fn parse_value(value: serde_json::Value) -> Result<ParsedDocument, Error> {
    let root = FieldPath::root();
    let serde_json::Value::Object(mut object) = value else {
        return Err(Error::InvalidJson {
            path: root,
            message: "a config must be a JSON object".into(),
        });
    };
    let version_path = root.field("schema_version");
    let schema_version = match object.remove("schema_version") {
        None => return Err(Error::MissingField { path: version_path }),
        Some(v) => v.as_u64().ok_or_else(|| {
            Error::invalid(version_path, "schema_version must be a positive integer")
        })?,
    };
    if schema_version != SCHEMA_VERSION {
        return Err(Error::UnsupportedSchemaVersion {
            found: schema_version,
            supported: SCHEMA_VERSION,
        });
    }
    let mut doc = ParsedDocument::default();
    if let Some(v) = object.remove("version") {
        match v {
            serde_json::Value::String(s) => doc.version = Some(s),
            serde_json::Value::Null => {}
            _ => {
                return Err(Error::InvalidJson {
                    path: root.field("version"),
                    message: "version must be a string".into(),
                });
            }
        }
    }
    doc.experiments = decode_list(&mut object, &root, "experiments")?;
    doc.layers = decode_list(&mut object, &root, "layers")?;
    doc.holdouts = decode_list(&mut object, &root, "holdouts")?;
    doc.metrics = decode_list(&mut object, &root, "metrics")?;
    doc.flags = match object.remove("flags") {
        None | Some(serde_json::Value::Null) => Vec::new(),
        Some(serde_json::Value::Array(items)) => items.into_iter().map(FlagSource::Value).collect(),
        Some(_) => {
            return Err(Error::InvalidJson {
                path: root.field("flags"),
                message: "flags must be an array".into(),
            });
        }
    };
    doc.unknown = object.keys().map(|k| root.field(k)).collect();
    Ok(doc)
}

fn decode_list<T: Decode>(
    object: &mut serde_json::Map<String, serde_json::Value>,
    root: &FieldPath,
    name: &str,
) -> Result<Vec<Decoded<T>>, Error> {
    let path = root.field(name);
    let items = match object.remove(name) {
        None | Some(serde_json::Value::Null) => return Ok(Vec::new()),
        Some(serde_json::Value::Array(items)) => items,
        Some(_) => {
            return Err(Error::InvalidJson {
                path,
                message: format!("{name} must be an array"),
            });
        }
    };
    Ok(items
        .into_iter()
        .enumerate()
        .map(|(index, raw)| {
            let key = raw
                .get("key")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            let item_path = match &key {
                Some(k) if !k.is_empty() => path.item(k),
                _ => path.item(index),
            };
            let value = T::decode(&raw, &item_path);
            Decoded {
                path: item_path,
                key,
                raw,
                value,
            }
        })
        .collect())
}

/// Paths of the unknown fields in one wire object's `unknown` map.
pub(crate) fn unknown_paths(unknown: &UnknownFields, at: &FieldPath) -> Vec<FieldPath> {
    unknown.keys().map(|k| at.field(k)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_document_parses() {
        let doc = parse_document(
            r#"{"schema_version":1,"experiments":[{"key":"checkout-button","salt":"cb-2026","status":"running","traffic":1.0,"variants":[{"key":"control","weight":1},{"key":"treatment","weight":1}]}]}"#,
        );
        let doc = doc.unwrap_or_default();
        assert_eq!(doc.experiments.len(), 1);
        assert!(doc.experiments.iter().all(|e| e.value.is_ok()));
    }

    #[test]
    fn errors_name_experiment_and_field() {
        let doc = parse_document(
            r#"{"schema_version":1,"experiments":[
                {"key":"good","variants":[{"key":"a"}]},
                {"key":"bad","variants":[{"key":"a"},{"key":"b","weight":"heavy"}]},
                {"variants":[]}
            ]}"#,
        )
        .unwrap_or_default();
        assert!(doc.experiments.first().is_some_and(|d| d.value.is_ok()));
        let errors: Vec<_> = doc
            .experiments
            .iter()
            .filter_map(|d| d.value.as_ref().err())
            .collect();
        let [bad, keyless] = errors.as_slice() else {
            panic!("two errors expected, got {errors:?}");
        };
        assert_eq!(bad.code(), "invalid_json");
        assert_eq!(
            bad.path().map(FieldPath::as_str),
            Some("experiments[bad].variants[1].weight")
        );
        assert_eq!(keyless.code(), "missing_field");
        assert_eq!(
            keyless.path().map(FieldPath::as_str),
            Some("experiments[2].key")
        );
    }

    #[test]
    fn document_level_failures() {
        let code = |text: &str| parse_document(text).err().map(|e| e.code());
        assert_eq!(code("not json"), Some("invalid_json"));
        assert_eq!(code("[1]"), Some("invalid_json"));
        assert_eq!(code("{}"), Some("missing_field"));
        assert_eq!(code(r#"{"schema_version":"1"}"#), Some("invalid_value"));
        assert_eq!(
            code(r#"{"schema_version":2}"#),
            Some("unsupported_schema_version")
        );
        assert_eq!(
            code(r#"{"schema_version":1,"experiments":{}}"#),
            Some("invalid_json")
        );
        let doc = parse_document(r#"{"schema_version":1,"extra":true}"#).unwrap_or_default();
        assert_eq!(doc.unknown.len(), 1);
    }
}
