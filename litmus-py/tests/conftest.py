"""Shared helpers for the tests of the installed ``litmus`` wheel."""

from __future__ import annotations

import json
import pathlib
import sysconfig

import pytest

import litmus

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
