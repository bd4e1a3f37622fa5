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
