//! Wire types from JSON values, by hand, with the exact path of every error.
//!
//! Fields are read in the object's key order and the first problem wins, then the first
//! missing required field in declaration order: the order serde's derived decoders report in,
//! so codes and paths match what the spec's reference implementation expects. Keys a type does
//! not define are kept in its `unknown` map. Hand-written rather than derived because a derive
//! with `flatten`, plus a path-tracking wrapper, compiled to about a quarter of the npm
//! package's WebAssembly.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::wire::{
    Kind, Status, UnknownFields, WireConfig, WireDimension, WireExperiment,
    WireExperimentEnvironment, WireFactor, WireHoldout, WireLayer, WireLayerSlot, WireMetric,
    WireVariant, default_hash_version, default_traffic, default_weight,
};
use crate::error::{Error, FieldPath};

/// A wire type read from a JSON value.
pub(crate) trait Decode: Sized {
    /// Reads `value`, found at `path`.
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error>;
}

/// Where a value is, for error messages: a whole path, or a parent path and a field name
/// whose path is only built when an error needs it (config loading reads thousands of
/// fields, and building each one's path up front was a large share of the time).
pub(crate) trait Locate {
    /// The value's path.
    fn path(&self) -> FieldPath;
}

impl Locate for FieldPath {
    fn path(&self) -> FieldPath {
        self.clone()
    }
}

/// A field of an object: its path is `parent.name`, built on demand.
pub(crate) struct Field<'a> {
    parent: &'a FieldPath,
    name: &'a str,
}

impl Locate for Field<'_> {
    fn path(&self) -> FieldPath {
        self.parent.field(self.name)
    }
}

impl Field<'_> {
    /// The field's path.
    pub(crate) fn path(&self) -> FieldPath {
        Locate::path(self)
    }
}

/// The JSON type of a value, as error messages name it.
fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn wrong_type(value: &Value, path: &impl Locate, expected: &str) -> Error {
    Error::InvalidJson {
        path: path.path(),
        message: format!("invalid type: {}, expected {expected}", type_name(value)),
    }
}

pub(crate) fn object<'a>(
    value: &'a Value,
    path: &impl Locate,
) -> Result<&'a Map<String, Value>, Error> {
    value
        .as_object()
        .ok_or_else(|| wrong_type(value, path, "an object"))
}

pub(crate) fn string(value: &Value, path: &impl Locate) -> Result<String, Error> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| wrong_type(value, path, "a string"))
}

pub(crate) fn number(value: &Value, path: &impl Locate) -> Result<f64, Error> {
    value
        .as_f64()
        .ok_or_else(|| wrong_type(value, path, "a number"))
}

pub(crate) fn unsigned(value: &Value, path: &impl Locate) -> Result<u64, Error> {
    value
        .as_u64()
        .ok_or_else(|| wrong_type(value, path, "a non-negative integer"))
}

pub(crate) fn boolean(value: &Value, path: &impl Locate) -> Result<bool, Error> {
    value
        .as_bool()
        .ok_or_else(|| wrong_type(value, path, "a boolean"))
}

/// `null` reads as absent, as serde reads an `Option`.
pub(crate) fn optional<T, L: Locate>(
    value: &Value,
    path: &L,
    read: impl FnOnce(&Value, &L) -> Result<T, Error>,
) -> Result<Option<T>, Error> {
    match value {
        Value::Null => Ok(None),
        v => read(v, path).map(Some),
    }
}

pub(crate) fn list<T>(
    value: &Value,
    path: &impl Locate,
    read: impl Fn(&Value, &FieldPath) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let items = value
        .as_array()
        .ok_or_else(|| wrong_type(value, path, "an array"))?;
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let path = path.path();
    items
        .iter()
        .enumerate()
        .map(|(i, item)| read(item, &path.item(i)))
        .collect()
}

fn string_map(value: &Value, path: &impl Locate) -> Result<BTreeMap<String, String>, Error> {
    object(value, path)?
        .iter()
        .map(|(k, v)| match v.as_str() {
            Some(s) => Ok((k.clone(), s.to_owned())),
            None => Err(wrong_type(v, &path.path().field(k), "a string")),
        })
        .collect()
}

