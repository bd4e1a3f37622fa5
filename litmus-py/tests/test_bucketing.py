"""Every golden vector of bucketing spec v1, through the wheel and independently with the
PyPI xxhash package."""

from __future__ import annotations

import struct

import pytest
import xxhash

from litmus import hashing

from conftest import load

VECTORS = load("bucketing/v1.json")["vectors"]


def reference_seed(salt: str, purpose: str) -> int:
    """The spec's seed: XXH3-64 of len(salt) (u64 LE) || salt || purpose tag [|| factor]."""
    raw = salt.encode()
    return xxhash.xxh3_64_intdigest(struct.pack("<Q", len(raw)) + raw + purpose.encode())


def reference_hash(seed: int, unit: str) -> int:
    return xxhash.xxh3_64_intdigest(unit.encode(), seed=seed)


def test_there_are_enough_vectors() -> None:
    assert len(VECTORS) >= 300


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"{v['salt']}|{v['purpose']}|{v['unit'][:12]}")
def test_vector(v: dict) -> None:
    seed = hashing.seed(v["salt"], v["purpose"])
    assert f"{seed:016x}" == v["seed"]
    h = hashing.unit_hash(v["salt"], v["purpose"], v["unit"])
    assert f"{h:016x}" == v["hash"]
    b = hashing.bucket(v["salt"], v["purpose"], v["unit"])
    assert b == v["bucket"] == h >> 32
    assert hashing.pick_variant(b, v["weights"]) == v["variant"]
    assert hashing.in_traffic(b, v["traffic"]) == v["in_traffic"]
    # Independently of the Rust code.
    assert reference_seed(v["salt"], v["purpose"]) == seed
    assert reference_hash(seed, v["unit"]) == h


def test_bad_purpose_is_an_invalid_argument() -> None:
    import litmus

    with pytest.raises(litmus.InvalidArgumentError) as e:
        hashing.bucket("s", "colour", "u")
    assert e.value.code == "invalid_argument"
    assert isinstance(e.value, ValueError)
    with pytest.raises(ValueError):
        hashing.pick_variant(1, [])
