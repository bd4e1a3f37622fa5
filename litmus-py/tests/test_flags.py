"""Feature flags through the installed wheel: evaluation, typed values, exposures, time and
bad input (the shared conformance files run in test_conformance.py)."""

from __future__ import annotations

import datetime

import pytest

import litmus

FLAGS = {
    "schema_version": 1,
    "experiments": [
        {"key": "color-test", "status": "running", "variants": [{"key": "control"}, {"key": "green"}],
         "overrides": {"qa-1": "green"}},
    ],
    "flags": [
        {"key": "new-checkout", "type": "boolean", "default": False, "description": "the new checkout",
         "tags": ["checkout", "q4"], "rules": [
             {"id": "staff", "kind": "force", "condition": {"attribute": "email", "op": "ends_with", "value": "@litmus.dev"}, "value": True},
             {"id": "ramp", "kind": "rollout", "percentage": 30, "value": True},
         ]},
        {"key": "button-color", "type": "string", "default": "grey", "rules": [
            {"id": "test", "kind": "experiment", "experiment": "color-test", "values": {"control": "grey", "green": "green"}},
        ]},
        {"key": "limit", "type": "number", "default": 10},
        {"key": "theme", "type": "json", "default": {"dark": False}},
        {"key": "launch", "type": "boolean", "default": False, "enabled": False,
         "schedule": [{"at": "2026-12-10T09:00:00Z", "enabled": True}], "rules": [{"kind": "force", "value": True}]},
    ],
}


def test_evaluate_returns_value_rule_reason_and_variant() -> None:
    engine = litmus.Engine(FLAGS)
    e = engine.evaluate("new-checkout", "u-1", {"email": "ada@litmus.dev"})
    assert isinstance(e, litmus.FlagEvaluation)
    assert (e.flag, e.unit_id, e.value, e.reason, e.rule, e.variant, e.error) == (
        "new-checkout", "u-1", True, "TARGETING_MATCH", "staff", "staff", None)
    assert e.assignment is None
    assert e.flag_metadata == {"type": "boolean", "description": "the new checkout", "tags": "checkout,q4"}
    on = sum(engine.boolean_value("new-checkout", f"user-{i}") for i in range(5000))
    assert 1300 < on < 1700
    d = engine.evaluate("limit", "u").to_dict()
    assert d == {"flag": "limit", "unit_id": "u", "value": 10, "reason": "STATIC", "rule": None,
                 "variant": "default", "error": None, "assignment": None}
    assert 'FlagEvaluation(flag="limit"' in repr(engine.evaluate("limit", "u"))


def test_typed_values_and_mismatches() -> None:
    engine = litmus.Engine(FLAGS)
    assert engine.number_value("limit", "u") == 10.0
    assert engine.json_value("theme", "u") == {"dark": False}
    assert engine.string_value("button-color", "u", default="x") in ("grey", "green")
    # A flag of another type, or an unknown one, serves the caller's default.
    assert engine.boolean_value("limit", "u", default=True) is True
    assert engine.string_value("nope", "u", default="fallback") == "fallback"
    assert engine.json_value("nope", "u") is None
    e = engine.evaluate("limit", "u", type="boolean")
    assert (e.value, e.reason, e.error, e.variant) == (None, "ERROR", "type_mismatch", None)
    assert engine.evaluate("nope", "u").error == "flag_not_found"
    with pytest.raises(litmus.InvalidArgumentError) as info:
        engine.evaluate("limit", "u", type="integer")
    assert info.value.code == "invalid_argument"


def test_experiment_rules_report_exposures_once() -> None:
    events: list[dict] = []
    engine = litmus.Engine(FLAGS, on_exposure=events.append)
    for _ in range(3):
        e = engine.evaluate("button-color", "u-7")
    assert e.reason == "SPLIT" and e.rule == "test"
    assert e.assignment is not None and e.assignment.experiment == "color-test"
    assert e.variant == e.assignment.variant
    assert e.value == {"control": "grey", "green": "green"}[e.variant]
    assert [(x["experiment"], x["unit_id"], x["variant"]) for x in events] == [("color-test", "u-7", e.variant)]
    engine.string_value("button-color", "u-8")
    assert len(events) == 2
    # An override is a targeting match and no exposure.
    qa = engine.evaluate("button-color", "qa-1")
    assert (qa.value, qa.reason, qa.assignment.in_experiment) == ("green", "TARGETING_MATCH", False)
    assert len(events) == 2
    all_flags = engine.evaluate_all("u-9", {"email": "x@litmus.dev"})
    assert list(all_flags) == ["new-checkout", "button-color", "limit", "theme", "launch"]
    assert all_flags["new-checkout"].value is True
    assert len(events) == 3


