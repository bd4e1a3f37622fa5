// validateAnalysis of the installed package's analysis entry point (ESM and CommonJS): the shared cases of
// fixtures/analysis/settings.json, which litmus-core and the Python package run too, so an
// experiment's analysis settings are accepted or refused here exactly as the server's admin
// API does, with the same codes and paths, and give the settings its results would use.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments/analysis";

const cjs = createRequire(import.meta.url)("litmus-experiments/analysis");
const DOC = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "analysis", "settings.json"), "utf8"));

for (const [kind, { validateAnalysis, LitmusError }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: valid settings give the settings the results use`, () => {
    for (const c of DOC.valid) {
      const got = validateAnalysis(c.analysis);
      assert.deepEqual(got, c.settings, c.name);
      assert.deepEqual(validateAnalysis(JSON.stringify(c.analysis)), got, c.name);
    }
  });

  test(`${kind}: invalid settings throw their code at their path`, () => {
    for (const c of DOC.invalid) {
      assert.throws(() => validateAnalysis(JSON.stringify(c.analysis)), (e) => {
        assert.ok(e instanceof LitmusError, JSON.stringify(c.analysis));
        assert.deepEqual([e.code, e.path ?? ""], [c.code, c.path], JSON.stringify(c.analysis));
        return true;
      });
    }
    assert.throws(() => validateAnalysis([0.05]), (e) => e.code === "invalid_argument");
  });

  test(`${kind}: no correction is a multipletests method`, () => {
    const { stats } = kind === "ESM" ? esm : cjs;
    const [reject, corrected] = stats.multipletests([0.01, 0.04, 0.2], 0.05, "none");
    assert.deepEqual([reject, corrected], [[true, true, false], [0.01, 0.04, 0.2]]);
  });
}
