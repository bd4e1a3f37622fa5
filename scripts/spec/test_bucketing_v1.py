"""Recomputes every golden vector of fixtures/bucketing/v1.json from the spec, independently of
the Rust code (the reference is bucketing_v1.py, built on the PyPI xxhash package)."""

from __future__ import annotations

import json
import pathlib

import pytest
import xxhash

import bucketing_v1 as spec

FIXTURE = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "bucketing" / "v1.json"


def load_vectors() -> list[dict]:
    if not FIXTURE.exists():
        pytest.fail(f"{FIXTURE} is missing: run LITMUS_BLESS=1 cargo test -p litmus-core --test bucketing_vectors")
    doc = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert doc["spec"] == "bucketing-v1"
    assert doc["hash_version"] == 1
    return doc["vectors"]


def test_every_vector_matches_the_spec() -> None:
    vectors = load_vectors()
    assert len(vectors) >= 300
    mismatches = []
    for i, v in enumerate(vectors):
        s = spec.seed(v["salt"], v["purpose"])
        h = spec.unit_hash(v["unit"], v["salt"], v["purpose"])
        b = spec.bucket_of(h)
        got = {
            "seed": f"{s:016x}",
            "hash": f"{h:016x}",
            "bucket": b,
            "variant": spec.variant_index(b, v["weights"]),
            "in_traffic": spec.in_traffic(b, v["traffic"]),
        }
        want = {k: v[k] for k in got}
        if got != want:
            mismatches.append(f"#{i} unit={v['unit']!r} salt={v['salt']!r} purpose={v['purpose']!r}: want {want}, got {got}")
    assert not mismatches, f"{len(mismatches)} mismatching vectors:\n" + "\n".join(mismatches[:5])


def test_vectors_cover_the_edge_cases() -> None:
    units = {v["unit"] for v in load_vectors()}
    assert "" in units
    assert any(len(u.encode("utf-8")) > 240 for u in units)
    assert any(not u.isascii() for u in units)
    assert any(any(ord(c) >= 0x1F300 for c in u) for u in units), "an emoji id"
    purposes = {v["purpose"] for v in load_vectors()}
    assert {"traffic", "variant", "layer", "holdout"} <= purposes
    assert any(p.startswith("factor:") for p in purposes)


def test_bounds_at_the_ends() -> None:
    assert spec.bound(0.0) == 0
    assert spec.bound(1.0) == 2**32
    assert spec.bound(0.5) == 2**31
    assert spec.bound(float("nan")) == 0


def test_seed_is_injective_at_the_salt_purpose_boundary() -> None:
    assert spec.seed("ab", "factor:c") != spec.seed("a", "bfactor:c")
    assert spec.seed("ab", "c") != spec.seed("a", "bc")


def test_seed_zero_is_the_unseeded_digest() -> None:
    assert xxhash.xxh3_64_intdigest(b"litmus", seed=0) == xxhash.xxh3_64_intdigest(b"litmus")


def test_zero_weight_variant_is_never_chosen() -> None:
    weights = [1.0, 0.0, 1.0]
    for b in list(range(0, 2**32, 2**32 // 997)) + [0, 2**31 - 1, 2**31, 2**32 - 1]:
        assert spec.variant_index(b, weights) != 1
    assert spec.variant_index(2**32 - 1, [0.0, 1.0]) == 1
    assert spec.variant_index(0, [0.0, 1.0]) == 1
