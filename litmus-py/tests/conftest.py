"""Shared helpers for the tests of the installed ``litmus`` wheel."""

from __future__ import annotations

import json
import pathlib
import sysconfig

import os

from typing import Iterator

import pytest
from hypothesis import settings

import litmus
from fake_litmus import EventSink

# CI runs a fixed set of examples (derandomized), so a red run always reproduces; run with
# HYPOTHESIS_PROFILE=explore locally to search new inputs.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.register_profile("explore", max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

REPO = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = REPO / "fixtures"


def pytest_configure(config: pytest.Config) -> None:
    # The tests prove the wheel, not the source tree: litmus must come from site-packages.
    site = pathlib.Path(sysconfig.get_paths()["purelib"]).resolve()
    where = pathlib.Path(litmus.__file__).resolve()
    if site not in where.parents:
        raise pytest.UsageError(f"litmus imported from {where}, not from the installed wheel in {site}")


def load(relative: str) -> dict:
    with open(FIXTURES / relative, encoding="utf-8") as f:
        return json.load(f)


def sticky_key(experiment: str, unit: str) -> str:
    """The key litmus uses in sticky stores (length-prefixed experiment key)."""
    return f"{len(experiment)}:{experiment}:{unit}"


@pytest.fixture
def sink() -> Iterator[EventSink]:
    """A stand-in for POST /events (fake_litmus.EventSink), stopped after the test, which
    fails if a request broke the contract."""
    s = EventSink()
    yield s
    s.stop()
    assert s.problems == [], "requests that break the POST /events contract"
