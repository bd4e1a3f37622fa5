"""litmus.plan_experiment on the installed wheel: the shared cases of
fixtures/planning/cases.json (which litmus-core, the server and the npm package run too): the
units per variant statsmodels' NormalIndPower gives (rounded up), the exact detectable lift, and
the code and path of each invalid request."""

from __future__ import annotations

import json
import math

import pytest
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import proportion_effectsize

import litmus

from conftest import load

DOC = load("planning/cases.json")


@pytest.mark.parametrize("case", DOC["valid"], ids=[c["name"] for c in DOC["valid"]])
def test_plans_equal_the_fixture(case: dict) -> None:
    got = litmus.plan_experiment(case["request"])
    plan = got["plan"]
    assert (plan["units_per_variant"], plan["total_units"], plan["alpha"]) == (
        case["units_per_variant"],
        case["total_units"],
        case["alpha"],
    )
    if case["days"] is None:
        assert plan["days"] is None
    else:
        assert math.isclose(plan["days"], case["days"], rel_tol=1e-12)
    if "lift" in case:
        assert math.isclose(plan["lift"], case["lift"], rel_tol=1e-9)
    assert got["baseline"] == {k: (float(v) if k != "kind" else v) for k, v in case["request"]["baseline"].items()}
    assert litmus.plan_experiment(json.dumps(case["request"])) == got


@pytest.mark.parametrize("case", DOC["invalid"], ids=[json.dumps(c["request"]) for c in DOC["invalid"]])
def test_invalid_requests_raise_their_code_at_their_path(case: dict) -> None:
    with pytest.raises(litmus.ConfigError) as e:
        litmus.plan_experiment(case["request"])
    assert (e.value.code, e.value.path or "") == (case["code"], case["path"])


@pytest.mark.parametrize("rate,lift", [(0.05, 0.1), (0.3, 0.02), (0.5, 0.2)])
def test_fixed_horizon_units_equal_statsmodels_on_fresh_inputs(rate: float, lift: float) -> None:
    want = NormalIndPower().solve_power(proportion_effectsize(rate * (1 + lift), rate), power=0.8, alpha=0.05)
    got = litmus.plan_experiment({"baseline": {"kind": "rate", "rate": rate}, "lift": lift, "analysis": {"basis": "fixed_horizon"}})
    # statsmodels' solver stops within about 1e-4 of the root: the rounded-up units agree, or
    # differ by one where the root is that close to a whole number.
    assert abs(got["plan"]["units_per_variant"] - math.ceil(want)) <= 1
    assert got["plan"]["units_per_variant"] >= want - 1e-3


def test_the_always_valid_plan_needs_more_units() -> None:
    req = {"baseline": {"kind": "mean", "mean": 10, "sd": 20}, "lift": 0.05}
    sequential = litmus.plan_experiment(req)["plan"]
    assert sequential["basis"] == "sequential"
    assert sequential["units_per_variant"] > sequential["fixed_horizon_units"]
