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


@pytest.mark.parametrize("name,case", list(cases()))
def test_case(name: str, case: dict) -> None:
    engine = engine_for(name)
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
