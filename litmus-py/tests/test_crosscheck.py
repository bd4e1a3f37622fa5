"""The cross-language check ``fixtures/crosscheck/v1.json``: 100,000 units assigned to every
experiment of one config give the digest, counts and first lines the Rust core blessed (and
the npm package reproduces)."""

from __future__ import annotations

from collections import defaultdict

import litmus

from conftest import load


def fnv1a32(data: bytes, h: int = 0x811C9DC5) -> int:
    for b in data:
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def test_hundred_thousand_units_match_rust() -> None:
    doc = load("crosscheck/v1.json")
    engine = litmus.Engine(doc["config"])
    assert engine.problems == []
    countries, versions = doc["countries"], doc["app_versions"]
    prefix, count = doc["units"]["prefix"], doc["units"]["count"]
    lines: list[str] = []
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for i in range(count):
        unit = f"{prefix}{i}"
        attrs = {"country": countries[i % len(countries)], "app_version": versions[i % len(versions)], "beta": i % 7 == 0}
        for experiment in doc["experiments"]:
            a = engine.assign(experiment, unit, attrs, now=doc["now"])
            lines.append(f"{unit}\t{experiment}\t{a.variant or '-'}\t{a.reason}\n")
            counts[experiment][a.variant if a.variant is not None else a.reason] += 1
    expected = doc["expected"]
    assert [line.rstrip("\n") for line in lines[:12]] == expected["first"]
    assert {k: dict(v) for k, v in counts.items()} == expected["counts"]
    assert f"{fnv1a32(''.join(lines).encode()):08x}" == expected["fnv1a32"]
