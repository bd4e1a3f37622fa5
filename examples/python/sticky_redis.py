"""Sticky assignment shared by every process of an app, in Redis (redis-py).

    pip install litmus-experiments redis
    redis-server &   # or any Redis
    python examples/python/sticky_redis.py

Litmus calls ``store.get(key)`` before assigning and ``store.set(key, variant)`` after a fresh
assignment; a redis-py client has both. Units keep their first variant when the experiment's
weights or traffic change (a bandit moving its weights, say); see docs/spec/bucketing-v1.md,
section 5, for what stickiness does and does not override.
"""

from __future__ import annotations

import json

import redis

import litmus


class ExpiringRedisStore:
    """A redis-py client with a TTL on every remembered assignment."""

    def __init__(self, client: "redis.Redis[bytes]", ttl_seconds: int = 90 * 24 * 3600) -> None:
        self.client = client
        self.ttl = ttl_seconds

    def get(self, key: str) -> "bytes | None":
        return self.client.get(f"litmus:sticky:{key}")

    def set(self, key: str, value: str) -> None:
        # First write wins, so two processes racing on one unit agree.
        self.client.set(f"litmus:sticky:{key}", value, ex=self.ttl, nx=True)


def main() -> None:
    config = {
        "schema_version": 1,
        "experiments": [
            {
                "key": "hero-banner",
                "kind": "bandit",
                "status": "running",
                "variants": [{"key": "red", "weight": 1}, {"key": "blue", "weight": 1}],
            }
        ],
    }
    engine = litmus.Engine(config, sticky_store=ExpiringRedisStore(redis.Redis()))
    before = {f"user-{i}": engine.assign("hero-banner", f"user-{i}").variant for i in range(1000)}
    config["experiments"][0]["variants"][0]["weight"] = 9  # the bandit now favours red
    engine.update(json.dumps(config))
    after = {u: engine.assign("hero-banner", u).variant for u in before}
    moved = sum(before[u] != after[u] for u in before)
    print(f"units that changed arm after the weights moved: {moved} of {len(before)}")


if __name__ == "__main__":
    main()
