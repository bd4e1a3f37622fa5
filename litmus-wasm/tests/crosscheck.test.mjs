// The cross-language check fixtures/crosscheck/v1.json: 100,000 units assigned to every
// experiment of one config give the digest, counts and first lines the Rust core blessed (and
// the Python wheel reproduces).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Engine } from "litmus-experiments";

const doc = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "crosscheck/v1.json"), "utf8"));

test("100,000 units: the same assignments as Rust and Python", () => {
  const engine = new Engine(doc.config);
  assert.deepEqual(engine.problems, []);
  const { countries, app_versions: versions, experiments } = doc;
  const { prefix, count } = doc.units;
  const now = new Date(doc.now);
  const encoder = new TextEncoder();
  let h = 0x811c9dc5;
  const counts = {};
  const first = [];
  for (let i = 0; i < count; i++) {
    const unit = `${prefix}${i}`;
    const attrs = { country: countries[i % countries.length], app_version: versions[i % versions.length], beta: i % 7 === 0 };
    for (const experiment of experiments) {
      const a = engine.assign(experiment, unit, attrs, { now });
      const line = `${unit}\t${experiment}\t${a.variant ?? "-"}\t${a.reason}\n`;
      for (const b of encoder.encode(line)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
      const byKey = (counts[experiment] ??= {});
      const key = a.variant ?? a.reason;
      byKey[key] = (byKey[key] ?? 0) + 1;
      if (first.length < 12) first.push(line.trimEnd());
    }
  }
  assert.deepEqual(first, doc.expected.first);
  assert.deepEqual(counts, doc.expected.counts);
  assert.equal(h.toString(16).padStart(8, "0"), doc.expected.fnv1a32);
});
