//! Feature flags: rule order, the switch, rollouts that keep units in as they grow, experiment
//! and prerequisite rules, scheduled changes, typed access, and bad input with exact paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use litmus_core::{
    Attributes, Engine, EvaluationError, FlagReason, FlagType, NoAttributes, Timestamp,
};
use serde_json::{Value, json};

fn engine(flags: Value) -> Engine {
    engine_with(flags, json!([]))
}

fn engine_with(flags: Value, experiments: Value) -> Engine {
    let doc = json!({"schema_version": 1, "experiments": experiments, "flags": flags});
    Engine::from_json_strict(&doc.to_string()).unwrap_or_else(|e| panic!("{e}"))
}

fn problems(doc: Value) -> Vec<(String, String)> {
    let engine = Engine::from_value(doc).unwrap();
    engine
        .problems()
        .iter()
        .map(|e| {
            (
                e.code().to_owned(),
                e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
            )
        })
        .collect()
}

fn strict_error(doc: Value) -> (String, String) {
    let e = Engine::from_json_strict(&doc.to_string()).expect_err("rejected");
    let e = match e {
        litmus_core::Error::Multiple { errors } => errors.into_iter().next().unwrap(),
        e => e,
    };
    (
        e.code().to_owned(),
        e.path().map(|p| p.as_str().to_owned()).unwrap_or_default(),
    )
}

#[test]
fn rules_in_order_first_match_wins() {
    let e = engine(json!([{
        "key": "new-checkout", "type": "boolean", "default": false,
        "rules": [
            {"id": "staff", "kind": "force", "condition": {"attribute": "email", "op": "ends_with", "value": "@litmus.dev"}, "value": true},
            {"id": "blocked", "kind": "force", "condition": {"attribute": "country", "op": "eq", "value": "XX"}, "value": false},
            {"id": "everyone", "kind": "rollout", "percentage": 100, "value": true}
        ]
    }]));
    let staff = Attributes::new()
        .with("email", "ada@litmus.dev")
        .with("country", "XX");
    let r = e.evaluate("new-checkout", "u1", &staff);
    assert_eq!(r.value(), Some(&json!(true)));
    assert_eq!(r.reason(), FlagReason::TargetingMatch);
    assert_eq!(r.rule_id(), Some("staff"));
    assert_eq!(r.variant(), Some("staff"));
    let blocked = Attributes::new().with("country", "XX");
    let r = e.evaluate("new-checkout", "u1", &blocked);
    assert_eq!(
        (r.value(), r.rule_id()),
        (Some(&json!(false)), Some("blocked"))
    );
    let r = e.evaluate("new-checkout", "u1", &NoAttributes);
    assert_eq!(
        (r.value(), r.reason()),
        (Some(&json!(true)), FlagReason::Split)
    );
    assert!(r.assignment().is_none());
    assert_eq!(r.boolean().ok(), Some(true));
}

#[test]
fn switch_off_serves_the_default_always() {
    let e = engine(json!([
        {"key": "off", "type": "string", "default": "old", "enabled": false,
         "rules": [{"kind": "force", "value": "new"}]},
        {"key": "static", "type": "number", "default": 3},
        {"key": "unmatched", "type": "json", "default": {"a": 1},
         "rules": [{"kind": "force", "condition": {"attribute": "plan", "op": "eq", "value": "pro"}, "value": [1, 2]}]}
    ]));
    let r = e.evaluate("off", "u", &NoAttributes);
    assert_eq!(
        (r.value(), r.reason(), r.variant()),
        (Some(&json!("old")), FlagReason::Disabled, Some("default"))
    );
    let r = e.evaluate("static", "u", &NoAttributes);
    assert_eq!(
        (r.number().ok(), r.reason()),
        (Some(3.0), FlagReason::Static)
    );
    let r = e.evaluate("unmatched", "u", &NoAttributes);
    assert_eq!(
        (r.value(), r.reason(), r.rule_id()),
        (Some(&json!({"a": 1})), FlagReason::Default, None)
    );
    let pro = Attributes::new().with("plan", "pro");
    assert_eq!(
        e.evaluate("unmatched", "u", &pro).json().ok(),
        Some(&json!([1, 2]))
    );
    // A force rule without a condition is the same value for everyone.
    let r = e.evaluate("off", "u", &NoAttributes);
    assert!(r.rule().is_none());
}

