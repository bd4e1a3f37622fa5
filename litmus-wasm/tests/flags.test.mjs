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
