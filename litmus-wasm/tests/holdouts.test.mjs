// Holdout exposures in the npm package: the Engine reports a held-out unit to the holdout's
// `holdout` arm and a unit entering a covered experiment to its `exposed` arm, each once
// (fixtures/holdouts/exposures.json, which litmus-core and the Python package run too); the
// tracker sends them as exposures naming the holdout.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { Engine, EventTracker } from "litmus-experiments";

const DOC = JSON.parse(readFileSync(join(process.env.LITMUS_FIXTURES, "holdouts", "exposures.json"), "utf8"));
const row = (e) => (e.holdout !== undefined ? ["holdout", e.holdout, e.variant] : ["experiment", e.experiment, e.variant]);

test("the engine reports the shared fixture's holdout exposures", () => {
  const seen = [];
  const engine = new Engine(DOC.config, { onExposure: (e) => seen.push(e) });
  for (const c of DOC.cases) {
    const before = seen.length;
    engine.assign(c.experiment, c.unit_id, c.attributes);
    assert.deepEqual(seen.slice(before).map(row), c.events, JSON.stringify(c));
  }
});

test("the tracker sends holdout exposures", async (t) => {
  const bodies = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (chunk) => chunks.push(chunk));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = JSON.parse((req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw).toString("utf8"));
      bodies.push(body);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ accepted: body.events.length, duplicates: 0, rejected: [] }));
    });
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const tr = new EventTracker({ baseUrl: `http://127.0.0.1:${server.address().port}`, sdkKey: "key", flushInterval: 60_000 });
  const engine = new Engine(DOC.config, { onExposure: tr.onExposure });
  for (const c of DOC.cases) engine.assign(c.experiment, c.unit_id, c.attributes);
  tr.holdoutExposure("someone", "q4-holdout", "holdout");
  await tr.flush();
  await tr.close();
  const sent = bodies.flatMap((b) => b.events);
  const want = [...DOC.cases.flatMap((c) => c.events), ["holdout", "q4-holdout", "holdout"]];
  assert.deepEqual(sent.map((e) => (e.holdout !== undefined ? ["holdout", e.holdout, e.variant] : ["experiment", e.experiment, e.variant])), want);
});