def test_scheduled_changes_follow_now() -> None:
    engine = litmus.Engine(FLAGS)
    assert engine.evaluate("launch", "u", now=False).reason == "DISABLED"
    assert engine.evaluate("launch", "u", now="2026-12-10T08:59:59Z").value is False
    assert engine.evaluate("launch", "u", now=datetime.datetime(2026, 12, 10, 9)).value is True
    # Without `now` the wall clock decides: this machine's clock is past 10 Dec 2026.
    assert engine.boolean_value("launch", "u") is (datetime.datetime.now(datetime.timezone.utc)
                                                  >= datetime.datetime(2026, 12, 10, 9, tzinfo=datetime.timezone.utc))


def test_bad_flags_are_problems_and_strict_loading_refuses_them() -> None:
    bad = {"schema_version": 1, "flags": [
        {"key": "a", "type": "boolean", "default": False,
         "rules": [{"kind": "prerequisite", "flag": "b", "is": True, "value": True}]},
        {"key": "b", "type": "boolean", "default": False,
         "rules": [{"kind": "prerequisite", "flag": "a", "is": True, "value": True}]},
        {"key": "r", "type": "boolean", "default": False, "rules": [{"kind": "rollout", "percentage": 150, "value": True}]},
    ]}
    engine = litmus.Engine(bad)
    assert [(p.code, p.path) for p in engine.problems] == [
        ("prerequisite_cycle", "flags[a].rules[0].flag"),
        ("prerequisite_cycle", "flags[b].rules[0].flag"),
        ("invalid_value", "flags[r].rules[0].percentage"),
    ]
    assert "a -> b -> a" in str(engine.problems[0])
    assert engine.evaluate("a", "u").error == "invalid_config"
    assert engine.flag_keys() == ["a", "b", "r"]
    with pytest.raises(litmus.ConfigError) as info:
        litmus.Engine(bad, strict=True)
    assert info.value.code == "multiple"
    # A failed update keeps the last good document.
    good = litmus.Engine(FLAGS)
    with pytest.raises(litmus.ConfigError):
        good.update("{nope")
    assert good.number_value("limit", "u") == 10.0


def _colors(salt: str, weights: tuple[float, float]) -> dict:
    """An experiment behind a flag's experiment rule, and a flag gated on that flag; the split
    (salt and weights) varies so units move between configs."""
    return {
        "schema_version": 1,
        "experiments": [
            {"key": "color-test", "salt": salt, "status": "running",
             "variants": [{"key": "control", "weight": weights[0]}, {"key": "green", "weight": weights[1]}]},
        ],
        "flags": [
            {"key": "button-color", "type": "string", "default": "none", "rules": [
                {"id": "test", "kind": "experiment", "experiment": "color-test",
                 "values": {"control": "grey", "green": "green"}},
            ]},
            {"key": "green-gate", "type": "boolean", "default": False, "rules": [
                {"id": "gate", "kind": "prerequisite", "flag": "button-color", "is": "green", "value": True},
            ]},
            {"key": "limit", "type": "number", "default": 10, "rules": [{"id": "all", "kind": "force", "value": 5}]},
        ],
    }


BEFORE = _colors("s1", (1, 1))
AFTER = _colors("s2", (1, 9))
VALUES = {"control": "grey", "green": "green"}
UNITS = [f"u{i}" for i in range(200)]


def _moved(before: dict) -> list[str]:
    """The units (with their variant under BEFORE) that AFTER puts in another variant."""
    old, new = litmus.Engine(before), litmus.Engine(AFTER)
    first = {u: old.evaluate("button-color", u).variant for u in UNITS}
    return [u for u in UNITS if new.evaluate("button-color", u).variant != first[u]]


