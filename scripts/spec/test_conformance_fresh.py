"""The committed conformance suite (fixtures/conformance/*.json) is exactly what
gen_conformance.py writes, and every file is well formed."""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest

import gen_conformance

HERE = pathlib.Path(__file__).resolve().parent
COMMITTED = gen_conformance.REPO / "fixtures" / "conformance"
REASONS = {"assigned", "sticky", "override", "not_running", "targeting_miss", "holdout", "other_layer_member",
           "not_in_traffic", "unknown_experiment", "invalid_config"}
MISSES = {"false", "attribute_missing", "type_mismatch"}
PROBLEM_CODES = {"invalid_json", "unsupported_schema_version", "unsupported_hash_version",
                 "missing_field", "unknown_field", "invalid_value", "duplicate_key",
                 "unknown_reference", "invalid_regex", "overlapping_ranges", "limit_exceeded",
                 "prerequisite_cycle"}
EXPECTED_FILES = {"targeting.json", "abn-weights.json", "traffic.json", "status-and-time.json",
                  "overrides.json", "layers.json", "holdouts.json", "multivariate.json",
                  "invalid-experiments.json", "sticky.json", "flags-rules.json",
                  "flags-rollout.json", "flags-experiments.json", "flags-prerequisites.json",
                  "flags-schedule.json", "flags-invalid.json"}
FLAG_REASONS = {"STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "ERROR"}
FLAG_ERRORS = {"flag_not_found", "invalid_config", "type_mismatch"}
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def committed_files() -> dict[str, dict]:
    paths = sorted(COMMITTED.glob("*.json"))
    if not paths:
        pytest.fail(f"no fixtures in {COMMITTED}: run python scripts/spec/gen_conformance.py")
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in paths}


def test_fixtures_are_fresh(tmp_path: pathlib.Path) -> None:
    """Running the generator into a temporary directory reproduces the committed files byte
    for byte (so the fixtures cannot drift from the generator)."""
    subprocess.run([sys.executable, str(HERE / "gen_conformance.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    generated = sorted(p.name for p in tmp_path.glob("*.json"))
    committed = sorted(p.name for p in COMMITTED.glob("*.json"))
    assert set(generated) == EXPECTED_FILES
    assert generated == committed, "fixtures/conformance holds files the generator does not write"
    stale = [n for n in generated if (tmp_path / n).read_bytes() != (COMMITTED / n).read_bytes()]
    assert not stale, f"stale fixtures {stale}: regenerate with python scripts/spec/gen_conformance.py"


def test_generator_is_deterministic() -> None:
    assert gen_conformance.generate() == gen_conformance.generate()


def test_files_are_well_formed() -> None:
    for fname, doc in committed_files().items():
        assert list(doc)[:4] == ["name", "description", "config", "cases"], fname
        assert doc["name"] + ".json" == fname
        assert doc["config"]["schema_version"] == 1
        names = [c["name"] for c in doc["cases"]]
        assert len(names) == len(set(names)), f"{fname}: duplicate case names"
        for p in doc.get("problems", []):
            assert set(p) == {"code", "path"} and p["code"] in PROBLEM_CODES, (fname, p)
        for c in doc["cases"]:
            if fname.startswith("flags-"):
                check_flag_case(fname, c)
                continue
            assert set(c) <= {"name", "experiment", "unit", "attributes", "now", "remembered",
                              "expected"}, c["name"]
            assert isinstance(c["unit"], str) and isinstance(c["experiment"], str)
            if "now" in c:
                assert RFC3339.match(c["now"]), (fname, c["name"])
            e = c["expected"]
            where = (fname, c["name"])
            assert e["reason"] in REASONS, where
            assert e["in_experiment"] == (e["reason"] in {"assigned", "sticky"}), where
            assert ("miss" in e) == (e["reason"] == "targeting_miss"), where
            if "miss" in e:
                assert e["miss"] in MISSES, where
            if e["reason"] in {"assigned", "sticky", "override"}:
                assert isinstance(e["variant"], str), where
            else:
                assert e["variant"] is None, where


def check_flag_case(fname: str, c: dict) -> None:
    where = (fname, c["name"])
    assert set(c) <= {"name", "flag", "unit", "attributes", "now", "type", "expected"}, where
    assert isinstance(c["unit"], str) and isinstance(c["flag"], str)
    if "now" in c:
        assert RFC3339.match(c["now"]), where
    e = c["expected"]
    assert set(e) == {"value", "reason", "rule", "variant", "error", "assignment"}, where
    assert e["reason"] in FLAG_REASONS, where
    assert (e["error"] in FLAG_ERRORS) == (e["reason"] == "ERROR"), where
    assert (e["value"] is None) == (e["reason"] == "ERROR"), where
    assert (e["assignment"] is not None) <= (e["reason"] in {"SPLIT", "TARGETING_MATCH"}), where


def test_flag_files_cover_every_reason_and_error() -> None:
    cases = [c for n, d in committed_files().items() if n.startswith("flags-") for c in d["cases"]]
    assert len(cases) >= 1000
    assert {c["expected"]["reason"] for c in cases} == FLAG_REASONS
    assert {c["expected"]["error"] for c in cases} - {None} == FLAG_ERRORS
    assert any(c["expected"]["assignment"] for c in cases)


def test_suite_is_large_and_covers_every_reason() -> None:
    files = {n: d for n, d in committed_files().items() if not n.startswith("flags-")}
    cases = [c for doc in files.values() for c in doc["cases"]]
    assert len(cases) >= 400
    assert {c["expected"]["reason"] for c in cases} == REASONS
    assert {c["expected"]["miss"] for c in cases if "miss" in c["expected"]} == MISSES
    units = {c["unit"] for c in cases}
    assert "" in units and "zürich-1" in units and "🧪-7" in units
    assert any(len(u.encode("utf-8")) > 240 for u in units)
    # Only the invalid-experiments file has problems; every other config is clean.
    assert [n for n, d in files.items() if "problems" in d] == ["invalid-experiments.json"]
    flag_problems = [n for n, d in committed_files().items() if n.startswith("flags-") and "problems" in d]
    assert sorted(flag_problems) == ["flags-invalid.json", "flags-prerequisites.json"]


def test_targeting_covers_every_operator() -> None:
    doc = committed_files()["targeting.json"]
    ops: set[str] = set()

    def walk(c: dict) -> None:
        if "op" in c:
            ops.add(c["op"])
        for k in ("all", "any"):
            for child in c.get(k, []):
                walk(child)
        if "not" in c:
            walk(c["not"])

    for e in doc["config"]["experiments"]:
        walk(e["targeting"])
    assert ops == {"eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "contains", "starts_with",
                   "ends_with", "regex", "exists", "version_eq", "version_ne", "version_gt",
                   "version_gte", "version_lt", "version_lte"}
