// Feature flags through the npm package (ESM and CommonJS): evaluation, typed values,
// exposures, time, metadata and bad input. The shared conformance files run in
// fixtures.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments";

const cjs = createRequire(import.meta.url)("litmus-experiments");

const FLAGS = {
  schema_version: 1,
  experiments: [{ key: "color-test", status: "running", variants: [{ key: "control" }, { key: "green" }], overrides: { "qa-1": "green" } }],
  flags: [
    {
      key: "new-checkout", type: "boolean", default: false, description: "the new checkout", tags: ["checkout", "q4"],
      rules: [
        { id: "staff", kind: "force", condition: { attribute: "email", op: "ends_with", value: "@litmus.dev" }, value: true },
        { id: "ramp", kind: "rollout", percentage: 30, value: true },
      ],
    },
    { key: "button-color", type: "string", default: "grey", rules: [{ id: "test", kind: "experiment", experiment: "color-test", values: { control: "grey", green: "green" } }] },
    { key: "limit", type: "number", default: 10 },
    { key: "theme", type: "json", default: { dark: false, sizes: [1, 2] } },
    { key: "launch", type: "boolean", default: false, enabled: false, schedule: [{ at: "2026-12-10T09:00:00Z", enabled: true }], rules: [{ kind: "force", value: true }] },
  ],
};

