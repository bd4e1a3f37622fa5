"""The OpenFeature provider through the real openfeature-sdk client."""

from __future__ import annotations

import pytest

openfeature = pytest.importorskip("openfeature")

from openfeature import api  # noqa: E402
from openfeature.evaluation_context import EvaluationContext  # noqa: E402
from openfeature.exception import ErrorCode  # noqa: E402
from openfeature.flag_evaluation import Reason  # noqa: E402

import litmus  # noqa: E402
from litmus.openfeature import LitmusProvider  # noqa: E402

CONFIG = {
    "schema_version": 1,
    "experiments": [
        {"key": "button", "status": "running", "variants": [{"key": "control"}, {"key": "treatment"}]},
        {"key": "dark-mode", "status": "running", "variants": [{"key": "on", "payload": True}]},
        {"key": "limit", "status": "running", "variants": [{"key": "ten", "payload": 10}]},
        {"key": "ratio", "status": "running", "variants": [{"key": "half", "payload": 0.5}]},
        {"key": "layout", "status": "running", "variants": [{"key": "grid", "payload": {"cols": 3}}]},
        {"key": "de-only", "status": "running", "variants": [{"key": "x", "payload": "hallo"}],
         "targeting": {"attribute": "country", "op": "eq", "value": "DE"}},
        {"key": "paused", "status": "paused", "variants": [{"key": "x"}]},
        {"key": "qa", "status": "running", "variants": [{"key": "a"}, {"key": "b"}], "overrides": {"tester": "b"}},
    ],
}


@pytest.fixture()
def client():
    engine = litmus.Engine(CONFIG)
    api.set_provider(LitmusProvider(engine))
    yield api.get_client(), engine
    api.clear_providers()


def ctx(unit: str = "user-1", **attrs) -> EvaluationContext:
    return EvaluationContext(unit, attrs)


def test_typed_values(client) -> None:
    c, engine = client
    d = c.get_string_details("button", "none", ctx())
    assert d.value == engine.assign("button", "user-1").variant and d.reason == Reason.SPLIT
    assert d.variant == d.value and d.flag_metadata["in_experiment"] is True
    assert c.get_boolean_value("dark-mode", False, ctx()) is True
    assert c.get_integer_value("limit", 0, ctx()) == 10
    assert c.get_float_value("ratio", 0.0, ctx()) == 0.5
    assert c.get_float_value("limit", 0.0, ctx()) == 10.0
    assert c.get_object_value("layout", {}, ctx()) == {"cols": 3}
    assert c.get_string_value("de-only", "default", ctx(country="DE")) == "hallo"


def test_defaults_and_errors(client) -> None:
    c, _ = client
    miss = c.get_string_details("de-only", "default", ctx(country="US"))
    assert (miss.value, miss.reason, miss.flag_metadata["litmus_reason"]) == ("default", Reason.DEFAULT, "targeting_miss")
    paused = c.get_string_details("paused", "default", ctx())
    assert (paused.value, paused.reason) == ("default", Reason.DISABLED)
    qa = c.get_string_details("qa", "default", ctx("tester"))
    assert (qa.value, qa.reason, qa.flag_metadata["in_experiment"]) == ("b", Reason.TARGETING_MATCH, False)
    unknown = c.get_string_details("nope", "default", ctx())
    assert (unknown.value, unknown.error_code) == ("default", ErrorCode.FLAG_NOT_FOUND)
    mismatch = c.get_boolean_details("limit", False, ctx())
    assert (mismatch.value, mismatch.error_code) == (False, ErrorCode.TYPE_MISMATCH)
    no_key = c.get_string_details("button", "default", EvaluationContext(None, {}))
    assert (no_key.value, no_key.error_code) == ("default", ErrorCode.TARGETING_KEY_MISSING)
    assert LitmusProvider(litmus.Engine(CONFIG)).get_metadata().name == "litmus"


