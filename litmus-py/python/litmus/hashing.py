"""Bucketing spec v1 primitives (``docs/spec/bucketing-v1.md``): the seed of a salt and
purpose, a unit's hash and bucket, the variant a bucket falls in, and the traffic check.

Purposes: ``"traffic"``, ``"variant"``, ``"layer"``, ``"holdout"`` and ``"factor:NAME"``.
"""

from ._litmus import bucket, in_traffic, pick_variant, seed, unit_hash

__all__ = ["seed", "unit_hash", "bucket", "pick_variant", "in_traffic"]
