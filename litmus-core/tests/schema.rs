//! The committed JSON Schema (`docs/spec/config-v1.schema.json`) matches the wire types.
//! `LITMUS_BLESS=1 cargo test -p litmus-core --features schema --test schema` rewrites it.
#![cfg(feature = "schema")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::PathBuf;

#[test]
fn committed_schema_matches_the_types() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/spec/config-v1.schema.json");
    let generated = serde_json::to_string_pretty(&litmus_core::config::schema::config_schema())
        .expect("serializable")
        + "\n";
    if std::env::var_os("LITMUS_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{} is out of date with the wire types: run LITMUS_BLESS=1 cargo test -p litmus-core --features schema --test schema",
        path.display()
    );
}

#[test]
fn schema_describes_strict_objects_and_conditions() {
    let schema = litmus_core::config::schema::config_schema();
    assert_eq!(schema["additionalProperties"], false);
    assert_eq!(schema["required"], serde_json::json!(["schema_version"]));
    let defs = &schema["$defs"];
    assert_eq!(defs["WireExperiment"]["additionalProperties"], false);
    assert!(defs["Condition"]["oneOf"].is_array());
    assert_eq!(
        defs["WireExperiment"]["properties"]["targeting"]["$ref"],
        "#/$defs/Condition"
    );
}
