//! JSON Schema of the config format, generated from the wire types (feature `schema`).
//!
//! The committed copy is `docs/spec/config-v1.schema.json`; `tests/schema.rs` fails when the
//! types and the file drift apart. The schema describes strict (admin) input: objects reject
//! fields they do not define.

use schemars::{Schema, SchemaGenerator};
use serde_json::{Map, Value, json};

/// The JSON Schema of a config document, as a JSON value.
pub fn config_schema() -> Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<super::wire::WireConfig>();
    let mut value = Value::from(schema);
    if let Value::Object(map) = &mut value {
        map.insert(
            "$id".into(),
            json!("https://litmus.dev/schema/config-v1.json"),
        );
    }
    value
}

/// The schema of a targeting condition (recursive, so it lives in `$defs/Condition`).
pub(crate) fn condition(generator: &mut SchemaGenerator) -> Schema {
    let ops = crate::assign::targeting::OPERATORS;
    let definition = json!({
        "description": "A targeting condition: a comparison of one attribute, or all/any/not of conditions.",
        "oneOf": [
            {
                "type": "object",
                "properties": {
                    "attribute": {"type": "string", "minLength": 1},
                    "op": {"enum": ops},
                    "value": {"type": ["string", "number", "boolean", "array"]}
                },
                "required": ["attribute", "op"],
                "additionalProperties": false
            },
            {"type": "object", "properties": {"all": {"type": "array", "items": {"$ref": "#/$defs/Condition"}}}, "required": ["all"], "additionalProperties": false},
            {"type": "object", "properties": {"any": {"type": "array", "items": {"$ref": "#/$defs/Condition"}}}, "required": ["any"], "additionalProperties": false},
            {"type": "object", "properties": {"not": {"$ref": "#/$defs/Condition"}}, "required": ["not"], "additionalProperties": false}
        ]
    });
    generator
        .definitions_mut()
        .insert("Condition".into(), definition);
    let mut reference = Map::new();
    reference.insert("$ref".into(), json!("#/$defs/Condition"));
    Schema::from(reference)
}

/// The schema of an experiment's `analysis` settings (`results::settings`).
pub(crate) fn analysis(_: &mut SchemaGenerator) -> Schema {
    let number = |description: &str| json!({"type": "number", "description": description});
    let value = json!({
        "description": "How the experiment's results are computed; absent fields come from the server's defaults (docs/results.md, Analysis settings).",
        "type": "object",
        "properties": {
            "alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": crate::results::settings::MAX_ALPHA},
            "test": {"enum": ["two_sided", "one_sided"]},
            "basis": {"enum": ["sequential", "fixed_horizon"]},
            "correction": {"enum": ["holm", "benjamini_hochberg", "bonferroni", "none"]},
            "cuped": {"enum": ["show", "decide"]},
            "min_units": {"type": "integer", "minimum": 0},
            "sequential_tuning": {"type": "number", "minimum": 1},
            "priors": {
                "type": "object",
                "properties": {
                    "rate": {
                        "type": "object",
                        "properties": {"alpha": {"type": "number", "minimum": 1}, "beta": {"type": "number", "minimum": 1}},
                        "required": ["alpha", "beta"],
                        "additionalProperties": false
                    },
                    "lift": {
                        "type": "object",
                        "properties": {"mean": number("the prior mean of the relative lift"), "sd": {"type": "number", "exclusiveMinimum": 0}},
                        "required": ["mean", "sd"],
                        "additionalProperties": false
                    }
                },
                "additionalProperties": false
            }
        },
        "additionalProperties": false
    });
    match value {
        Value::Object(map) => Schema::from(map),
        _ => Schema::default(),
    }
}
