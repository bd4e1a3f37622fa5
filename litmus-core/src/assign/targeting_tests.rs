use serde_json::json;

use super::*;
use crate::attributes::Attributes;

fn cond(value: serde_json::Value) -> Condition {
    match compile(&value, &FieldPath::root().field("targeting")) {
        Ok(c) => c,
        Err(e) => panic!("{value} should compile: {e}"),
    }
}

fn eval(c: serde_json::Value, attrs: serde_json::Value) -> Outcome {
    cond(c).eval(&attrs)
}

fn err(value: serde_json::Value) -> Error {
    match compile(&value, &FieldPath::root().field("targeting")) {
        Ok(_) => panic!("{value} should not compile"),
        Err(e) => e,
    }
}

#[test]
fn equality_and_types() {
    let c = json!({"attribute": "country", "op": "eq", "value": "US"});
    assert_eq!(eval(c.clone(), json!({"country": "US"})), Ok(()));
    assert_eq!(
        eval(c.clone(), json!({"country": "us"})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(c.clone(), json!({"country": 1})),
        Err(MissKind::TypeMismatch)
    );
    assert_eq!(eval(c.clone(), json!({})), Err(MissKind::Missing));
    assert_eq!(eval(c, json!({"country": null})), Err(MissKind::Missing));
    let ne = json!({"attribute": "n", "op": "ne", "value": 3});
    assert_eq!(eval(ne.clone(), json!({"n": 4})), Ok(()));
    assert_eq!(
        eval(ne.clone(), json!({"n": 3.0})),
        Ok(()).and(Err(MissKind::False))
    );
    assert_eq!(eval(ne, json!({"n": "4"})), Err(MissKind::TypeMismatch));
    let b = json!({"attribute": "beta", "op": "eq", "value": true});
    assert_eq!(eval(b.clone(), json!({"beta": true})), Ok(()));
    assert_eq!(
        eval(b, json!({"beta": "true"})),
        Err(MissKind::TypeMismatch)
    );
}

#[test]
fn ordering_numbers_and_strings() {
    let gt = json!({"attribute": "age", "op": "gt", "value": 17});
    assert_eq!(eval(gt.clone(), json!({"age": 18})), Ok(()));
    assert_eq!(eval(gt.clone(), json!({"age": 17})), Err(MissKind::False));
    let nan = Attributes::new().with("age", f64::NAN);
    assert_eq!(cond(gt.clone()).eval(&nan), Err(MissKind::False));
    let inf = Attributes::new().with("age", f64::INFINITY);
    assert_eq!(cond(gt).eval(&inf), Ok(()));
    let lte = json!({"attribute": "age", "op": "lte", "value": 17});
    assert_eq!(eval(lte.clone(), json!({"age": 17})), Ok(()));
    assert_eq!(eval(lte, json!({"age": 1e308})), Err(MissKind::False));
    let lt = json!({"attribute": "name", "op": "lt", "value": "m"});
    assert_eq!(eval(lt.clone(), json!({"name": "alice"})), Ok(()));
    assert_eq!(eval(lt, json!({"name": "zoe"})), Err(MissKind::False));
    let gte = json!({"attribute": "d", "op": "gte", "value": "2026-01-01"});
    assert_eq!(eval(gte, json!({"d": "2026-01-01"})), Ok(()));
    assert_eq!(
        err(json!({"attribute": "b", "op": "gt", "value": true})).code(),
        "invalid_value"
    );
}

#[test]
fn membership_scalars_and_lists() {
    let c = json!({"attribute": "country", "op": "in", "value": ["US", "CA", "MX"]});
    assert_eq!(eval(c.clone(), json!({"country": "CA"})), Ok(()));
    assert_eq!(
        eval(c.clone(), json!({"country": "DE"})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(c.clone(), json!({"country": 5})),
        Err(MissKind::TypeMismatch)
    );
    assert_eq!(eval(c.clone(), json!({"country": ["DE", "MX"]})), Ok(()));
    assert_eq!(eval(c, json!({"country": ["DE"]})), Err(MissKind::False));
    let n = json!({"attribute": "tier", "op": "not_in", "value": [1, 2, 3]});
    assert_eq!(eval(n.clone(), json!({"tier": 4})), Ok(()));
    assert_eq!(eval(n.clone(), json!({"tier": 2})), Err(MissKind::False));
    assert_eq!(eval(n.clone(), json!({"tier": [4, 5]})), Ok(()));
    assert_eq!(
        eval(n.clone(), json!({"tier": [4, 2]})),
        Err(MissKind::False)
    );
    assert_eq!(eval(n, json!({})), Err(MissKind::Missing));
    let mixed = json!({"attribute": "x", "op": "in", "value": [true, 1, "a"]});
    assert_eq!(eval(mixed.clone(), json!({"x": true})), Ok(()));
    assert_eq!(
        eval(mixed.clone(), json!({"x": false})),
        Err(MissKind::False)
    );
    assert_eq!(eval(mixed.clone(), json!({"x": 1.0})), Ok(()));
    assert_eq!(eval(mixed, json!({"x": "a"})), Ok(()));
}

#[test]
fn string_operators() {
    let contains = json!({"attribute": "email", "op": "contains", "value": "@acme."});
    assert_eq!(
        eval(contains.clone(), json!({"email": "a@acme.com"})),
        Ok(())
    );
    assert_eq!(
        eval(contains.clone(), json!({"email": "a@other.com"})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(contains, json!({"email": 3})),
        Err(MissKind::TypeMismatch)
    );
    let list = json!({"attribute": "tags", "op": "contains", "value": "vip"});
    assert_eq!(eval(list.clone(), json!({"tags": ["new", "vip"]})), Ok(()));
    assert_eq!(eval(list, json!({"tags": []})), Err(MissKind::False));
    let sw = json!({"attribute": "path", "op": "starts_with", "value": "/checkout"});
    assert_eq!(eval(sw.clone(), json!({"path": "/checkout/pay"})), Ok(()));
    assert_eq!(eval(sw, json!({"path": "/home"})), Err(MissKind::False));
    let ew = json!({"attribute": "email", "op": "ends_with", "value": ".edu"});
    assert_eq!(eval(ew, json!({"email": "x@mit.edu"})), Ok(()));
    let re = json!({"attribute": "ua", "op": "regex", "value": "(?i)^mozilla/\\d+.*firefox"});
    assert_eq!(
        eval(re.clone(), json!({"ua": "Mozilla/5.0 (X11) Firefox/120"})),
        Ok(())
    );
    assert_eq!(
        eval(re.clone(), json!({"ua": "curl/8"})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(re, json!({"ua": ["Mozilla/5 firefox"]})),
        Err(MissKind::TypeMismatch)
    );
    assert_eq!(
        err(json!({"attribute": "a", "op": "regex", "value": "("})).code(),
        "invalid_regex"
    );
    let long = "a".repeat(MAX_REGEX_LEN + 1);
    assert_eq!(
        err(json!({"attribute": "a", "op": "regex", "value": long})).code(),
        "limit_exceeded"
    );
}

#[test]
fn exists_and_null() {
    let e = json!({"attribute": "plan", "op": "exists"});
    assert_eq!(eval(e.clone(), json!({"plan": "pro"})), Ok(()));
    assert_eq!(eval(e.clone(), json!({"plan": null})), Err(MissKind::False));
    assert_eq!(eval(e, json!({})), Err(MissKind::False));
    let absent = json!({"attribute": "plan", "op": "exists", "value": false});
    assert_eq!(eval(absent.clone(), json!({})), Ok(()));
    assert_eq!(
        eval(absent, json!({"plan": {"nested": 1}})),
        Err(MissKind::False)
    );
}

#[test]
fn versions() {
    let c = json!({"attribute": "app", "op": "version_gte", "value": "2.10.0"});
    assert_eq!(eval(c.clone(), json!({"app": "2.10.0"})), Ok(()));
    assert_eq!(
        eval(c.clone(), json!({"app": "2.9.9"})),
        Err(MissKind::False)
    );
    assert_eq!(eval(c.clone(), json!({"app": "v10.0"})), Ok(()));
    assert_eq!(
        eval(c.clone(), json!({"app": "2.10.0-rc.1"})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(c.clone(), json!({"app": "banana"})),
        Err(MissKind::TypeMismatch)
    );
    assert_eq!(eval(c, json!({"app": 2.1})), Err(MissKind::TypeMismatch));
    for (op, actual, ok) in [
        ("version_eq", "1.2", true),
        ("version_ne", "1.2.1", true),
        ("version_gt", "1.2.0+b7", false),
        ("version_lt", "1.2.0-alpha", true),
        ("version_lte", "1.2.0", true),
    ] {
        let c = json!({"attribute": "v", "op": op, "value": "1.2.0"});
        assert_eq!(eval(c, json!({"v": actual})).is_ok(), ok, "{op} {actual}");
    }
    assert_eq!(
        err(json!({"attribute": "v", "op": "version_gt", "value": "x"})).code(),
        "invalid_value"
    );
}

#[test]
fn combinators() {
    let c = json!({"all": [
        {"attribute": "country", "op": "in", "value": ["US", "CA"]},
        {"any": [
            {"attribute": "plan", "op": "eq", "value": "pro"},
            {"not": {"attribute": "age", "op": "lt", "value": 18}}
        ]}
    ]});
    assert_eq!(
        eval(c.clone(), json!({"country": "US", "plan": "pro"})),
        Ok(())
    );
    assert_eq!(eval(c.clone(), json!({"country": "US", "age": 30})), Ok(()));
    assert_eq!(
        eval(c.clone(), json!({"country": "US", "age": 12})),
        Err(MissKind::False)
    );
    assert_eq!(
        eval(c.clone(), json!({"country": "DE", "plan": "pro"})),
        Err(MissKind::False)
    );
    assert_eq!(eval(c, json!({"plan": "pro"})), Err(MissKind::Missing));
    assert_eq!(eval(json!({"all": []}), json!({})), Ok(()));
    assert_eq!(eval(json!({"any": []}), json!({})), Err(MissKind::False));
    // `not` inverts any miss, a type mismatch included.
    let not = json!({"not": {"attribute": "n", "op": "eq", "value": 1}});
    assert_eq!(eval(not.clone(), json!({"n": "1"})), Ok(()));
    assert_eq!(eval(not, json!({"n": 1})), Err(MissKind::False));
}

#[test]
fn compile_errors_have_paths() {
    let e = err(
        json!({"all": [{"attribute": "a", "op": "eq", "value": 1}, {"attribute": "b", "op": "near", "value": 1}]}),
    );
    assert_eq!(e.path().map(FieldPath::as_str), Some("targeting.all[1].op"));
    assert_eq!(e.code(), "invalid_value");
    let e = err(json!({"attribute": "a", "op": "eq"}));
    assert_eq!(
        (e.code(), e.path().map(FieldPath::as_str)),
        ("missing_field", Some("targeting.value"))
    );
    let e = err(json!({"attribute": "a", "op": "eq", "value": 1, "extra": 2}));
    assert_eq!(e.code(), "unknown_field");
    assert_eq!(err(json!({"all": [], "any": []})).code(), "invalid_value");
    assert_eq!(err(json!({"all": {}})).code(), "invalid_value");
    assert_eq!(err(json!("country == US")).code(), "invalid_value");
    assert_eq!(
        err(json!({"attribute": "", "op": "eq", "value": 1})).code(),
        "invalid_value"
    );
    assert_eq!(
        err(json!({"attribute": "a", "op": "in", "value": [[1]]})).code(),
        "invalid_value"
    );
    assert_eq!(
        err(json!({"attribute": "a", "op": "eq", "value": null})).code(),
        "invalid_value"
    );
}

#[test]
fn limits_are_enforced() {
    let mut deep = json!({"attribute": "a", "op": "exists"});
    for _ in 0..=MAX_DEPTH {
        deep = json!({"not": deep});
    }
    assert_eq!(err(deep).code(), "limit_exceeded");
    let wide: Vec<_> = (0..MAX_NODES)
        .map(|_| json!({"attribute": "a", "op": "exists"}))
        .collect();
    assert_eq!(err(json!({"all": wide})).code(), "limit_exceeded");
    let big: Vec<_> = (0..=MAX_LIST).collect();
    assert_eq!(
        err(json!({"attribute": "a", "op": "in", "value": big})).code(),
        "limit_exceeded"
    );
}

#[test]
fn every_listed_operator_compiles() {
    for op in OPERATORS {
        let value = match op {
            "in" | "not_in" => json!(["1.0.0"]),
            "exists" => json!(true),
            _ => json!("1.0.0"),
        };
        cond(json!({"attribute": "a", "op": op, "value": value}));
    }
}
