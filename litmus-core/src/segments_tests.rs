#![allow(clippy::unwrap_used, clippy::indexing_slicing)]
use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::*;
use crate::Timestamp;
use crate::config::wire::WireDimension;
use crate::events::unit_state::tests::Tables;
use crate::events::{Event, EventKind, Rollups};
use crate::metrics::Program;

fn wire(value: serde_json::Value) -> Vec<WireDimension> {
    use crate::config::decode::Decode;
    crate::config::decode::list(&value, &FieldPath::root(), WireDimension::decode).unwrap()
}

fn compiled(value: serde_json::Value) -> Result<Box<[Dimension]>, Error> {
    compile(&wire(value), &FieldPath::root().field("dimensions"))
}

fn fails(value: serde_json::Value) -> (String, String) {
    let e = compiled(value).unwrap_err();
    (
        e.code().to_owned(),
        e.path().map(ToString::to_string).unwrap_or_default(),
    )
}

#[test]
fn dimensions_compile_with_defaults() {
    let d = compiled(json!([
        {"key": "country"},
        {"key": "platform", "attribute": "os", "values": ["ios", "android"], "max_values": 5}
    ]))
    .unwrap();
    assert_eq!(d[0].key(), "country");
    assert_eq!(d[0].attribute(), "country");
    assert_eq!(d[0].max_values(), DEFAULT_MAX_VALUES);
    assert!(d[0].values().is_none());
    assert_eq!(d[1].attribute(), "os");
    assert_eq!(d[1].values().unwrap().len(), 2);
}

#[test]
fn bad_dimensions_name_their_field() {
    let six: Vec<_> = (0..6).map(|i| json!({"key": format!("d{i}")})).collect();
    assert_eq!(
        fails(json!(six)),
        ("limit_exceeded".into(), "dimensions".into())
    );
    assert_eq!(
        fails(json!([{"key": "a b"}])),
        ("invalid_value".into(), "dimensions[0].key".into())
    );
    assert_eq!(
        fails(json!([{"key": "a"}, {"key": "a"}])),
        ("duplicate_key".into(), "dimensions[1].key".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "max_values": 0}])),
        ("invalid_value".into(), "dimensions[0].max_values".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "max_values": 101}])),
        ("invalid_value".into(), "dimensions[0].max_values".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "values": ["x", "y", "z"], "max_values": 2}])),
        ("limit_exceeded".into(), "dimensions[0].values".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "values": ["x", ""]}])),
        ("invalid_value".into(), "dimensions[0].values[1]".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "values": ["(other)"]}])),
        ("invalid_value".into(), "dimensions[0].values[0]".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "values": ["x", "x"]}])),
        ("duplicate_key".into(), "dimensions[0].values[1]".into())
    );
    assert_eq!(
        fails(json!([{"key": "a", "attribute": ""}])),
        ("invalid_value".into(), "dimensions[0].attribute".into())
    );
}

#[test]
fn attribute_values_become_text() {
    use crate::AttrRef;
    assert_eq!(value_of(AttrRef::Str("FR")).as_deref(), Some("FR"));
    assert_eq!(value_of(AttrRef::Number(3.0)).as_deref(), Some("3"));
    assert_eq!(value_of(AttrRef::Number(-2.5)).as_deref(), Some("-2.5"));
    assert_eq!(value_of(AttrRef::Bool(true)).as_deref(), Some("true"));
    assert_eq!(value_of(AttrRef::Str("")), None);
    assert_eq!(value_of(AttrRef::Number(f64::NAN)), None);
    assert_eq!(value_of(AttrRef::Null), None);
    let long = "é".repeat(100);
    let cut = value_of(AttrRef::Str(&long)).unwrap();
    assert_eq!(cut.chars().count(), MAX_VALUE_CHARS);
}

#[test]
fn subjects_read_back() {
    let s = subject("checkout", "country", "a=b#c");
    assert_eq!(s, "checkout#country=a=b#c");
    assert_eq!(parse_subject(&s), Some(("checkout", "country", "a=b#c")));
    assert_eq!(parse_subject("checkout"), None);
    assert_eq!(experiment_of(&s), "checkout");
    assert_eq!(experiment_of("checkout"), "checkout");
    assert!(s.starts_with(&subject_prefix("checkout", "country")));
}

#[test]
fn the_book_caps_values_in_the_order_they_come() {
    let d = &compiled(json!([{"key": "country", "max_values": 2}])).unwrap()[0];
    let mut book = SegmentBook::default();
    assert_eq!(book.segment("e", d, Some("FR")), "FR");
    assert_eq!(book.segment("e", d, Some("US")), "US");
    assert_eq!(book.segment("e", d, Some("DE")), OTHER);
    assert_eq!(book.segment("e", d, Some("FR")), "FR");
    assert_eq!(book.segment("e", d, None), MISSING);
    // Another experiment has its own cap.
    assert_eq!(book.segment("f", d, Some("DE")), "DE");
    assert_eq!(book.len(), 3);
    // A book rebuilt from the stored subjects admits the same values.
    let mut again = SegmentBook::default();
    for s in [
        "e#country=FR",
        "e#country=US",
        "e#country=(other)",
        "e#country=(missing)",
    ] {
        again.admit(s);
    }
    assert_eq!(again.segment("e", d, Some("DE")), OTHER);
    assert_eq!(again.segment("e", d, Some("US")), "US");
}

