"""litmus.bandit.stratified on the installed wheel: fixtures/stats/bandit_inference.json
(numpy's per-period moments, scipy's z tests and statsmodels' corrections, written by
scripts/gen_stats_fixtures.py), which litmus-core and the npm package run too; bad requests
raise ConfigError at their path."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

import litmus
from conftest import FIXTURES
from litmus.bandit import stratified

CASES = json.loads((FIXTURES / "stats" / "bandit_inference.json").read_text())["cases"]


def close(got: float, want: float) -> bool:
    return math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12)


@pytest.mark.parametrize("case", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_equals_numpy_scipy_and_statsmodels(case: dict[str, Any]) -> None:
    got = stratified(case["request"])
    assert got["method"] == "stratified_by_weight_period"
    assert got["periods"] == case["periods"]
    for arm, want in zip(got["arms"], case["arms"]):
        assert arm["units"] == want["units"]
        if want["value"] is None:
            assert arm["value"] is None
        else:
            assert close(arm["value"]["estimate"], want["value"]["estimate"])
            assert close(arm["value"]["upper"], want["value"]["upper"])
    assert len(got["comparisons"]) == len(case["comparisons"])
    for c, want in zip(got["comparisons"], case["comparisons"]):
        assert c["variant"] == want["variant"]
        assert close(c["difference"]["estimate"], want["difference"]["estimate"])
        assert close(c["pvalue"], want["pvalue"]) and close(c["adjusted_pvalue"], want["adjusted_pvalue"])
        assert c["verdict"] == want["verdict"]
    assert stratified(json.dumps(case["request"])) == got, "text and dict give the same"


def test_bad_requests_raise_at_their_path() -> None:
    good = {"variants": ["a", "b"], "units": {"variant": ["a"], "first_ms": [1], "value": [1]}, "metric": {"kind": "conversion"}}
    for change, code, path in [
        ({"variants": []}, "invalid_value", "variants"),
        ({"units": {"variant": ["c"], "first_ms": [1], "value": [1]}}, "invalid_value", "units.variant[0]"),
        ({"metric": {"kind": "ratio"}}, "invalid_json", "metric.kind"),
        ({"seed": 3}, "unknown_field", "seed"),
    ]:
        with pytest.raises(litmus.ConfigError) as e:
            stratified({**good, **change})
        assert (e.value.code, e.value.path) == (code, path)
    with pytest.raises(litmus.InvalidArgumentError):
        stratified([1, 2])  # type: ignore[arg-type]
