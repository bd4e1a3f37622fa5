"""Every case of fixtures/conformance/*.json through the installed wheel (the Rust core runs
the same files)."""

from __future__ import annotations

import pytest

import litmus

from conftest import FIXTURES, load

FILES = sorted(p.name for p in (FIXTURES / "conformance").glob("*.json"))


def cases():
    for name in FILES:
        doc = load(f"conformance/{name}")
        for case in doc["cases"]:
            yield pytest.param(name, case, id=f"{name}:{case['name']}")


ENGINES: dict[str, litmus.Engine] = {}


def engine_for(name: str) -> litmus.Engine:
    if name not in ENGINES:
        ENGINES[name] = litmus.Engine(load(f"conformance/{name}")["config"])
    return ENGINES[name]


def test_files_and_case_count() -> None:
    assert len(FILES) >= 9
    assert sum(len(load(f"conformance/{n}")["cases"]) for n in FILES) > 2000


@pytest.mark.parametrize("name", FILES)
def test_problems(name: str) -> None:
    doc = load(f"conformance/{name}")
    expected = [(p["code"], p.get("path", "")) for p in doc.get("problems", [])]
    actual = [(e.code, e.path or "") for e in engine_for(name).problems]
    assert actual == expected
    for e in engine_for(name).problems:
        assert isinstance(e, litmus.ConfigError)


def same(a: object, b: object) -> bool:
    """JSON equality with numbers by value (a fixture's 10 is the config's 10.0)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return a == b


def run_flag_case(engine: litmus.Engine, case: dict) -> None:
    e = engine.evaluate(case["flag"], case["unit"], case.get("attributes"), now=case.get("now", False),
                        type=case.get("type"))
    got = {
        "value": e.value,
        "reason": e.reason,
        "rule": e.rule,
        "variant": e.variant,
        "error": e.error,
        "assignment": None if e.assignment is None else {
            "experiment": e.assignment.experiment,
            "variant": e.assignment.variant,
            "in_experiment": e.assignment.in_experiment,
        },
    }
    assert same(got, case["expected"]), (got, case["expected"])


@pytest.mark.parametrize("name,case", list(cases()))
def test_case(name: str, case: dict) -> None:
    engine = engine_for(name)
    if "flag" in case:
        run_flag_case(engine, case)
        return
    now = case.get("now", False)  # no "now": no time known
    if "remembered" in case:
        # The sticky store remembers the case's variant.
        from conftest import sticky_key

        store = {sticky_key(case["experiment"], case["unit"]): case["remembered"]}
        engine = litmus.Engine(load(f"conformance/{name}")["config"], sticky_store=store)
    a = engine.assign(case["experiment"], case["unit"], case.get("attributes"), now=now)
    want = case["expected"]
    assert (a.variant, a.in_experiment, a.reason) == (
        want["variant"],
        want["in_experiment"],
        want["reason"],
    )
    if "miss" in want:
        assert a.miss == want["miss"]