#[test]
fn listed_values_are_the_only_segments() {
    let d = &compiled(json!([{"key": "os", "values": ["ios", "android"]}])).unwrap()[0];
    let mut book = SegmentBook::default();
    assert_eq!(book.segment("e", d, Some("ios")), "ios");
    assert_eq!(book.segment("e", d, Some("web")), OTHER);
    assert!(book.is_empty());
}

#[test]
fn an_experiment_reads_its_dimension_values_from_attributes() {
    let config = json!({
        "schema_version": 1,
        "experiments": [{
            "key": "e", "variants": [{"key": "a"}],
            "dimensions": [{"key": "country"}, {"key": "platform", "attribute": "os"},
                           {"key": "returning"}]
        }]
    });
    let engine = crate::Engine::from_json(&config.to_string()).unwrap();
    let e = engine.experiment("e").unwrap();
    let attrs = crate::Attributes::new()
        .with("country", "FR")
        .with("os", "ios")
        .with("plan", "pro");
    assert_eq!(
        e.dimension_values(&attrs),
        vec![("country", "FR".to_owned()), ("platform", "ios".to_owned())]
    );
}

fn dims() -> Vec<Dimension> {
    compiled(json!([{"key": "c", "max_values": 2}, {"key": "p", "values": ["x"]}]))
        .unwrap()
        .into_vec()
}

/// Random exposures (with dimension values) and metric events over a few units.
/// One random event: (unit, time, exposure, variant, country, platform, value).
type RawEvent = (u8, i64, bool, u8, Option<u8>, Option<u8>, i8);

fn raw_events() -> impl Strategy<Value = Vec<RawEvent>> {
    prop::collection::vec(
        (
            0u8..6,
            0i64..20_000_000,
            any::<bool>(),
            0u8..2,
            prop::option::of(0u8..4),
            prop::option::of(0u8..3),
            -3i8..6,
        ),
        0..60,
    )
}

fn to_events(offset: usize, raw: &[RawEvent]) -> Vec<Event> {
    raw.iter()
        .enumerate()
        .map(|(i, &(unit, t, exposure, v, c, p, value))| {
            let kind = if exposure {
                let mut dimensions = Vec::new();
                if let Some(c) = c {
                    dimensions.push(("c".to_owned(), format!("c{c}")));
                }
                if let Some(p) = p {
                    let values = ["x", "y", "z"];
                    dimensions.push(("p".to_owned(), values[p as usize].to_owned()));
                }
                EventKind::Exposure {
                    experiment: "e".into(),
                    variant: format!("v{v}"),
                    dimensions,
                }
            } else {
                EventKind::Track {
                    event: "m".into(),
                    value: f64::from(value),
                    properties: None,
                }
            };
            Event {
                message_id: format!("m{}", offset + i),
                unit_id: format!("u{unit}"),
                time: Timestamp::from_unix_millis(t),
                client_time: None,
                kind,
            }
        })
        .collect()
}

fn by_rounds(batches: &[Vec<Event>], per_round: usize, window: i64) -> Tables {
    let mut program = Program::default();
    program.set_dimensions("e", dims());
    crate::events::unit_state::tests::by_rounds_with(&program, batches, per_round, window)
}

proptest! {
    /// Rounds keep the reference's segments: each unit in one subject per dimension, capped
    /// values in `(other)`, absent ones in `(missing)`, rows per hour.
    #[test]
    fn segments_in_rounds_equal_the_reference(
        a in raw_events(), b in raw_events(), per_round in 1usize..3,
        window in prop::sample::select(vec![0i64, 5_000_000, i64::MAX]),
    ) {
        let batches = vec![to_events(0, &a), to_events(100, &b)];
        let mut reference = Rollups::with_dimensions(window, HashMap::from([("e".to_owned(), dims())]));
        for batch in &batches {
            reference.apply(batch);
        }
        let tables = by_rounds(&batches, per_round, window);
        crate::events::unit_state::tests::equal_to_reference(&tables, &reference)?;
        let exposures = &tables.0;
        // Per dimension, the segments' units add up to the experiment's, and at most two
        // values of `c` (the cap) have segments of their own.
        let units = |prefix: &str| -> u64 {
            exposures.iter().filter(|((e, _, _), _)| e.starts_with(prefix)).map(|(_, n)| n).sum()
        };
        let total: u64 = exposures.iter().filter(|((e, _, _), _)| e == "e").map(|(_, n)| n).sum();
        prop_assert_eq!(units("e#c="), total);
        prop_assert_eq!(units("e#p="), total);
        let mut own: Vec<&str> = exposures
            .keys()
            .filter_map(|(e, _, _)| parse_subject(e))
            .filter(|(_, d, v)| *d == "c" && *v != OTHER && *v != MISSING)
            .map(|(_, _, v)| v)
            .collect();
        own.sort_unstable();
        own.dedup();
        prop_assert!(own.len() <= 2);
        prop_assert!(exposures.keys().all(|(e, _, t)| parse_subject(e).is_none() || t % 3_600_000 == 0));
    }
}
