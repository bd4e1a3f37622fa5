//! Environments: one document holds each environment's flag states and experiment statuses;
//! projection gives each environment's SDK document, strict validation names problems at their
//! overlay, and promotion copies flag states with the list of differences.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use litmus_core::config::environments::{self, DEFAULT_ENVIRONMENT};
use litmus_core::config::{validate_strict, wire::WireConfig};
use litmus_core::{Engine, FlagReason, NoAttributes, Status};
use serde_json::{Value, json};

fn doc() -> Value {
    json!({"schema_version": 1,
    "experiments": [{"key": "color-test", "status": "running",
        "variants": [{"key": "control"}, {"key": "green"}],
        "environments": {"staging": {"status": "paused"}}}],
    "flags": [
        {"key": "checkout", "type": "boolean", "default": false,
         "rules": [{"id": "ramp", "kind": "rollout", "percentage": 10, "value": true}],
         "environments": {
            "staging": {"enabled": true, "rules": [{"id": "all", "kind": "force", "value": true}]},
            "development": {"enabled": false}
         }},
        {"key": "banner", "type": "string", "default": "none", "enabled": false}
    ]})
}

fn wire(v: &Value) -> WireConfig {
    validate_strict(&v.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn each_environment_gets_its_own_states_and_nothing_else() {
    let doc = wire(&doc());
    assert_eq!(
        environments::named(&doc).into_iter().collect::<Vec<_>>(),
        ["development", "staging"]
    );
    let production = environments::project(&doc, DEFAULT_ENVIRONMENT);
    let staging = environments::project(&doc, "staging");
    let development = environments::project(&doc, "development");
    let qa = environments::project(&doc, "qa");
    for projected in [&production, &staging, &development, &qa] {
        let text = serde_json::to_value(projected).unwrap().to_string();
        assert!(!text.contains("environments"), "{text}");
        assert!(Engine::from_json_strict(&text).is_ok());
    }
    let value = |d: &WireConfig, flag: &str| {
        let e = Engine::from_value(serde_json::to_value(d).unwrap()).unwrap();
        let r = e.evaluate_at(flag, "user-1", &NoAttributes, None);
        (r.value().cloned(), r.reason())
    };
    assert_eq!(
        value(&staging, "checkout"),
        (Some(json!(true)), FlagReason::Static)
    );
    assert_eq!(
        value(&development, "checkout"),
        (Some(json!(false)), FlagReason::Disabled)
    );
    // An environment no overlay names: flags off, experiments drafts.
    assert_eq!(
        value(&qa, "checkout"),
        (Some(json!(false)), FlagReason::Disabled)
    );
    assert_eq!(qa.experiments[0].status, Status::Draft);
    assert_eq!(staging.experiments[0].status, Status::Paused);
    assert_eq!(production.experiments[0].status, Status::Running);
    assert_eq!(production.flags[0].rules[0].percentage, Some(10.0));
    // Shared parts are the same everywhere.
    assert_eq!(staging.flags[1].default, json!("none"));
    assert!(
        !staging.flags[1].enabled,
        "banner has no staging overlay: off"
    );
}

#[test]
fn problems_of_an_environment_are_named_at_its_overlay() {
    let code_path = |v: Value| {
        let e = validate_strict(&v.to_string()).expect_err("refused");
        let e = match e {
            litmus_core::Error::Multiple { errors } => errors.into_iter().next().unwrap(),
            e => e,
        };
        (
            e.code().to_owned(),
            e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
        )
    };
    let mut bad = doc();
    bad["flags"][0]["environments"]["staging"]["rules"][0] =
        json!({"kind": "rollout", "percentage": 150, "value": true});
    assert_eq!(
        code_path(bad),
        (
            "invalid_value".into(),
            "flags[checkout].environments[staging].rules[0].percentage".into()
        )
    );
    let mut bad = doc();
    bad["flags"][0]["environments"]["staging"]["rules"][0] =
        json!({"kind": "force", "value": "yes"});
    assert_eq!(
        code_path(bad),
        (
            "invalid_value".into(),
            "flags[checkout].environments[staging].rules[0].value".into()
        )
    );
    let mut bad = doc();
    bad["flags"][0]["environments"]["staging"]["bogus"] = json!(1);
    assert_eq!(
        code_path(bad),
        (
            "unknown_field".into(),
            "flags[checkout].environments[staging].bogus".into()
        )
    );
    let mut bad = doc();
    bad["flags"][0]["environments"]["production"] = json!({"enabled": true});
    assert_eq!(
        code_path(bad),
        (
            "invalid_value".into(),
            "flags[checkout].environments[production]".into()
        )
    );
    let mut bad = doc();
    bad["experiments"][0]["environments"]["staging"]["status"] = json!("live");
    assert_eq!(
        code_path(bad),
        (
            "invalid_json".into(),
            "experiments[color-test].environments[staging].status".into()
        )
    );
    // A cycle only in one environment is refused there.
    let mut bad = doc();
    bad["flags"][1]["environments"] = json!({"staging": {"enabled": true,
        "rules": [{"kind": "prerequisite", "flag": "checkout", "is": true, "value": "x"}]}});
    bad["flags"][0]["environments"]["staging"]["rules"] =
        json!([{"kind": "prerequisite", "flag": "banner", "is": "x", "value": true}]);
    let (code, path) = code_path(bad);
    assert_eq!(code, "prerequisite_cycle");
    assert!(
        path.contains(".environments[staging].rules[0].flag"),
        "{path}"
    );
}

#[test]
fn promotion_copies_flag_states_and_lists_the_differences() {
    let doc = wire(&doc());
    let p = environments::promote(&doc, "staging", DEFAULT_ENVIRONMENT, None).unwrap();
    let changed: Vec<(&str, &str)> = p
        .differences
        .iter()
        .map(|d| (d.flag.as_str(), d.field))
        .collect();
    assert_eq!(changed, [("checkout", "rules")], "{:?}", p.differences);
    assert_eq!(
        p.differences[0].after,
        json!([{"id": "all", "kind": "force", "value": true}])
    );
    // banner: staging has no overlay (off, no rules) and production is off with no rules too.
    let production = environments::project(&p.document, DEFAULT_ENVIRONMENT);
    assert_eq!(production.flags[0].rules[0].id.as_deref(), Some("all"));
    assert_eq!(
        production.experiments[0].status,
        Status::Running,
        "statuses are not promoted"
    );
    // Back to a new environment, one flag only; the result validates.
    let p = environments::promote(
        &doc,
        DEFAULT_ENVIRONMENT,
        "qa",
        Some(&["checkout".to_owned()]),
    )
    .unwrap();
    let fields: Vec<&str> = p.differences.iter().map(|d| d.field).collect();
    assert_eq!(fields, ["enabled", "rules"]);
    assert!(validate_strict(&serde_json::to_string(&p.document).unwrap()).is_ok());
    let qa = environments::project(&p.document, "qa");
    assert_eq!(
        qa.flags[0].rules.first().and_then(|r| r.percentage),
        Some(10.0)
    );
    // Bad requests.
    assert_eq!(
        environments::promote(&doc, "staging", "staging", None)
            .unwrap_err()
            .code(),
        "invalid_value"
    );
    let e = environments::promote(&doc, "staging", "qa", Some(&["nope".to_owned()])).unwrap_err();
    assert_eq!(
        (e.code(), e.path().map(|p| p.as_str())),
        ("unknown_reference", Some("flags[0]"))
    );
    // Promoting identical states changes nothing.
    let same = environments::promote(&doc, "development", "qa", None).unwrap();
    assert!(same.differences.is_empty(), "{:?}", same.differences);
}
