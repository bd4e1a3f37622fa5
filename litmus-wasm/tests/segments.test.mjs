// Segments in the npm package: an Engine's exposure events carry the unit's values of the
// experiment's dimensions (fixtures/segments/dimension_values.json, which litmus-core and the
// Python package run too), and the tracker sends them with the exposure.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { Engine, EventTracker, LitmusError } from "litmus-experiments";

const DOC = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "segments", "dimension_values.json"), "utf8"));

test("exposure events carry the dimension values of the shared fixture", () => {
  const seen = [];
  const engine = new Engine(DOC.config, { onExposure: (e) => seen.push(e) });
  DOC.cases.forEach((c, i) => {
    engine.assign("checkout", `u${i}`, c.attributes ?? undefined);
    assert.deepEqual(seen.at(-1).dimensions, c.dimensions, JSON.stringify(c));
  });
  assert.equal(seen.length, DOC.cases.length);
  engine.assignAll("other-unit", { country: "JP" });
  assert.deepEqual(seen.at(-1).dimensions, { country: "JP" });
});

test("the tracker sends an exposure's dimensions", async (t) => {
  const bodies = [];
  const server = createServer((req, res) => {
    let text = "";
    req.on("data", (c) => { text += c; });
    req.on("end", () => {
      const body = JSON.parse(text);
      bodies.push(body);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ accepted: body.events.length, duplicates: 0, rejected: [] }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const tr = new EventTracker({ baseUrl: `http://127.0.0.1:${server.address().port}`, sdkKey: "key", flushInterval: 60_000 });
  const engine = new Engine(DOC.config, { onExposure: tr.onExposure });
  engine.assign("checkout", "u1", { country: "FR", os: "ios" });
  tr.exposure("u2", "checkout", "a", { dimensions: { country: "DE" } });
  tr.exposure("u3", "checkout", "a");
  for (const dimensions of [{ country: 3 }, { "bad key": "x" }]) {
    assert.throws(() => tr.exposure("u4", "checkout", "a", { dimensions }), (e) => e instanceof LitmusError && e.code === "invalid_argument");
  }
  await tr.flush();
  await tr.close();
  const events = bodies.flatMap((b) => b.events);
  const byUnit = Object.fromEntries(events.map((e) => [e.unit_id, e]));
  assert.deepEqual(byUnit.u1.dimensions, { country: "FR", platform: "ios" });
  assert.deepEqual(byUnit.u2.dimensions, { country: "DE" });
  assert.equal(byUnit.u3.dimensions, undefined, "none sent when there are none");
  assert.equal(events.length, 3);
});
