"""The package itself: what ``import litmus`` loads, and its lazy submodule attributes."""

from __future__ import annotations

import subprocess
import sys

import litmus


def run(code: str) -> str:
    """Runs ``code`` in a fresh interpreter (this one has imported every submodule already)."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout


def test_submodules_are_attributes_loaded_on_first_use() -> None:
    out = run(
        "import sys, litmus\n"
        "print('litmus.stats' in sys.modules, 'litmus.bandit' in sys.modules)\n"
        "t = litmus.stats.ttest_ind_from_stats(10.6, 3.1, 4800, 10.2, 3.0, 4750, equal_var=False)\n"
        "print('litmus.stats' in sys.modules, round(t.pvalue, 6))\n"
        "print(litmus.bandit.Policy.__name__, litmus.hashing.bucket.__name__)\n"
        "print('http.client' in sys.modules)\n"
    )
    lines = out.splitlines()
    assert lines[0] == "False False", "import litmus stays fast: no submodule is imported"
    assert lines[1].startswith("True "), out
    assert lines[2] == "Policy bucket"
    assert lines[3] == "False", "litmus.stats does not import the HTTP clients"


def test_attribute_and_from_import_are_the_same_module() -> None:
    from litmus import bandit, client, hashing, openfeature, stats, tracker

    assert (litmus.stats, litmus.bandit, litmus.hashing) == (stats, bandit, hashing)
    assert (litmus.openfeature, litmus.client, litmus.tracker) == (openfeature, client, tracker)
    assert litmus.ConfigClient is client.ConfigClient and litmus.EventTracker is tracker.EventTracker


def test_dir_lists_the_lazy_names_and_unknown_names_still_fail() -> None:
    assert {"stats", "bandit", "hashing", "openfeature", "ConfigClient", "EventTracker"} <= set(dir(litmus))
    try:
        litmus.statz  # type: ignore[attr-defined]
    except AttributeError as e:
        assert "statz" in str(e)
    else:
        raise AssertionError("litmus.statz must raise AttributeError")
