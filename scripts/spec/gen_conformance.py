#!/usr/bin/env python3
"""Generates the shared conformance suite ``fixtures/conformance/*.json``.

Every Litmus implementation (the Rust core, and the Python and JavaScript packages) loads each
file's config leniently, checks the reported problems, and runs every case through
``assign(experiment, unit, attributes, now)``.

The expected values are computed independently of the Rust code:

* every hash-dependent outcome (traffic, variant, layer slice, holdout, multivariate levels)
  comes from the Python reference of the bucketing spec, ``bucketing_v1.py`` (PyPI ``xxhash``);
* everything else (unknown/invalid experiment, override, status and time window, targeting) is
  known from the way each case is constructed: the tables below state the expected outcome by
  hand, following docs/spec/bucketing-v1.md section 5 and docs/spec/config-v1.md. There is no
  targeting evaluator here on purpose.

Usage: ``gen_conformance.py [--out DIR]`` (default: REPO/fixtures/conformance). The output is
deterministic; ``test_conformance_fresh.py`` checks the committed fixtures are up to date.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import re
import sys
from typing import Any, Iterable

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

import bucketing_v1 as spec  # noqa: E402
import gen_flag_conformance as flag_files  # noqa: E402

REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "fixtures" / "conformance"

REASONS = (
    "assigned",
    "sticky",
    "override",
    "not_running",
    "targeting_miss",
    "holdout",
    "other_layer_member",
    "not_in_traffic",
    "unknown_experiment",
    "invalid_config",
)
MISSES = ("false", "attribute_missing", "type_mismatch")
KEY_RE = re.compile(r"^[A-Za-z0-9_.:/-]{1,128}$")

# A long unit id (over 240 bytes: crosses every XXH3 input-size branch).
LONG_UNIT = "long-" + "0123456789abcdef" * 16


def units(prefix: str, n: int) -> list[str]:
    """``n`` unit ids: the special ones first (empty, non-ASCII, emoji, long), then numbered."""
    special = ["", "zürich-1", "🧪-7", LONG_UNIT, "User 42", "a@b.example"]
    out = special[: min(n, len(special))]
    i = 0
    while len(out) < n:
        out.append(f"{prefix}-{i}")
        i += 1
    return out


# ---------------------------------------------------------------------------------------------
# Expected outcomes


def assigned(variant: str) -> dict:
    return {"variant": variant, "in_experiment": True, "reason": "assigned"}


def sticky(variant: str) -> dict:
    return {"variant": variant, "in_experiment": True, "reason": "sticky"}


def not_assigned(reason: str) -> dict:
    assert reason in REASONS and reason not in ("assigned", "sticky", "override", "targeting_miss")
    return {"variant": None, "in_experiment": False, "reason": reason}


def override(variant: str) -> dict:
    return {"variant": variant, "in_experiment": False, "reason": "override"}


def targeting_miss(miss: str) -> dict:
    assert miss in MISSES
    return {"variant": None, "in_experiment": False, "reason": "targeting_miss", "miss": miss}


def case(name: str, experiment: str, unit: str, expected: dict, attributes: dict | None = None,
         now: str | None = None, remembered: str | None = None) -> dict:
    c: dict[str, Any] = {"name": name, "experiment": experiment, "unit": unit}
    if attributes:
        c["attributes"] = attributes
    if now is not None:
        c["now"] = now
    if remembered is not None:
        c["remembered"] = remembered
    c["expected"] = expected
    return c


# ---------------------------------------------------------------------------------------------
# Hash-dependent outcomes, from the bucketing reference only


def salt_of(obj: dict) -> str:
    return obj.get("salt", obj["key"])


def weights_of(items: list[dict]) -> list[float]:
    return [float(v.get("weight", 1)) for v in items]


def ab_variant(exp: dict, unit: str) -> str:
    """Section 4.2: the variant key of an A/B/n experiment."""
    variants = exp["variants"]
    idx = spec.variant_index(spec.bucket(unit, salt_of(exp), "variant"), weights_of(variants))
    return variants[idx]["key"]


def mv_variant(exp: dict, unit: str) -> str:
    """Section 4.3: ``factor=level,...`` in declared factor order, one hash per factor."""
    parts = []
    for factor in exp["factors"]:
        levels = factor["levels"]
        idx = factor_level(unit, salt_of(exp), factor["key"], weights_of(levels))
        parts.append(f"{factor['key']}={levels[idx]['key']}")
    return ",".join(parts)


def factor_level(unit: str, salt: str, factor: str, level_weights: list[float]) -> int:
    """Section 4.3: the level index of one factor, from its own hash (purpose "factor:" + key)."""
    return spec.variant_index(spec.bucket(unit, salt, "factor:" + factor), level_weights)


def variant_of(exp: dict, unit: str) -> str:
    return mv_variant(exp, unit) if exp.get("kind") == "multivariate" else ab_variant(exp, unit)


def traffic_in(exp: dict, unit: str) -> bool:
    """Section 4.1."""
    return spec.in_traffic(spec.bucket(unit, salt_of(exp), "traffic"), float(exp.get("traffic", 1)))


def layer_bucket(layer: dict, unit: str) -> int:
    return spec.bucket(unit, salt_of(layer), "layer")


def in_slice(layer: dict, exp: dict, unit: str) -> bool:
    """Section 4.4."""
    start, end = exp["layer"]["range"]
    return spec.bound(float(start)) <= layer_bucket(layer, unit) < spec.bound(float(end))


def is_held_out(holdout: dict, unit: str) -> bool:
    """Section 4.5."""
    return spec.bucket(unit, salt_of(holdout), "holdout") < spec.bound(float(holdout["share"]))


def eligible_outcome(exp: dict, unit: str, holdouts: Iterable[dict] = (), layer: dict | None = None) -> dict:
    """Rules 5 to 8 of section 5, for a unit already known to pass rules 1 to 4 (known
    experiment, no override, running, targeting matches): holdout, layer slice, traffic, variant.
    ``holdouts`` are the holdouts whose scope includes the experiment (the caller knows)."""
    if any(is_held_out(h, unit) for h in holdouts):
        return not_assigned("holdout")
    if layer is not None and not in_slice(layer, exp, unit):
        return not_assigned("other_layer_member")
    if not traffic_in(exp, unit):
        return not_assigned("not_in_traffic")
    return assigned(variant_of(exp, unit))


def running(key: str, variants: list[dict] | None = None, **fields: Any) -> dict:
    exp: dict[str, Any] = {"key": key}
    for name in ("salt", "hash_version", "kind"):
        if name in fields:
            exp[name] = fields.pop(name)
    exp["status"] = fields.pop("status", "running")
    for name in ("start_time", "end_time", "traffic"):
        if name in fields:
            exp[name] = fields.pop(name)
    if variants is not None:
        exp["variants"] = variants
    for name in ("factors", "targeting", "layer", "overrides"):
        if name in fields:
            exp[name] = fields.pop(name)
    exp.update(fields)
    return exp


def two_arms(payloads: bool = False) -> list[dict]:
    if payloads:
        return [
            {"key": "control", "weight": 1, "payload": {"color": "blue"}},
            {"key": "treatment", "weight": 1, "payload": {"color": "green"}},
        ]
    return [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 1}]


def config(experiments: list[dict], layers: list[dict] | None = None,
           holdouts: list[dict] | None = None, version: str | None = None, **extra: Any) -> dict:
    doc: dict[str, Any] = {"schema_version": 1}
    if version is not None:
        doc["version"] = version
    doc.update(extra)
    doc["experiments"] = experiments
    if layers is not None:
        doc["layers"] = layers
    if holdouts is not None:
        doc["holdouts"] = holdouts
    return doc


def by_key(doc: dict) -> dict[str, dict]:
    return {e["key"]: e for e in doc["experiments"] if isinstance(e, dict)}


# ---------------------------------------------------------------------------------------------
# 1. Targeting
#
# Each experiment has traffic 1 and a single variant "on" of weight 1, so a matching unit is
# "assigned" to "on" whatever its buckets (asserted below with the reference). Expectations are
# written by hand: M = match, F = miss "false", A = attribute_missing, T = type_mismatch.

M, F, A, T = "match", "false", "attribute_missing", "type_mismatch"
ABSENT = object()  # the attribute is not in the unit's attributes at all

COUNTRY_DE = {"attribute": "country", "op": "eq", "value": "DE"}
AGE_ADULT = {"attribute": "age", "op": "gte", "value": 18}

# (experiment key, condition, attribute name or None, [(label, attributes or value, outcome)])
# When the attribute name is given, each row's second item is that attribute's value (ABSENT:
# not given); otherwise it is the whole attributes object (None: no attributes at all).
TARGETING: list[tuple[str, dict, str | None, list[tuple[str, Any, str]]]] = [
    ("t-eq-string", COUNTRY_DE, "country", [
        ("equal string", "DE", M),
        ("other string", "FR", F),
        ("case differs", "de", F),
        ("trailing space", "DE ", F),
        ("empty string", "", F),
        ("absent", ABSENT, A),
        ("null", None, A),
        ("number for string", 49, T),
        ("bool for string", True, T),
        ("list for eq", ["DE"], T),
    ]),
    ("t-eq-number", {"attribute": "age", "op": "eq", "value": 30}, "age", [
        ("equal integer", 30, M),
        ("equal as float", 30.0, M),
        ("other number", 31, F),
        ("close float", 30.000001, F),
        ("numeric string", "30", T),
        ("bool for number", False, T),
        ("list of numbers", [30], T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-eq-float", {"attribute": "score", "op": "eq", "value": 0.1}, "score", [
        ("same double", 0.1, M),
        ("sum is not 0.1", 0.30000000000000004, F),
        ("string 0.1", "0.1", T),
    ]),
    ("t-eq-bool", {"attribute": "beta", "op": "eq", "value": True}, "beta", [
        ("true", True, M),
        ("false", False, F),
        ("string true", "true", T),
        ("number 1", 1, T),
        ("absent", ABSENT, A),
    ]),
    ("t-ne-string", {"attribute": "plan", "op": "ne", "value": "free"}, "plan", [
        ("other value", "pro", M),
        ("empty string", "", M),
        ("equal value", "free", F),
        ("absent is a miss", ABSENT, A),
        ("null is a miss", None, A),
        ("number for string", 5, T),
        ("list for ne", ["pro"], T),
    ]),
    ("t-ne-number", {"attribute": "errors", "op": "ne", "value": 0}, "errors", [
        ("other number", 3, M),
        ("equal number", 0, F),
        ("string zero", "0", T),
    ]),
    ("t-ne-bool", {"attribute": "beta", "op": "ne", "value": True}, "beta", [
        ("false", False, M),
        ("true", True, F),
        ("absent", ABSENT, A),
    ]),
    ("t-gt-number", {"attribute": "age", "op": "gt", "value": 18}, "age", [
        ("greater", 19, M),
        ("greater fraction", 18.5, M),
        ("equal", 18, F),
        ("smaller", 17, F),
        ("negative", -20, F),
        ("numeric string", "19", T),
        ("bool", True, T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-gte-number", {"attribute": "age", "op": "gte", "value": 18}, "age", [
        ("equal", 18, M),
        ("greater", 100, M),
        ("just below", 17.999, F),
        ("numeric string", "18", T),
        ("absent", ABSENT, A),
    ]),
    ("t-lt-number", {"attribute": "age", "op": "lt", "value": 18}, "age", [
        ("smaller", 17, M),
        ("negative", -1, M),
        ("equal", 18, F),
        ("greater", 65, F),
        ("numeric string", "17", T),
        ("null", None, A),
    ]),
    ("t-lte-number", {"attribute": "age", "op": "lte", "value": 18}, "age", [
        ("equal", 18, M),
        ("smaller", 0, M),
        ("just above", 18.0001, F),
        ("list", [18], T),
        ("absent", ABSENT, A),
    ]),
    ("t-gt-float", {"attribute": "ratio", "op": "gt", "value": 0.3}, "ratio", [
        ("0.1+0.2 is above 0.3", 0.30000000000000004, M),
        ("equal double", 0.3, F),
    ]),
    ("t-gt-string", {"attribute": "name", "op": "gt", "value": "m"}, "name", [
        ("later letter", "n", M),
        ("longer with equal prefix", "ma", M),
        ("non-ASCII byte is above ASCII", "é", M),
        ("equal", "m", F),
        ("upper case sorts first", "M", F),
        ("earlier letter", "a", F),
        ("number for string", 5, T),
        ("absent", ABSENT, A),
    ]),
    ("t-gte-string", {"attribute": "day", "op": "gte", "value": "2026-06-01"}, "day", [
        ("equal", "2026-06-01", M),
        ("later date", "2026-12-31", M),
        ("earlier date", "2026-05-31", F),
    ]),
    ("t-lt-string", {"attribute": "name", "op": "lt", "value": "b"}, "name", [
        ("earlier letter", "a", M),
        ("upper case sorts first", "B", M),
        ("longer with earlier prefix", "ab", M),
        ("empty string", "", M),
        ("equal", "b", F),
        ("longer with equal prefix", "ba", F),
        ("number for string", 1, T),
    ]),
    ("t-lte-string", {"attribute": "name", "op": "lte", "value": "b"}, "name", [
        ("equal", "b", M),
        ("longer with equal prefix", "ba", F),
    ]),
    ("t-in-strings", {"attribute": "country", "op": "in", "value": ["DE", "AT", "CH"]}, "country", [
        ("first element", "DE", M),
        ("last element", "CH", M),
        ("not listed", "FR", F),
        ("case differs", "at", F),
        ("list with a listed element", ["FR", "CH"], M),
        ("list without listed elements", ["FR", "US"], F),
        ("empty list", [], F),
        ("number for strings", 5, T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-in-numbers", {"attribute": "tier", "op": "in", "value": [1, 2, 3]}, "tier", [
        ("listed", 2, M),
        ("listed as float", 2.0, M),
        ("not listed", 4, F),
        ("numeric string", "2", T),
        ("absent", ABSENT, A),
    ]),
    ("t-in-mixed", {"attribute": "flag", "op": "in", "value": ["x", 7, True]}, "flag", [
        ("listed string", "x", M),
        ("listed number", 7, M),
        ("listed bool", True, M),
        ("unlisted bool", False, F),
        ("unlisted string", "y", F),
        ("unlisted number", 8, F),
    ]),
    ("t-not-in", {"attribute": "country", "op": "not_in", "value": ["DE", "AT"]}, "country", [
        ("not listed", "FR", M),
        ("listed", "DE", F),
        ("list without listed elements", ["FR", "US"], M),
        ("list with a listed element", ["FR", "AT"], F),
        ("empty list has no listed element", [], M),
        ("absent is a miss", ABSENT, A),
        ("null is a miss", None, A),
        ("number for strings", 3, T),
    ]),
    ("t-not-in-numbers", {"attribute": "tier", "op": "not_in", "value": [0, 1]}, "tier", [
        ("not listed", 2, M),
        ("listed", 1, F),
        ("bool for numbers", True, T),
    ]),
    ("t-contains-string", {"attribute": "email", "op": "contains", "value": "@example."}, "email", [
        ("substring in the middle", "ann@example.com", M),
        ("whole string", "@example.", M),
        ("not a substring", "ann@other.com", F),
        ("empty string", "", F),
        ("number attribute", 5, T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-contains-list", {"attribute": "tags", "op": "contains", "value": "vip"}, "tags", [
        ("list has the element", ["new", "vip"], M),
        ("list lacks the element", ["new", "vipper"], F),
        ("empty list", [], F),
        ("string attribute is a substring test", "very-vip-user", M),
        ("string attribute without the substring", "regular", F),
        ("bool attribute", True, T),
        ("absent", ABSENT, A),
    ]),
    ("t-contains-number", {"attribute": "cohorts", "op": "contains", "value": 7}, "cohorts", [
        ("list has the number", [1, 7, 9], M),
        ("list lacks the number", [1, 2], F),
        ("number attribute is not a list", 7, T),
        ("string attribute with a number needle", "17", T),
    ]),
    ("t-starts-with", {"attribute": "path", "op": "starts_with", "value": "/admin"}, "path", [
        ("longer path", "/admin/users", M),
        ("exact prefix", "/admin", M),
        ("case differs", "/Admin/users", F),
        ("prefix elsewhere", "/x/admin", F),
        ("shorter", "/adm", F),
        ("number", 1, T),
        ("list", ["/admin"], T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-ends-with", {"attribute": "email", "op": "ends_with", "value": "@corp.example"}, "email", [
        ("suffix", "ann@corp.example", M),
        ("other domain", "ann@corp.example.org", F),
        ("list", ["ann@corp.example"], T),
        ("absent", ABSENT, A),
    ]),
    ("t-regex-anchored", {"attribute": "email", "op": "regex", "value": "^[a-z]+@corp\\.example$"}, "email", [
        ("matches", "alice@corp.example", M),
        ("upper case", "Alice@corp.example", F),
        ("escaped dot", "alice@corpXexample", F),
        ("trailing text", "alice@corp.example.org", F),
        ("number", 5, T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-regex-anywhere", {"attribute": "app", "op": "regex", "value": "beta"}, "app", [
        ("matches inside", "my-beta-app", M),
        ("case sensitive", "BETA", F),
    ]),
    ("t-regex-case-insensitive", {"attribute": "app", "op": "regex", "value": "(?i)^beta"}, "app", [
        ("upper case", "BETA-1", M),
        ("not at the start", "xbeta", F),
    ]),
    ("t-regex-non-ascii", {"attribute": "city", "op": "regex", "value": "^z.rich$"}, "city", [
        ("dot matches one non-ASCII character", "zürich", M),
        ("ASCII", "zurich", M),
        ("two characters", "zuerich", F),
    ]),
    ("t-exists", {"attribute": "email", "op": "exists", "value": True}, "email", [
        ("string", "a@b.example", M),
        ("empty string", "", M),
        ("zero", 0, M),
        ("false", False, M),
        ("empty list", [], M),
        ("absent is a false comparison", ABSENT, F),
        ("null is a false comparison", None, F),
    ]),
    ("t-exists-default", {"attribute": "email", "op": "exists"}, "email", [
        ("present", "x", M),
        ("absent", ABSENT, F),
    ]),
    ("t-exists-false", {"attribute": "email", "op": "exists", "value": False}, "email", [
        ("absent", ABSENT, M),
        ("null", None, M),
        ("present", "x", F),
        ("present false", False, F),
    ]),
    ("t-version-eq", {"attribute": "app_version", "op": "version_eq", "value": "1.2.0"}, "app_version", [
        ("equal", "1.2.0", M),
        ("missing patch is zero", "1.2", M),
        ("v prefix", "v1.2.0", M),
        ("build metadata ignored", "1.2.0+build.7", M),
        ("other patch", "1.2.1", F),
        ("prerelease is not equal", "1.2.0-rc.1", F),
        ("unparsable", "1.2.x", T),
        ("empty string", "", T),
        ("number", 1.2, T),
        ("absent", ABSENT, A),
        ("null", None, A),
    ]),
    ("t-version-eq-v-prefix", {"attribute": "app_version", "op": "version_eq", "value": "v2"}, "app_version", [
        ("plain", "2.0.0", M),
        ("prefixed", "v2.0", M),
        ("other", "2.0.1", F),
    ]),
    ("t-version-ne", {"attribute": "app_version", "op": "version_ne", "value": "1.2.0"}, "app_version", [
        ("other", "1.3.0", M),
        ("prerelease differs", "1.2.0-beta", M),
        ("equal", "1.2.0", F),
        ("equal with build", "v1.2+exp.sha.5114f85", F),
        ("unparsable", "garbage", T),
        ("absent is a miss", ABSENT, A),
    ]),
    ("t-version-gt", {"attribute": "app_version", "op": "version_gt", "value": "2.0.0"}, "app_version", [
        ("patch above", "2.0.1", M),
        ("numeric not lexicographic", "10.0.0", M),
        ("equal", "2.0.0", F),
        ("prerelease is below the release", "2.0.0-rc.1", F),
        ("below", "1.99.99", F),
        ("two dots", "2..0", T),
    ]),
    ("t-version-gte", {"attribute": "app_version", "op": "version_gte", "value": "1.0.0-beta"}, "app_version", [
        ("equal prerelease", "1.0.0-beta", M),
        ("more identifiers", "1.0.0-beta.2", M),
        ("release above its prerelease", "1.0.0", M),
        ("alpha below beta", "1.0.0-alpha", F),
        ("older release", "0.9.9", F),
    ]),
    ("t-version-lt", {"attribute": "app_version", "op": "version_lt", "value": "1.0.0-beta.11"}, "app_version", [
        ("numeric identifiers compare numerically", "1.0.0-beta.2", M),
        ("alpha below beta", "1.0.0-alpha", M),
        ("equal", "1.0.0-beta.11", F),
        ("rc above beta", "1.0.0-rc.1", F),
        ("release above prerelease", "1.0.0", F),
    ]),
    ("t-version-lt-alnum", {"attribute": "app_version", "op": "version_lt", "value": "1.0.0-alpha.beta"}, "app_version", [
        ("numeric identifier below alphanumeric", "1.0.0-alpha.1", M),
        ("fewer identifiers first", "1.0.0-alpha", M),
        ("equal", "1.0.0-alpha.beta", F),
        ("beta above", "1.0.0-beta", F),
    ]),
    ("t-version-lte", {"attribute": "app_version", "op": "version_lte", "value": "v3"}, "app_version", [
        ("equal", "3.0.0", M),
        ("equal prefixed", "v3.0", M),
        ("prerelease below", "3.0.0-rc.1", M),
        ("below", "2.9.9", M),
        ("above", "3.0.1", F),
        ("bool", True, T),
    ]),
    ("t-all", {"all": [COUNTRY_DE, AGE_ADULT]}, None, [
        ("both match", {"country": "DE", "age": 30}, M),
        ("first fails", {"country": "FR", "age": 30}, F),
        ("second fails", {"country": "DE", "age": 12}, F),
        ("second absent", {"country": "DE"}, A),
        ("first absent, second mismatched: first failing child", {"age": "x"}, A),
        ("first mismatched, second false: first failing child", {"country": 5, "age": 10}, T),
        ("first false, second absent: first failing child", {"country": "FR"}, F),
        ("no attributes", None, A),
    ]),
    ("t-any", {"any": [COUNTRY_DE, AGE_ADULT]}, None, [
        ("first matches", {"country": "DE"}, M),
        ("second matches", {"country": "FR", "age": 20}, M),
        ("second matches, first absent", {"age": 20}, M),
        ("both false", {"country": "FR", "age": 10}, F),
        ("first absent, second false: last failing child", {"age": 10}, F),
        ("first false, second absent: last failing child", {"country": "FR"}, A),
        ("first absent, second mismatched: last failing child", {"age": "x"}, T),
        ("first mismatched, second absent: last failing child", {"country": 5}, A),
        ("no attributes", None, A),
    ]),
    ("t-not", {"not": COUNTRY_DE}, "country", [
        ("negated false", "FR", M),
        ("negated match is false", "DE", F),
        ("negated absent matches", ABSENT, M),
        ("negated null matches", None, M),
        ("negated type mismatch matches", 5, M),
    ]),
    ("t-all-empty", {"all": []}, None, [
        ("no attributes", None, M),
        ("some attributes", {"country": "DE"}, M),
    ]),
    ("t-any-empty", {"any": []}, None, [
        ("no attributes", None, F),
        ("some attributes", {"country": "DE"}, F),
    ]),
    ("t-not-all-empty", {"not": {"all": []}}, None, [
        ("no attributes", None, F),
    ]),
    ("t-not-any-empty", {"not": {"any": []}}, None, [
        ("no attributes", None, M),
    ]),
    ("t-not-not", {"not": {"not": COUNTRY_DE}}, "country", [
        ("match", "DE", M),
        ("false", "FR", F),
        ("inner miss becomes false", ABSENT, F),
    ]),
    ("t-nested", {"all": [
        {"any": [{"attribute": "plan", "op": "eq", "value": "pro"},
                 {"attribute": "plan", "op": "eq", "value": "team"}]},
        {"not": {"attribute": "banned", "op": "eq", "value": True}},
    ]}, None, [
        ("pro, not banned", {"plan": "pro", "banned": False}, M),
        ("team, banned absent", {"plan": "team"}, M),
        ("pro, banned", {"plan": "pro", "banned": True}, F),
        ("free plan", {"plan": "free"}, F),
        ("plan absent", {"banned": False}, A),
        ("plan mismatched", {"plan": 1}, T),
    ]),
    ("t-absent-or-not-de", {"any": [
        {"attribute": "country", "op": "exists", "value": False},
        {"attribute": "country", "op": "ne", "value": "DE"},
    ]}, "country", [
        ("absent", ABSENT, M),
        ("null", None, M),
        ("other country", "FR", M),
        ("excluded country", "DE", F),
    ]),
]


def build_targeting() -> dict:
    experiments = []
    cases = []
    n = 0
    unit_pool = units("t", 40)
    for key, condition, attr, rows in TARGETING:
        exp = running(key, [{"key": "on", "weight": 1}], traffic=1, targeting=condition)
        experiments.append(exp)
        for label, data, outcome in rows:
            if attr is not None:
                attributes = {} if data is ABSENT else {attr: data}
            else:
                attributes = data
            unit = unit_pool[n % len(unit_pool)]
            n += 1
            if outcome == M:
                # traffic 1 and a single variant: the reference must agree.
                assert traffic_in(exp, unit) and ab_variant(exp, unit) == "on"
                expected = assigned("on")
            else:
                expected = targeting_miss(outcome)
            cases.append(case(f"{key}: {label}", key, unit, expected, attributes))
    return {
        "name": "targeting",
        "description": (
            "Every targeting operator and combinator: matching, non-matching, absent or null "
            "attribute (attribute_missing), type mismatch, and the miss reported by all (first "
            "failing child), any (last failing child) and not. Each experiment has traffic 1 and "
            "one variant, so every match is assigned to \"on\"."
        ),
        "config": config(experiments),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 2. A/B and A/B/n weights


def build_abn_weights() -> dict:
    experiments = [
        running("ab-even", two_arms(payloads=True), salt="ab-even-2026"),
        running("abn-1-2-7", [
            {"key": "small", "weight": 1, "payload": "s"},
            {"key": "medium", "weight": 2, "payload": 2},
            {"key": "large", "weight": 7, "payload": {"size": "L", "tags": ["x", "y"]}},
        ]),
        running("abn-fractions", [
            {"key": "v10", "weight": 0.1},
            {"key": "v30", "weight": 0.3},
            {"key": "v60", "weight": 0.6, "payload": True},
        ], salt="fractions"),
        running("abn-zero-weight", [
            {"key": "left", "weight": 1},
            {"key": "never", "weight": 0, "payload": {"unused": True}},
            {"key": "right", "weight": 1},
        ]),
        running("abn-default-weights", [
            {"key": "one"},
            {"key": "two"},
            {"key": "three"},
        ], salt="thirds"),
        running("abn-five", [
            {"key": "a", "weight": 5},
            {"key": "b", "weight": 10},
            {"key": "c", "weight": 20},
            {"key": "d", "weight": 40},
            {"key": "e", "weight": 25},
        ], salt="five-way:v1/2026"),
        running("bandit-arms", [
            {"key": "arm-1", "weight": 0.7},
            {"key": "arm-2", "weight": 0.2},
            {"key": "arm-3", "weight": 0.1},
        ], kind="bandit"),
        running("single-variant", [{"key": "only", "weight": 3}]),
    ]
    cases = []
    pool = units("w", 64)
    for exp in experiments:
        key = exp["key"]
        seen: dict[str, int] = {}
        for unit in pool:
            v = ab_variant(exp, unit)
            seen[v] = seen.get(v, 0) + 1
            cases.append(case(f"{key}: {unit!r}", key, unit, assigned(v)))
        positive = {v["key"] for v in exp["variants"] if float(v.get("weight", 1)) > 0}
        assert set(seen) <= positive, (key, seen)
        if key in ("ab-even", "abn-1-2-7", "abn-zero-weight", "abn-default-weights"):
            assert set(seen) == positive, f"{key}: some variant got no unit: {seen}"
    assert "never" not in {c["expected"]["variant"] for c in cases}
    return {
        "name": "abn-weights",
        "description": (
            "A/B and A/B/n experiments with even, uneven (1:2:7, 0.1/0.3/0.6, 5/10/20/40/25), "
            "default and zero weights, a bandit and a single variant; variants from the variant "
            "hash (bucketing-v1 section 4.2). Payloads are in the config but not in the expected "
            "results."
        ),
        "config": config(experiments, version="conformance#abn-weights"),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 3. Traffic


def build_traffic() -> dict:
    variants = [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 2}]
    shares = [("traffic-20", 0.2), ("traffic-50", 0.5), ("traffic-100", 1.0)]
    experiments = [running(k, variants, salt="traffic-shared", traffic=t) for k, t in shares]
    experiments.append(running("traffic-0", variants, salt="traffic-shared", traffic=0))
    experiments.append(running("traffic-default", variants, salt="traffic-shared"))
    pool = units("tr", 60)
    outcomes: dict[str, dict[str, dict]] = {}
    cases = []
    for exp in experiments:
        key = exp["key"]
        outcomes[key] = {}
        for unit in pool if key != "traffic-0" else pool[:12]:
            exp_out = eligible_outcome(exp, unit)
            outcomes[key][unit] = exp_out
            cases.append(case(f"{key}: {unit!r}", key, unit, exp_out))
    # The promise of bucketing-v1 section 6.2: raising traffic keeps every unit in, in the same
    # variant; the default traffic is 1.
    for unit in pool:
        o20, o50, o100 = (outcomes[k][unit] for k, _ in shares)
        if o20["reason"] == "assigned":
            assert o50 == o20 and o100 == o20, unit
        if o50["reason"] == "assigned":
            assert o100 == o50, unit
        assert o100["reason"] == "assigned"
        assert outcomes["traffic-default"][unit] == o100
    for unit in pool[:12]:
        assert outcomes["traffic-0"][unit]["reason"] == "not_in_traffic"
    n20 = sum(o["reason"] == "assigned" for o in outcomes["traffic-20"].values())
    n50 = sum(o["reason"] == "assigned" for o in outcomes["traffic-50"].values())
    assert 0 < n20 < n50 < len(pool), (n20, n50)
    return {
        "name": "traffic",
        "description": (
            "Experiments sharing one salt and variants with traffic 0, 0.2, 0.5, 1 and the "
            "default (1), on the same units: a unit in at 0.2 is in at 0.5 and 1 with the same "
            "variant (bucketing-v1 section 6.2); the others get not_in_traffic."
        ),
        "config": config(experiments),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 4. Status and time

START = "2026-06-01T00:00:00Z"
END = "2026-07-01T00:00:00Z"


def build_status_and_time() -> dict:
    arms = two_arms()
    exps = [
        running("st-draft", arms, status="draft"),
        running("st-default-status", arms, status=None),
        running("st-paused", arms, status="paused"),
        running("st-stopped", arms, status="stopped"),
        running("st-paused-window", arms, status="paused", start_time=START, end_time=END),
        running("st-window", arms, start_time=START, end_time=END, salt="st-window-salt"),
        running("st-start-only", arms, start_time=START),
        running("st-end-only", arms, end_time=END),
        running("st-no-window", arms),
        running("st-window-targeted", arms, start_time=START, end_time=END, targeting=COUNTRY_DE),
        running("st-window-half-traffic", arms, start_time=START, end_time=END, traffic=0.5),
    ]
    for e in exps:
        if e.get("status", "x") is None:
            del e["status"]  # the default status is draft
    ex = by_key(config(exps))
    cases = []
    pool = units("st", 24)

    def add(key: str, label: str, unit: str, now: str | None, expected: dict | str,
            attributes: dict | None = None) -> None:
        if expected == "hash":  # eligible: rules 5-8 from the reference
            expected = eligible_outcome(ex[key], unit)
        assert isinstance(expected, dict)
        cases.append(case(f"{key}: {label} ({unit!r})", key, unit, expected, attributes, now))

    inside = "2026-06-15T12:00:00Z"
    for key in ("st-draft", "st-default-status", "st-paused", "st-stopped"):
        for unit in pool[:3]:
            add(key, "not running, no time", unit, None, not_assigned("not_running"))
            add(key, "not running, time given", unit, inside, not_assigned("not_running"))
    for unit in pool[3:6]:
        add("st-paused-window", "paused inside its window", unit, inside, not_assigned("not_running"))

    window_times = [
        ("long before start", "2025-01-01T00:00:00Z", False),
        ("one second before start", "2026-05-31T23:59:59Z", False),
        ("one millisecond before start", "2026-05-31T23:59:59.999Z", False),
        ("at start (inclusive)", START, True),
        ("at start, written with an offset", "2026-06-01T02:00:00+02:00", True),
        ("one millisecond after start", "2026-06-01T00:00:00.001Z", True),
        ("inside", inside, True),
        ("inside, fractional seconds", "2026-06-20T08:30:15.250Z", True),
        ("last millisecond", "2026-06-30T23:59:59.999Z", True),
        ("at end (exclusive)", END, False),
        ("at end, written with an offset", "2026-06-30T20:00:00-04:00", False),
        ("after end", "2026-07-01T00:00:01Z", False),
        ("long after end", "2030-01-01T00:00:00Z", False),
    ]
    for i, (label, now, ok) in enumerate(window_times):
        for unit in (pool[i % len(pool)], pool[(i + 7) % len(pool)]):
            add("st-window", label, unit, now, "hash" if ok else not_assigned("not_running"))
    for unit in pool[:6]:
        add("st-window", "no time given", unit, None, not_assigned("not_running"))

    for unit in pool[6:9]:
        add("st-start-only", "before start", unit, "2026-05-01T00:00:00Z", not_assigned("not_running"))
        add("st-start-only", "at start", unit, START, "hash")
        add("st-start-only", "long after start", unit, "2031-01-01T00:00:00Z", "hash")
        add("st-start-only", "no time given", unit, None, not_assigned("not_running"))
        add("st-end-only", "long before end", unit, "2001-01-01T00:00:00Z", "hash")
        add("st-end-only", "at end", unit, END, not_assigned("not_running"))
        add("st-end-only", "no time given", unit, None, not_assigned("not_running"))

    for unit in pool[:12]:
        add("st-no-window", "no time given", unit, None, "hash")
    for unit in pool[12:16]:
        add("st-no-window", "time given", unit, inside, "hash")

    # Rule 3 (time) comes before rule 4 (targeting).
    for unit in pool[16:19]:
        add("st-window-targeted", "outside the window, targeting would miss", unit, END,
            not_assigned("not_running"), {"country": "FR"})
        add("st-window-targeted", "inside, targeting misses", unit, inside, targeting_miss("false"),
            {"country": "FR"})
        add("st-window-targeted", "inside, attribute absent", unit, inside,
            targeting_miss("attribute_missing"))
        add("st-window-targeted", "inside, targeting matches", unit, inside, "hash", {"country": "DE"})
    for unit in pool:
        add("st-window-half-traffic", "inside", unit, inside, "hash")
        if unit in pool[:4]:
            add("st-window-half-traffic", "before start", unit, "2026-05-31T00:00:00Z",
                not_assigned("not_running"))
    reasons = {c["expected"]["reason"] for c in cases if c["experiment"] == "st-window-half-traffic"}
    assert {"assigned", "not_in_traffic", "not_running"} <= reasons, reasons
    return {
        "name": "status-and-time",
        "description": (
            "Only running experiments assign: draft (also the default), paused and stopped give "
            "not_running. A time window [start_time, end_time) is inclusive at the start and "
            "exclusive at the end; an experiment with a window and no time given is not_running; "
            "status and time come before targeting."
        ),
        "config": config(exps),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 5. Overrides


def build_overrides() -> dict:
    arms = two_arms()
    layer = {"key": "ov-layer", "salt": "ov-layer-salt"}
    holdout = {"key": "ov-holdout", "share": 0.5, "experiments": ["ov-held"]}
    exps = [
        running("ov-running", arms, targeting=COUNTRY_DE,
                overrides={"qa-1": "treatment", "qa-2": "control", "zürich-1": "treatment"}),
        running("ov-draft", arms, status="draft", overrides={"qa-1": "treatment", "qa-3": "control"}),
        running("ov-stopped", arms, status="stopped", overrides={"qa-1": "control"}),
        running("ov-paused", arms, status="paused", overrides={"🧪-7": "treatment"}),
        running("ov-window", arms, start_time=START, end_time=END, overrides={"qa-1": "treatment"}),
        running("ov-no-traffic", arms, traffic=0, overrides={"qa-1": "control"}),
        running("ov-layered", arms, layer={"key": "ov-layer", "range": [0, 0.5]}, overrides={}),
        running("ov-held", arms),
    ]
    ex = by_key(config(exps))
    pool = units("ov", 40)
    layered, held = ex["ov-layered"], ex["ov-held"]
    # Override units that the hashes would otherwise keep out: outside the layer slice, and
    # held out.
    outside = [u for u in pool if not in_slice(layer, layered, u)][:3]
    held_units = [u for u in pool if is_held_out(holdout, u)][:3]
    assert len(outside) == 3 and len(held_units) == 3
    layered["overrides"] = {u: ("control" if i % 2 else "treatment") for i, u in enumerate(outside)}
    held["overrides"] = {u: ("treatment" if i % 2 else "control") for i, u in enumerate(held_units)}

    cases = []

    def add(key: str, label: str, unit: str, expected: dict, attributes: dict | None = None,
            now: str | None = None) -> None:
        cases.append(case(f"{key}: {label} ({unit!r})", key, unit, expected, attributes, now))

    r = "ov-running"
    add(r, "override beats a targeting miss (absent)", "qa-1", override("treatment"))
    add(r, "override beats a targeting miss (false)", "qa-1", override("treatment"), {"country": "FR"})
    add(r, "override with matching targeting is still not in the experiment", "qa-1",
        override("treatment"), {"country": "DE"})
    add(r, "override to control", "qa-2", override("control"), {"country": "US"})
    add(r, "non-ASCII unit override", "zürich-1", override("treatment"))
    add(r, "unit id differs in case: no override", "QA-1", targeting_miss("attribute_missing"))
    add(r, "no override, targeting false", "qa-9", targeting_miss("false"), {"country": "FR"})
    add(r, "no override, type mismatch", "qa-9", targeting_miss("type_mismatch"), {"country": 1})
    for unit in pool[6:26]:
        add(r, "no override, targeting matches", unit, eligible_outcome(ex[r], unit), {"country": "DE"})

    for unit, v in (("qa-1", "treatment"), ("qa-3", "control")):
        add("ov-draft", "override in a draft", unit, override(v))
        add("ov-draft", "override in a draft, time given", unit, override(v), now="2026-06-15T00:00:00Z")
    for unit in pool[6:10]:
        add("ov-draft", "no override", unit, not_assigned("not_running"))
    add("ov-stopped", "override in a stopped experiment", "qa-1", override("control"))
    for unit in pool[6:9]:
        add("ov-stopped", "no override", unit, not_assigned("not_running"))
    add("ov-paused", "emoji unit override in a paused experiment", "🧪-7", override("treatment"))
    add("ov-paused", "no override", "🧪-8", not_assigned("not_running"))

    w = "ov-window"
    add(w, "override with no time given", "qa-1", override("treatment"))
    add(w, "override before the window", "qa-1", override("treatment"), now="2026-01-01T00:00:00Z")
    add(w, "override after the window", "qa-1", override("treatment"), now=END)
    add(w, "override inside the window", "qa-1", override("treatment"), now="2026-06-10T00:00:00Z")
    for unit in pool[6:9]:
        add(w, "no override, no time given", unit, not_assigned("not_running"))
        add(w, "no override, inside the window", unit, eligible_outcome(ex[w], unit),
            now="2026-06-10T00:00:00Z")

    add("ov-no-traffic", "override with traffic 0", "qa-1", override("control"))
    for unit in pool[6:12]:
        add("ov-no-traffic", "no override, traffic 0", unit, not_assigned("not_in_traffic"))

    for unit in outside:
        add("ov-layered", "override outside the layer slice", unit, override(layered["overrides"][unit]))
    for unit in pool:
        if unit not in layered["overrides"]:
            add("ov-layered", "no override", unit, eligible_outcome(layered, unit, layer=layer))
    for unit in held_units:
        add("ov-held", "override of a held-out unit", unit, override(held["overrides"][unit]))
    for unit in pool:
        if unit not in held["overrides"]:
            add("ov-held", "no override", unit, eligible_outcome(held, unit, holdouts=[holdout]))
    reasons = {c["expected"]["reason"] for c in cases}
    assert {"override", "other_layer_member", "holdout", "assigned"} <= reasons
    return {
        "name": "overrides",
        "description": (
            "Forced variants win over every rule but an unknown or invalid experiment: in any "
            "status, outside the time window, with traffic 0, against a targeting miss, outside "
            "the layer slice and in a holdout; the unit is not counted (in_experiment false). "
            "Units without an override follow the normal rules."
        ),
        "config": config(exps, layers=[layer], holdouts=[holdout]),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 6. Layers


def build_layers() -> dict:
    layer = {"key": "checkout-layer", "salt": "checkout-layer-2026"}
    search = {"key": "search-layer"}
    exps = [
        running("layer-a", two_arms(), layer={"key": "checkout-layer", "range": [0, 0.3]}),
        running("layer-b", [{"key": "x", "weight": 1}, {"key": "y", "weight": 1}, {"key": "z", "weight": 2}],
                layer={"key": "checkout-layer", "range": [0.3, 0.6]}),
        running("layer-c", two_arms(), salt="layer-c-salt", layer={"key": "checkout-layer", "range": [0.6, 0.9]}),
        # Rule 6 (layer slice) comes before rule 7 (traffic).
        running("search-ranking", two_arms(), traffic=0.5, layer={"key": "search-layer", "range": [0.25, 0.75]}),
    ]
    ex = by_key(config(exps))
    pool = units("ly", 100)
    cases = []
    owners = {"layer-a": 0, "layer-b": 0, "layer-c": 0, None: 0}
    for unit in pool:
        b = layer_bucket(layer, unit)
        owner = None
        for key in ("layer-a", "layer-b", "layer-c"):
            start, end = ex[key]["layer"]["range"]
            if spec.bound(start) <= b < spec.bound(end):
                assert owner is None
                owner = key
        owners[owner] += 1
        for key in ("layer-a", "layer-b", "layer-c"):
            out = eligible_outcome(ex[key], unit, layer=layer)
            if key == owner:
                assert out["reason"] == "assigned"
                label = "owns the unit's slice"
            else:
                assert out["reason"] == "other_layer_member"
                label = "free slice" if owner is None else f"slice of {owner}"
            cases.append(case(f"{key}: {unit!r} ({label})", key, unit, out))
    assert all(n > 0 for n in owners.values()), owners
    reasons = set()
    for unit in pool[:40]:
        out = eligible_outcome(ex["search-ranking"], unit, layer=search)
        reasons.add(out["reason"])
        cases.append(case(f"search-ranking: {unit!r}", "search-ranking", unit, out))
    assert reasons == {"assigned", "other_layer_member", "not_in_traffic"}, reasons
    return {
        "name": "layers",
        "description": (
            "A layer with three mutually exclusive experiments owning [0, 0.3), [0.3, 0.6) and "
            "[0.6, 0.9) and a free slice [0.9, 1): each unit is assigned in the experiment whose "
            "slice holds its layer bucket and is other_layer_member in the others. A second "
            "layer's experiment with traffic 0.5 shows the slice is checked before the traffic."
        ),
        "config": config(exps, layers=[layer, search]),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 7. Holdouts


def build_holdouts() -> dict:
    holdout = {"key": "global-holdout", "salt": "global-holdout-2026", "share": 0.2,
               "experiments": ["ho-a", "ho-targeted"], "layers": ["ho-layer"]}
    layer = {"key": "ho-layer"}
    targeting = {"attribute": "country", "op": "in", "value": ["DE", "AT"]}
    exps = [
        running("ho-a", two_arms(), traffic=0.6),
        running("ho-targeted", two_arms(), targeting=targeting),
        running("ho-layered", two_arms(), layer={"key": "ho-layer", "range": [0, 0.5]}),
        running("ho-outside", two_arms()),
    ]
    ex = by_key(config(exps))
    pool = units("ho", 60)
    scoped = [holdout]
    cases = []
    n_held = 0
    for unit in pool:
        h = is_held_out(holdout, unit)
        n_held += h
        tag = "held out" if h else "not held out"
        for key in ("ho-a", "ho-layered"):
            out = eligible_outcome(ex[key], unit, holdouts=scoped, layer=layer if key == "ho-layered" else None)
            assert (out["reason"] == "holdout") == h
            cases.append(case(f"{key}: {unit!r} ({tag})", key, unit, out))
        out = eligible_outcome(ex["ho-targeted"], unit, holdouts=scoped)
        cases.append(case(f"ho-targeted: {unit!r} ({tag}, targeting matches)", "ho-targeted", unit, out,
                          {"country": "AT"}))
        out = eligible_outcome(ex["ho-outside"], unit)
        assert out["reason"] == "assigned"
        cases.append(case(f"ho-outside: {unit!r} ({tag}, not in scope)", "ho-outside", unit, out))
        if h:
            # Rule 4 (targeting) comes before rule 5 (holdout).
            cases.append(case(f"ho-targeted: {unit!r} (held out, targeting false)", "ho-targeted", unit,
                              targeting_miss("false"), {"country": "FR"}))
            cases.append(case(f"ho-targeted: {unit!r} (held out, country absent)", "ho-targeted", unit,
                              targeting_miss("attribute_missing")))
    assert 3 <= n_held < len(pool) // 2, n_held
    layered = [c for c in cases if c["experiment"] == "ho-layered"]
    assert {c["expected"]["reason"] for c in layered} == {"assigned", "holdout", "other_layer_member"}
    # A held-out unit outside the layer slice reports holdout (rule 5 before rule 6).
    assert any(c["expected"]["reason"] == "holdout" and not in_slice(layer, ex["ho-layered"], c["unit"])
               for c in layered)
    return {
        "name": "holdouts",
        "description": (
            "A holdout of share 0.2 scoped to two experiments by key and to a third through its "
            "layer: the same units get holdout in all three; an experiment outside the scope "
            "assigns them. Targeting is checked before the holdout, the holdout before the layer "
            "slice and the traffic."
        ),
        "config": config(exps, layers=[layer], holdouts=[holdout]),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 8. Multivariate


def build_multivariate() -> dict:
    exps = [
        running("mv-hero", None, kind="multivariate", salt="mv-hero-salt", factors=[
            {"key": "color", "levels": [
                {"key": "red", "weight": 1, "payload": "#f00"},
                {"key": "green", "weight": 1, "payload": "#0f0"},
                {"key": "blue", "weight": 2, "payload": "#00f"},
            ]},
            {"key": "headline", "levels": [
                {"key": "short", "payload": {"text": "Buy"}},
                {"key": "long", "payload": {"text": "Buy it now, today"}},
            ]},
        ]),
        running("mv-three", None, kind="multivariate", traffic=0.7, factors=[
            {"key": "size", "levels": [{"key": "s"}, {"key": "m"}, {"key": "l"}]},
            {"key": "layout", "levels": [{"key": "grid", "weight": 3}, {"key": "list", "weight": 1}]},
            {"key": "cta", "levels": [{"key": "buy", "weight": 0.5}, {"key": "try", "weight": 0.5}]},
        ]),
        running("mv-one-factor", None, kind="multivariate", factors=[
            {"key": "font", "levels": [{"key": "serif", "weight": 0}, {"key": "sans", "weight": 1}]},
        ]),
    ]
    ex = by_key(config(exps))
    cases = []
    pool = units("mv", 60)
    for key in ("mv-hero", "mv-three"):
        levels: dict[str, set[str]] = {}
        for unit in pool:
            out = eligible_outcome(ex[key], unit)
            if out["reason"] == "assigned":
                for part in out["variant"].split(","):
                    f, lv = part.split("=")
                    levels.setdefault(f, set()).add(lv)
            cases.append(case(f"{key}: {unit!r}", key, unit, out))
        for factor in ex[key]["factors"]:
            assert levels[factor["key"]] == {lv["key"] for lv in factor["levels"]}, (key, levels)
    for unit in pool[:10]:
        out = eligible_outcome(ex["mv-one-factor"], unit)
        assert out == assigned("font=sans")
        cases.append(case(f"mv-one-factor: {unit!r}", "mv-one-factor", unit, out))
    # Factors are independent: the level of one factor is that of its own hash alone.
    hero = ex["mv-hero"]
    for unit in pool:
        color = factor_level(unit, "mv-hero-salt", "color", [1, 1, 2])
        assert mv_variant(hero, unit).startswith("color=" + ["red", "green", "blue"][color] + ",")
    return {
        "name": "multivariate",
        "description": (
            "Multivariate experiments: each factor's level comes from its own hash (purpose "
            "\"factor:\" + factor key); the variant key is factor=level joined by commas in "
            "declared factor order. Includes traffic 0.7 and a zero-weight level."
        ),
        "config": config(exps),
        "cases": cases,
    }


# ---------------------------------------------------------------------------------------------
# 9. Invalid experiments (lenient load)


def build_invalid() -> dict:
    good = running("good-ab", two_arms(), salt="good-ab-salt")
    exps: list[dict] = [
        good,
        running("bad-negative-weight", [{"key": "a", "weight": 1}, {"key": "b", "weight": -1}]),
        running("bad-traffic", two_arms(), traffic=1.5),
        running("bad-override", two_arms(), overrides={"qa-1": "control", "qa-2": "nope"}),
        running("bad-regex", two_arms(), targeting={"attribute": "email", "op": "regex", "value": "(unclosed"}),
        running("bad-regex-in-all", two_arms(), targeting={"all": [
            {"attribute": "email", "op": "regex", "value": "[a-"},
            COUNTRY_DE,
        ]}),
        running("bad-op", two_arms(), targeting={"attribute": "country", "op": "matches", "value": "DE"}),
        running("bad-duplicate-variant", [{"key": "a", "weight": 1}, {"key": "a", "weight": 1}]),
        running("bad-hash-version", two_arms(), hash_version=2),
        running("bad-window", two_arms(), start_time=END, end_time=START),
        running("bad-layer", two_arms(), layer={"key": "no-such-layer", "range": [0, 0.5]}),
        running("bad-empty-variants", []),
        running("bad-string-weight", [{"key": "a", "weight": "heavy"}, {"key": "b", "weight": 1}]),
        running("good-layered", [{"key": "only"}], layer={"key": "real-layer", "range": [0, 1]}),
        running("good-unknown-field", two_arms(), future_field={"ignored": True}),
        running("good-targeted", two_arms(), targeting=COUNTRY_DE, overrides={"qa-1": "treatment"}),
    ]
    problems = [
        {"code": "invalid_value", "path": "experiments[bad-negative-weight].variants[1].weight"},
        {"code": "invalid_value", "path": "experiments[bad-traffic].traffic"},
        {"code": "unknown_reference", "path": "experiments[bad-override].overrides[qa-2]"},
        {"code": "invalid_regex", "path": "experiments[bad-regex].targeting.value"},
        {"code": "invalid_regex", "path": "experiments[bad-regex-in-all].targeting.all[0].value"},
        {"code": "invalid_value", "path": "experiments[bad-op].targeting.op"},
        {"code": "duplicate_key", "path": "experiments[bad-duplicate-variant].variants[1]"},
        {"code": "unsupported_hash_version", "path": "experiments[bad-hash-version].hash_version"},
        {"code": "invalid_value", "path": "experiments[bad-window].end_time"},
        {"code": "unknown_reference", "path": "experiments[bad-layer].layer.key"},
        {"code": "invalid_value", "path": "experiments[bad-empty-variants].variants"},
        {"code": "invalid_json", "path": "experiments[bad-string-weight].variants[0].weight"},
    ]
    bad_keys = [e["key"] for e in exps if e["key"].startswith("bad-")]
    # One problem per bad experiment, in document order.
    assert [re.match(r"experiments\[([^\]]+)\]", p["path"]).group(1) for p in problems] == bad_keys
    ex = by_key(config(exps))
    real_layer = {"key": "real-layer"}
    pool = units("iv", 20)
    cases = []
    for unit in pool[:12]:
        cases.append(case(f"good-ab: {unit!r}", "good-ab", unit, eligible_outcome(ex["good-ab"], unit)))
    for unit in pool[12:16]:
        out = eligible_outcome(ex["good-layered"], unit, layer=real_layer)
        assert out == assigned("only")
        cases.append(case(f"good-layered: {unit!r}", "good-layered", unit, out))
    for unit in pool[:6]:
        cases.append(case(f"good-unknown-field: {unit!r}", "good-unknown-field", unit,
                          eligible_outcome(ex["good-unknown-field"], unit)))
    cases.append(case("good-targeted: override", "good-targeted", "qa-1", override("treatment")))
    cases.append(case("good-targeted: targeting false", "good-targeted", "iv-0", targeting_miss("false"),
                      {"country": "FR"}))
    cases.append(case("good-targeted: targeting matches", "good-targeted", "iv-0",
                      eligible_outcome(ex["good-targeted"], "iv-0"), {"country": "DE"}))
    for key in bad_keys:
        for unit in ("zürich-1", "iv-3"):
            cases.append(case(f"{key}: rejected ({unit!r})", key, unit, not_assigned("invalid_config"),
                              {"country": "DE", "email": "a@b.example"}))
    # An invalid experiment reports invalid_config even for a unit with a (valid) override.
    cases.append(case("bad-override: rejected even for an overridden unit", "bad-override", "qa-1",
                      not_assigned("invalid_config")))
    for key, label in (("does-not-exist", "unknown key"), ("GOOD-AB", "keys are case-sensitive"),
                       ("", "empty key"), ("good-ab ", "trailing space")):
        cases.append(case(f"unknown experiment: {label}", key, "iv-1", not_assigned("unknown_experiment")))
    return {
        "name": "invalid-experiments",
        "description": (
            "A lenient load of a config mixing good and bad experiments: each bad experiment is "
            "set aside with one problem (code and path, in document order) and answers "
            "invalid_config, even for an overridden unit; good ones assign, unknown fields are "
            "ignored, an unknown key gives unknown_experiment."
        ),
        "config": config(exps, layers=[real_layer], version="conformance#invalid",
                         generator_note="unknown top-level field, ignored by a lenient load"),
        "cases": cases,
        "problems": problems,
    }


# ---------------------------------------------------------------------------------------------

# ---------------------------------------------------------------------------------------------
# 10. Sticky assignment


def build_sticky() -> dict:
    exps = [
        running("sticky-ab", two_arms(), salt="sticky-ab-salt", traffic=0.3),
        running("sticky-weights", [{"key": "control", "weight": 1}, {"key": "treatment", "weight": 0}]),
        running("sticky-paused", two_arms(), status="paused"),
        running("sticky-targeted", two_arms(),
                targeting={"attribute": "country", "op": "eq", "value": "DE"}),
        running("sticky-override", two_arms(), overrides={"qa-1": "treatment"}),
        running("sticky-mv", None, kind="multivariate", factors=[
            {"key": "color", "levels": [{"key": "red"}, {"key": "blue"}]},
            {"key": "size", "levels": [{"key": "s"}, {"key": "l"}]},
        ]),
    ]
    ex = by_key(config(exps))
    cases = []
    pool = units("st", 24)
    kept_in_spite_of_traffic = 0
    for unit in pool:
        fresh = eligible_outcome(ex["sticky-ab"], unit)
        kept_in_spite_of_traffic += fresh["reason"] == "not_in_traffic"
        cases.append(case(f"sticky-ab: fresh {unit!r}", "sticky-ab", unit, fresh))
        cases.append(case(f"sticky-ab: remembered treatment {unit!r}", "sticky-ab", unit,
                          sticky("treatment"), remembered="treatment"))
        # A remembered variant the experiment no longer has is ignored.
        cases.append(case(f"sticky-ab: remembered a removed variant {unit!r}", "sticky-ab", unit,
                          fresh, remembered="retired"))
    assert 0 < kept_in_spite_of_traffic < len(pool)
    for unit in pool[:8]:
        cases.append(case(f"sticky-weights: fresh {unit!r}", "sticky-weights", unit,
                          assigned("control")))
        cases.append(case(f"sticky-weights: kept at weight 0 {unit!r}", "sticky-weights", unit,
                          sticky("treatment"), remembered="treatment"))
        cases.append(case(f"sticky-paused: {unit!r}", "sticky-paused", unit,
                          not_assigned("not_running"), remembered="control"))
        cases.append(case(f"sticky-targeted: miss {unit!r}", "sticky-targeted", unit,
                          targeting_miss("false"), attributes={"country": "US"}, remembered="control"))
        cases.append(case(f"sticky-targeted: match {unit!r}", "sticky-targeted", unit,
                          sticky("control"), attributes={"country": "DE"}, remembered="control"))
        cases.append(case(f"sticky-mv: {unit!r}", "sticky-mv", unit, sticky("color=blue,size=l"),
                          remembered="color=blue,size=l"))
        cases.append(case(f"sticky-mv: fresh {unit!r}", "sticky-mv", unit,
                          eligible_outcome(ex["sticky-mv"], unit)))
    cases.append(case("sticky-override: the override wins", "sticky-override", "qa-1",
                      override("treatment"), remembered="control"))
    cases.append(case("unknown experiment with a remembered variant", "sticky-nope", "u-1",
                      not_assigned("unknown_experiment"), remembered="control"))
    return {
        "name": "sticky",
        "description": (
            "Sticky assignment: a case's \"remembered\" variant (from the caller's sticky store) is "
            "kept, reason sticky, whatever the weights and traffic now say, as long as the "
            "experiment is live, the targeting matches and no holdout or other layer member "
            "rules the unit out; overrides still win; a remembered variant the experiment no "
            "longer has is ignored."
        ),
        "config": config(exps, version="conformance#sticky"),
        "cases": cases,
    }


BUILDERS = [
    ("targeting", build_targeting),
    ("abn-weights", build_abn_weights),
    ("traffic", build_traffic),
    ("status-and-time", build_status_and_time),
    ("overrides", build_overrides),
    ("layers", build_layers),
    ("holdouts", build_holdouts),
    ("multivariate", build_multivariate),
    ("invalid-experiments", build_invalid),
    ("sticky", build_sticky),
    ("flags-rules", lambda: flag_files.build_rules(units)),
    ("flags-rollout", lambda: flag_files.build_rollout(units)),
    ("flags-experiments", lambda: flag_files.build_experiments(units, ab_variant, traffic_in)),
    ("flags-prerequisites", flag_files.build_prerequisites),
    ("flags-schedule", lambda: flag_files.build_schedule(units)),
    ("flags-invalid", flag_files.build_invalid),
]


def check(doc: dict) -> None:
    """Structural checks of one generated file."""
    name = doc["name"]
    if name.startswith("flags-"):
        flag_files.check(doc)
        return
    keys = by_key(doc["config"])
    for e in doc["config"]["experiments"]:
        assert KEY_RE.match(e["key"]), e["key"]
        for v in e.get("variants", []):
            assert KEY_RE.match(v["key"]), v["key"]
    for layer in doc["config"].get("layers", []):
        assert KEY_RE.match(layer["key"])
    for h in doc["config"].get("holdouts", []):
        assert KEY_RE.match(h["key"])
    names = [c["name"] for c in doc["cases"]]
    dupes = {n for n in names if names.count(n) > 1}
    assert not dupes, f"{name}: duplicate case names {sorted(dupes)[:5]}"
    for c in doc["cases"]:
        exp = c["expected"]
        assert exp["reason"] in REASONS, c
        assert exp["in_experiment"] == (exp["reason"] in ("assigned", "sticky")), c
        assert ("miss" in exp) == (exp["reason"] == "targeting_miss"), c
        assert (exp["variant"] is None) == (exp["reason"] not in ("assigned", "sticky", "override")), c
        if exp["reason"] == "unknown_experiment":
            assert c["experiment"] not in keys, c
        else:
            assert c["experiment"] in keys, c


def render(doc: dict) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def generate() -> dict[str, str]:
    """File name -> file text, for every conformance file."""
    out = {}
    for name, build in BUILDERS:
        doc = build()
        assert doc["name"] == name
        check(doc)
        out[f"{name}.json"] = render(doc)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT, help="output directory")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    files = generate()
    total = 0
    for fname, text in files.items():
        (args.out / fname).write_text(text, encoding="utf-8")
        n = len(json.loads(text)["cases"])
        total += n
        print(f"{fname}: {n} cases")
    stale = sorted(p.name for p in args.out.glob("*.json") if p.name not in files)
    if stale:
        print(f"warning: files not produced by this generator: {', '.join(stale)}", file=sys.stderr)
    print(f"total: {total} cases in {len(files)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