#[test]
fn raising_a_rollout_keeps_every_unit_already_in() {
    let at = |pct: f64| {
        engine(json!([{"key": "ramp", "type": "boolean", "default": false,
            "rules": [{"id": "ramp", "kind": "rollout", "percentage": pct, "value": true}]}]))
    };
    let steps = [0.0, 1.0, 10.0, 12.5, 30.0, 50.0, 99.9, 100.0];
    let engines: Vec<Engine> = steps.iter().map(|&p| at(p)).collect();
    let units: Vec<String> = (0..20_000).map(|i| format!("user-{i}")).collect();
    let mut previous: Option<Vec<bool>> = None;
    for (step, e) in steps.iter().zip(&engines) {
        let on: Vec<bool> = units
            .iter()
            .map(|u| e.boolean_flag("ramp", u, &NoAttributes, None, false))
            .collect();
        let share = on.iter().filter(|&&x| x).count() as f64 / units.len() as f64;
        assert!((share - step / 100.0).abs() < 0.012, "{step}%: {share}");
        if let Some(prev) = &previous {
            for (i, (was, is)) in prev.iter().zip(&on).enumerate() {
                assert!(!was || *is, "{} left the rollout at {step}%", units[i]);
            }
        }
        previous = Some(on);
    }
    // The bucket is the spec's: the unit is in when its rollout bucket is below the bound.
    let seed = litmus_core::hash::Seed::new("ramp", litmus_core::hash::Purpose::Rollout);
    for u in units.iter().take(2_000) {
        let expected = u64::from(seed.bucket(u)) < litmus_core::hash::bound(0.3);
        assert_eq!(
            engines[4].boolean_flag("ramp", u, &NoAttributes, None, false),
            expected
        );
    }
}

#[test]
fn experiment_rules_serve_the_variant_value_and_the_exposure() {
    let e = engine_with(
        json!([{"key": "button-color", "type": "string", "default": "grey",
            "rules": [{"id": "test", "kind": "experiment", "experiment": "color-test",
                       "values": {"control": "grey", "treatment": "green"}}]}]),
        json!([{"key": "color-test", "status": "running", "traffic": 0.5,
                "variants": [{"key": "control"}, {"key": "treatment"}],
                "overrides": {"qa-1": "treatment"}}]),
    );
    let (mut split, mut default) = (0, 0);
    for i in 0..2_000 {
        let unit = format!("u{i}");
        let r = e.evaluate("button-color", &unit, &NoAttributes);
        let a = e.assign("color-test", &unit, &NoAttributes);
        if a.in_experiment() {
            split += 1;
            assert_eq!(r.reason(), FlagReason::Split);
            let want = if a.variant_key() == Some("treatment") {
                "green"
            } else {
                "grey"
            };
            assert_eq!(r.string().ok(), Some(want));
            assert_eq!(r.variant(), a.variant_key());
            let exposure = r.assignment().expect("exposure");
            assert_eq!(exposure.experiment().map(|x| x.key()), Some("color-test"));
            assert!(exposure.in_experiment());
        } else {
            default += 1;
            assert_eq!(
                (r.reason(), r.string().ok()),
                (FlagReason::Default, Some("grey"))
            );
            assert!(r.assignment().is_none());
        }
    }
    assert!(split > 800 && default > 800, "{split} {default}");
    let qa = e.evaluate("button-color", "qa-1", &NoAttributes);
    assert_eq!(
        (qa.string().ok(), qa.reason()),
        (Some("green"), FlagReason::TargetingMatch)
    );
    assert!(qa.assignment().is_some_and(|a| !a.in_experiment()));
}

