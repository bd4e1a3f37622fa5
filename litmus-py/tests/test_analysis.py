"""litmus.validate_analysis on the installed wheel: the shared cases of
fixtures/analysis/settings.json (which litmus-core and the npm package run too), so an
experiment's analysis settings are accepted or refused here exactly as the server's admin API
does, with the same codes and paths, and give the settings its results would use."""

from __future__ import annotations

import json

import pytest

import litmus

from conftest import load

DOC = load("analysis/settings.json")


@pytest.mark.parametrize("case", DOC["valid"], ids=[c["name"] for c in DOC["valid"]])
def test_valid_settings_give_the_settings_the_results_use(case: dict) -> None:
    got = litmus.validate_analysis(case["analysis"])
    assert got == case["settings"]
    # JSON text (str or bytes) gives the same answer.
    assert litmus.validate_analysis(json.dumps(case["analysis"])) == got
    assert litmus.validate_analysis(json.dumps(case["analysis"]).encode()) == got


@pytest.mark.parametrize("case", DOC["invalid"], ids=[json.dumps(c["analysis"]) for c in DOC["invalid"]])
def test_invalid_settings_raise_their_code_at_their_path(case: dict) -> None:
    text = json.dumps(case["analysis"])
    with pytest.raises(litmus.ConfigError) as e:
        litmus.validate_analysis(text)
    assert e.value.code == case["code"]
    assert (e.value.path or "") == case["path"]
    assert isinstance(e.value, ValueError)


def test_the_issues_bad_inputs_are_among_the_cases() -> None:
    named = {(c["code"], c["path"]) for c in DOC["invalid"]}
    assert ("invalid_value", "alpha") in named  # alpha outside (0, 0.5]
    assert ("invalid_json", "correction") in named  # an unknown correction
    assert ("invalid_value", "priors.rate.alpha") in named  # an improper prior


def test_no_correction_is_a_multipletests_method() -> None:
    p = [0.01, 0.04, 0.2]
    reject, corrected, _, _ = litmus.stats.multipletests(p, alpha=0.05, method="none")
    assert (reject, corrected) == ([True, True, False], p)


@pytest.mark.parametrize(
    "call,arg,says",
    [
        (litmus.validate_analysis, [0.05], "the settings are a dict"),
        (litmus.plan_experiment, None, "the request is a dict"),
        (litmus.validate_metrics, {"key": "x"}, "the catalogue is a list of metric definitions"),
    ],
)
def test_an_argument_of_the_wrong_type_says_what_it_should_be(call, arg, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(litmus.InvalidArgumentError) as e:
        call(arg)
    assert says in str(e.value) and "or its JSON text" in str(e.value)