pub(crate) fn one_of<T: Copy>(
    value: &Value,
    path: &impl Locate,
    variants: &[(&str, T)],
) -> Result<T, Error> {
    let name = value
        .as_str()
        .ok_or_else(|| wrong_type(value, path, "a string"))?;
    variants
        .iter()
        .find(|(spelling, _)| *spelling == name)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<&str> = variants.iter().map(|(s, _)| *s).collect();
            Error::InvalidJson {
                path: path.path(),
                message: format!(
                    "unknown variant `{name}`, expected one of {}",
                    names.join(", ")
                ),
            }
        })
}

pub(crate) fn required<T>(field: Option<T>, path: &FieldPath, name: &str) -> Result<T, Error> {
    field.ok_or_else(|| Error::MissingField {
        path: path.field(name),
    })
}

/// A field `path`'s object does not define, as an error: for objects with no room for fields
/// of later versions (a misspelt bound or request field would change what is computed).
pub(crate) fn no_unknown(unknown: &UnknownFields, path: &FieldPath) -> Result<(), Error> {
    match unknown.keys().next() {
        Some(name) => Err(Error::UnknownField {
            path: path.field(name),
        }),
        None => Ok(()),
    }
}

/// A wire type read from a JSON value it takes apart: nested values are moved, not copied
/// (flags, of which a document may hold tens of thousands).
pub(crate) trait DecodeOwned: Sized {
    /// Reads `value`, found at `path`.
    fn decode_owned(value: Value, path: &FieldPath) -> Result<Self, Error>;
}

/// As [`fields`], taking the object apart: `read` gets each field's value and returns it
/// back (`Some`) for a key it does not define, which then goes to the unknown map.
pub(crate) fn fields_owned(
    value: Value,
    path: &FieldPath,
    mut read: impl FnMut(&str, Value, &Field<'_>) -> Result<Option<Value>, Error>,
) -> Result<UnknownFields, Error> {
    let Value::Object(map) = value else {
        return Err(wrong_type(&value, path, "an object"));
    };
    let mut unknown = UnknownFields::new();
    for (key, v) in map {
        let at = Field {
            parent: path,
            name: &key,
        };
        if let Some(v) = read(&key, v, &at)? {
            unknown.insert(key, v);
        }
    }
    Ok(unknown)
}

/// As [`list`], taking the array apart.
pub(crate) fn list_owned<T>(
    value: Value,
    path: &impl Locate,
    read: impl Fn(Value, &FieldPath) -> Result<T, Error>,
) -> Result<Vec<T>, Error> {
    let Value::Array(items) = value else {
        return Err(wrong_type(&value, path, "an array"));
    };
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let path = path.path();
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| read(item, &path.item(i)))
        .collect()
}

/// A string, moved out of its value.
pub(crate) fn string_owned(value: Value, path: &impl Locate) -> Result<String, Error> {
    match value {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(&other, path, "a string")),
    }
}

