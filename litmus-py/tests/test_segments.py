"""Segments in the Python package: an Engine's exposure events carry the unit's values of the
experiment's dimensions (fixtures/segments/dimension_values.json, which litmus-core and the npm
package run too), and the tracker sends them with the exposure."""

from __future__ import annotations

import json
from typing import Any

import pytest

import litmus
from conftest import FIXTURES
from fake_litmus import KEY, EventSink

DOC = json.loads((FIXTURES / "segments" / "dimension_values.json").read_text())


def test_exposure_events_carry_the_dimension_values_of_the_shared_fixture() -> None:
    seen: list[dict[str, Any]] = []
    engine = litmus.Engine(DOC["config"], on_exposure=seen.append)
    for i, case in enumerate(DOC["cases"]):
        engine.assign("checkout", f"u{i}", case["attributes"])
        assert seen[-1]["dimensions"] == case["dimensions"], case
    assert len(seen) == len(DOC["cases"])
    # assign_all reports them too.
    engine.assign_all("other-unit", {"country": "JP"})
    assert seen[-1]["dimensions"] == {"country": "JP"}


def test_the_tracker_sends_an_exposures_dimensions(sink: EventSink) -> None:
    with litmus.EventTracker(sink.url, KEY, flush_interval=60) as t:
        engine = litmus.Engine(DOC["config"], on_exposure=t.on_exposure)
        engine.assign("checkout", "u1", {"country": "FR", "os": "ios"})
        t.exposure("u2", "checkout", "a", dimensions={"country": "DE"})
        t.exposure("u3", "checkout", "a")
        with pytest.raises(litmus.InvalidArgumentError):
            t.exposure("u4", "checkout", "a", dimensions={"country": 3})  # type: ignore[dict-item]
        with pytest.raises(litmus.InvalidArgumentError):
            t.exposure("u4", "checkout", "a", dimensions={"bad key": "x"})
        assert t.flush(10)
    events = [e for p in sink.posts for e in p.events]
    by_unit = {e["unit_id"]: e for e in events}
    assert by_unit["u1"]["dimensions"] == {"country": "FR", "platform": "ios"}
    assert by_unit["u2"]["dimensions"] == {"country": "DE"}
    assert "dimensions" not in by_unit["u3"], "none sent when there are none"
    assert len(events) == 3