#[test]
fn prerequisites_apply_when_the_parent_has_the_value() {
    let e = engine(json!([
        {"key": "child", "type": "string", "default": "off",
         "rules": [{"id": "needs-parent", "kind": "prerequisite", "flag": "parent", "is": true, "value": "on"}]},
        {"key": "parent", "type": "boolean", "default": false,
         "rules": [{"kind": "force", "condition": {"attribute": "beta", "op": "eq", "value": true}, "value": true}]},
        {"key": "by-number", "type": "boolean", "default": false,
         "rules": [{"kind": "prerequisite", "flag": "limit", "is": 3, "value": true}]},
        {"key": "limit", "type": "number", "default": 3.0}
    ]));
    let beta = Attributes::new().with("beta", true);
    let r = e.evaluate("child", "u", &beta);
    assert_eq!(
        (r.string().ok(), r.reason(), r.rule_id()),
        (Some("on"), FlagReason::TargetingMatch, Some("needs-parent"))
    );
    assert_eq!(
        e.evaluate("child", "u", &NoAttributes).string().ok(),
        Some("off")
    );
    // Numbers compare by value.
    assert_eq!(
        e.evaluate("by-number", "u", &NoAttributes).boolean().ok(),
        Some(true)
    );
}

#[test]
fn prerequisite_cycles_are_rejected_with_their_path() {
    let doc = json!({"schema_version": 1, "flags": [
        {"key": "a", "type": "boolean", "default": false,
         "rules": [{"kind": "prerequisite", "flag": "b", "is": true, "value": true}]},
        {"key": "b", "type": "boolean", "default": false,
         "rules": [{"kind": "force", "value": true},
                   {"kind": "prerequisite", "flag": "c", "is": true, "value": true}]},
        {"key": "c", "type": "boolean", "default": false,
         "rules": [{"kind": "prerequisite", "flag": "a", "is": true, "value": true}]},
        {"key": "self", "type": "boolean", "default": false,
         "rules": [{"kind": "prerequisite", "flag": "self", "is": true, "value": true}]},
        {"key": "fine", "type": "boolean", "default": true,
         "rules": [{"kind": "prerequisite", "flag": "a", "is": true, "value": false}]}
    ]});
    assert_eq!(
        problems(doc.clone()),
        vec![
            ("prerequisite_cycle".into(), "flags[a].rules[0].flag".into()),
            ("prerequisite_cycle".into(), "flags[b].rules[1].flag".into()),
            ("prerequisite_cycle".into(), "flags[c].rules[0].flag".into()),
            (
                "prerequisite_cycle".into(),
                "flags[self].rules[0].flag".into()
            ),
        ]
    );
    let message = Engine::from_value(doc.clone()).unwrap().problems()[0].to_string();
    assert!(message.contains("a -> b -> c -> a"), "{message}");
    // The others still evaluate; a rule on a rejected flag never applies.
    let e = Engine::from_value(doc.clone()).unwrap();
    let r = e.evaluate("a", "u", &NoAttributes);
    assert_eq!(
        (r.reason(), r.error()),
        (FlagReason::Error, Some(EvaluationError::InvalidConfig))
    );
    assert_eq!(
        e.evaluate("fine", "u", &NoAttributes).boolean().ok(),
        Some(true)
    );
    assert_eq!(strict_error(doc).0, "prerequisite_cycle");
}

#[test]
fn chains_of_prerequisites_are_bounded() {
    let chain = |n: usize| {
        let flags: Vec<Value> = (0..n)
            .map(|i| {
                let rules = if i + 1 < n {
                    json!([{"kind": "prerequisite", "flag": format!("f{}", i + 1), "is": true, "value": true}])
                } else {
                    json!([{"kind": "force", "value": true}])
                };
                json!({"key": format!("f{i}"), "type": "boolean", "default": false, "rules": rules})
            })
            .collect();
        json!({"schema_version": 1, "flags": flags})
    };
    let ok = Engine::from_value(chain(litmus_core::flags::MAX_PREREQUISITE_DEPTH)).unwrap();
    assert!(ok.problems().is_empty());
    assert_eq!(
        ok.evaluate("f0", "u", &NoAttributes).boolean().ok(),
        Some(true)
    );
    let deep = problems(chain(litmus_core::flags::MAX_PREREQUISITE_DEPTH + 1));
    assert_eq!(
        deep,
        vec![("limit_exceeded".into(), "flags[f0].rules".into())]
    );
    // A very long chain loads (every flag above the limit is refused) without deep recursion.
    let long = Engine::from_value(chain(5_000)).unwrap();
    assert_eq!(
        long.problems().len(),
        5_000 - litmus_core::flags::MAX_PREREQUISITE_DEPTH
    );
}

