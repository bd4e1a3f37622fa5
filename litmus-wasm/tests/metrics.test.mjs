// validateMetrics on the installed package (ESM and CommonJS): the shared cases of
// fixtures/metrics/catalogues.json, which litmus-core and the Python package run too, so a
// catalogue is accepted or refused here exactly as the server's admin API does, with the same
// codes and paths.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { createRequire } from "node:module";
import * as esm from "litmus-experiments";

const cjs = createRequire(import.meta.url)("litmus-experiments");
const DOC = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "metrics", "catalogues.json"), "utf8"));
const VALID = DOC.valid.catalogue;

for (const [kind, { validateMetrics, LitmusError, Engine }] of [["ESM", esm], ["CJS", cjs]]) {
  test(`${kind}: a catalogue of every kind is valid`, () => {
    assert.deepEqual(new Set(VALID.map((d) => d.kind)), new Set(["conversion", "mean", "ratio", "quantile", "retention", "funnel"]));
    const got = validateMetrics(VALID);
    assert.deepEqual(got.map((m) => [m.key, m.kind]), DOC.valid.metrics.map((m) => [m.key, m.kind]));
    got.forEach((m, i) => {
      assert.deepEqual(Object.keys(m).sort(), ["key", "kind", "rollup"]);
      const want = DOC.valid.metrics[i].rollup;
      if (want === null) assert.ok(m.rollup.startsWith(`\u0001${m.key}@`), JSON.stringify(m));
      else assert.equal(m.rollup, want);
    });
    assert.deepEqual(validateMetrics(JSON.stringify(VALID)), got);
    assert.deepEqual(validateMetrics([]), []);
  });

  test(`${kind}: each invalid definition throws its code at its path`, () => {
    for (const c of DOC.invalid) {
      assert.throws(() => validateMetrics([...VALID, c.definition]), (e) => {
        assert.ok(e instanceof LitmusError, c.name);
        assert.deepEqual([e.code, e.path], [c.code, c.path], c.name);
        assert.equal(e.problems, undefined);
        return true;
      });
    }
    // The cases the issue names are among them.
    const named = DOC.invalid.map((c) => `${c.code} ${c.path}`);
    for (const want of ["invalid_value metrics[x].cap.absolute", "invalid_value metrics[x].denominator", "invalid_value metrics[x].steps", "unknown_reference metrics[x].denominator"]) {
      assert.ok(named.includes(want), want);
    }
  });

  test(`${kind}: several problems are one error listing each`, () => {
    assert.throws(() => validateMetrics([...VALID, ...DOC.multiple.definitions]), (e) => {
      assert.equal(e.code, "multiple");
      assert.equal(e.path, null);
      assert.deepEqual(e.problems.map((p) => ({ code: p.code, path: p.path })), DOC.multiple.problems);
      assert.ok(e.problems.every((p) => p instanceof LitmusError));
      return true;
    });
  });

  test(`${kind}: what is not a catalogue throws typed errors, and the module stays usable`, () => {
    const code = (c) => (e) => e instanceof LitmusError && e.code === c;
    assert.throws(() => validateMetrics("[{"), code("invalid_json"));
    assert.throws(() => validateMetrics('{"metrics": []}'), (e) => e.code === "invalid_json" && e.path === "metrics");
    assert.throws(() => validateMetrics([42]), (e) => e.code === "invalid_json" && e.path === "metrics[0]");
    for (const bad of [{ key: "x" }, 42, null, undefined, new Uint8Array(2)]) assert.throws(() => validateMetrics(bad), code("invalid_argument"));
    // NaN and infinities are not JSON: they arrive as null, a typed error at their path.
    for (const bad of [NaN, Infinity]) {
      assert.throws(() => validateMetrics([{ key: "x", kind: "mean", event: "p", cap: { absolute: bad } }]), (e) => e.code === "invalid_json" && e.path === "metrics[x].cap.absolute");
    }
    assert.throws(() => validateMetrics([{ key: "x", kind: "mean", event: "p\u0000" }]), (e) => e instanceof LitmusError);
    const cyclic = [];
    cyclic.push(cyclic);
    assert.throws(() => validateMetrics(cyclic), TypeError);
    assert.equal(validateMetrics(VALID).length, VALID.length);
    assert.equal(new Engine({ schema_version: 1, metrics: VALID, experiments: [] }, { strict: true }).problems.length, 0);
  });
}
