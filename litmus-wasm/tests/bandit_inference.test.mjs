// bandit.stratified of the installed package's analysis entry point (ESM and CommonJS):
// fixtures/stats/bandit_inference.json (numpy, scipy and statsmodels, written by
// scripts/gen_stats_fixtures.py), which litmus-core and the Python package run too; bad
// requests throw at their path.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments/analysis";

const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");
const CASES = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "stats", "bandit_inference.json"), "utf8")).cases;
const close = (a, b) => Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(b), 1e-3);

for (const [kind, { bandit, LitmusError }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: stratified inference equals numpy, scipy and statsmodels`, () => {
    for (const [i, c] of CASES.entries()) {
      const got = bandit.stratified(c.request);
      assert.equal(got.method, "stratified_by_weight_period");
      assert.equal(got.periods, c.periods, `case ${i}`);
      got.arms.forEach((arm, j) => {
        const want = c.arms[j];
        assert.equal(arm.units, want.units);
        if (want.value === null) assert.equal(arm.value, null);
        else assert.ok(close(arm.value.estimate, want.value.estimate), `case ${i}`);
      });
      assert.equal(got.comparisons.length, c.comparisons.length, `case ${i}`);
      got.comparisons.forEach((cmp, j) => {
        const want = c.comparisons[j];
        assert.ok(close(cmp.difference.estimate, want.difference.estimate), `case ${i}`);
        assert.ok(close(cmp.pvalue, want.pvalue) && close(cmp.adjusted_pvalue, want.adjusted_pvalue), `case ${i}`);
        assert.equal(cmp.verdict, want.verdict, `case ${i}`);
      });
    }
  });

  test(`${kind}: bad requests throw their code at their path`, () => {
    const good = { variants: ["a", "b"], units: { variant: ["a"], first_ms: [1], value: [1] }, metric: { kind: "conversion" } };
    for (const [change, code, path] of [
      [{ variants: [] }, "invalid_value", "variants"],
      [{ units: { variant: ["c"], first_ms: [1], value: [1] } }, "invalid_value", "units.variant[0]"],
      [{ seed: 3 }, "unknown_field", "seed"],
    ]) {
      assert.throws(() => bandit.stratified({ ...good, ...change }), (e) => e instanceof LitmusError && e.code === code && e.path === path);
    }
    assert.throws(() => bandit.stratified([1]), (e) => e.code === "invalid_argument");
  });
}