/// Walks an object's fields in key order: `read` handles the known ones (returning false for
/// any other key), the rest go to the unknown map.
pub(crate) fn fields(
    value: &Value,
    path: &FieldPath,
    mut read: impl FnMut(&str, &Value, &Field<'_>) -> Result<bool, Error>,
) -> Result<UnknownFields, Error> {
    let mut unknown = UnknownFields::new();
    for (key, v) in object(value, path)? {
        let at = Field {
            parent: path,
            name: key,
        };
        if !read(key, v, &at)? {
            unknown.insert(key.clone(), v.clone());
        }
    }
    Ok(unknown)
}

impl Decode for WireConfig {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut schema_version, mut version) = (None, None);
        let (mut experiments, mut layers, mut holdouts) = (None, None, None);
        let (mut metrics, mut flags) = (None, None);
        let unknown = fields(value, path, |key, v, at| {
            match key {
                "schema_version" => schema_version = Some(unsigned(v, at)?),
                "version" => version = optional(v, at, string)?,
                "experiments" => experiments = Some(list(v, at, WireExperiment::decode)?),
                "layers" => layers = Some(list(v, at, WireLayer::decode)?),
                "holdouts" => holdouts = Some(list(v, at, WireHoldout::decode)?),
                "metrics" => {
                    metrics = Some(list(v, at, crate::metrics::MetricDefinition::decode)?);
                }
                "flags" => flags = Some(list(v, at, crate::flags::wire::WireFlag::decode)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireConfig {
            schema_version: required(schema_version, path, "schema_version")?,
            version,
            experiments: experiments.unwrap_or_default(),
            layers: layers.unwrap_or_default(),
            holdouts: holdouts.unwrap_or_default(),
            metrics: metrics.unwrap_or_default(),
            flags: flags.unwrap_or_default(),
            unknown,
        })
    }
}

impl Decode for WireExperiment {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut salt, mut hash_version, mut kind, mut status) =
            (None, None, None, None, None);
        let (mut start_time, mut end_time, mut traffic) = (None, None, None);
        let (mut variants, mut factors, mut targeting, mut layer, mut overrides) =
            (None, None, None, None, None);
        let (mut metrics, mut analysis, mut dimensions, mut environments) =
            (None, None, None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "salt" => salt = optional(v, at, string)?,
                "hash_version" => hash_version = Some(unsigned(v, at)?),
                "kind" => {
                    kind = Some(one_of(
                        v,
                        at,
                        &[
                            ("ab", Kind::Ab),
                            ("multivariate", Kind::Multivariate),
                            ("bandit", Kind::Bandit),
                        ],
                    )?);
                }
                "status" => status = Some(one_of(v, at, &STATUSES)?),
                "start_time" => start_time = optional(v, at, string)?,
                "end_time" => end_time = optional(v, at, string)?,
                "traffic" => traffic = Some(number(v, at)?),
                "variants" => variants = Some(list(v, at, WireVariant::decode)?),
                "factors" => factors = Some(list(v, at, WireFactor::decode)?),
                "targeting" => targeting = optional(v, at, |v, _| Ok(v.clone()))?,
                "layer" => layer = optional(v, &at.path(), WireLayerSlot::decode)?,
                "overrides" => overrides = Some(string_map(v, at)?),
                "metrics" => metrics = Some(list(v, at, WireMetric::decode)?),
                // Checked when compiled: a bad value fails strict input, not an SDK's read.
                "analysis" => analysis = optional(v, at, |v, _| Ok(v.clone()))?,
                "dimensions" => dimensions = Some(list(v, at, WireDimension::decode)?),
                "environments" => {
                    let path = at.path();
                    let map = object(v, &path)?;
                    environments = Some(
                        map.iter()
                            .map(|(env, s)| {
                                Ok((
                                    env.clone(),
                                    WireExperimentEnvironment::decode(s, &path.item(env))?,
                                ))
                            })
                            .collect::<Result<BTreeMap<_, _>, Error>>()?,
                    );
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireExperiment {
            key: required(key, path, "key")?,
            salt,
            hash_version: hash_version.unwrap_or_else(default_hash_version),
            kind: kind.unwrap_or_default(),
            status: status.unwrap_or_default(),
            start_time,
            end_time,
            traffic: traffic.unwrap_or_else(default_traffic),
            variants: variants.unwrap_or_default(),
            factors: factors.unwrap_or_default(),
            targeting,
            layer,
            overrides: overrides.unwrap_or_default(),
            metrics: metrics.unwrap_or_default(),
            analysis,
            dimensions: dimensions.unwrap_or_default(),
            environments: environments.unwrap_or_default(),
            unknown,
        })
    }
}

impl Decode for WireExperimentEnvironment {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let mut status = None;
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "status" => status = optional(v, at, |v, at| one_of(v, at, &STATUSES))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireExperimentEnvironment { status, unknown })
    }
}

/// The statuses with their config spellings.
const STATUSES: [(&str, Status); 4] = [
    ("draft", Status::Draft),
    ("running", Status::Running),
    ("paused", Status::Paused),
    ("stopped", Status::Stopped),
];

