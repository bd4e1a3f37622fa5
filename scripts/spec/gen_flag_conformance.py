"""The flag files of the shared conformance suite (``fixtures/conformance/flags-*.json``),
written by ``gen_conformance.py``.

Every implementation loads each file's config leniently, checks the reported problems, and
runs every case through ``evaluate(flag, unit, attributes, now)`` (with ``type``, the typed
evaluation). The expected values are computed independently of the Rust code:

* rollouts and experiment variants come from the Python reference of the bucketing spec,
  ``bucketing_v1.py`` (rollout: ``bucket(unit, salt, "rollout") < bound(percentage / 100)``);
* everything else (rule order, the switch, conditions, prerequisites, scheduled changes,
  errors) is known from the way each case is constructed, following ``docs/flags.md``: the
  tables below state the expected outcome by hand. There is no targeting evaluator here.
"""

from __future__ import annotations

from typing import Any, Callable

import bucketing_v1 as spec

FLAG_REASONS = ("STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "DEFAULT", "ERROR")
EVALUATION_ERRORS = ("flag_not_found", "invalid_config", "type_mismatch")

PRO = {"attribute": "plan", "op": "eq", "value": "pro"}
STAFF = {"attribute": "email", "op": "ends_with", "value": "@litmus.dev"}
BEFORE = "2026-12-09T23:59:59Z"


def rollout_in(unit: str, salt: str, percentage: float) -> bool:
    """Whether a rollout of ``percentage`` % under ``salt`` serves ``unit`` (docs/flags.md)."""
    return spec.bucket(unit, salt, "rollout") < spec.bound(percentage / 100.0)


def served(value: Any, reason: str, rule: str | None, variant: str | None = None,
           assignment: dict | None = None) -> dict:
    assert reason in FLAG_REASONS and reason != "ERROR"
    if variant is None:
        variant = rule if rule is not None else "default"
    return {"value": value, "reason": reason, "rule": rule, "variant": variant,
            "error": None, "assignment": assignment}


def failed(error: str) -> dict:
    assert error in EVALUATION_ERRORS
    return {"value": None, "reason": "ERROR", "rule": None, "variant": None,
            "error": error, "assignment": None}


def fcase(name: str, flag: str, unit: str, expected: dict, attributes: dict | None = None,
          now: str | None = None, type_: str | None = None) -> dict:
    c: dict[str, Any] = {"name": name, "flag": flag, "unit": unit}
    if attributes:
        c["attributes"] = attributes
    if now is not None:
        c["now"] = now
    if type_ is not None:
        c["type"] = type_
    c["expected"] = expected
    return c


def doc(name: str, description: str, flags: list[dict], cases: list[dict],
        experiments: list[dict] | None = None, problems: list[dict] | None = None) -> dict:
    config: dict[str, Any] = {"schema_version": 1, "version": f"conformance#{name}",
                              "experiments": experiments or [], "flags": flags}
    out: dict[str, Any] = {"name": name, "description": description, "config": config,
                           "cases": cases}
    if problems is not None:
        out["problems"] = problems
    return out


# ---------------------------------------------------------------------------------------------
# 1. Rules, the switch, types


def build_rules(units: Callable[[str, int], list[str]]) -> dict:
    flags = [
        {"key": "checkout", "type": "boolean", "default": False, "rules": [
            {"id": "staff", "kind": "force", "condition": STAFF, "value": True},
            {"id": "blocked", "kind": "force", "condition": {"attribute": "country", "op": "in", "value": ["XX", "YY"]}, "value": False},
            {"id": "pro-ramp", "kind": "rollout", "condition": PRO, "percentage": 50, "value": True},
            {"id": "everyone", "kind": "rollout", "percentage": 10, "value": True},
        ]},
        {"key": "banner", "type": "string", "default": "none", "enabled": False, "rules": [
            {"kind": "force", "value": "sale"},
        ]},
        {"key": "limit", "type": "number", "default": 10},
        {"key": "theme", "type": "json", "default": {"color": "grey", "sizes": [1, 2]}, "rules": [
            {"id": "pro-theme", "kind": "force", "condition": PRO, "value": {"color": "gold", "sizes": []}},
        ]},
        {"key": "greeting", "type": "string", "default": "hello", "rules": [
            {"kind": "force", "value": "bonjour"},
            {"kind": "force", "condition": PRO, "value": "never reached"},
        ]},
        {"key": "ratio", "type": "number", "default": 0.25, "rules": [
            {"id": "pro-ratio", "kind": "force", "condition": PRO, "value": 0.75},
        ]},
    ]
    cases = []
    for unit in units("r", 30):
        staff = {"email": "ada@litmus.dev", "country": "XX", "plan": "pro"}
        cases.append(fcase(f"checkout: staff first {unit!r}", "checkout", unit,
                           served(True, "TARGETING_MATCH", "staff"), staff))
        cases.append(fcase(f"checkout: blocked country {unit!r}", "checkout", unit,
                           served(False, "TARGETING_MATCH", "blocked"), {"country": "YY", "plan": "pro"}))
        pro_in = rollout_in(unit, "checkout", 50)
        everyone_in = rollout_in(unit, "checkout", 10)
        if pro_in:
            want = served(True, "SPLIT", "pro-ramp")
        elif everyone_in:
            want = served(True, "SPLIT", "everyone")
        else:
            want = served(False, "DEFAULT", None)
        cases.append(fcase(f"checkout: pro {unit!r}", "checkout", unit, want, {"plan": "pro"}))
        want = served(True, "SPLIT", "everyone") if everyone_in else served(False, "DEFAULT", None)
        cases.append(fcase(f"checkout: free {unit!r}", "checkout", unit, want, {"plan": "free"}))
        cases.append(fcase(f"banner: off {unit!r}", "banner", unit, served("none", "DISABLED", None)))
    assert any(c["expected"]["rule"] == "pro-ramp" for c in cases)
    assert any(c["expected"]["rule"] == "everyone" for c in cases)
    assert any(c["expected"]["reason"] == "DEFAULT" for c in cases)
    cases += [
        fcase("limit: no rules is static", "limit", "u-1", served(10, "STATIC", None)),
        fcase("theme: pro", "theme", "u-1", served({"color": "gold", "sizes": []}, "TARGETING_MATCH", "pro-theme"), {"plan": "pro"}),
        fcase("theme: no match", "theme", "u-1", served({"color": "grey", "sizes": [1, 2]}, "DEFAULT", None), {"plan": "free"}),
        fcase("theme: attribute missing", "theme", "u-1", served({"color": "grey", "sizes": [1, 2]}, "DEFAULT", None)),
        fcase("greeting: a rule without a condition is static", "greeting", "u-1", served("bonjour", "STATIC", "force-0"), {"plan": "pro"}),
        fcase("ratio: pro", "ratio", "u-2", served(0.75, "TARGETING_MATCH", "pro-ratio"), {"plan": "pro"}),
        fcase("ratio: typed as number", "ratio", "u-2", served(0.25, "DEFAULT", None), type_="number"),
        fcase("ratio: typed as boolean", "ratio", "u-2", failed("type_mismatch"), type_="boolean"),
        fcase("theme: typed as json", "theme", "u-2", served({"color": "grey", "sizes": [1, 2]}, "DEFAULT", None), type_="json"),
        fcase("theme: typed as string", "theme", "u-2", failed("type_mismatch"), type_="string"),
        fcase("checkout: typed as boolean", "checkout", "u-3", served(True, "TARGETING_MATCH", "staff"), {"email": "x@litmus.dev"}, type_="boolean"),
        fcase("banner: typed as number", "banner", "u-3", failed("type_mismatch"), type_="number"),
        fcase("unknown flag", "nope", "u-1", failed("flag_not_found")),
        fcase("unknown flag typed", "nope", "u-1", failed("flag_not_found"), type_="boolean"),
    ]
    return doc("flags-rules", (
        "Flag rules in order, first match wins: force rules with conditions (TARGETING_MATCH), "
        "without (STATIC), rollouts (SPLIT, by the unit's rollout bucket under the flag's salt), "
        "no match (DEFAULT), a switched-off flag (DISABLED), a flag without rules (STATIC), each "
        "value type, typed evaluation (type_mismatch) and an unknown flag (flag_not_found). A "
        "rule's id defaults to KIND-POSITION; the variant is the rule's id, or \"default\"."
    ), flags, cases)


# ---------------------------------------------------------------------------------------------
# 2. Rollouts: raising the percentage keeps every unit already in


ROLLOUT_STEPS = (0, 0.5, 10, 12.5, 30, 99.99, 100)


def build_rollout(units: Callable[[str, int], list[str]]) -> dict:
    flags = []
    for step in ROLLOUT_STEPS:
        key = "ramp-" + str(step).replace(".", "_")
        flags.append({"key": key, "type": "boolean", "default": False, "salt": "ramp-shared",
                      "rules": [{"id": "ramp", "kind": "rollout", "percentage": step, "value": True}]})
    flags.append({"key": "own-salt", "type": "string", "default": "a", "salt": "flag-salt", "rules": [
        {"id": "r", "kind": "rollout", "percentage": 40, "salt": "rule-salt", "value": "b"},
    ]})
    cases = []
    pool = units("ro", 120)
    for unit in pool:
        was_in = False
        for step, flag in zip(ROLLOUT_STEPS, flags):
            is_in = rollout_in(unit, "ramp-shared", step)
            assert is_in or not was_in, "the reference broke monotonicity"
            was_in = is_in
            want = served(True, "SPLIT", "ramp") if is_in else served(False, "DEFAULT", None)
            cases.append(fcase(f"{flag['key']}: {unit!r}", flag["key"], unit, want))
        want = served("b", "SPLIT", "r") if rollout_in(unit, "rule-salt", 40) else served("a", "DEFAULT", None)
        cases.append(fcase(f"own-salt: {unit!r}", "own-salt", unit, want))
    return doc("flags-rollout", (
        "Rollouts of one salt at 0, 0.5, 10, 12.5, 30, 99.99 and 100 percent on the same units: a "
        "unit served at one percentage is served at every higher one (bucket(unit, salt, "
        "\"rollout\") < bound(percentage / 100)); a rule's own salt replaces the flag's."
    ), flags, cases)


# ---------------------------------------------------------------------------------------------
# 3. Experiment rules


def build_experiments(units: Callable[[str, int], list[str]], ab_variant: Callable[[dict, str], str],
                      traffic_in: Callable[[dict, str], bool]) -> dict:
    test = {"key": "color-test", "salt": "color-2026", "status": "running", "traffic": 0.6,
            "variants": [{"key": "control", "weight": 1}, {"key": "green", "weight": 1}, {"key": "gold", "weight": 2}],
            "overrides": {"qa-1": "gold"}}
    paused = {"key": "paused-test", "status": "paused",
              "variants": [{"key": "control"}, {"key": "treatment"}]}
    targeted = {"key": "pro-test", "status": "running", "targeting": PRO,
                "variants": [{"key": "control"}, {"key": "treatment"}]}
    flags = [
        {"key": "button-color", "type": "string", "default": "grey", "rules": [
            {"id": "vip", "kind": "force", "condition": {"attribute": "vip", "op": "eq", "value": True}, "value": "purple"},
            {"id": "test", "kind": "experiment", "experiment": "color-test",
             "values": {"control": "grey", "green": "green", "gold": "gold"}},
            {"id": "rest", "kind": "force", "value": "grey"},
        ]},
        {"key": "paused-flag", "type": "boolean", "default": False, "rules": [
            {"id": "test", "kind": "experiment", "experiment": "paused-test", "values": {"control": False, "treatment": True}},
        ]},
        {"key": "pro-flag", "type": "number", "default": 0, "rules": [
            {"id": "test", "kind": "experiment", "experiment": "pro-test", "values": {"control": 1, "treatment": 2}},
        ]},
    ]
    cases = []
    for unit in units("x", 60):
        if traffic_in(test, unit):
            v = ab_variant(test, unit)
            want = served(v if v != "control" else "grey", "SPLIT", "test", variant=v,
                          assignment={"experiment": "color-test", "variant": v, "in_experiment": True})
        else:
            want = served("grey", "STATIC", "rest")
        cases.append(fcase(f"button-color: {unit!r}", "button-color", unit, want))
        cases.append(fcase(f"button-color: vip first {unit!r}", "button-color", unit,
                           served("purple", "TARGETING_MATCH", "vip"), {"vip": True}))
        cases.append(fcase(f"paused-flag: {unit!r}", "paused-flag", unit, served(False, "DEFAULT", None)))
        v = ab_variant(targeted, unit)
        cases.append(fcase(f"pro-flag: pro {unit!r}", "pro-flag", unit,
                           served({"control": 1, "treatment": 2}[v], "SPLIT", "test", variant=v,
                                  assignment={"experiment": "pro-test", "variant": v, "in_experiment": True}),
                           {"plan": "pro"}))
        cases.append(fcase(f"pro-flag: free {unit!r}", "pro-flag", unit, served(0, "DEFAULT", None), {"plan": "free"}))
    assert any(c["expected"]["rule"] == "rest" for c in cases)
    cases.append(fcase("button-color: an override is a targeting match, not counted", "button-color", "qa-1",
                       served("gold", "TARGETING_MATCH", "test", variant="gold",
                              assignment={"experiment": "color-test", "variant": "gold", "in_experiment": False})))
    return doc("flags-experiments", (
        "Experiment rules: a unit in the experiment gets its variant's value (SPLIT, the variant "
        "as OpenFeature's variant, and the assignment whose exposure to log); a unit outside its "
        "traffic, its targeting, or a paused experiment goes on to the next rule; an override "
        "serves the forced variant's value (TARGETING_MATCH, not counted in the experiment)."
    ), flags, cases, experiments=[test, paused, targeted])


# ---------------------------------------------------------------------------------------------
# 4. Prerequisites


def build_prerequisites() -> dict:
    flags = [
        {"key": "parent", "type": "boolean", "default": False, "rules": [
            {"id": "beta", "kind": "force", "condition": {"attribute": "beta", "op": "eq", "value": True}, "value": True},
        ]},
        {"key": "child", "type": "string", "default": "off", "rules": [
            {"id": "needs-parent", "kind": "prerequisite", "flag": "parent", "is": True, "value": "on"},
        ]},
        {"key": "grandchild", "type": "boolean", "default": False, "rules": [
            {"id": "needs-child", "kind": "prerequisite", "flag": "child", "is": "on", "value": True},
        ]},
        {"key": "gate", "type": "boolean", "default": True, "rules": [
            {"id": "parent-off", "kind": "prerequisite", "flag": "parent", "is": False, "value": False},
            {"id": "pro-only", "kind": "force", "condition": {"not": PRO}, "value": False},
        ]},
        {"key": "tier", "type": "number", "default": 2},
        {"key": "by-number", "type": "string", "default": "no", "rules": [
            {"id": "tier-2", "kind": "prerequisite", "flag": "tier", "is": 2.0, "value": "yes"},
        ]},
        {"key": "cycle-a", "type": "boolean", "default": False, "rules": [
            {"kind": "prerequisite", "flag": "cycle-b", "is": True, "value": True},
        ]},
        {"key": "cycle-b", "type": "boolean", "default": False, "rules": [
            {"kind": "prerequisite", "flag": "cycle-a", "is": True, "value": True},
        ]},
        {"key": "on-broken", "type": "boolean", "default": False, "rules": [
            {"id": "needs-cycle", "kind": "prerequisite", "flag": "cycle-a", "is": False, "value": True},
            {"id": "after", "kind": "force", "value": False},
        ]},
    ]
    beta = {"beta": True}
    cases = [
        fcase("child: parent on", "child", "u-1", served("on", "TARGETING_MATCH", "needs-parent"), beta),
        fcase("child: parent off", "child", "u-1", served("off", "DEFAULT", None)),
        fcase("grandchild: chain on", "grandchild", "u-1", served(True, "TARGETING_MATCH", "needs-child"), beta),
        fcase("grandchild: chain off", "grandchild", "u-1", served(False, "DEFAULT", None), {"beta": False}),
        fcase("gate: parent off serves the gate's value", "gate", "u-1", served(False, "TARGETING_MATCH", "parent-off"), {"plan": "pro"}),
        fcase("gate: parent on, pro", "gate", "u-1", served(True, "DEFAULT", None), {"beta": True, "plan": "pro"}),
        fcase("gate: parent on, free", "gate", "u-1", served(False, "TARGETING_MATCH", "pro-only"), {"beta": True, "plan": "free"}),
        fcase("by-number: numbers compare by value", "by-number", "u-1", served("yes", "TARGETING_MATCH", "tier-2")),
        fcase("cycle-a: rejected", "cycle-a", "u-1", failed("invalid_config")),
        fcase("cycle-b: rejected", "cycle-b", "u-1", failed("invalid_config")),
        fcase("on-broken: a rejected prerequisite never applies", "on-broken", "u-1", served(False, "STATIC", "after")),
    ]
    problems = [
        {"code": "prerequisite_cycle", "path": "flags[cycle-a].rules[0].flag"},
        {"code": "prerequisite_cycle", "path": "flags[cycle-b].rules[0].flag"},
    ]
    return doc("flags-prerequisites", (
        "Prerequisite rules apply when another flag evaluates to `is` for the unit (numbers by "
        "value), through chains; a prerequisite placed first gates the rules after it; flags on "
        "a cycle are rejected at load (prerequisite_cycle, at each one's rule) and evaluate to "
        "invalid_config; a rule whose prerequisite was rejected never applies."
    ), flags, cases, problems=problems)


# ---------------------------------------------------------------------------------------------
# 5. Scheduled changes


def build_schedule(units: Callable[[str, int], list[str]]) -> dict:
    flags = [{
        "key": "launch", "type": "boolean", "default": False, "enabled": False,
        "rules": [{"id": "ramp", "kind": "rollout", "percentage": 20, "value": True}],
        "schedule": [
            {"at": "2026-12-10T09:00:00Z", "enabled": True},
            {"at": "2026-12-12T09:00:00Z", "rules": [
                {"id": "staff", "kind": "force", "condition": STAFF, "value": False},
                {"id": "ramp", "kind": "rollout", "percentage": 60, "value": True},
            ]},
            {"at": "2026-12-20T00:00:00.000+01:00", "enabled": False},
        ],
    }]
    cases = []
    for unit in units("s", 24):
        r20, r60 = rollout_in(unit, "launch", 20), rollout_in(unit, "launch", 60)
        ramp = lambda on: served(True, "SPLIT", "ramp") if on else served(False, "DEFAULT", None)  # noqa: E731
        cases += [
            fcase(f"no time: as configured {unit!r}", "launch", unit, served(False, "DISABLED", None)),
            fcase(f"before the first change {unit!r}", "launch", unit, served(False, "DISABLED", None), now=BEFORE),
            fcase(f"switched on at 09:00 {unit!r}", "launch", unit, ramp(r20), now="2026-12-10T09:00:00Z"),
            fcase(f"new rules on 12 Dec {unit!r}", "launch", unit, ramp(r60), now="2026-12-15T00:00:00Z"),
            fcase(f"new rules: staff {unit!r}", "launch", unit, served(False, "TARGETING_MATCH", "staff"),
                  {"email": "x@litmus.dev"}, now="2026-12-15T00:00:00Z"),
            fcase(f"last instant before off {unit!r}", "launch", unit, ramp(r60), now="2026-12-19T22:59:59.999Z"),
            fcase(f"switched off {unit!r}", "launch", unit, served(False, "DISABLED", None), now="2026-12-19T23:00:00Z"),
        ]
    return doc("flags-schedule", (
        "Scheduled changes by the caller's clock: each change, from its instant (inclusive) on, "
        "sets the switch and/or replaces the rules, keeping what it does not set; with no time "
        "known the flag is as configured. A rollout of one salt raised from 20 to 60 percent "
        "keeps every unit in."
    ), flags, cases)


# ---------------------------------------------------------------------------------------------
# 6. Invalid flags


def build_invalid() -> dict:
    flags = [
        {"key": "good", "type": "boolean", "default": True},
        {"key": "bad-default", "type": "boolean", "default": "yes"},
        {"key": "bad-value", "type": "number", "default": 1, "rules": [{"kind": "force", "value": "2"}]},
        {"key": "bad-percentage", "type": "boolean", "default": False, "rules": [{"kind": "rollout", "percentage": 120, "value": True}]},
        {"key": "bad-experiment", "type": "boolean", "default": False, "rules": [{"kind": "experiment", "experiment": "nope", "values": {}}]},
        {"key": "bad-prerequisite", "type": "boolean", "default": False, "rules": [{"kind": "prerequisite", "flag": "ghost", "is": True, "value": True}]},
        {"key": "bad-type", "type": "integer", "default": 1},
        {"key": "bad-schedule", "type": "boolean", "default": False, "schedule": [{"at": "soon", "enabled": True}]},
        {"key": "good", "type": "boolean", "default": False},
        {"key": "good-unknown-field", "type": "string", "default": "x", "future_field": 1,
         "rules": [{"kind": "force", "value": "y", "future_rule_field": 2}]},
    ]
    problems = [
        {"code": "invalid_value", "path": "flags[bad-default].default"},
        {"code": "invalid_value", "path": "flags[bad-value].rules[0].value"},
        {"code": "invalid_value", "path": "flags[bad-percentage].rules[0].percentage"},
        {"code": "unknown_reference", "path": "flags[bad-experiment].rules[0].experiment"},
        {"code": "unknown_reference", "path": "flags[bad-prerequisite].rules[0].flag"},
        {"code": "invalid_json", "path": "flags[bad-type].type"},
        {"code": "invalid_value", "path": "flags[bad-schedule].schedule[0].at"},
        {"code": "duplicate_key", "path": "flags[good]"},
    ]
    cases = [fcase("good: serves", "good", "u-1", served(True, "STATIC", None)),
             fcase("good-unknown-field: unknown fields are ignored", "good-unknown-field", "u-1",
                   served("y", "STATIC", "force-0"))]
    for f in flags[1:8]:
        cases.append(fcase(f"{f['key']}: rejected", f["key"], "u-1", failed("invalid_config")))
        cases.append(fcase(f"{f['key']}: rejected, typed", f["key"], "u-1", failed("invalid_config"), type_="boolean"))
    return doc("flags-invalid", (
        "Invalid flags are set aside at load with their problem (code and path) and evaluate to "
        "invalid_config while the others serve; a repeated key keeps the first flag; unknown "
        "fields are ignored by SDKs."
    ), flags, cases, problems=problems)


def check(doc: dict) -> None:
    """Structural checks of one generated flag file."""
    keys = {f["key"] for f in doc["config"]["flags"] if isinstance(f.get("key"), str)}
    for c in doc["cases"]:
        want = c["expected"]
        assert want["reason"] in FLAG_REASONS, c
        assert (want["reason"] == "ERROR") == (want["error"] is not None), c
        assert (want["value"] is None) == (want["reason"] == "ERROR"), c
        if want["error"] == "flag_not_found":
            assert c["flag"] not in keys, c
        else:
            assert c["flag"] in keys, c