for (const [kind, { Engine }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: evaluate returns value, rule, reason and variant`, () => {
    const engine = new Engine(FLAGS);
    const e = engine.evaluate("new-checkout", "u-1", { email: "ada@litmus.dev" });
    assert.deepEqual(e, { flag: "new-checkout", unitId: "u-1", value: true, reason: "TARGETING_MATCH", rule: "staff", variant: "staff", error: null, assignment: null });
    assert.deepEqual(engine.flagMetadata("new-checkout"), { type: "boolean", description: "the new checkout", tags: "checkout,q4" });
    let on = 0;
    for (let i = 0; i < 5000; i++) on += engine.booleanValue("new-checkout", `user-${i}`) ? 1 : 0;
    assert.ok(on > 1300 && on < 1700, String(on));
    assert.deepEqual(engine.evaluate("limit", "u"), { flag: "limit", unitId: "u", value: 10, reason: "STATIC", rule: null, variant: "default", error: null, assignment: null });
    assert.deepEqual(engine.flagKeys(), ["new-checkout", "button-color", "limit", "theme", "launch"]);
  });

  test(`${kind}: typed values and mismatches`, () => {
    const engine = new Engine(FLAGS);
    assert.equal(engine.numberValue("limit", "u"), 10);
    const theme = engine.jsonValue("theme", "u");
    assert.deepEqual(theme, { dark: false, sizes: [1, 2] });
    assert.ok(Object.isFrozen(theme) && Object.isFrozen(theme.sizes), "shared values are frozen");
    assert.equal(engine.booleanValue("limit", "u", undefined, { default: true }), true);
    assert.equal(engine.stringValue("nope", "u", null, { default: "fallback" }), "fallback");
    const e = engine.evaluate("limit", "u", undefined, { type: "boolean" });
    assert.deepEqual([e.value, e.reason, e.error, e.variant], [null, "ERROR", "type_mismatch", null]);
    assert.equal(engine.evaluate("nope", "u").error, "flag_not_found");
    assert.throws(() => engine.evaluate("limit", "u", undefined, { type: "integer" }), (err) => err.code === "invalid_argument");
    assert.throws(() => engine.evaluate(5, "u"), (err) => err.code === "invalid_argument");
  });

  test(`${kind}: experiment rules report exposures once`, () => {
    const events = [];
    const engine = new Engine(FLAGS, { onExposure: (x) => events.push(x) });
    let e;
    for (let i = 0; i < 3; i++) e = engine.evaluate("button-color", "u-7");
    assert.equal(e.reason, "SPLIT");
    assert.deepEqual(e.assignment, { experiment: "color-test", unitId: "u-7", variant: e.variant, inExperiment: true, reason: "assigned" });
    assert.equal(e.value, { control: "grey", green: "green" }[e.variant]);
    assert.deepEqual(events.map((x) => [x.experiment, x.unitId, x.variant, x.reason]), [["color-test", "u-7", e.variant, "assigned"]]);
    const qa = engine.evaluate("button-color", "qa-1");
    assert.deepEqual([qa.value, qa.reason, qa.assignment.inExperiment, qa.assignment.reason], ["green", "TARGETING_MATCH", false, "override"]);
    assert.equal(events.length, 1);
    const all = engine.evaluateAll("u-9", { email: "x@litmus.dev" });
    assert.deepEqual(Object.keys(all), ["new-checkout", "button-color", "limit", "theme", "launch"]);
    assert.equal(all["new-checkout"].value, true);
    assert.equal(events.length, 2);
  });

  test(`${kind}: scheduled changes follow now`, () => {
    const engine = new Engine(FLAGS);
    assert.equal(engine.evaluate("launch", "u", undefined, { now: false }).reason, "DISABLED");
    assert.equal(engine.evaluate("launch", "u", undefined, { now: "2026-12-10T08:59:59Z" }).value, false);
    assert.equal(engine.evaluate("launch", "u", undefined, { now: new Date("2026-12-10T09:00:00Z") }).value, true);
    assert.equal(engine.booleanValue("launch", "u"), Date.now() >= Date.parse("2026-12-10T09:00:00Z"));
  });

  test(`${kind}: bad flags are problems, strict loading refuses them, updates keep the last good config`, () => {
    const bad = {
      schema_version: 1,
      flags: [
        { key: "a", type: "boolean", default: false, rules: [{ kind: "prerequisite", flag: "b", is: true, value: true }] },
        { key: "b", type: "boolean", default: false, rules: [{ kind: "prerequisite", flag: "a", is: true, value: true }] },
        { key: "r", type: "boolean", default: false, rules: [{ kind: "rollout", percentage: 150, value: true }] },
      ],
    };
    const engine = new Engine(bad);
    assert.deepEqual(engine.problems.map((p) => [p.code, p.path]), [
      ["prerequisite_cycle", "flags[a].rules[0].flag"],
      ["prerequisite_cycle", "flags[b].rules[0].flag"],
      ["invalid_value", "flags[r].rules[0].percentage"],
    ]);
    assert.match(engine.problems[0].message, /a -> b -> a/);
    assert.equal(engine.evaluate("a", "u").error, "invalid_config");
    assert.throws(() => new Engine(bad, { strict: true }), (err) => err.code === "multiple");
    const good = new Engine(FLAGS);
    assert.throws(() => good.update("{nope"), (err) => err.code === "invalid_json");
    assert.equal(good.numberValue("limit", "u"), 10);
    good.update({ schema_version: 1, flags: [{ key: "limit", type: "number", default: 99 }] });
    assert.equal(good.numberValue("limit", "u"), 99);
  });
}

// Sticky assignment through flags' experiment rules: the store `assign` uses, under core's key.
const stickyKey = (e, u) => `${e.length}:${e}:${u}`;
/** An experiment behind a flag, a flag gated on that flag, a plain flag; the split varies. */
const colors = (salt, weights) => ({
  schema_version: 1,
  experiments: [{ key: "color-test", salt, status: "running", variants: [{ key: "control", weight: weights[0] }, { key: "green", weight: weights[1] }] }],
  flags: [
    { key: "button-color", type: "string", default: "none", rules: [{ id: "test", kind: "experiment", experiment: "color-test", values: { control: "grey", green: "green" } }] },
    { key: "green-gate", type: "boolean", default: false, rules: [{ id: "gate", kind: "prerequisite", flag: "button-color", is: "green", value: true }] },
    { key: "limit", type: "number", default: 10, rules: [{ id: "all", kind: "force", value: 5 }] },
  ],
});
const BEFORE = colors("s1", [1, 1]);
const AFTER = colors("s2", [1, 9]);
const VALUES = { control: "grey", green: "green" };
const UNITS = Array.from({ length: 200 }, (_, i) => `u${i}`);

for (const [kind, { Engine }] of [["ESM", esm], ["CJS", cjs]]) {
  /** The units that AFTER moves to another variant than BEFORE gave them. */
  const moved = () => {
    const before = new Engine(BEFORE);
    const after = new Engine(AFTER);
    return UNITS.filter((u) => before.evaluate("button-color", u).variant !== after.evaluate("button-color", u).variant);
  };

  test(`${kind}: a sticky store keeps flags' experiment variants when the split changes`, () => {
    const units = moved();
    assert.ok(units.length > 20, "the new split must move units for the test to mean anything");
    const store = new Map();
    const events = [];
    const engine = new Engine(BEFORE, { stickyStore: store, onExposure: (x) => events.push(x) });
    const first = {};
    for (const u of UNITS) {
      const e = engine.evaluate("button-color", u);
      assert.deepEqual([e.reason, e.assignment.reason, e.value], ["SPLIT", "assigned", VALUES[e.variant]]);
      first[u] = e.variant;
    }
    assert.deepEqual(new Set(Object.values(first)), new Set(["control", "green"]));
    // Remembered under core's key, one per (experiment, unit).
    assert.deepEqual(store, new Map(UNITS.map((u) => [stickyKey("color-test", u), first[u]])));

    engine.update(AFTER);
    for (const u of units) {
      const e = engine.evaluate("button-color", u);
      // The remembered variant's value, with the sticky reason mapping experiments use.
      assert.deepEqual([e.variant, e.value, e.reason, e.rule], [first[u], VALUES[first[u]], "SPLIT", "test"]);
      assert.deepEqual(e.assignment, { experiment: "color-test", unitId: u, variant: first[u], inExperiment: true, reason: "sticky" });
      // The typed values and a prerequisite on the flag read the same memory.
      assert.equal(engine.stringValue("button-color", u), VALUES[first[u]]);
      assert.equal(engine.booleanValue("green-gate", u), first[u] === "green");
      assert.equal(engine.evaluate("button-color", u, undefined, { type: "string" }).assignment.reason, "sticky");
      assert.equal(engine.evaluate("button-color", u, { country: "NZ" }).variant, first[u]);
      assert.equal(store.get(stickyKey("color-test", u)), first[u]);
    }
    // One exposure per unit, the first one's.
    assert.deepEqual(events.map((x) => [x.unitId, x.variant, x.reason]).sort(), UNITS.map((u) => [u, first[u], "assigned"]).sort());
    // evaluateAll keeps them too.
    for (const u of units.slice(0, 10)) {
      const all = engine.evaluateAll(u);
      assert.equal(all["button-color"].value, VALUES[first[u]]);
      assert.equal(all["button-color"].assignment.reason, "sticky");
      assert.equal(all["green-gate"].value, first[u] === "green");
    }
    // A type mismatch reads nothing and remembers nothing.
    assert.equal(engine.evaluate("button-color", "fresh", undefined, { type: "boolean" }).error, "type_mismatch");
    assert.equal(store.has(stickyKey("color-test", "fresh")), false);
  });

  test(`${kind}: without a sticky store flags' experiment variants move`, () => {
    const units = moved();
    const engine = new Engine(BEFORE);
    const first = Object.fromEntries(units.map((u) => [u, engine.evaluate("button-color", u).variant]));
    engine.update(AFTER);
    for (const u of units) {
      const e = engine.evaluate("button-color", u);
      assert.notEqual(e.variant, first[u]);
      assert.equal(e.assignment.reason, "assigned");
      assert.notEqual(engine.evaluateAll(u)["button-color"].variant, first[u]);
    }
  });

  test(`${kind}: assign and flags share the sticky memory`, () => {
    const units = moved();
    // assign() first, then the flag.
    let engine = new Engine(BEFORE, { stickyStore: new Map() });
    let first = Object.fromEntries(units.map((u) => [u, engine.assign("color-test", u).variant]));
    engine.update(AFTER);
    for (const u of units) {
      const e = engine.evaluate("button-color", u);
      assert.deepEqual([e.variant, e.value, e.assignment.reason], [first[u], VALUES[first[u]], "sticky"]);
      assert.equal(engine.evaluateAll(u)["button-color"].variant, first[u]);
      assert.equal(engine.stringValue("button-color", u), VALUES[first[u]]);
    }
    // The flag first (evaluate, a typed value, or evaluateAll), then assign().
    engine = new Engine(BEFORE, { stickyStore: new Map() });
    first = {};
    units.forEach((u, i) => {
      if (i % 3 === 0) first[u] = engine.evaluate("button-color", u).variant;
      else if (i % 3 === 1) first[u] = engine.stringValue("button-color", u) === "green" ? "green" : "control";
      else first[u] = engine.evaluateAll(u)["button-color"].variant;
    });
    engine.update(AFTER);
    for (const u of units) {
      const a = engine.assign("color-test", u);
      assert.deepEqual([a.variant, a.reason], [first[u], "sticky"]);
    }
  });

  test(`${kind}: sticky flag evaluation with odd stores`, () => {
    // A variant the experiment does not have is ignored: a fresh assignment replaces it.
    const store = new Map([[stickyKey("color-test", "u1"), "purple"]]);
    const engine = new Engine(BEFORE, { stickyStore: store });
    const e = engine.evaluate("button-color", "u1");
    assert.equal(e.assignment.reason, "assigned");
    assert.equal(store.get(stickyKey("color-test", "u1")), e.variant);
    // A store that throws: its error, nothing exposed, and the engine stays usable.
    const events = [];
    const down = new Error("store down");
    const broken = new Engine(BEFORE, {
      stickyStore: { get: () => { throw down; }, set: () => assert.fail("not reached") },
      onExposure: (x) => events.push(x),
    });
    assert.throws(() => broken.evaluate("button-color", "u1"), (err) => err === down);
    assert.throws(() => broken.booleanValue("green-gate", "u1"), (err) => err === down);
    assert.throws(() => broken.evaluateAll("u1"), (err) => err === down);
    assert.deepEqual(events, []);
    // Flags that reach no experiment rule never read the store.
    assert.equal(broken.numberValue("limit", "u1"), 5);
    assert.equal(broken.evaluate("nope", "u1").error, "flag_not_found");
    // A number in the store is a variant's key as text, as for assign.
    const numbered = new Engine({ ...BEFORE, experiments: [{ ...BEFORE.experiments[0], variants: [{ key: "1" }, { key: "2" }] }], flags: [{ key: "n", type: "number", default: 0, rules: [{ kind: "experiment", experiment: "color-test", values: { 1: 1, 2: 2 } }] }] }, {
      stickyStore: new Map([[stickyKey("color-test", "u1"), 2]]),
    });
    assert.deepEqual([numbered.numberValue("n", "u1"), numbered.evaluate("n", "u1").assignment.reason], [2, "sticky"]);
  });
}
