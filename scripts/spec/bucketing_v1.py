"""Reference implementation of Litmus bucketing spec v1 (docs/spec/bucketing-v1.md).

Written from the spec alone, with the PyPI ``xxhash`` package and the standard library, so that
it checks the Rust implementation independently. Every function mirrors one section of the spec.
"""

from __future__ import annotations

import math
from typing import Sequence

import xxhash

#: Number of buckets: a bucket lies in ``range(SCALE)`` (spec section 1).
SCALE = 1 << 32


def seed(salt: str, purpose: str) -> int:
    """Section 2: ``xxh3(le64(len(salt)) || salt || purpose, 0)`` over UTF-8 bytes."""
    salt_bytes = salt.encode("utf-8")
    data = len(salt_bytes).to_bytes(8, "little") + salt_bytes + purpose.encode("utf-8")
    return xxhash.xxh3_64_intdigest(data, seed=0)


def unit_hash(unit: str, salt: str, purpose: str) -> int:
    """Section 3: XXH3-64 of the unit id's UTF-8 bytes under the derived seed."""
    return xxhash.xxh3_64_intdigest(unit.encode("utf-8"), seed=seed(salt, purpose))


def bucket_of(hash_value: int) -> int:
    """Section 3: the high 32 bits of the 64-bit hash."""
    return hash_value >> 32


def bucket(unit: str, salt: str, purpose: str) -> int:
    """The unit's bucket for one salt and purpose."""
    return bucket_of(unit_hash(unit, salt, purpose))


def bound(fraction: float) -> int:
    """Section 4: ``floor(f * 2^32)`` in doubles, for f in [0, 1]."""
    if math.isnan(fraction) or fraction <= 0.0:
        return 0
    if fraction >= 1.0:
        return SCALE
    return math.floor(fraction * float(SCALE))


def cumulative_bounds(weights: Sequence[float]) -> list[int]:
    """Section 4.2: ``B_i = bound((w_0 + ... + w_i) / W)``, the last forced to 2^32.

    Sums run left to right in doubles, as the spec says (not ``math.fsum``).
    """
    if not weights or any(not math.isfinite(w) or w < 0 for w in weights):
        raise ValueError(f"invalid weights {weights!r}")
    total = 0.0
    for w in weights:
        total += float(w)
    if not math.isfinite(total) or total <= 0.0:
        raise ValueError(f"weights {weights!r} must have a positive, finite total")
    bounds = []
    running = 0.0
    for w in weights:
        running += float(w)
        bounds.append(bound(running / total))
    bounds[-1] = SCALE
    return bounds


def variant_index(bucket_value: int, weights: Sequence[float]) -> int:
    """Section 4.2: the number of ``i < n-1`` with ``B_i <= bucket``."""
    bounds = cumulative_bounds(weights)
    return sum(1 for b in bounds[:-1] if b <= bucket_value)


def in_traffic(bucket_value: int, traffic: float) -> bool:
    """Section 4.1: in the traffic iff ``bucket < bound(traffic)``."""
    return bucket_value < bound(traffic)


def in_range(bucket_value: int, start: float, end: float) -> bool:
    """Section 4.4: a layer slice ``[bound(start), bound(end))``."""
    return bound(start) <= bucket_value < bound(end)


def held_out(unit: str, holdout_salt: str, share: float) -> bool:
    """Section 4.5: held out iff the holdout bucket is below ``bound(share)``."""
    return bucket(unit, holdout_salt, "holdout") < bound(share)


def factor_level(unit: str, salt: str, factor: str, level_weights: Sequence[float]) -> int:
    """Section 4.3: the level index of one factor, from its own hash."""
    return variant_index(bucket(unit, salt, "factor:" + factor), level_weights)
