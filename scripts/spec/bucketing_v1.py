"""Independent Python reference implementation of Litmus bucketing, version 1.

This module implements ``docs/spec/bucketing-v1.md`` from the text of the spec only,
using the PyPI ``xxhash`` package and the standard library. It shares no code with the
Rust implementation in ``litmus-core``; ``test_bucketing_v1.py`` uses it to recompute
the golden vectors in ``fixtures/bucketing/v1.json``.

Summary of the spec:

* ``seed(salt, purpose) = xxh3(le64(len(salt_bytes)) || salt_bytes || purpose_bytes, 0)``
* ``hash(unit, salt, purpose) = xxh3(unit_bytes, seed(salt, purpose))``
* ``bucket = hash >> 32``
* ``bound(f) = floor(f * 2**32)`` in doubles
* variant ``= #{ i < n-1 : B_i <= bucket }`` with cumulative bounds ``B_i``
* in traffic iff ``bucket < bound(traffic)``
"""

from __future__ import annotations

import math
import struct
from typing import Sequence, Union

import xxhash

__all__ = [
    "SCALE",
    "PURPOSE_TRAFFIC",
    "PURPOSE_VARIANT",
    "PURPOSE_LAYER",
    "PURPOSE_HOLDOUT",
    "PURPOSE_ROLLOUT",
    "factor_purpose",
    "xxh3",
    "le64",
    "seed",
    "hash_unit",
    "bucket_of_hash",
    "bucket",
    "bound",
    "variant_bounds",
    "variant_index",
    "in_traffic",
    "in_range",
    "held_out",
    "factor_level",
    # older names, kept for callers such as gen_conformance.py
    "unit_hash",
    "bucket_of",
    "cumulative_bounds",
]

#: ``SCALE = 2^32``: the number of buckets.
SCALE: int = 1 << 32

#: Purposes of version 1 (section 2 of the spec).
PURPOSE_TRAFFIC: str = "traffic"
PURPOSE_VARIANT: str = "variant"
PURPOSE_LAYER: str = "layer"
PURPOSE_HOLDOUT: str = "holdout"
PURPOSE_ROLLOUT: str = "rollout"

_U64_MASK: int = (1 << 64) - 1

Text = Union[str, bytes]


def _utf8(s: Text) -> bytes:
    """Return the UTF-8 bytes of ``s`` with no normalisation (bytes pass through)."""
    if isinstance(s, bytes):
        return s
    # "strict": a lone surrogate is not a valid Unicode scalar value and has no UTF-8 form.
    return s.encode("utf-8")


def factor_purpose(factor_key: str) -> str:
    """Return the purpose for the level of a multivariate factor: ``"factor:" + key``."""
    return "factor:" + factor_key


def xxh3(data: bytes, seed_value: int = 0) -> int:
    """XXH3-64 of ``data`` with a 64-bit ``seed_value`` (``XXH3_64bits_withSeed``).

    With seed 0 this equals the unseeded ``XXH3_64bits(data)``.
    """
    if not 0 <= seed_value <= _U64_MASK:
        raise ValueError(f"seed out of u64 range: {seed_value}")
    return xxhash.xxh3_64_intdigest(data, seed=seed_value)


def le64(n: int) -> bytes:
    """The 8-byte little-endian encoding of the unsigned 64-bit integer ``n``."""
    return struct.pack("<Q", n)


def seed(salt: Text, purpose: Text) -> int:
    """The 64-bit seed folded from a salt and a purpose.

    ``xxh3(le64(len(salt_bytes)) || salt_bytes || purpose_bytes, 0)``. The length prefix
    makes the encoding injective, so ``("ab", "c")`` and ``("a", "bc")`` differ.
    """
    salt_bytes = _utf8(salt)
    return xxh3(le64(len(salt_bytes)) + salt_bytes + _utf8(purpose), 0)