impl Decode for WireDimension {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut attribute, mut values, mut max_values) = (None, None, None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "attribute" => attribute = optional(v, at, string)?,
                "values" => values = Some(list(v, at, string)?),
                "max_values" => max_values = optional(v, at, unsigned)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireDimension {
            key: required(key, path, "key")?,
            attribute,
            values: values.unwrap_or_default(),
            max_values,
            unknown,
        })
    }
}

impl Decode for WireMetric {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        if object(value, path)?.contains_key("metric") {
            crate::metrics::MetricReference::decode(value, path).map(WireMetric::Reference)
        } else {
            crate::metrics::MetricDefinition::decode_with(value, path)
                .map(|d| WireMetric::Inline(Box::new(d)))
        }
    }
}

impl Decode for WireVariant {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut weight, mut payload) = (None, None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "weight" => weight = Some(number(v, at)?),
                "payload" => payload = optional(v, at, |v, _| Ok(v.clone()))?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireVariant {
            key: required(key, path, "key")?,
            weight: weight.unwrap_or_else(default_weight),
            payload,
            unknown,
        })
    }
}

impl Decode for WireFactor {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut levels) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "levels" => levels = Some(list(v, at, WireVariant::decode)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireFactor {
            key: required(key, path, "key")?,
            levels: required(levels, path, "levels")?,
            unknown,
        })
    }
}

impl Decode for WireLayer {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut salt) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "salt" => salt = optional(v, at, string)?,
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireLayer {
            key: required(key, path, "key")?,
            salt,
            unknown,
        })
    }
}

impl Decode for WireLayerSlot {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut range) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "range" => range = Some(pair(v, &at.path())?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireLayerSlot {
            key: required(key, path, "key")?,
            range: required(range, path, "range")?,
            unknown,
        })
    }
}

/// Exactly two numbers.
fn pair(value: &Value, path: &FieldPath) -> Result<[f64; 2], Error> {
    match list(value, path, number)?.as_slice() {
        [a, b] => Ok([*a, *b]),
        other => Err(Error::InvalidJson {
            path: path.clone(),
            message: format!(
                "invalid length {}, expected an array of length 2",
                other.len()
            ),
        }),
    }
}

impl Decode for WireHoldout {
    fn decode(value: &Value, path: &FieldPath) -> Result<Self, Error> {
        let (mut key, mut salt, mut share, mut all) = (None, None, None, None);
        let (mut experiments, mut layers) = (None, None);
        let unknown = fields(value, path, |name, v, at| {
            match name {
                "key" => key = Some(string(v, at)?),
                "salt" => salt = optional(v, at, string)?,
                "share" => share = Some(number(v, at)?),
                "all" => all = Some(boolean(v, at)?),
                "experiments" => experiments = Some(list(v, at, string)?),
                "layers" => layers = Some(list(v, at, string)?),
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(WireHoldout {
            key: required(key, path, "key")?,
            salt,
            share: required(share, path, "share")?,
            all: all.unwrap_or(false),
            experiments: experiments.unwrap_or_default(),
            layers: layers.unwrap_or_default(),
            unknown,
        })
    }
}

/// `serde::Deserialize` for the wire types, through a JSON value and [`Decode`], so they
/// still read from any serde format.
macro_rules! deserialize_through_value {
    ($($t:ty),*) => {$(
        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = Value::deserialize(deserializer)?;
                <$t as Decode>::decode(&value, &FieldPath::root()).map_err(serde::de::Error::custom)
            }
        }
    )*};
}

pub(crate) use deserialize_through_value;

deserialize_through_value!(
    WireConfig,
    WireExperiment,
    WireVariant,
    WireFactor,
    WireLayer,
    WireLayerSlot,
    WireHoldout,
    WireMetric,
    crate::metrics::MetricDefinition,
    crate::metrics::MetricReference
);

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> (String, String) {
        let value: Value = serde_json::from_str(text).unwrap_or_default();
        let e = WireExperiment::decode(&value, &FieldPath::root().field("e"))
            .err()
            .unwrap_or(Error::MissingField {
                path: FieldPath::root(),
            });
        (
            e.code().to_owned(),
            e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        )
    }