FLAGS = {
    "schema_version": 1,
    "experiments": [{"key": "color-test", "status": "running", "variants": [{"key": "control"}, {"key": "green"}]}],
    "flags": [
        {"key": "new-checkout", "type": "boolean", "default": False, "description": "one-page checkout", "tags": ["checkout"],
         "rules": [{"id": "staff", "kind": "force", "condition": {"attribute": "email", "op": "ends_with", "value": "@litmus.dev"}, "value": True}]},
        {"key": "off", "type": "boolean", "default": True, "enabled": False},
        {"key": "button-color", "type": "string", "default": "grey",
         "rules": [{"id": "test", "kind": "experiment", "experiment": "color-test", "values": {"control": "grey", "green": "green"}}]},
        {"key": "limit", "type": "number", "default": 10},
        {"key": "ratio", "type": "number", "default": 0.25},
        {"key": "theme", "type": "json", "default": {"dark": True}},
        {"key": "ramp", "type": "string", "default": "old", "rules": [{"id": "half", "kind": "rollout", "percentage": 50, "value": "new"}]},
        {"key": "broken", "type": "boolean", "default": "no"},
    ],
}


@pytest.fixture()
def flag_client():
    events: list[dict] = []
    engine = litmus.Engine(FLAGS, on_exposure=events.append)
    api.set_provider(LitmusProvider(engine))
    yield api.get_client(), engine, events
    api.clear_providers()


def test_flags_resolve_with_their_reasons_variants_and_metadata(flag_client) -> None:
    c, engine, events = flag_client
    d = c.get_boolean_details("new-checkout", False, ctx(email="ada@litmus.dev"))
    assert (d.value, d.reason, d.variant, d.error_code) == (True, Reason.TARGETING_MATCH, "staff", None)
    assert d.flag_metadata == {"type": "boolean", "description": "one-page checkout", "tags": "checkout", "rule": "staff"}
    d = c.get_boolean_details("new-checkout", True, ctx(email="x@example.com"))
    assert (d.value, d.reason, d.variant) == (False, Reason.DEFAULT, "default")
    d = c.get_boolean_details("off", False, ctx())
    assert (d.value, d.reason) == (True, Reason.DISABLED)
    d = c.get_string_details("button-color", "x", ctx("u-5"))
    assert d.reason == Reason.SPLIT and d.variant in ("control", "green")
    assert d.value == {"control": "grey", "green": "green"}[d.variant]
    assert d.flag_metadata["experiment"] == "color-test" and d.flag_metadata["in_experiment"] is True
    assert [(e["experiment"], e["unit_id"]) for e in events] == [("color-test", "u-5")]
    assert c.get_integer_value("limit", 0, ctx()) == 10
    assert c.get_float_value("ratio", 0.0, ctx()) == 0.25
    assert c.get_float_value("limit", 0.0, ctx()) == 10.0
    assert c.get_object_value("theme", {}, ctx()) == {"dark": True}
    d = c.get_string_details("ramp", "x", ctx("user-3"))
    assert d.reason in (Reason.SPLIT, Reason.DEFAULT)
    assert d.value == engine.string_value("ramp", "user-3")
    assert c.get_string_details("limit", "x", ctx()).reason == Reason.ERROR


def test_flag_errors_are_typed(flag_client) -> None:
    c, _, _ = flag_client
    d = c.get_string_details("limit", "fallback", ctx())
    assert (d.value, d.reason, d.error_code) == ("fallback", Reason.ERROR, ErrorCode.TYPE_MISMATCH)
    d = c.get_integer_details("ratio", 7, ctx())
    assert (d.value, d.error_code) == (7, ErrorCode.TYPE_MISMATCH)
    d = c.get_boolean_details("broken", True, ctx())
    assert (d.value, d.error_code) == (True, ErrorCode.PARSE_ERROR)
    d = c.get_boolean_details("nothing-by-that-name", True, ctx())
    assert (d.value, d.error_code) == (True, ErrorCode.FLAG_NOT_FOUND)
    d = c.get_boolean_details("new-checkout", True, EvaluationContext(None, {}))
    assert d.error_code == ErrorCode.TARGETING_KEY_MISSING
