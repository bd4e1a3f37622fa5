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