#[test]
fn scheduled_changes_follow_the_callers_clock() {
    let e = engine(json!([{
        "key": "launch", "type": "boolean", "default": false, "enabled": false,
        "rules": [{"id": "ramp", "kind": "rollout", "percentage": 10, "value": true}],
        "schedule": [
            {"at": "2026-12-10T09:00:00Z", "enabled": true},
            {"at": "2026-12-12T09:00:00Z", "rules": [{"id": "ramp", "kind": "rollout", "percentage": 100, "value": true}]},
            {"at": "2026-12-20T00:00:00Z", "enabled": false}
        ]
    }]));
    let t = |s: &str| Timestamp::parse_rfc3339(s);
    let value = |now: Option<Timestamp>| {
        let r = e.evaluate_at("launch", "unit-7", &NoAttributes, now);
        (r.boolean().unwrap(), r.reason())
    };
    assert_eq!(value(None), (false, FlagReason::Disabled));
    assert_eq!(
        value(t("2026-12-10T08:59:59Z")),
        (false, FlagReason::Disabled)
    );
    assert_eq!(value(t("2026-12-12T09:00:00Z")), (true, FlagReason::Split));
    assert_eq!(value(t("2026-12-19T23:59:59Z")), (true, FlagReason::Split));
    assert_eq!(
        value(t("2026-12-20T00:00:00Z")),
        (false, FlagReason::Disabled)
    );
    let flag = e.flag("launch").unwrap();
    assert_eq!(flag.scheduled_changes().count(), 3);
    assert!(flag.enabled_at(t("2026-12-11T00:00:00Z")));
    assert_eq!(
        flag.rules_at(t("2026-12-13T00:00:00Z"))[0].percentage(),
        Some(100.0)
    );
    // Between 10 Dec and 12 Dec the 10% rollout applies: some units in, most out.
    let in_at =
        |u: &str| e.boolean_flag("launch", u, &NoAttributes, t("2026-12-11T00:00:00Z"), false);
    let n = (0..1000).filter(|i| in_at(&format!("u{i}"))).count();
    assert!((60..140).contains(&n), "{n}");
}

#[test]
fn typed_access_reports_mismatches_with_a_code() {
    let e = engine(json!([{"key": "limit", "type": "number", "default": 5}]));
    let r = e.evaluate("limit", "u", &NoAttributes);
    let err = r.boolean().unwrap_err();
    assert_eq!(err.code(), "type_mismatch");
    assert!(
        err.to_string().contains("number flag, not a boolean"),
        "{err}"
    );
    assert_eq!(r.number().ok(), Some(5.0));
    let typed = e.evaluate_as("limit", "u", &NoAttributes, None, FlagType::String);
    assert_eq!(
        (typed.reason(), typed.error()),
        (FlagReason::Error, Some(EvaluationError::TypeMismatch))
    );
    assert_eq!(typed.value(), None);
    assert_eq!(
        typed.error().map(|e| e.openfeature_code()),
        Some("TYPE_MISMATCH")
    );
    assert_eq!(
        e.string_flag("limit", "u", &NoAttributes, None, "fallback"),
        "fallback"
    );
    let missing = e.evaluate("nope", "u", &NoAttributes);
    assert_eq!(missing.error(), Some(EvaluationError::FlagNotFound));
    assert_eq!(missing.variant(), None);
    assert_eq!(missing.boolean().unwrap_err().code(), "flag_unavailable");
    assert!(e.boolean_flag("nope", "u", &NoAttributes, None, true));
}

