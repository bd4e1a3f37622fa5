// The installed package against the shared fixtures: every bucketing vector and every
// conformance case, as litmus-core and the Python wheel run them, through both the ESM entry
// point (import) and the CommonJS one (require).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments";
import { Engine, LitmusError, hashing, version } from "litmus-experiments";

const cjs = createRequire(import.meta.url)("litmus-experiments");

const FIXTURES = process.env.LITMUS_FIXTURES;
const load = (p) => JSON.parse(readFileSync(join(FIXTURES, p), "utf8"));
const stickyKey = (e, u) => `${e.length}:${e}:${u}`;

for (const [kind, { Engine, hashing }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: every bucketing vector`, () => {
    const { vectors } = load("bucketing/v1.json");
    assert.ok(vectors.length >= 300);
    for (const v of vectors) {
      assert.equal(hashing.seed(v.salt, v.purpose), v.seed);
      assert.equal(hashing.unitHash(v.salt, v.purpose, v.unit), v.hash);
      const b = hashing.bucket(v.salt, v.purpose, v.unit);
      assert.equal(b, v.bucket);
      assert.equal(hashing.pickVariant(b, v.weights), v.variant);
      assert.equal(hashing.inTraffic(b, v.traffic), v.in_traffic);
    }
  });

  test(`${kind}: every conformance case`, () => {
    const files = readdirSync(join(FIXTURES, "conformance")).filter((f) => f.endsWith(".json"));
    assert.ok(files.length >= 10);
    let n = 0;
    for (const f of files) {
      const doc = load(`conformance/${f}`);
      const engine = new Engine(doc.config);
      const problems = engine.problems.map((p) => [p.code, p.path ?? ""]);
      assert.deepEqual(problems, (doc.problems ?? []).map((p) => [p.code, p.path ?? ""]), f);
      for (const c of doc.cases) {
        if (c.flag !== undefined) {
          const r = engine.evaluate(c.flag, c.unit, c.attributes, { now: c.now ?? false, type: c.type });
          const got = {
            value: r.value,
            reason: r.reason,
            rule: r.rule,
            variant: r.variant,
            error: r.error,
            assignment: r.assignment && { experiment: r.assignment.experiment, variant: r.assignment.variant, in_experiment: r.assignment.inExperiment },
          };
          assert.deepEqual(got, c.expected, `${f}: ${c.name}`);
          n++;
          continue;
        }
        let e = engine;
        if (c.remembered !== undefined) {
          const store = new Map([[stickyKey(c.experiment, c.unit), c.remembered]]);
          e = new Engine(doc.config, { stickyStore: store });
        }
        const a = e.assign(c.experiment, c.unit, c.attributes, { now: c.now ?? false });
        const want = c.expected;
        assert.deepEqual([a.variant, a.inExperiment, a.reason], [want.variant, want.in_experiment, want.reason], `${f}: ${c.name}`);
        if (want.miss !== undefined) assert.equal(a.miss, want.miss, `${f}: ${c.name}`);
        n++;
      }
    }
    assert.ok(n > 3500);
  });
}

test("errors carry name and code, and the engine keeps working", () => {
  assert.throws(() => new Engine("{nope"), (e) => e instanceof LitmusError && e.name === "LitmusError" && e.code === "invalid_json");
  assert.throws(() => new Engine('{"schema_version": 2}'), (e) => e.code === "unsupported_schema_version");
  const engine = new Engine({ schema_version: 1, experiments: [{ key: "e", status: "running", variants: [{ key: "a", payload: { x: 1 } }] }] });
  assert.throws(() => engine.update("{nope"), (e) => e.code === "invalid_json");
  assert.throws(() => hashing.bucket("s", "colour", "u"), (e) => e.code === "invalid_argument");
  const a = engine.assign("e", "u1");
  assert.deepEqual([a.variant, a.inExperiment, a.reason, a.payload], ["a", true, "assigned", { x: 1 }]);
  assert.equal(typeof version, "string");
});

test("exposures are deduplicated", () => {
  const events = [];
  const engine = new Engine(load("conformance/abn-weights.json").config, { onExposure: (e) => events.push(e) });
  const key = engine.experimentKeys()[0];
  for (let i = 0; i < 3; i++) engine.assign(key, "u1");
  assert.equal(events.length, 1);
  assert.equal(events[0].experiment, key);
});

test("exposure memory is two generations of exposureDedupeSize / 2 pairs", () => {
  const config = { schema_version: 1, experiments: ["a", "b"].map((key) => ({ key, status: "running", variants: [{ key: "v" }] })) };
  const events = [];
  const engine = new Engine(config, { onExposure: (e) => events.push(`${e.experiment}:${e.unitId}`), exposureDedupeSize: 4 });
  const seq = (pairs) => {
    events.length = 0;
    for (const p of pairs) engine.assign(...p.split(":"));
    return [...events];
  };
  // Generation 0 holds a:u1, a:u2; a:u1 again is remembered.
  assert.deepEqual(seq(["a:u1", "a:u2", "a:u1"]), ["a:u1", "a:u2"]);
  // a:u3 starts generation 1; a:u1 is still remembered (previous generation).
  assert.deepEqual(seq(["a:u3", "a:u1", "b:u1", "a:u3"]), ["a:u3", "b:u1"]);
  // a:u4 starts generation 2: generation 0 (a:u1, a:u2) is forgotten, so a:u1 is exposed again.
  assert.deepEqual(seq(["a:u4", "a:u1", "a:u3"]), ["a:u4", "a:u1"]);
  // b was last touched in generation 1; by generation 4 its units are forgotten too.
  assert.deepEqual(seq(["a:u5", "a:u6", "a:u7", "b:u1"]), ["a:u5", "a:u6", "a:u7", "b:u1"]);
});