def test_sticky_store_keeps_flag_experiment_variants_when_the_split_changes() -> None:
    from conftest import sticky_key

    moved = _moved(BEFORE)
    assert len(moved) > 20, "the new split must move units for the test to mean anything"
    store: dict[str, str] = {}
    events: list[dict] = []
    engine = litmus.Engine(BEFORE, sticky_store=store, on_exposure=events.append)
    first = {}
    for u in UNITS:
        e = engine.evaluate("button-color", u)
        assert (e.reason, e.assignment.reason, e.value) == ("SPLIT", "assigned", VALUES[e.variant])
        first[u] = e.variant
    assert set(first.values()) == {"control", "green"}
    # Remembered under core's key, one per (experiment, unit).
    assert store == {sticky_key("color-test", u): v for u, v in first.items()}

    engine.update(AFTER)
    for u in moved:
        e = engine.evaluate("button-color", u)
        # The remembered variant's value, with the sticky reason mapping experiments use.
        assert (e.variant, e.value, e.reason, e.rule) == (first[u], VALUES[first[u]], "SPLIT", "test")
        assert (e.assignment.variant, e.assignment.reason, e.assignment.in_experiment) == (first[u], "sticky", True)
        # The typed values and a prerequisite on the flag read the same memory.
        assert engine.string_value("button-color", u) == VALUES[first[u]]
        assert engine.boolean_value("green-gate", u) is (first[u] == "green")
        assert engine.evaluate("button-color", u, type="string").assignment.reason == "sticky"
        # Nothing new is remembered over a kept variant.
        assert store[sticky_key("color-test", u)] == first[u]
    # One exposure per unit, the first one's.
    assert sorted((x["unit_id"], x["variant"], x["reason"]) for x in events) == sorted(
        (u, first[u], "assigned") for u in UNITS)
    # evaluate_all keeps them too.
    for u in moved[:10]:
        all_flags = engine.evaluate_all(u)
        assert all_flags["button-color"].value == VALUES[first[u]]
        assert all_flags["button-color"].assignment.reason == "sticky"
        assert all_flags["green-gate"].value is (first[u] == "green")
    # A type mismatch reads nothing and remembers nothing.
    assert engine.evaluate("button-color", "fresh", type="boolean").error == "type_mismatch"
    assert sticky_key("color-test", "fresh") not in store


def test_without_a_sticky_store_flag_experiment_variants_move() -> None:
    moved = _moved(BEFORE)
    engine = litmus.Engine(BEFORE)
    first = {u: engine.evaluate("button-color", u).variant for u in moved}
    engine.update(AFTER)
    for u in moved:
        e = engine.evaluate("button-color", u)
        assert e.variant != first[u] and e.assignment.reason == "assigned"
        assert engine.evaluate_all(u)["button-color"].variant != first[u]


def test_assign_and_flags_share_the_sticky_memory() -> None:
    moved = _moved(BEFORE)
    # assign() first, then the flag.
    store: dict[str, str] = {}
    engine = litmus.Engine(BEFORE, sticky_store=store)
    first = {u: engine.assign("color-test", u).variant for u in moved}
    engine.update(AFTER)
    for u in moved:
        e = engine.evaluate("button-color", u)
        assert (e.variant, e.value, e.assignment.reason) == (first[u], VALUES[first[u]], "sticky")
        assert engine.evaluate_all(u)["button-color"].variant == first[u]
        assert engine.string_value("button-color", u) == VALUES[first[u]]
    # The flag first (evaluate, a typed value, or evaluate_all), then assign().
    engine = litmus.Engine(BEFORE, sticky_store={})
    first = {}
    for i, u in enumerate(moved):
        if i % 3 == 0:
            first[u] = engine.evaluate("button-color", u).variant
        elif i % 3 == 1:
            value = engine.string_value("button-color", u)
            first[u] = next(k for k, v in VALUES.items() if v == value)
        else:
            first[u] = engine.evaluate_all(u)["button-color"].variant
    engine.update(AFTER)
    for u in moved:
        a = engine.assign("color-test", u)
        assert (a.variant, a.reason) == (first[u], "sticky")


def test_sticky_flag_evaluation_with_odd_stores() -> None:
    from conftest import sticky_key

    # A variant the experiment does not have is ignored: a fresh assignment replaces it.
    store = {sticky_key("color-test", "u1"): "purple"}
    engine = litmus.Engine(BEFORE, sticky_store=store)
    e = engine.evaluate("button-color", "u1")
    assert e.assignment.reason == "assigned" and store[sticky_key("color-test", "u1")] == e.variant

    # A store that fails raises its error, and nothing is exposed.
    class Broken:
        def get(self, key: str) -> str:
            raise RuntimeError("store down")

        def set(self, key: str, value: str) -> None:
            raise AssertionError("not reached")

    events: list[dict] = []
    broken = litmus.Engine(BEFORE, sticky_store=Broken(), on_exposure=events.append)
    with pytest.raises(RuntimeError, match="store down"):
        broken.evaluate("button-color", "u1")
    with pytest.raises(RuntimeError, match="store down"):
        broken.boolean_value("green-gate", "u1")
    with pytest.raises(RuntimeError, match="store down"):
        broken.evaluate_all("u1")
    assert events == []
    # Flags that reach no experiment rule never read the store.
    assert broken.number_value("limit", "u1") == 5
    assert broken.evaluate("nope", "u1").error == "flag_not_found"