    #[test]
    fn paths_and_codes() {
        let cases = [
            (r#"{"variants":[]}"#, "missing_field", "e.key"),
            (r#"[1]"#, "invalid_json", "e"),
            (r#"{"key":1}"#, "invalid_json", "e.key"),
            (r#"{"key":"k","traffic":null}"#, "invalid_json", "e.traffic"),
            (r#"{"key":"k","kind":"abc"}"#, "invalid_json", "e.kind"),
            (
                r#"{"key":"k","hash_version":1.5}"#,
                "invalid_json",
                "e.hash_version",
            ),
            (
                r#"{"key":"k","variants":[{"key":"a"},{"key":"b","weight":"x"}]}"#,
                "invalid_json",
                "e.variants[1].weight",
            ),
            (
                r#"{"key":"k","variants":[{"weight":1}]}"#,
                "missing_field",
                "e.variants[0].key",
            ),
            (
                r#"{"key":"k","overrides":{"u1":3}}"#,
                "invalid_json",
                "e.overrides.u1",
            ),
            (
                r#"{"key":"k","layer":{"key":"l","range":[0,0.5,1]}}"#,
                "invalid_json",
                "e.layer.range",
            ),
            (
                r#"{"key":"k","layer":{"key":"l","range":[0,"a"]}}"#,
                "invalid_json",
                "e.layer.range[1]",
            ),
            (
                r#"{"key":"k","layer":{"key":"l"}}"#,
                "missing_field",
                "e.layer.range",
            ),
            (
                r#"{"key":"k","factors":[{"key":"f"}]}"#,
                "missing_field",
                "e.factors[0].levels",
            ),
            (
                r#"{"key":"k","metrics":[{"key":"buy"}]}"#,
                "missing_field",
                "e.metrics[0].kind",
            ),
            (
                r#"{"key":"k","metrics":[{"key":"buy","kind":"median"}]}"#,
                "invalid_json",
                "e.metrics[0].kind",
            ),
            (
                r#"{"key":"k","metrics":[{"key":"buy","kind":"mean","guardrail":1}]}"#,
                "invalid_json",
                "e.metrics[0].guardrail",
            ),
            // Key order decides which of two problems is reported, as with serde.
            (r#"{"traffic":"x","key":5}"#, "invalid_json", "e.key"),
        ];
        for (text, code, path) in cases {
            assert_eq!(err(text), (code.to_owned(), path.to_owned()), "{text}");
        }
    }

    #[test]
    fn defaults_nulls_and_unknown_fields() {
        let value = serde_json::json!({
            "key": "k", "salt": null, "payload_x": 1,
            "variants": [{"key": "a", "payload": null, "extra": true}]
        });
        let e = WireExperiment::decode(&value, &FieldPath::root());
        let Ok(e) = e else {
            panic!("{e:?}");
        };
        assert_eq!(e.salt, None);
        assert_eq!(e.hash_version, 1);
        assert_eq!(e.traffic, 1.0);
        assert_eq!(e.status, Status::Draft);
        assert_eq!(e.unknown.keys().collect::<Vec<_>>(), vec!["payload_x"]);
        let v = e.variants.first().cloned();
        assert_eq!(v.as_ref().map(|v| v.weight), Some(1.0));
        assert_eq!(v.as_ref().and_then(|v| v.payload.clone()), None);
        assert_eq!(v.map(|v| v.unknown.len()), Some(1));
    }

    #[test]
    fn serde_deserialize_reads_through_the_decoder() {
        let config: Result<WireConfig, _> = serde_json::from_str(
            r#"{"schema_version":1,"experiments":[{"key":"a","variants":[{"key":"x"}]}]}"#,
        );
        assert!(config.is_ok_and(|c| c.experiments.len() == 1));
        let bad: Result<WireConfig, _> = serde_json::from_str(r#"{"experiments":[]}"#);
        assert!(bad.is_err());
    }
}