#[test]
fn bad_flags_are_refused_with_their_path() {
    let one = |flag: Value| {
        strict_error(json!({"schema_version": 1, "flags": [flag],
        "experiments": [{"key": "exp", "status": "running", "variants": [{"key": "a"}, {"key": "b"}]}]}))
    };
    let cases = [
        (
            json!({"key": "f", "type": "boolean", "default": "yes"}),
            "invalid_value",
            "flags[f].default",
        ),
        (
            json!({"key": "f", "type": "integer", "default": 1}),
            "invalid_json",
            "flags[f].type",
        ),
        (
            json!({"key": "f", "default": 1}),
            "missing_field",
            "flags[f].type",
        ),
        (
            json!({"key": "f", "type": "number"}),
            "missing_field",
            "flags[f].default",
        ),
        (
            json!({"key": "f", "type": "json", "default": null}),
            "invalid_value",
            "flags[f].default",
        ),
        (
            json!({"key": "bad key", "type": "boolean", "default": true}),
            "invalid_value",
            "flags[bad key].key",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "force", "value": 1}]}),
            "invalid_value",
            "flags[f].rules[0].value",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "rollout", "percentage": 101, "value": true}]}),
            "invalid_value",
            "flags[f].rules[0].percentage",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "rollout", "percentage": -1, "value": true}]}),
            "invalid_value",
            "flags[f].rules[0].percentage",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "rollout", "value": true}]}),
            "missing_field",
            "flags[f].rules[0].percentage",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "force", "value": true, "percentage": 5}]}),
            "invalid_value",
            "flags[f].rules[0].percentage",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "force", "value": true, "colour": 5}]}),
            "unknown_field",
            "flags[f].rules[0].colour",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "sometimes", "value": true}]}),
            "invalid_json",
            "flags[f].rules[0].kind",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"id": "x", "kind": "force", "value": true}, {"id": "x", "kind": "force", "value": false}]}),
            "duplicate_key",
            "flags[f].rules[1].id",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "experiment", "experiment": "nope", "values": {}}]}),
            "unknown_reference",
            "flags[f].rules[0].experiment",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "experiment", "experiment": "exp", "values": {"a": true}}]}),
            "invalid_value",
            "flags[f].rules[0].values",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "experiment", "experiment": "exp", "values": {"a": true, "b": false, "c": true}}]}),
            "unknown_reference",
            "flags[f].rules[0].values.c",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "experiment", "experiment": "exp", "values": {"a": true, "b": "no"}}]}),
            "invalid_value",
            "flags[f].rules[0].values.b",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "prerequisite", "flag": "ghost", "is": true, "value": true}]}),
            "unknown_reference",
            "flags[f].rules[0].flag",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "rules": [{"kind": "force", "condition": {"attribute": "a", "op": "bogus", "value": 1}, "value": true}]}),
            "invalid_value",
            "flags[f].rules[0].condition.op",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "schedule": [{"at": "tomorrow", "enabled": false}]}),
            "invalid_value",
            "flags[f].schedule[0].at",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "schedule": [{"at": "2026-12-10T00:00:00Z", "enabled": false}, {"at": "2026-12-09T00:00:00Z", "enabled": true}]}),
            "invalid_value",
            "flags[f].schedule[1].at",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "schedule": [{"at": "2026-12-10T00:00:00Z"}]}),
            "invalid_value",
            "flags[f].schedule[0]",
        ),
        (
            json!({"key": "f", "type": "boolean", "default": true, "schedule": [{"at": "2026-12-10T00:00:00Z", "rules": [{"kind": "force", "value": 3}]}]}),
            "invalid_value",
            "flags[f].schedule[0].rules[0].value",
        ),
    ];
    for (flag, code, path) in cases {
        assert_eq!(
            one(flag.clone()),
            (code.to_owned(), path.to_owned()),
            "{flag}"
        );
    }
    let dup = strict_error(json!({"schema_version": 1, "flags": [
        {"key": "f", "type": "boolean", "default": true},
        {"key": "f", "type": "boolean", "default": false}]}));
    assert_eq!(dup, ("duplicate_key".into(), "flags[f]".into()));
}

