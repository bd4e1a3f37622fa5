"""Writes the shared conformance suite fixtures/conformance/*.json.

Every expected value is computed here, independently of the Rust code: hash-dependent outcomes
(traffic, variant, layer slice, holdout, factor levels) with the Python reference of the
bucketing spec (bucketing_v1.py), the rest from how each case is built (which rule of the
evaluation order in docs/spec/bucketing-v1.md section 5 applies).

    python scripts/spec/gen_conformance.py [OUT_DIR]     (default: fixtures/conformance)
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

import bucketing_v1 as spec

REPO = pathlib.Path(__file__).resolve().parents[2]
UNITS = ["", "zürich-1", "🧪-7", "UPPER-lower"] + [f"user-{i}" for i in range(56)]


def case(name: str, experiment: str, unit: str, variant: str | None, reason: str, *,
         attributes: dict | None = None, now: str | None = None, miss: str | None = None) -> dict:
    c: dict[str, Any] = {"name": name, "experiment": experiment, "unit": unit}
    if attributes:
        c["attributes"] = attributes
    if now is not None:
        c["now"] = now
    expected: dict[str, Any] = {"variant": variant, "in_experiment": reason == "assigned", "reason": reason}
    if miss is not None:
        assert reason == "targeting_miss"
        expected["miss"] = miss
    c["expected"] = expected
    return c


def doc(experiments: list, **extra: Any) -> dict:
    return {"schema_version": 1, **extra, "experiments": experiments}


def variants(keys_weights: list[tuple[str, float]]) -> list[dict]:
    return [{"key": k, "weight": w} for k, w in keys_weights]


def pick(unit: str, salt: str, weights: list[float], keys: list[str]) -> str:
    return keys[spec.variant_index(spec.bucket(unit, salt, "variant"), weights)]


# --- 1. targeting -----------------------------------------------------------------------------

TARGETING: list[tuple[str, dict, list[tuple[dict, str]]]] = [
    # (label, condition, [(attributes, outcome)]) where outcome is "match" or a miss code.
    ("eq-string", {"attribute": "country", "op": "eq", "value": "US"}, [
        ({"country": "US"}, "match"), ({"country": "us"}, "false"), ({"country": 1}, "type_mismatch"),
        ({}, "attribute_missing"), ({"country": None}, "attribute_missing"), ({"country": ["US"]}, "type_mismatch")]),
    ("eq-number", {"attribute": "age", "op": "eq", "value": 30}, [
        ({"age": 30}, "match"), ({"age": 30.0}, "match"), ({"age": "30"}, "type_mismatch"), ({"age": 31}, "false")]),
    ("eq-bool", {"attribute": "beta", "op": "eq", "value": True}, [
        ({"beta": True}, "match"), ({"beta": False}, "false"), ({"beta": "true"}, "type_mismatch")]),
    ("ne", {"attribute": "plan", "op": "ne", "value": "free"}, [
        ({"plan": "pro"}, "match"), ({"plan": "free"}, "false"), ({}, "attribute_missing"), ({"plan": 0}, "type_mismatch")]),
    ("in", {"attribute": "country", "op": "in", "value": ["US", "CA", "MX"]}, [
        ({"country": "CA"}, "match"), ({"country": "DE"}, "false"), ({"country": ["DE", "MX"]}, "match"),
        ({"country": ["DE"]}, "false"), ({"country": 3}, "type_mismatch"), ({}, "attribute_missing")]),
    ("in-numbers", {"attribute": "tier", "op": "in", "value": [1, 2, 3]}, [
        ({"tier": 2}, "match"), ({"tier": 2.5}, "false"), ({"tier": "2"}, "type_mismatch")]),
    ("not-in", {"attribute": "country", "op": "not_in", "value": ["US", "CA"]}, [
        ({"country": "DE"}, "match"), ({"country": "US"}, "false"), ({"country": ["DE", "FR"]}, "match"),
        ({"country": ["DE", "US"]}, "false"), ({}, "attribute_missing"), ({"country": True}, "type_mismatch")]),
    ("gt", {"attribute": "age", "op": "gt", "value": 17}, [
        ({"age": 18}, "match"), ({"age": 17}, "false"), ({"age": -1e300}, "false"), ({"age": "18"}, "type_mismatch")]),
    ("gte", {"attribute": "age", "op": "gte", "value": 18}, [({"age": 18}, "match"), ({"age": 17.999}, "false")]),
    ("lt", {"attribute": "score", "op": "lt", "value": 0.5}, [({"score": 0.49}, "match"), ({"score": 0.5}, "false")]),
    ("lte", {"attribute": "score", "op": "lte", "value": 0.5}, [({"score": 0.5}, "match"), ({"score": 0.51}, "false")]),
    ("gt-string", {"attribute": "name", "op": "gt", "value": "m"}, [
        ({"name": "zoe"}, "match"), ({"name": "alice"}, "false"), ({"name": "M"}, "false"), ({"name": 5}, "type_mismatch")]),
    ("contains-string", {"attribute": "email", "op": "contains", "value": "@acme."}, [
        ({"email": "a@acme.com"}, "match"), ({"email": "a@other.com"}, "false"), ({"email": 7}, "type_mismatch")]),
    ("contains-list", {"attribute": "tags", "op": "contains", "value": "vip"}, [
        ({"tags": ["new", "vip"]}, "match"), ({"tags": []}, "false"), ({"tags": ["VIP"]}, "false")]),
    ("contains-number-list", {"attribute": "ids", "op": "contains", "value": 7}, [
        ({"ids": [1, 7]}, "match"), ({"ids": ["7"]}, "false")]),
    ("starts-with", {"attribute": "path", "op": "starts_with", "value": "/checkout"}, [
        ({"path": "/checkout/pay"}, "match"), ({"path": "/home"}, "false"), ({"path": ["/checkout"]}, "type_mismatch")]),
    ("ends-with", {"attribute": "email", "op": "ends_with", "value": ".edu"}, [
        ({"email": "x@mit.edu"}, "match"), ({"email": "x@mit.com"}, "false")]),
    ("regex", {"attribute": "ua", "op": "regex", "value": "(?i)^mozilla/\\d+.*firefox"}, [
        ({"ua": "Mozilla/5.0 (X11) Firefox/120"}, "match"), ({"ua": "curl/8.0"}, "false"), ({"ua": 5}, "type_mismatch")]),
    ("regex-unanchored", {"attribute": "ref", "op": "regex", "value": "utm_source=news"}, [
        ({"ref": "https://x.test/?a=1&utm_source=newsletter"}, "match"), ({"ref": "https://x.test/"}, "false")]),
    ("exists", {"attribute": "plan", "op": "exists"}, [
        ({"plan": "pro"}, "match"), ({"plan": None}, "false"), ({}, "false"), ({"plan": False}, "match")]),
    ("exists-false", {"attribute": "plan", "op": "exists", "value": False}, [
        ({}, "match"), ({"plan": None}, "match"), ({"plan": "pro"}, "false")]),
    ("version-gte", {"attribute": "app", "op": "version_gte", "value": "2.10.0"}, [
        ({"app": "2.10.0"}, "match"), ({"app": "2.9.9"}, "false"), ({"app": "v10.0"}, "match"),
        ({"app": "2.10.0-rc.1"}, "false"), ({"app": "banana"}, "type_mismatch"), ({"app": 2.1}, "type_mismatch")]),
    ("version-eq", {"attribute": "app", "op": "version_eq", "value": "1.2.0"}, [
        ({"app": "1.2"}, "match"), ({"app": "1.2.0+build.7"}, "match"), ({"app": "1.2.1"}, "false")]),
    ("version-ne", {"attribute": "app", "op": "version_ne", "value": "1.2.0"}, [
        ({"app": "1.2.1"}, "match"), ({"app": "v1.2.0"}, "false")]),
    ("version-gt", {"attribute": "app", "op": "version_gt", "value": "1.0.0-beta.2"}, [
        ({"app": "1.0.0-beta.11"}, "match"), ({"app": "1.0.0-beta"}, "false"), ({"app": "1.0.0"}, "match")]),
    ("version-lt", {"attribute": "app", "op": "version_lt", "value": "1.0.0"}, [
        ({"app": "1.0.0-alpha"}, "match"), ({"app": "1.0.0"}, "false")]),
    ("version-lte", {"attribute": "app", "op": "version_lte", "value": "3"}, [
        ({"app": "3.0.0"}, "match"), ({"app": "3.0.1"}, "false")]),
    ("all", {"all": [{"attribute": "country", "op": "eq", "value": "US"},
                     {"attribute": "age", "op": "gte", "value": 18}]}, [
        ({"country": "US", "age": 20}, "match"), ({"country": "US", "age": 12}, "false"),
        ({"age": 20}, "attribute_missing"), ({"country": "DE", "age": "x"}, "false")]),
    ("any", {"any": [{"attribute": "plan", "op": "eq", "value": "pro"},
                     {"attribute": "age", "op": "gte", "value": 18}]}, [
        ({"plan": "pro"}, "match"), ({"age": 30}, "match"), ({"plan": "free", "age": 3}, "false"),
        ({"plan": "free"}, "attribute_missing"), ({"age": 3}, "false")]),
    ("not", {"not": {"attribute": "country", "op": "eq", "value": "US"}}, [
        ({"country": "DE"}, "match"), ({"country": "US"}, "false"), ({}, "match"), ({"country": 1}, "match")]),
    ("nested", {"all": [{"attribute": "country", "op": "in", "value": ["US", "CA"]},
                        {"any": [{"attribute": "plan", "op": "eq", "value": "pro"},
                                 {"not": {"attribute": "age", "op": "lt", "value": 18}}]}]}, [
        ({"country": "US", "plan": "pro"}, "match"), ({"country": "CA", "age": 40}, "match"),
        ({"country": "US", "age": 12}, "false"), ({"country": "DE", "plan": "pro"}, "false")]),
    ("all-empty", {"all": []}, [({}, "match")]),
    ("any-empty", {"any": []}, [({}, "false")]),
]


def targeting_file() -> dict:
    experiments, cases = [], []
    for label, condition, checks in TARGETING:
        key = f"t-{label}"
        experiments.append({"key": key, "status": "running", "variants": [{"key": "on"}], "targeting": condition})
        for i, (attrs, outcome) in enumerate(checks):
            name = f"{label}/{i}"
            if outcome == "match":
                cases.append(case(name, key, "user-1", "on", "assigned", attributes=attrs))
            else:
                cases.append(case(name, key, "user-1", None, "targeting_miss", attributes=attrs, miss=outcome))
    return {"name": "targeting", "description": "Every targeting operator and combinator: matches, "
            "non-matches, missing attributes and type mismatches (always false, with the reason).",
            "config": doc(experiments), "cases": cases}


# --- 2. A/B/n weights -------------------------------------------------------------------------

WEIGHTED = [
    ("ab-even", [("control", 1), ("treatment", 1)]),
    ("abn-1-2-7", [("a", 1), ("b", 2), ("c", 7)]),
    ("abn-fractions", [("low", 0.1), ("mid", 0.3), ("high", 0.6)]),
    ("abn-zero-weight", [("left", 1), ("never", 0), ("right", 1)]),
]


def weights_file() -> dict:
    experiments, cases = [], []
    for key, vs in WEIGHTED:
        v = variants(vs)
        v[0]["payload"] = {"label": vs[0][0], "n": 1}
        experiments.append({"key": key, "status": "running", "variants": v})
        keys, weights = [k for k, _ in vs], [float(w) for _, w in vs]
        for unit in UNITS:
            chosen = pick(unit, key, weights, keys)
            assert chosen != "never"
            cases.append(case(f"{key}/{unit}", key, unit, chosen, "assigned"))
    return {"name": "abn-weights", "description": "A/B and A/B/n with uneven weights and a zero-weight "
            "variant; variants computed from the bucketing reference.", "config": doc(experiments), "cases": cases}


# --- 3. traffic -------------------------------------------------------------------------------

def traffic_file() -> dict:
    salt, levels = "traffic-shared", [0.2, 0.5, 1.0]
    keys, weights = ["control", "treatment"], [1.0, 1.0]
    experiments = [{"key": f"traffic-{int(t * 100)}", "salt": salt, "status": "running", "traffic": t,
                    "variants": variants(list(zip(keys, weights)))} for t in levels]
    cases = []
    for unit in UNITS:
        previous = None
        tb = spec.bucket(unit, salt, "traffic")
        for t, exp in zip(levels, experiments):
            if spec.in_traffic(tb, t):
                v = pick(unit, salt, weights, keys)
                assert previous in (None, v), "a unit in at a lower traffic keeps its variant"
                previous = v
                cases.append(case(f"{exp['key']}/{unit}", exp["key"], unit, v, "assigned"))
            else:
                assert previous is None, "a unit in at a lower traffic is in at a higher one"
                cases.append(case(f"{exp['key']}/{unit}", exp["key"], unit, None, "not_in_traffic"))
    return {"name": "traffic", "description": "One salt at traffic 0.2, 0.5 and 1.0: raising traffic keeps "
            "every unit already in, in the same variant.", "config": doc(experiments), "cases": cases}


# --- 4. status and time -----------------------------------------------------------------------

def status_file() -> dict:
    on = [{"key": "on"}]
    experiments = [
        {"key": "s-draft", "variants": on},
        {"key": "s-draft-explicit", "status": "draft", "variants": on},
        {"key": "s-paused", "status": "paused", "variants": on},
        {"key": "s-stopped", "status": "stopped", "variants": on},
        {"key": "s-running", "status": "running", "variants": on},
        {"key": "w-window", "status": "running", "variants": on,
         "start_time": "2026-06-01T00:00:00Z", "end_time": "2026-07-01T00:00:00Z"},
        {"key": "w-start-only", "status": "running", "variants": on, "start_time": "2026-06-01T02:00:00+02:00"},
        {"key": "w-end-only", "status": "running", "variants": on, "end_time": "2026-07-01T00:00:00.500Z"},
        {"key": "w-paused-window", "status": "paused", "variants": on,
         "start_time": "2026-06-01T00:00:00Z", "end_time": "2026-07-01T00:00:00Z"},
    ]
    u = "user-1"
    cases = [
        case("draft by default", "s-draft", u, None, "not_running"),
        case("draft", "s-draft-explicit", u, None, "not_running"),
        case("paused", "s-paused", u, None, "not_running"),
        case("stopped", "s-stopped", u, None, "not_running"),
        case("running, no time given", "s-running", u, "on", "assigned"),
        case("running, a time given", "s-running", u, "on", "assigned", now="2030-01-01T00:00:00Z"),
        case("window, no time given", "w-window", u, None, "not_running"),
        case("window, before start", "w-window", u, None, "not_running", now="2026-05-31T23:59:59.999Z"),
        case("window, at start (inclusive)", "w-window", u, "on", "assigned", now="2026-06-01T00:00:00Z"),
        case("window, inside", "w-window", u, "on", "assigned", now="2026-06-15T12:00:00+05:30"),
        case("window, last millisecond", "w-window", u, "on", "assigned", now="2026-06-30T23:59:59.999Z"),
        case("window, at end (exclusive)", "w-window", u, None, "not_running", now="2026-07-01T00:00:00Z"),
        case("window, after end", "w-window", u, None, "not_running", now="2027-01-01T00:00:00Z"),
        case("start only, offset equals UTC midnight", "w-start-only", u, "on", "assigned", now="2026-06-01T00:00:00Z"),
        case("start only, before", "w-start-only", u, None, "not_running", now="2026-05-31T23:00:00Z"),
        case("end only, before end", "w-end-only", u, "on", "assigned", now="2026-07-01T00:00:00.499Z"),
        case("end only, at end", "w-end-only", u, None, "not_running", now="2026-07-01T00:00:00.500Z"),
        case("end only, no time given", "w-end-only", u, None, "not_running"),
        case("paused inside its window", "w-paused-window", u, None, "not_running", now="2026-06-15T00:00:00Z"),
        case("unknown experiment", "no-such-experiment", u, None, "unknown_experiment"),
    ]
    return {"name": "status-and-time", "description": "Statuses and start/end windows (start inclusive, "
            "end exclusive; with a window and no time given, nobody is assigned).",
            "config": doc(experiments), "cases": cases}


# --- 5. overrides -----------------------------------------------------------------------------

def overrides_file() -> dict:
    ab = [("a", 1.0), ("b", 1.0)]
    keys, weights = ["a", "b"], [1.0, 1.0]
    forced = {"qa-1": "b", "qa-2": "a", "": "b", "🧪-qa": "a"}
    experiments = [
        {"key": "o-running", "status": "running", "variants": variants(ab), "overrides": forced},
        {"key": "o-draft", "status": "draft", "variants": variants(ab), "overrides": forced},
        {"key": "o-stopped", "status": "stopped", "variants": variants(ab), "overrides": forced},
        {"key": "o-targeted", "status": "running", "variants": variants(ab), "overrides": forced,
         "targeting": {"attribute": "country", "op": "eq", "value": "US"}},
        {"key": "o-no-traffic", "status": "running", "traffic": 0, "variants": variants(ab), "overrides": forced},
    ]
    cases = []
    fr = {"country": "FR"}
    for exp in experiments:
        key = exp["key"]
        for unit, v in forced.items():
            cases.append(case(f"{key}/forced {unit}", key, unit, v, "override", attributes=fr))
        for unit in UNITS[4:14]:
            if key == "o-running":
                cases.append(case(f"{key}/{unit}", key, unit, pick(unit, key, weights, keys), "assigned"))
            elif key in ("o-draft", "o-stopped"):
                cases.append(case(f"{key}/{unit}", key, unit, None, "not_running"))
            elif key == "o-targeted":
                cases.append(case(f"{key}/{unit}", key, unit, None, "targeting_miss", attributes=fr, miss="false"))
                cases.append(case(f"{key}/{unit} US", key, unit, pick(unit, key, weights, keys), "assigned",
                                  attributes={"country": "US"}))
            else:
                cases.append(case(f"{key}/{unit}", key, unit, None, "not_in_traffic"))
    return {"name": "overrides", "description": "Forced variants win in any status, over targeting and "
            "traffic, and are not counted in the experiment.", "config": doc(experiments), "cases": cases}


# --- 6. layers --------------------------------------------------------------------------------

def layers_file() -> dict:
    layer, salt = "checkout", "checkout-2026"
    slices = {"l-first": (0.0, 0.3), "l-second": (0.3, 0.6), "l-third": (0.6, 0.9)}
    keys, weights = ["control", "treatment"], [1.0, 1.0]
    experiments = [{"key": k, "status": "running", "variants": variants(list(zip(keys, weights))),
                    "layer": {"key": layer, "range": [a, b]}} for k, (a, b) in slices.items()]
    cases = []
    units = UNITS + [f"member-{i}" for i in range(40)]
    for unit in units:
        lb = spec.bucket(unit, salt, "layer")
        owners = [k for k, (a, b) in slices.items() if spec.in_range(lb, a, b)]
        assert len(owners) <= 1
        for k in slices:
            if k in owners:
                cases.append(case(f"{k}/{unit}", k, unit, pick(unit, k, weights, keys), "assigned"))
            else:
                cases.append(case(f"{k}/{unit}", k, unit, None, "other_layer_member"))
    return {"name": "layers", "description": "Three experiments own [0, 0.3), [0.3, 0.6) and [0.6, 0.9) of one "
            "layer; [0.9, 1) is free. Each unit is in at most one of them.",
            "config": doc(experiments, layers=[{"key": layer, "salt": salt}]), "cases": cases}


# --- 7. holdouts ------------------------------------------------------------------------------

def holdouts_file() -> dict:
    hsalt, share = "hold-2026", 0.2
    keys, weights = ["a", "b"], [1.0, 1.0]
    ab = variants(list(zip(keys, weights)))
    experiments = [
        {"key": "h-first", "status": "running", "variants": ab},
        {"key": "h-second", "status": "running", "variants": ab},
        {"key": "h-targeted", "status": "running", "variants": ab,
         "targeting": {"attribute": "plan", "op": "eq", "value": "pro"}},
        {"key": "h-layered", "status": "running", "variants": ab, "layer": {"key": "hl", "range": [0, 1]}},
        {"key": "h-outside", "status": "running", "variants": ab},
    ]
    holdouts = [{"key": "hold", "salt": hsalt, "share": share,
                 "experiments": ["h-first", "h-second", "h-targeted"], "layers": ["hl"]}]
    pro, free = {"plan": "pro"}, {"plan": "free"}
    cases = []
    for unit in UNITS:
        held = spec.held_out(unit, hsalt, share)
        for key in ["h-first", "h-second", "h-targeted", "h-layered"]:
            if held:
                cases.append(case(f"{key}/{unit}", key, unit, None, "holdout", attributes=pro))
            else:
                cases.append(case(f"{key}/{unit}", key, unit, pick(unit, key, weights, keys), "assigned", attributes=pro))
        # Targeting comes before holdouts: an ineligible unit is a targeting miss, held out or not.
        cases.append(case(f"h-targeted/{unit} free", "h-targeted", unit, None, "targeting_miss",
                          attributes=free, miss="false"))
        cases.append(case(f"h-outside/{unit}", "h-outside", unit, pick(unit, "h-outside", weights, keys), "assigned"))
    assert any(c["expected"]["reason"] == "holdout" for c in cases)
    return {"name": "holdouts", "description": "A 20% holdout scoped by experiments and by layer; held-out units "
            "are out of every experiment in scope; targeting misses take precedence.",
            "config": doc(experiments, layers=[{"key": "hl"}], holdouts=holdouts), "cases": cases}


# --- 8. multivariate --------------------------------------------------------------------------

def multivariate_file() -> dict:
    key = "mv-onboarding"
    color = [("red", 1.0), ("green", 1.0), ("blue", 2.0)]
    headline = [("short", 1.0), ("long", 1.0)]
    experiments = [{"key": key, "kind": "multivariate", "status": "running", "factors": [
        {"key": "color", "levels": [{"key": k, "weight": w} for k, w in color]},
        {"key": "headline", "levels": [{"key": k, "weight": w} for k, w in headline]},
    ]}]
    cases = []
    for unit in UNITS:
        c = color[spec.factor_level(unit, key, "color", [w for _, w in color])][0]
        h = headline[spec.factor_level(unit, key, "headline", [w for _, w in headline])][0]
        cases.append(case(f"{key}/{unit}", key, unit, f"color={c},headline={h}", "assigned"))
    return {"name": "multivariate", "description": "Full factorial color x headline; each factor is drawn "
            "with its own hash (purpose factor:KEY).", "config": doc(experiments), "cases": cases}


# --- 9. invalid experiments (lenient load) ----------------------------------------------------

def invalid_file() -> dict:
    on = [{"key": "on"}]
    experiments = [
        {"key": "good-first", "status": "running", "variants": on},
        {"key": "bad-weight", "status": "running", "variants": [{"key": "a", "weight": -1}]},
        {"key": "bad-traffic", "status": "running", "traffic": 1.5, "variants": on},
        {"key": "bad-override", "status": "running", "variants": on, "overrides": {"qa-1": "missing"}},
        {"key": "bad-regex", "status": "running", "variants": on,
         "targeting": {"attribute": "ua", "op": "regex", "value": "(unclosed"}},
        {"key": "bad-regex-nested", "status": "running", "variants": on,
         "targeting": {"all": [{"attribute": "ua", "op": "regex", "value": "[z-a]"}]}},
        {"key": "bad-op", "status": "running", "variants": on,
         "targeting": {"attribute": "age", "op": "approximately", "value": 3}},
        {"key": "bad-duplicate", "status": "running", "variants": [{"key": "a"}, {"key": "a"}]},
        {"key": "bad-hash-version", "status": "running", "hash_version": 2, "variants": on},
        {"key": "bad-window", "status": "running", "variants": on,
         "start_time": "2026-07-01T00:00:00Z", "end_time": "2026-06-01T00:00:00Z"},
        {"key": "bad-layer", "status": "running", "variants": on, "layer": {"key": "nowhere", "range": [0, 1]}},
        {"key": "bad-empty", "status": "running", "variants": []},
        {"key": "bad-type", "status": "running", "variants": [{"key": "a", "weight": "heavy"}]},
        {"key": "good-last", "status": "running", "variants": on, "future_field": {"ignored": True}},
    ]
    problems = [
        {"code": "invalid_value", "path": "experiments[bad-weight].variants[0].weight"},
        {"code": "invalid_value", "path": "experiments[bad-traffic].traffic"},
        {"code": "unknown_reference", "path": "experiments[bad-override].overrides[qa-1]"},
        {"code": "invalid_regex", "path": "experiments[bad-regex].targeting.value"},
        {"code": "invalid_regex", "path": "experiments[bad-regex-nested].targeting.all[0].value"},
        {"code": "invalid_value", "path": "experiments[bad-op].targeting.op"},
        {"code": "duplicate_key", "path": "experiments[bad-duplicate].variants[1]"},
        {"code": "unsupported_hash_version", "path": "experiments[bad-hash-version].hash_version"},
        {"code": "invalid_value", "path": "experiments[bad-window].end_time"},
        {"code": "unknown_reference", "path": "experiments[bad-layer].layer.key"},
        {"code": "invalid_value", "path": "experiments[bad-empty].variants"},
        {"code": "invalid_json", "path": "experiments[bad-type].variants[0].weight"},
    ]
    cases = [case("good before the bad ones", "good-first", "user-1", "on", "assigned"),
             case("good after the bad ones (unknown field ignored)", "good-last", "user-1", "on", "assigned"),
             case("unknown key", "bad-nothing", "user-1", None, "unknown_experiment")]
    for exp in experiments[1:-1]:
        cases.append(case(f"{exp['key']} is set aside", exp["key"], "user-1", None, "invalid_config"))
        cases.append(case(f"{exp['key']} is set aside for overrides too", exp["key"], "qa-1", None, "invalid_config"))
    return {"name": "invalid-experiments", "description": "Lenient (SDK) load: bad experiments are set aside "
            "with an error naming the experiment and field; the others run.",
            "config": doc(experiments), "cases": cases, "problems": problems}


FILES = {
    "targeting.json": targeting_file,
    "abn-weights.json": weights_file,
    "traffic.json": traffic_file,
    "status-and-time.json": status_file,
    "overrides.json": overrides_file,
    "layers.json": layers_file,
    "holdouts.json": holdouts_file,
    "multivariate.json": multivariate_file,
    "invalid-experiments.json": invalid_file,
}


def render(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def generate(out: pathlib.Path) -> dict[str, int]:
    out.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, build in FILES.items():
        data = build()
        names = [c["name"] for c in data["cases"]]
        assert len(names) == len(set(names)), f"{name}: case names must be unique"
        (out / name).write_text(render(data), encoding="utf-8")
        counts[name] = len(data["cases"])
    return counts


if __name__ == "__main__":
    target = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "fixtures" / "conformance"
    for file, n in generate(target).items():
        print(f"{n:5d} cases  {file}")
