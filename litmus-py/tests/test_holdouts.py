"""Holdout exposures in the Python package: the Engine reports a held-out unit to the holdout's
``holdout`` arm and a unit entering a covered experiment to its ``exposed`` arm, each once
(fixtures/holdouts/exposures.json, which litmus-core and the npm package run too); the tracker
sends them as exposures naming the holdout."""

from __future__ import annotations

import json
from typing import Any

import pytest

import litmus
from conftest import FIXTURES
from fake_litmus import KEY, EventSink

DOC = json.loads((FIXTURES / "holdouts" / "exposures.json").read_text())


def as_row(event: dict[str, Any]) -> list[Any]:
    if "holdout" in event:
        return ["holdout", event["holdout"], event["variant"]]
    return ["experiment", event["experiment"], event["variant"]]


def test_the_engine_reports_the_shared_fixtures_holdout_exposures() -> None:
    seen: list[dict[str, Any]] = []
    engine = litmus.Engine(DOC["config"], on_exposure=seen.append)
    for case in DOC["cases"]:
        before = len(seen)
        engine.assign(case["experiment"], case["unit_id"], case["attributes"])
        assert [as_row(e) for e in seen[before:]] == case["events"], case


def test_the_tracker_sends_holdout_exposures(sink: EventSink) -> None:
    with litmus.EventTracker(sink.url, KEY, flush_interval=60) as t:
        engine = litmus.Engine(DOC["config"], on_exposure=t.on_exposure)
        for case in DOC["cases"]:
            engine.assign(case["experiment"], case["unit_id"], case["attributes"])
        t.holdout_exposure("someone", "q4-holdout", "holdout")
        with pytest.raises(litmus.InvalidArgumentError):
            t.holdout_exposure("someone", "", "holdout")
        assert t.flush(10)
    sent = [e for p in sink.posts for e in p.events]
    want = [row for case in DOC["cases"] for row in case["events"]] + [["holdout", "q4-holdout", "holdout"]]
    assert [as_row(e) for e in sent] == want
    assert all("experiment" not in e for e in sent if "holdout" in e), "a holdout exposure names the holdout only"
