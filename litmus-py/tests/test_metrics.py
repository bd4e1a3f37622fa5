"""litmus.validate_metrics on the installed wheel: the shared cases of
fixtures/metrics/catalogues.json (which litmus-core and the npm package run too), so a catalogue
is accepted or refused here exactly as the server's admin API does, with the same codes and
paths."""

from __future__ import annotations

import json
import math

import pytest

import litmus

from conftest import load

DOC = load("metrics/catalogues.json")
VALID = DOC["valid"]["catalogue"]
DERIVED = "\x01"


def test_a_catalogue_of_every_kind_is_valid() -> None:
    kinds = {d["kind"] for d in VALID}
    assert kinds == {"conversion", "mean", "ratio", "quantile", "retention", "funnel"}
    assert any("window" in d for d in VALID if d["kind"] == "retention")
    assert any("filter" in d for d in VALID if d["kind"] == "conversion")
    assert any("cap" in d for d in VALID if d["kind"] == "mean")
    got = litmus.validate_metrics(VALID)
    assert [(m["key"], m["kind"]) for m in got] == [(m["key"], m["kind"]) for m in DOC["valid"]["metrics"]]
    for m, want in zip(got, DOC["valid"]["metrics"]):
        assert set(m) == {"key", "kind", "rollup"}
        if want["rollup"] is None:
            assert m["rollup"].startswith(f"{DERIVED}{m['key']}@"), m
        else:
            assert m["rollup"] == want["rollup"], m
    # JSON text (str or bytes) and a tuple give the same answer; so does an empty catalogue.
    assert litmus.validate_metrics(json.dumps(VALID)) == got
    assert litmus.validate_metrics(json.dumps(VALID).encode()) == got
    assert litmus.validate_metrics(tuple(VALID)) == got
    assert litmus.validate_metrics([]) == []


@pytest.mark.parametrize("case", DOC["invalid"], ids=[c["name"] for c in DOC["invalid"]])
def test_an_invalid_definition_raises_its_code_at_its_path(case: dict) -> None:
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics(VALID + [case["definition"]])
    assert (e.value.code, e.value.path) == (case["code"], case["path"])
    assert isinstance(e.value, ValueError) and e.value.problems == []
    assert case["path"] in str(e.value)


def test_the_cases_the_issue_names() -> None:
    named = {(c["code"], c["path"]) for c in DOC["invalid"]}
    assert ("invalid_value", "metrics[x].cap.absolute") in named  # a negative cap
    assert ("invalid_value", "metrics[x].denominator") in named  # a ratio over itself
    assert ("invalid_value", "metrics[x].steps") in named  # an empty funnel
    assert any(code == "unknown_reference" for code, _ in named)  # an unknown ratio part


def test_several_problems_are_one_error_listing_each() -> None:
    multiple = DOC["multiple"]
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics(VALID + multiple["definitions"])
    assert e.value.code == "multiple" and e.value.path is None
    assert [{"code": p.code, "path": p.path} for p in e.value.problems] == multiple["problems"]
    assert all(isinstance(p, litmus.ConfigError) for p in e.value.problems)


def test_a_catalogue_that_is_not_one_raises_typed_errors() -> None:
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics("[{")
    assert e.value.code == "invalid_json"
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics('{"metrics": []}')
    assert (e.value.code, e.value.path) == ("invalid_json", "metrics")
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics([42])
    assert (e.value.code, e.value.path) == ("invalid_json", "metrics[0]")
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics(b"\xff")
    assert e.value.code == "invalid_json"
    for bad in ({"key": "x"}, 42, None):
        with pytest.raises(litmus.InvalidArgumentError):
            litmus.validate_metrics(bad)  # type: ignore[arg-type]
    # NaN and infinities are not JSON: typed errors, never a panic.
    for bad in (math.nan, math.inf):
        with pytest.raises(litmus.InvalidArgumentError):
            litmus.validate_metrics([{"key": "x", "kind": "mean", "event": "p", "cap": {"absolute": bad}}])
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_metrics('[{"key": "x", "kind": "mean", "event": "p", "cap": {"absolute": NaN}}]')
    assert e.value.code == "invalid_json"
    # A strict check: the NUL character is refused, as the server refuses it.
    with pytest.raises(litmus.ConfigError):
        litmus.validate_metrics([{"key": "x", "kind": "mean", "event": "p\x00"}])