#[test]
fn documents_without_flags_load_as_before_and_flags_round_trip() {
    let old = r#"{"schema_version":1,"experiments":[{"key":"e","status":"running","variants":[{"key":"a"}]}]}"#;
    let e = Engine::from_json_strict(old).unwrap();
    assert_eq!(e.flags().len(), 0);
    assert!(e.assign("e", "u", &NoAttributes).in_experiment());
    let doc = json!({"schema_version": 1, "flags": [{"key": "f", "type": "boolean", "default": true,
        "rules": [{"kind": "rollout", "percentage": 5, "value": false}]}]});
    let wire = litmus_core::config::validate_strict(&doc.to_string()).unwrap();
    let back = serde_json::to_value(&wire).unwrap();
    assert_eq!(back["flags"][0]["rules"][0]["percentage"], json!(5.0));
    assert_eq!(back["flags"][0]["enabled"], json!(true));
    // SDK snapshots ignore fields of later versions, inside flags too.
    let lenient = json!({"schema_version": 1, "flags": [{"key": "f", "type": "boolean", "default": true,
        "future": 1, "rules": [{"kind": "force", "value": false, "future": 2}]}]});
    let e = Engine::from_value(lenient).unwrap();
    assert!(e.problems().is_empty());
    assert_eq!(
        e.evaluate("f", "u", &NoAttributes).boolean().ok(),
        Some(false)
    );
}

#[test]
fn evaluate_all_lists_every_flag_in_order() {
    let e = engine(json!([
        {"key": "b", "type": "boolean", "default": true},
        {"key": "a", "type": "string", "default": "x"}
    ]));
    let all: Vec<(&str, Option<Value>)> = e
        .evaluate_all("u", &NoAttributes, None)
        .map(|(k, r)| (k, r.value().cloned()))
        .collect();
    assert_eq!(all, vec![("b", Some(json!(true))), ("a", Some(json!("x")))]);
}

#[test]
fn outcomes_number_every_value_a_flag_can_serve() {
    let e = engine_with(
        json!([
            {"key": "color", "type": "string", "default": "grey", "rules": [
                {"id": "vip", "kind": "force", "condition": {"attribute": "vip", "op": "eq", "value": true}, "value": "purple"},
                {"id": "test", "kind": "experiment", "experiment": "t", "values": {"a": "red", "b": "blue"}}
            ], "schedule": [{"at": "2027-01-01T00:00:00Z", "rules": [{"id": "all", "kind": "force", "value": "black"}]}]},
            {"key": "child", "type": "boolean", "default": false, "rules": [
                {"kind": "prerequisite", "flag": "color", "is": "black", "value": true}]},
            {"key": "plain", "type": "boolean", "default": false}
        ]),
        json!([{"key": "t", "status": "running", "variants": [{"key": "a"}, {"key": "b"}]}]),
    );
    let flag = e.flag("color").unwrap();
    let outcomes = flag.outcomes(&e);
    let summary: Vec<(Value, Option<&str>, &str, Option<&str>)> = outcomes
        .iter()
        .map(|o| (o.value.clone(), o.rule, o.variant, o.experiment))
        .collect();
    assert_eq!(
        summary,
        vec![
            (json!("grey"), None, "default", None),
            (json!("purple"), Some("vip"), "vip", None),
            (json!("red"), Some("test"), "a", Some("t")),
            (json!("blue"), Some("test"), "b", Some("t")),
            (json!("black"), Some("all"), "all", None),
        ]
    );
    for i in 0..200 {
        let unit = format!("u{i}");
        for attrs in [Attributes::new(), Attributes::new().with("vip", true)] {
            for now in [None, Timestamp::parse_rfc3339("2027-02-01T00:00:00Z")] {
                let r = e.evaluate_at("color", &unit, &attrs, now);
                let o = &outcomes[r.outcome() as usize];
                assert_eq!(
                    (Some(o.value), o.rule, Some(o.variant)),
                    (r.value(), r.rule_id(), r.variant())
                );
            }
        }
    }
    assert!(flag.needs_time());
    assert!(
        e.flag("child").unwrap().needs_time(),
        "a prerequisite on a timed flag"
    );
    assert!(!e.flag("plain").unwrap().needs_time());
}

