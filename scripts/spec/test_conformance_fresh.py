"""The committed conformance suite is exactly what the generator writes, and well formed."""

from __future__ import annotations

import json
import pathlib

import gen_conformance

COMMITTED = gen_conformance.REPO / "fixtures" / "conformance"
REASONS = {"assigned", "override", "not_running", "targeting_miss", "holdout", "other_layer_member",
           "not_in_traffic", "unknown_experiment", "invalid_config"}
MISSES = {"false", "attribute_missing", "type_mismatch"}


def test_fixtures_are_fresh(tmp_path: pathlib.Path) -> None:
    gen_conformance.generate(tmp_path)
    generated = sorted(p.name for p in tmp_path.glob("*.json"))
    committed = sorted(p.name for p in COMMITTED.glob("*.json"))
    assert generated == committed
    stale = [n for n in generated if (tmp_path / n).read_bytes() != (COMMITTED / n).read_bytes()]
    assert not stale, f"regenerate with: python scripts/spec/gen_conformance.py ({stale})"


def test_cases_are_well_formed() -> None:
    total = 0
    for path in COMMITTED.glob("*.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["config"]["schema_version"] == 1
        for c in data["cases"]:
            e = c["expected"]
            assert e["reason"] in REASONS, (path.name, c["name"])
            assert e["in_experiment"] == (e["reason"] == "assigned"), (path.name, c["name"])
            assert ("miss" in e) == (e["reason"] == "targeting_miss"), (path.name, c["name"])
            if "miss" in e:
                assert e["miss"] in MISSES
            if e["reason"] in {"assigned", "override"}:
                assert isinstance(e["variant"], str)
            else:
                assert e["variant"] is None
            total += 1
    assert total >= 400