def hash_unit(unit: Text, salt: Text, purpose: Text) -> int:
    """``hash(unit, salt, purpose) = xxh3(unit_bytes, seed(salt, purpose))``, a u64."""
    return xxh3(_utf8(unit), seed(salt, purpose))


def bucket_of_hash(h: int) -> int:
    """The bucket of a 64-bit hash: its high 32 bits (``0 <= bucket < 2^32``)."""
    if not 0 <= h <= _U64_MASK:
        raise ValueError(f"hash out of u64 range: {h}")
    return h >> 32


def bucket(unit: Text, salt: Text, purpose: Text) -> int:
    """``bucket(unit, salt, purpose) = hash(unit, salt, purpose) >> 32``."""
    return bucket_of_hash(hash_unit(unit, salt, purpose))


def bound(f: float) -> int:
    """The bucket bound of a fraction ``f`` in [0, 1]: ``floor(f * 2^32)`` in doubles.

    The product is exact (``SCALE`` is a power of two), so ``bound(0) == 0`` and
    ``bound(1) == 2**32``.
    """
    f = float(f)
    if not (math.isfinite(f) and 0.0 <= f <= 1.0):
        raise ValueError(f"fraction must be a finite double in [0, 1], got {f!r}")
    return math.floor(f * float(SCALE))


def variant_bounds(weights: Sequence[float]) -> list[int]:
    """The cumulative upper bounds ``B_0 .. B_{n-1}`` of section 4.2.

    ``B_i = bound((w_0 + ... + w_i) / W)`` for ``i < n-1``, where the partial sums are
    accumulated left to right in doubles and ``W`` is the total accumulated the same way;
    ``B_{n-1} = 2^32``.
    """
    ws = [float(w) for w in weights]
    if not ws:
        raise ValueError("weights must not be empty")
    for w in ws:
        if not (math.isfinite(w) and w >= 0.0):
            raise ValueError(f"weights must be finite and >= 0, got {w!r}")
    total = 0.0
    for w in ws:
        total += w
    if not total > 0.0:
        raise ValueError("the total weight must be > 0")
    bounds: list[int] = []
    acc = 0.0
    for w in ws[:-1]:
        acc += w
        # acc <= total (a left-to-right prefix of non-negative doubles never exceeds the
        # full sum), so acc / total <= 1.0 and bound() accepts it without clamping.
        bounds.append(bound(acc / total))
    bounds.append(SCALE)
    return bounds


def variant_index(bucket_value: int, weights: Sequence[float]) -> int:
    """The variant of a unit: the number of ``i < n-1`` with ``B_i <= bucket``."""
    if not 0 <= bucket_value < SCALE:
        raise ValueError(f"bucket out of range: {bucket_value}")
    bounds = variant_bounds(weights)
    return sum(1 for b in bounds[:-1] if b <= bucket_value)


def in_traffic(bucket_value: int, traffic: float) -> bool:
    """Whether a traffic bucket is in the traffic: ``bucket < bound(traffic)``."""
    if not 0 <= bucket_value < SCALE:
        raise ValueError(f"bucket out of range: {bucket_value}")
    return bucket_value < bound(traffic)


def in_range(bucket_value: int, start: float, end: float) -> bool:
    """Section 4.4: a layer bucket is in the slice ``[bound(start), bound(end))``."""
    return bound(start) <= bucket_value < bound(end)


def held_out(unit: Text, holdout_salt: Text, share: float) -> bool:
    """Section 4.5: held out iff ``bucket(unit, holdout_salt, "holdout") < bound(share)``."""
    return bucket(unit, holdout_salt, PURPOSE_HOLDOUT) < bound(share)


def factor_level(unit: Text, salt: Text, factor: str, level_weights: Sequence[float]) -> int:
    """Section 4.3: the level index of factor ``factor``, from its own ``factor:`` hash."""
    return variant_index(bucket(unit, salt, factor_purpose(factor)), level_weights)


#: Aliases of the names used by the first version of this module.
unit_hash = hash_unit
bucket_of = bucket_of_hash
cumulative_bounds = variant_bounds