#[test]
fn sticky_evaluation_keeps_remembered_variants_through_prerequisites() {
    // All weight on "b" now; a unit remembered in "a" keeps it.
    let e = engine_with(
        json!([
            {"key": "color", "type": "string", "default": "grey",
             "rules": [{"kind": "experiment", "experiment": "t", "values": {"a": "red", "b": "blue"}}]},
            {"key": "child", "type": "boolean", "default": false,
             "rules": [{"kind": "prerequisite", "flag": "color", "is": "red", "value": true}]}
        ]),
        json!([{"key": "t", "status": "running",
                "variants": [{"key": "a", "weight": 0}, {"key": "b", "weight": 1}]}]),
    );
    let memory = |experiment: &str| (experiment == "t").then_some("a");
    let r = e.evaluate_sticky_at("color", "u1", &NoAttributes, None, &memory);
    assert_eq!(
        (r.string().ok(), r.reason()),
        (Some("red"), FlagReason::Split)
    );
    assert_eq!(
        r.assignment().map(|a| a.reason()),
        Some(litmus_core::Reason::Sticky)
    );
    let fresh = e.evaluate_at("color", "u1", &NoAttributes, None);
    assert_eq!(fresh.string().ok(), Some("blue"));
    let child = e.evaluate_sticky_at("child", "u1", &NoAttributes, None, &memory);
    assert_eq!(child.boolean().ok(), Some(true));
    assert_eq!(e.flag("child").unwrap().prerequisites(), vec!["color"]);
    assert_eq!(e.flag("color").unwrap().experiments(&e), vec!["t"]);
    let forget = |_: &str| None;
    assert_eq!(
        e.evaluate_sticky_at("nope", "u", &NoAttributes, None, &forget)
            .error(),
        Some(EvaluationError::FlagNotFound)
    );
}

#[test]
fn a_flag_names_every_attribute_its_evaluation_can_read() {
    let e = engine_with(
        json!([
            {"key": "parent", "type": "boolean", "default": false,
             "rules": [{"kind": "force", "condition": {"attribute": "plan", "op": "eq", "value": "pro"}, "value": true}]},
            {"key": "child", "type": "string", "default": "off",
             "rules": [
                {"kind": "force", "condition": {"all": [
                    {"attribute": "country", "op": "eq", "value": "US"},
                    {"attribute": "plan", "op": "exists"}]}, "value": "us"},
                {"kind": "prerequisite", "flag": "parent", "is": true, "value": "pro"},
                {"kind": "experiment", "experiment": "exp", "values": {"a": "a", "b": "b"}}
             ],
             "schedule": [{"at": "2027-01-01T00:00:00Z", "rules": [
                {"kind": "force", "condition": {"attribute": "beta", "op": "eq", "value": true}, "value": "beta"}]}]},
            {"key": "plain", "type": "boolean", "default": false,
             "rules": [{"kind": "rollout", "percentage": 50, "value": true}]}
        ]),
        json!([{"key": "exp", "status": "running", "variants": [{"key": "a"}, {"key": "b"}],
                "targeting": {"attribute": "age", "op": "gte", "value": 18},
                "dimensions": [{"key": "platform", "attribute": "os"}]}]),
    );
    let names = |key: &str| e.flag_position(key).map(|p| e.flag_attribute_names(p));
    assert_eq!(
        names("child"),
        Some(vec!["country", "plan", "age", "os", "beta"]),
        "conditions, the prerequisite's (plan, already named), the experiment's, the scheduled rules'"
    );
    assert_eq!(names("parent"), Some(vec!["plan"]));
    assert_eq!(names("plain"), Some(vec![]));
    assert_eq!(names("nope"), None);
    assert!(e.flag_attribute_names(99).is_empty());
}
