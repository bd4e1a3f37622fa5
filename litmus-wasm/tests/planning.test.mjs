// planExperiment of the installed package's analysis entry point (ESM and CommonJS): the shared
// cases of fixtures/planning/cases.json, which litmus-core, the server and the Python package
// run too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments/analysis";

const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");
const DOC = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "planning", "cases.json"), "utf8"));
const close = (a, b, rel) => Math.abs(a - b) <= rel * Math.abs(b);

for (const [kind, { planExperiment, LitmusError }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: plans equal the shared cases`, () => {
    for (const c of DOC.valid) {
      const { plan } = planExperiment(c.request);
      assert.deepEqual([plan.units_per_variant, plan.total_units, plan.alpha], [c.units_per_variant, c.total_units, c.alpha], c.name);
      if (c.days === null) assert.equal(plan.days, null, c.name);
      else assert.ok(close(plan.days, c.days, 1e-12), c.name);
      if (c.lift !== undefined) assert.ok(close(plan.lift, c.lift, 1e-9), `${c.name}: ${plan.lift}`);
      assert.deepEqual(planExperiment(JSON.stringify(c.request)).plan, plan, c.name);
    }
  });

  test(`${kind}: invalid requests throw their code at their path`, () => {
    for (const c of DOC.invalid) {
      assert.throws(() => planExperiment(c.request), (e) => {
        assert.ok(e instanceof LitmusError, JSON.stringify(c.request));
        assert.deepEqual([e.code, e.path ?? ""], [c.code, c.path], JSON.stringify(c.request));
        return true;
      });
    }
    assert.throws(() => planExperiment(null), (e) => e.code === "invalid_argument");
  });
}
